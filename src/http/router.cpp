#include "ssecast/http/router.hpp"

#include <nlohmann/json.hpp>

#include "ssecast/app/daemon.hpp"
#include "ssecast/core/publish_request.hpp"
#include "ssecast/core/validation.hpp"
#include "ssecast/http/cors.hpp"
#include "ssecast/http/demo_page.hpp"
#include "ssecast/http/metrics_page.hpp"
#include "ssecast/http/publisher_access.hpp"
#include "ssecast/http/query_string.hpp"
#include "ssecast/metrics/metrics.hpp"
#include "ssecast/sse/jitter.hpp"
#include "ssecast/version.hpp"

namespace ssecast {

namespace {

using json = nlohmann::json;

reply json_reply(http::status status, std::string body, const request& req) {
    reply r;
    r.status = status;
    r.version = req.version();
    r.keep_alive = req.keep_alive();
    r.body = std::move(body);
    return r;
}

reply json_reply(http::status status, const json& body, const request& req) {
    return json_reply(status, body.dump() + "\n", req);
}

// The publish answer is the hot path: ids are digits and a dash, no JSON encoder needed.
void append_receipt(const publish_receipt& r, std::string& out) {
    out += R"({"delivered":)";
    out += std::to_string(r.delivered);
    out += R"(,"id":")";
    out += r.id;
    out += R"("})";
}

bool has_forwarding_header(const request& req) {
    return req.count("X-Forwarded-For") > 0 || req.count(http::field::forwarded) > 0 ||
           req.count("X-Real-IP") > 0;
}

bool is_json_content_type(const request& req) {
    auto value = req[http::field::content_type];
    auto media = value.substr(0, value.find(';'));
    while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
    return boost::beast::iequals(media, "application/json");
}

std::variant<reply, stream_request> subscribe(const request& req, std::string_view query,
                                              const request_context& ctx) {
    auto bad = [&](std::string message) {
        return error_reply(http::status::bad_request, std::move(message), req.version(),
                           req.keep_alive());
    };
    auto params = parse_query(query);
    if (!params) return bad("malformed percent-encoding in the query string");

    stream_request stream;
    for (auto& [name, value] : *params) {
        if (name == "channel") {
            if (auto problem = check_channel_name(value)) return bad(*problem);
            if (std::find(stream.channels.begin(), stream.channels.end(), value) ==
                stream.channels.end()) {
                stream.channels.push_back(std::move(value));
            }
            if (stream.channels.size() > max_channels_per_request) {
                return bad("at most " + std::to_string(max_channels_per_request) +
                           " channels per connection");
            }
        } else if (name == "lastEventId") {
            if (!value.empty()) stream.last_event_id = std::move(value);
        }
    }
    if (stream.channels.empty()) stream.channels.emplace_back(default_channel);
    // The header is what EventSource sends when it reconnects by itself; it wins over the query
    // parameter, which carries the resume point of the very first connection.
    if (auto header = req["Last-Event-ID"]; !header.empty())
        stream.last_event_id = std::string(header);

    if (ctx.over_capacity)
        return come_back_later(ctx.owner, "connection limit reached", req.version());
    if (ctx.owner.shutting_down())
        return come_back_later(ctx.owner, "shutting down", req.version());
    return stream;
}

reply publish(const request& req, const request_context& ctx) {
    if (!is_json_content_type(req)) {
        return error_reply(http::status::unsupported_media_type,
                           "Content-Type must be application/json", req.version(),
                           req.keep_alive());
    }
    auto parsed = parse_publish_request(req.body());
    if (auto* invalid = std::get_if<invalid_request>(&parsed)) {
        return error_reply(http::status::bad_request, invalid->error, req.version(),
                           req.keep_alive());
    }
    const auto& batch = std::get<publish_batch>(parsed);
    auto receipts = ctx.owner.store().publish(batch.events);
    if (!receipts) {
        return error_reply(http::status::service_unavailable,
                           "channel limit reached (--max-channels); nothing was published",
                           req.version(), req.keep_alive());
    }
    std::string body;
    if (batch.is_array) {
        body += '[';
        for (const auto& r : *receipts) {
            if (body.size() > 1) body += ',';
            append_receipt(r, body);
        }
        body += ']';
    } else {
        append_receipt(receipts->front(), body);
    }
    body += '\n';
    return json_reply(http::status::ok, std::move(body), req);
}

reply health(const request& req, const request_context& ctx) {
    auto stats = ctx.owner.store().stats();
    auto& c = ctx.owner.counters();
    auto uptime = std::chrono::duration_cast<std::chrono::milliseconds>(ctx.owner.uptime());
    // Every limit's effect is counted here until /metrics exists.
    json counters = {
        {"connections_accepted", c.connections_accepted.load()},
        {"connections_refused", c.connections_refused.load()},
        {"requests_rejected", c.requests_rejected.load()},
        {"streams_started", c.streams_started.load()},
        {"slow_consumer_disconnects", c.slow_consumer_disconnects.load()},
        {"events_published", stats.published},
        {"deliveries", stats.deliveries},
        {"events_replayed", stats.replayed},
        {"resyncs", stats.resyncs},
        {"events_expired", stats.evicted},
        {"channels_dropped", stats.channels_dropped},
        {"channel_limit_hits", stats.channel_limit_hits},
    };
    return json_reply(http::status::ok,
                      json{{"status", ctx.owner.shutting_down() ? "stopping" : "ok"},
                           {"version", version},
                           {"uptime_seconds", static_cast<double>(uptime.count()) / 1000.0},
                           {"connections", ctx.owner.connections()},
                           {"subscribers", ctx.owner.streams()},
                           {"channels", stats.channels},
                           {"counters", counters}},
                      req);
}

