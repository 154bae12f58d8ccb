#include "ssecast/fanout/broker.hpp"
#include "ssecast/config/config.hpp"
#include "ssecast/http/abuse_limits.hpp"
#include "ssecast/http/handlers.hpp"
#include "ssecast/http/server_state.hpp"
#include "ssecast/metrics/metrics.hpp"
#include "ssecast/metrics/process_metrics.hpp"
#include "ssecast/metrics/server_counters.hpp"
#include "ssecast/version.hpp"

namespace ssecast {

namespace {

std::string render(const handler_context& ctx) {
    auto stats = ctx.store.stats();
    auto census = ctx.store.census(channel_subscriber_bounds, ctx.settings.metrics_per_channel);
    const auto& c = ctx.counters;
    auto totals = ctx.state.workers_total();
    histogram_snapshot per_channel;
    for (std::size_t i = 0; i < channel_subscriber_bounds.size(); ++i) {
        per_channel.bounds.push_back(static_cast<double>(channel_subscriber_bounds[i]));
        per_channel.cumulative.push_back(census.at_most[i]);
    }
    per_channel.count = census.channels;
    per_channel.sum = static_cast<double>(census.subscriptions);

    auto seconds = [](auto d) { return std::chrono::duration<double>(d).count(); };
    exposition out;
    out.gauges("ssecast_build_info", "Always 1; the version of the running daemon.", "version",
               {{version, 1}});
    out.gauge("ssecast_process_start_time_seconds", "Start time of the daemon, in Unix seconds.",
              seconds(ctx.state.start_time().time_since_epoch()));
    out.gauge("ssecast_uptime_seconds", "Seconds since the daemon started.",
              seconds(ctx.state.uptime()));
    out.gauge("ssecast_connections", "Open client connections, event streams included.",
              static_cast<double>(ctx.state.connections()));
    out.gauge("ssecast_subscribers", "Open event streams (GET /events).",
              static_cast<double>(ctx.state.streams()));
    out.gauge("ssecast_channels", "Channels that exist.", static_cast<double>(stats.channels));
    out.gauge("ssecast_send_queue",
              "Event streams waiting for their event loop's send scheduler (at most one entry per "
              "stream).",
              static_cast<double>(totals.send_queue));
    out.gauge("ssecast_token_cache_entries",
              "Verified JWTs cached, over all event loops (at most 4096 per loop).",
              static_cast<double>(totals.token_cache));
    out.counter("ssecast_connections_accepted_total", "Client connections accepted.",
                c.connections_accepted.load(std::memory_order_relaxed));
    out.counter("ssecast_connections_refused_total",
                "Connections accepted over --max-connections: answered come back later or 503, "
                "or closed unanswered.",
                c.connections_refused.load(std::memory_order_relaxed));
    out.counter("ssecast_requests_rejected_total", "Requests answered with a 4xx or 5xx status.",
                c.requests_rejected.load(std::memory_order_relaxed));
    out.counter("ssecast_streams_started_total", "Event streams started.",
                c.streams_started.load(std::memory_order_relaxed));
    out.counter("ssecast_events_published_total", "Events published.", stats.published);
    out.counter("ssecast_event_deliveries_total",
                "Live deliveries: each published event counted once per subscriber it was "
                "handed to.",
                stats.deliveries);
    out.counter("ssecast_events_dropped_total",
                "Live events a subscriber did not take: the one that overflowed --max-queue and "
                "any that reached the stream while it was being closed.",
                totals.events_dropped);
    out.counter("ssecast_slow_consumer_disconnects_total",
                "Subscribers disconnected for queueing more than --max-queue.",
                c.slow_consumer_disconnects.load(std::memory_order_relaxed));
    out.counter("ssecast_events_replayed_total", "Buffered events sent to resuming subscribers.",
                stats.replayed);
    out.counter("ssecast_resyncs_total",
                "Resync notices: a resuming subscriber may have missed events.", stats.resyncs);
    out.counter("ssecast_events_expired_total", "Buffered events evicted by --history-max-age.",
                stats.evicted);
    out.counter("ssecast_channels_dropped_total",
                "Channels dropped after --channel-grace with no subscribers and no events.",
                stats.channels_dropped);
    out.counter("ssecast_channel_limit_hits_total",
                "Publishes and subscriptions refused because of --max-channels.",
                stats.channel_limit_hits);
    std::vector<std::pair<exposition::label_set, std::uint64_t>> auth_failures;
    for (std::size_t e = 0; e < auth_endpoint_names.size(); ++e) {
        for (std::size_t r = 0; r < auth_refusal_names.size(); ++r) {
            auth_failures.push_back(
                {{{"endpoint", auth_endpoint_names[e]}, {"reason", auth_refusal_names[r]}},
                 c.auth_failures[e][r].load(std::memory_order_relaxed)});
        }
    }
    out.counters("ssecast_auth_failures_total",
                 "Requests refused for their credential: missing, invalid, expired, or valid but "
                 "not allowed (forbidden), by endpoint (admin: /channels and /metrics).",
                 auth_failures);
    out.counter("ssecast_bytes_sent_total",
                "Bytes written to event streams (response headers, events, heartbeats).",
                totals.bytes_sent);
    out.histogram("ssecast_channel_subscribers",
                  "Channels by their number of subscribers, at scrape time (sum: subscriptions).",
                  per_channel);
    if (ctx.settings.metrics_per_channel > 0) {
        std::vector<std::pair<std::string, double>> busiest;
        busiest.reserve(census.busiest.size());
        for (auto& [name, subscribers] : census.busiest)
            busiest.emplace_back(std::move(name), static_cast<double>(subscribers));
        out.gauges("ssecast_channel_subscribers_current",
                   "Subscribers of the channels with the most (--metrics-per-channel of them).",
                   "channel", busiest);
    }
    out.histogram("ssecast_publish_duration_seconds",
                  "Time to handle a POST /notify, from the routed request to its answer.",
                  totals.publish_duration);
    out.histogram("ssecast_publish_to_write_seconds",
                  "Time from the publish of the oldest live event in a stream write to the moment "
                  "the whole write was handed to the kernel.",
                  totals.publish_to_write);
    // --- the backend's own: with --data-dir, the database's commits ---
    ctx.store.write_metrics(out);
    // --- abuse limits ---
    const auto& limits = ctx.limits;
    out.counter("ssecast_connections_per_ip_refused_total",
                "Connections and requests refused by --max-connections-per-ip (come back later, "
                "429, or closed unanswered).",
                limits.per_address.refused());
    out.gauge("ssecast_connections_per_ip_addresses",
              "Client addresses (IPv4, or IPv6 /64) with open connections, as "
              "--max-connections-per-ip counts them.",
              static_cast<double>(limits.per_address.tracked()));
    out.counter("ssecast_publish_rate_limited_total",
                "POST /notify requests refused by --publish-rate (429).",
                limits.publish_rate.refused());
    out.gauge("ssecast_publish_rate_buckets",
              "Publishers with a token bucket that is not full (--publish-rate).",
              static_cast<double>(limits.publish_rate.size()));
    // --- the process, under Prometheus' own names (no ssecast_ prefix) ---
    write_process_metrics(out, read_process_sample());
    return out.take();
}

}  // namespace

answer metrics_page(const handler_context& ctx) {
    auto r = json_reply(http::status::ok, render(ctx), ctx.req);
    r.content_type = exposition::content_type;
    return r;
}

}  // namespace ssecast
