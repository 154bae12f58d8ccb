#include "ssecast/http/access_control.hpp"

#include <algorithm>

#include "ssecast/auth/auth_result.hpp"
#include "ssecast/config/config.hpp"
#include "ssecast/http/request_credentials.hpp"
#include "ssecast/metrics/server_counters.hpp"

namespace ssecast {

namespace {

// An error_description is quoted text of printable ASCII without '"' and '\' (RFC 6750 §3).
std::string description(std::string_view message) {
    std::string out;
    for (char c : message.substr(0, 200)) {
        auto u = static_cast<unsigned char>(c);
        out += (u >= 0x20 && u < 0x7F && c != '"' && c != '\\') ? c : '?';
    }
    return out;
}

// One answer per RFC 6750 §3.1 error code; `code` null: the request had no credential at all,
// and then the challenge carries no error (§3.1: "SHOULD NOT include an error code").
reply challenge(const handler_context& ctx, http::status status, const char* code,
                std::string message) {
    auto r = error_reply(status, message, ctx.req);
    r.extra_headers += "WWW-Authenticate: Bearer realm=\"ssecast\"";
    if (code != nullptr) {
        r.extra_headers += std::string(", error=\"") + code + "\", error_description=\"" +
                           description(message) + "\"";
    }
    r.extra_headers += "\r\n";
    return r;
}

reply refuse(const handler_context& ctx, auth_endpoint endpoint, auth_refusal why,
             std::string message) {
    ctx.counters.count_auth_failure(endpoint, why);
    switch (why) {
        case auth_refusal::missing:
            return challenge(ctx, http::status::unauthorized, nullptr, std::move(message));
        case auth_refusal::invalid:
        case auth_refusal::expired:
            return challenge(ctx, http::status::unauthorized, "invalid_token", std::move(message));
        case auth_refusal::forbidden:
            break;
    }
    return challenge(ctx, http::status::forbidden, "insufficient_scope", std::move(message));
}

// The presented token could not even be read (RFC 6750 invalid_request: 400).
reply malformed(const handler_context& ctx, auth_endpoint endpoint, std::string message) {
    ctx.counters.count_auth_failure(endpoint, auth_refusal::invalid);
    return challenge(ctx, http::status::bad_request, "invalid_request", std::move(message));
}

std::string missing_message(const handler_context& ctx, std::string need) {
    if (const auto& scheme = ctx.credentials.token().other_scheme)
        need += " (the Authorization scheme " + *scheme + " is not supported: use Bearer)";
    return need;
}

// The verified credential, or the refusal of the one presented (which must be valid whatever
// else would allow the request: a bad credential is never ignored).
std::variant<const authenticated*, reply> verified(const handler_context& ctx,
                                                   auth_endpoint endpoint) {
    const auto* result = ctx.credentials.verified();
    if (const auto* failure = std::get_if<auth_failure>(result)) {
        return refuse(ctx, endpoint,
                      failure->reason == auth_failure_reason::expired ? auth_refusal::expired
                                                                      : auth_refusal::invalid,
                      failure->message);
    }
    return &std::get<authenticated>(*result);
}

}  // namespace

std::variant<access_grant, reply> authorize_publisher(const handler_context& ctx,
                                                      auth_endpoint endpoint, bool every_channel) {
    const auto mode = ctx.settings.publish_auth;
    const auto& token = ctx.credentials.token();
    bool by_address = mode != publish_auth::token && ctx.who.local();
    if (mode == publish_auth::loopback) {
        // Credentials play no part: the address decides.
        if (by_address) return access_grant{};
        ctx.counters.count_auth_failure(endpoint, auth_refusal::forbidden);
        return error_reply(http::status::forbidden,
                           "only local clients may use this endpoint, and not through a proxy",
                           ctx.req);
    }
    if (token.problem) return malformed(ctx, endpoint, *token.problem);
    if (!token.presented()) {
        if (by_address) return access_grant{};
        return refuse(ctx, endpoint, auth_refusal::missing,
                      missing_message(ctx,
                                      "this endpoint needs a credential: send "
                                      "Authorization: Bearer TOKEN"));
    }
    auto checked = verified(ctx, endpoint);
    if (auto* refusal = std::get_if<reply>(&checked)) return std::move(*refusal);
    const auto& who = *std::get<const authenticated*>(checked);
    if (by_address) return access_grant{nullptr, who.identity};
    if (who.rights.publish.empty()) {
        return refuse(ctx, endpoint, auth_refusal::forbidden,
                      "this credential grants no publishing (its ssecast.publish is empty)");
    }
    if (every_channel && !who.rights.publish.matches_every_channel()) {
        return refuse(ctx, endpoint, auth_refusal::forbidden,
                      "this endpoint needs a credential that may publish to every channel "
                      "(pattern *)");
    }
    return access_grant{&who.rights.publish, who.identity};
}

std::variant<subscriber_grant, reply> authorize_subscriber(
    const handler_context& ctx, const std::vector<std::string>& channels) {
    const std::string* first_private = nullptr;
    for (const auto& ch : channels) {
        if (ctx.settings.private_channels.matches(ch)) {
            first_private = &ch;
            break;
        }
    }
    if (first_private == nullptr) return subscriber_grant{};

    constexpr auto endpoint = auth_endpoint::subscribe;
    const auto& token = ctx.credentials.token();
    if (token.problem) return malformed(ctx, endpoint, *token.problem);
    if (!token.presented()) {
        return refuse(ctx, endpoint, auth_refusal::missing,
                      missing_message(ctx, "channel " + *first_private +
                                               " is private: subscribing needs a JWT, sent as "
                                               "Authorization: Bearer, the token query parameter "
                                               "or the " +
                                               ctx.settings.jwt_cookie + " cookie"));
    }
    // API keys only publish; and the checker takes exactly the tokens with two dots for JWTs.
    if (std::count(token.token.begin(), token.token.end(), '.') != 2) {
        return refuse(ctx, endpoint, auth_refusal::invalid,
                      "channel " + *first_private + " is private: the token is not a JWT");
    }
    auto checked = verified(ctx, endpoint);
    if (auto* refusal = std::get_if<reply>(&checked)) return std::move(*refusal);
    const auto& who = *std::get<const authenticated*>(checked);
    if (!who.expires) {
        return refuse(ctx, endpoint, auth_refusal::invalid,
                      "a JWT for private channels must have an exp claim");
    }
    for (const auto& ch : channels) {
        if (ctx.settings.private_channels.matches(ch) && !who.rights.subscribe.matches(ch)) {
            return refuse(ctx, endpoint, auth_refusal::forbidden,
                          "this token may not subscribe to channel " + ch +
                              " (not in its ssecast.subscribe)");
        }
    }
    return subscriber_grant{who.expires};
}

reply refuse_channel(const handler_context& ctx, const std::string& channel) {
    return refuse(ctx, auth_endpoint::publish, auth_refusal::forbidden,
                  "this credential may not publish to channel " + channel +
                      " (not in its publish patterns); nothing was published");
}

}  // namespace ssecast
