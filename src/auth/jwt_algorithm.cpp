#include "ssecast/auth/jwt_algorithm.hpp"

namespace ssecast {

std::string_view to_string(jwt_algorithm algorithm) {
    switch (algorithm) {
        case jwt_algorithm::hs256:
            return "HS256";
        case jwt_algorithm::hs384:
            return "HS384";
        case jwt_algorithm::hs512:
            return "HS512";
        case jwt_algorithm::rs256:
            return "RS256";
        case jwt_algorithm::rs384:
            return "RS384";
        case jwt_algorithm::rs512:
            return "RS512";
        case jwt_algorithm::es256:
            return "ES256";
        case jwt_algorithm::es384:
            return "ES384";
        case jwt_algorithm::es512:
            return "ES512";
    }
    return "?";  // not reached: every enumerator has its case
}

std::optional<jwt_algorithm> parse_jwt_algorithm(std::string_view name) {
    for (const jwt_algorithm algorithm : all_jwt_algorithms) {
        if (to_string(algorithm) == name) return algorithm;
    }
    return std::nullopt;
}

bool uses_secret(jwt_algorithm algorithm) {
    return algorithm == jwt_algorithm::hs256 || algorithm == jwt_algorithm::hs384 ||
           algorithm == jwt_algorithm::hs512;
}

}  // namespace ssecast
