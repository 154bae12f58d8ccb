#include <nlohmann/json.hpp>

#include "ssecast/fanout/broker.hpp"
#include "ssecast/http/abuse_limits.hpp"
#include "ssecast/http/handlers.hpp"
#include "ssecast/http/server_state.hpp"
#include "ssecast/metrics/server_counters.hpp"
#include "ssecast/version.hpp"

namespace ssecast {

answer health(const handler_context& ctx) {
    using json = nlohmann::json;
    auto stats = ctx.store.stats();
    const auto& c = ctx.counters;
    auto uptime = std::chrono::duration_cast<std::chrono::milliseconds>(ctx.state.uptime());
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
        {"connections_per_ip_refused", ctx.limits.per_address.refused()},
        {"publish_rate_limited", ctx.limits.publish_rate.refused()},
    };
    const char* status = ctx.state.shutting_down() ? "stopping"
                         : ctx.state.draining()    ? "draining"
                                                   : "ok";
    json body = {{"status", status},
                 {"version", version},
                 {"uptime_seconds", static_cast<double>(uptime.count()) / 1000.0},
                 {"connections", ctx.state.connections()},
                 {"subscribers", ctx.state.streams()},
                 {"channels", stats.channels},
                 {"counters", counters}};
    return json_reply(http::status::ok, body.dump() + "\n", ctx.req);
}

answer readiness(const handler_context& ctx) {
    auto problem = ctx.state.shutting_down() ? std::optional<std::string>("shutting down")
                   : ctx.state.draining()
                       ? std::optional<std::string>("draining: shutting down after --drain-delay")
                       : ctx.store.unavailable();
    if (problem) return error_reply(http::status::service_unavailable, *problem, ctx.req);
    return json_reply(http::status::ok, "{\"status\":\"ready\"}\n", ctx.req);
}

}  // namespace ssecast
