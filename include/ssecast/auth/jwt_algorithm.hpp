#pragma once

#include <optional>
#include <string_view>

namespace ssecast {

// The JWS algorithms (RFC 7518 §3.1) that libjwt 1.10 can verify. "none" is not one of them: an
// unsigned token is never accepted.
enum class jwt_algorithm { hs256, hs384, hs512, rs256, rs384, rs512, es256, es384, es512 };

inline constexpr jwt_algorithm all_jwt_algorithms[] = {
    jwt_algorithm::hs256, jwt_algorithm::hs384, jwt_algorithm::hs512,
    jwt_algorithm::rs256, jwt_algorithm::rs384, jwt_algorithm::rs512,
    jwt_algorithm::es256, jwt_algorithm::es384, jwt_algorithm::es512};

// "HS256" ... "ES512", as in a token's "alg" header.
std::string_view to_string(jwt_algorithm algorithm);

// The algorithm named exactly (case-sensitively, as RFC 7515 §4.1.1 requires) by `name`.
std::optional<jwt_algorithm> parse_jwt_algorithm(std::string_view name);

// HS* algorithms are verified with a shared secret, the others with a public key.
bool uses_secret(jwt_algorithm algorithm);

}  // namespace ssecast
