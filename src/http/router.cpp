#include "ssecast/http/router.hpp"

#include <algorithm>

#include "ssecast/config/config.hpp"
#include "ssecast/http/access_control.hpp"
#include "ssecast/http/handlers.hpp"
#include "ssecast/http/query_string.hpp"
#include "ssecast/sse/jitter.hpp"

namespace ssecast {

namespace {

using verb = http::verb;

// Every endpoint, who may use it, and its handler. Paths are matched exactly.
std::vector<route> route_table(const config& settings) {
    std::vector<route> table = {
        {"/events", verb::get, access::subscriber, subscribe, true},
        {"/notify", verb::post, access::publisher, publish},
        {"/healthz", verb::get, access::anyone, health, true},
        {"/readyz", verb::get, access::anyone, readiness},
        {"/metrics", verb::get, access::metrics, metrics_page},
        {"/channels", verb::get, access::admin, list_channels},
    };
    if (settings.demo_page) table.push_back({"/", verb::get, access::anyone, demo_page});
    return table;
}

// Mercure's authorize() at the top of each handler, done once here for the whole table: the
// refusal, or nothing when the client may go on (and then ctx.grant says what it may do).
std::optional<reply> authorize(access rule, handler_context& ctx) {
    std::variant<access_grant, reply> decided;
    switch (rule) {
        case access::anyone:
        case access::subscriber:
            return std::nullopt;
        case access::metrics:
            if (ctx.settings.metrics_access_any) return std::nullopt;
            [[fallthrough]];
        case access::admin:
            decided = authorize_publisher(ctx, auth_endpoint::admin, true);
            break;
        case access::publisher:
            decided = authorize_publisher(ctx, auth_endpoint::publish, false);
            break;
    }
    if (auto* refusal = std::get_if<reply>(&decided)) return std::move(*refusal);
    ctx.grant = std::get<access_grant>(std::move(decided));
    return std::nullopt;
}

}  // namespace

router::router(const config& settings) : routes_(route_table(settings)), cors_(settings) {}

std::variant<const route*, reply> router::admit(handler_context& ctx,
                                                std::string& cors_headers) const {
    const auto& req = ctx.req;
    // --- abuse limits: a trusted proxy's X-Forwarded-For that cannot be read ---
    if (!ctx.who.problem.empty())
        return error_reply(http::status::bad_request, ctx.who.problem, req);
    auto origin = req[http::field::origin];
    auto host = req[http::field::host];
    auto refused = [&] {
        return error_reply(
            http::status::forbidden,
            "origin " + std::string(origin.substr(0, 256)) + " is not allowed (--cors-origins)",
            req);
    };
    if (req.method() == verb::options &&
        req.count(http::field::access_control_request_method) > 0) {
        auto verdict = cors_.preflight(origin, host);
        if (!verdict.allowed) return refused();
        auto r = json_reply(http::status::no_content, std::string(), req);
        r.extra_headers = std::move(verdict.headers);
        return r;
    }
    auto verdict = cors_.check(origin, host);
    if (!verdict.allowed) return refused();
    // Errors from here on carry the CORS headers too, so that the page can read why.
    cors_headers = std::move(verdict.headers);

    auto path = split_target(req.target()).first;
    auto found = std::find_if(routes_.begin(), routes_.end(),
                              [&](const route& r) { return r.path == path; });
    // --- abuse limits: past --max-connections-per-ip, /events comes back later, /healthz is
    // answered, the rest 429 ---
    if (ctx.over_address_limit && (found == routes_.end() || !found->serves_over_capacity)) {
        return too_many_requests("connection limit per address reached (--max-connections-per-ip)",
                                 jittered_retry(ctx.settings.reconnect_delay), req.version(),
                                 false);
    }
    if (found == routes_.end()) {
        if (ctx.over_capacity)
            return error_reply(http::status::service_unavailable, "connection limit reached",
                               req.version(), false);
        return error_reply(http::status::not_found, "no such endpoint: " + std::string(path), req);
    }
    if (ctx.over_capacity && !found->serves_over_capacity) {
        return error_reply(http::status::service_unavailable, "connection limit reached",
                           req.version(), false);
    }
    if (req.method() != found->method) {
        return error_reply(http::status::method_not_allowed,
                           "method " + std::string(req.method_string()) + " is not allowed on " +
                               std::string(path),
                           req.version(), req.keep_alive(),
                           std::string(http::to_string(found->method)).c_str());
    }
    if (auto refused_access = authorize(found->rule, ctx)) return std::move(*refused_access);
    return &*found;
}

answer router::dispatch(handler_context& ctx) const {
    std::string cors_headers;
    auto admitted = admit(ctx, cors_headers);
    answer routed = std::holds_alternative<reply>(admitted)
                        ? answer(std::get<reply>(std::move(admitted)))
                        : std::get<const route*>(admitted)->handle(ctx);
    if (auto* stream = std::get_if<stream_request>(&routed)) {
        stream->extra_headers = std::move(cors_headers);
    } else if (auto* later = std::get_if<deferred>(&routed)) {
        later->extra_headers = std::move(cors_headers);
        later->close = ctx.over_capacity || ctx.over_address_limit;
    } else {
        auto& r = std::get<reply>(routed);
        r.extra_headers += cors_headers;
        // A connection over a limit gets this one answer and is closed: a health check past the
        // limit never becomes a connection kept open over it.
        if (ctx.over_capacity || ctx.over_address_limit) r.keep_alive = false;
    }
    return routed;
}

std::optional<reply> router::precheck(handler_context& ctx) const {
    std::string cors_headers;
    auto admitted = admit(ctx, cors_headers);
    auto* refusal = std::get_if<reply>(&admitted);
    if (refusal == nullptr) return std::nullopt;
    refusal->extra_headers += cors_headers;
    return std::move(*refusal);
}

}  // namespace ssecast
