#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "ssecast/http/request.hpp"

namespace ssecast {

// The query parameter that may carry a bearer token (EventSource cannot set headers); its value
// never reaches a log line (see redact_token).
inline constexpr std::string_view token_parameter = "token";

// The bearer token a request presents, found once per request (RFC 6750 §2): in the
// Authorization header ("Bearer TOKEN"), in the query parameter `token`, or in the cookie named by
// --jwt-cookie (for EventSource with withCredentials). The header and the parameter are the
// client's explicit choice and win over the cookie, which a browser sends by itself.
struct bearer_token {
    enum class source { none, header, query, cookie };

    source from = source::none;
    std::string token;
    // The request is malformed as RFC 6750 §3.1 invalid_request says (the token given both in the
    // header and in the query, twice, or empty; an Authorization header that is not "Bearer" and
    // a b64token): what is wrong. The request is then answered 400.
    std::optional<std::string> problem;
    // Set when the Authorization header names another scheme (e.g. Basic): not a bearer token,
    // so the request presents none; said in the 401 answer.
    std::optional<std::string> other_scheme;

    bool presented() const { return from != source::none; }
};

bearer_token find_bearer_token(const request& req, std::string_view cookie_name);

// `target` with the value of every `token` query parameter replaced by REDACTED, for logs.
std::string redact_token(std::string_view target);

}  // namespace ssecast