reply readiness(const request& req, const request_context& ctx) {
    auto problem = ctx.owner.shutting_down() ? std::optional<std::string>("shutting down")
                                             : ctx.owner.store().unavailable();
    if (problem) {
        return error_reply(http::status::service_unavailable, *problem, req.version(),
                           req.keep_alive());
    }
    return json_reply(http::status::ok,
                      std::string(R"({"status":"ready"})"
                                  "\n"),
                      req);
}

reply metrics(const request& req, const request_context& ctx) {
    auto r = json_reply(http::status::ok, render_metrics(ctx.owner), req);
    r.content_type = exposition::content_type;
    return r;
}

reply list_channels(const request& req, const request_context& ctx) {
    json list = json::array();
    for (const auto& ch : ctx.owner.store().channels()) {
        list.push_back({{"name", ch.name},
                        {"subscribers", ch.subscribers},
                        {"buffered", ch.buffered},
                        {"lastId", ch.last_id ? json(*ch.last_id) : json(nullptr)}});
    }
    return json_reply(http::status::ok, json{{"channels", list}}, req);
}

}  // namespace

reply error_reply(http::status status, std::string message, unsigned version, bool keep_alive,
                  const char* allow) {
    reply r;
    r.status = status;
    r.version = version;
    r.keep_alive = keep_alive;
    if (allow != nullptr) r.extra_headers = std::string("Allow: ") + allow + "\r\n";
    r.body = json{{"error", message}}.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
    r.rejection = std::move(message);
    return r;
}

reply come_back_later(daemon& owner, std::string reason, unsigned version) {
    reply r;
    r.version = version;
    r.keep_alive = false;
    r.content_type = "text/event-stream; charset=utf-8";
    r.cache_control = "no-cache, no-transform";
    r.extra_headers = "X-Accel-Buffering: no\r\n";
    r.body = ": " + reason + "\nretry: " +
             std::to_string(jittered_retry(owner.settings().reconnect_delay).count()) + "\n\n";
    r.rejection = std::move(reason);
    return r;
}

namespace {

std::variant<reply, stream_request> route_request(const request& req, const request_context& ctx) {
    auto [path, query] = split_target(req.target());
    auto method = req.method();
    auto not_allowed = [&](const char* allow) {
        return error_reply(http::status::method_not_allowed,
                           "method " + std::string(req.method_string()) + " is not allowed on " +
                               std::string(path),
                           req.version(), req.keep_alive(), allow);
    };
    auto forbidden = [&] {
        return error_reply(http::status::forbidden,
                           "only local clients may use this endpoint, and not through a proxy",
                           req.version(), req.keep_alive());
    };
    bool trusted = may_publish(ctx.peer, has_forwarding_header(req));

    if (path == "/events") {
        if (method != http::verb::get) return not_allowed("GET");
        return subscribe(req, query, ctx);
    }
    if (ctx.over_capacity) {
        return error_reply(http::status::service_unavailable, "connection limit reached",
                           req.version(), false);
    }
    if (path == "/notify") {
        if (method != http::verb::post) return not_allowed("POST");
        if (!trusted) return forbidden();
        auto started = std::chrono::steady_clock::now();
        auto answer = publish(req, ctx);
        ctx.metrics.publish_duration.observe(std::chrono::steady_clock::now() - started);
        return answer;
    }
    if (path == "/healthz") {
        if (method != http::verb::get) return not_allowed("GET");
        return health(req, ctx);
    }
    if (path == "/readyz") {
        if (method != http::verb::get) return not_allowed("GET");
        return readiness(req, ctx);
    }
    if (path == "/metrics") {
        if (method != http::verb::get) return not_allowed("GET");
        if (!trusted && !ctx.owner.settings().metrics_access_any) return forbidden();
        return metrics(req, ctx);
    }
    if (path == "/channels") {
        if (method != http::verb::get) return not_allowed("GET");
        if (!trusted) return forbidden();
        return list_channels(req, ctx);
    }
    if (path == "/" && ctx.owner.settings().demo_page) {
        if (method != http::verb::get) return not_allowed("GET");
        auto r = json_reply(http::status::ok, std::string(demo_page_html()), req);
        r.content_type = "text/html; charset=utf-8";
        r.cache_control = "no-cache";
        return r;
    }
    return error_reply(http::status::not_found, "no such endpoint: " + std::string(path),
                       req.version(), req.keep_alive());
}

}  // namespace

std::variant<reply, stream_request> route(const request& req, const request_context& ctx) {
    const auto& policy = ctx.owner.cross_origin();
    auto origin = req[http::field::origin];
    auto host = req[http::field::host];
    auto refused = [&] {
        return error_reply(
            http::status::forbidden,
            "origin " + std::string(origin.substr(0, 256)) + " is not allowed (--cors-origins)",
            req.version(), req.keep_alive());
    };
    if (req.method() == http::verb::options &&
        req.count(http::field::access_control_request_method) > 0) {
        auto verdict = policy.preflight(origin, host);
        if (!verdict.allowed) return refused();
        auto r = json_reply(http::status::no_content, std::string(), req);
        r.extra_headers = std::move(verdict.headers);
        return r;
    }
    auto verdict = policy.check(origin, host);
    if (!verdict.allowed) return refused();
    auto routed = route_request(req, ctx);
    // Errors carry the headers too, so that the page can read why it was refused.
    if (auto* stream = std::get_if<stream_request>(&routed)) {
        stream->extra_headers = std::move(verdict.headers);
    } else {
        std::get<reply>(routed).extra_headers += verdict.headers;
    }
    return routed;
}

}  // namespace ssecast
