#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <variant>

#include "ssecast/auth/channel_pattern.hpp"

namespace ssecast {

// The channels a credential may publish to and subscribe to.
struct access_rights {
    channel_patterns publish;
    channel_patterns subscribe;
};

enum class credential_kind { static_key, jwt };

// A bearer token that was accepted.
struct authenticated {
    credential_kind kind = credential_kind::static_key;
    // Names the holder in logs and rate limits, never the token itself: a static key's
    // identity ("static:1a2b3c4d"), "jwt:" + the token's sub, or "jwt:" + the first 8 hex digits
    // of the token's SHA-256 when it has no sub.
    std::string identity;
    access_rights rights;
    // When the credential stops being valid (a JWT's exp); none for static keys and JWTs
    // without exp. Streams opened with it end then.
    std::optional<std::chrono::system_clock::time_point> expires;
};

// `expired` is told apart from every other failure (`invalid`) for metrics, and because a client
// can fix it by getting a fresh token.
enum class auth_failure_reason { invalid, expired };

// A bearer token that was refused. The message says exactly what is wrong, for logs and for the
// HTTP answer, and never contains the token.
struct auth_failure {
    auth_failure_reason reason = auth_failure_reason::invalid;
    std::string message;
};

using auth_result = std::variant<authenticated, auth_failure>;

}  // namespace ssecast
