#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "ssecast/auth/auth_result.hpp"
#include "ssecast/auth/jwt_keys.hpp"

namespace ssecast {

inline constexpr std::size_t max_jwt_size = 8192;
inline constexpr std::chrono::seconds default_jwt_leeway{30};
// Clocks that disagree by more are broken; the bound also keeps the time arithmetic in range.
inline constexpr std::chrono::seconds max_jwt_leeway{3600};

struct jwt_settings {
    std::optional<std::string> audience;               // required in "aud" when set
    std::optional<std::string> issuer;                 // required as "iss" when set
    std::chrono::seconds leeway = default_jwt_leeway;  // allowed clock skew for exp and nbf
};

// What a valid token says.
struct verified_jwt {
    std::optional<std::string> subject;  // "sub"
    // "exp"; NumericDates before 1970 are taken as 1970 and those after 2200 as 2200, so that
    // every date converts to system_clock::time_point and back without overflow.
    std::optional<std::chrono::system_clock::time_point> expires;
    // From the "ssecast" claim: {"publish": [PATTERN...], "subscribe": [PATTERN...]}, both
    // optional. Without the claim the token grants nothing.
    access_rights rights;
};

// Verifies signed JWTs (JWS compact serialization) against the configured keys. The algorithm
// is pinned from the token's header before libjwt sees the token: "alg" must be exactly the name
// of an algorithm the configured keys allow (never "none"), so a token cannot choose a key of
// another kind (an HS256 token "signed" with the public key's PEM text is refused). libjwt then
// checks the signature, and this class checks the claims libjwt does not: exp and nbf (with
// leeway), aud, iss, and the ssecast rights. Thread-safe: verify() changes nothing.
class jwt_verifier {
  public:
    // `settings.leeway` must be within [0, max_jwt_leeway] (credential_set::load checks it).
    jwt_verifier(jwt_keys keys, jwt_settings settings);

    std::variant<verified_jwt, auth_failure> verify(
        std::string_view token, std::chrono::system_clock::time_point now) const;

    // A verified token stays acceptable until expires + leeway.
    std::chrono::seconds leeway() const { return settings_.leeway; }

  private:
    std::variant<jwt_algorithm, auth_failure> pinned_algorithm(std::string_view header) const;
    std::optional<auth_failure> check_signature(std::string_view token,
                                                jwt_algorithm algorithm) const;
    std::string refusal(std::string_view algorithm_name) const;

    jwt_keys keys_;
    jwt_settings settings_;
};

}  // namespace ssecast
