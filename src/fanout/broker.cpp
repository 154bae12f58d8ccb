#include "ssecast/fanout/broker.hpp"

#include <algorithm>

namespace ssecast {

void broker::subscribe(const std::vector<std::string>& named,
                       std::optional<std::string_view> last_event_id, subscriber& sink,
                       std::size_t worker, std::size_t held_limit,
                       const boost::asio::any_io_executor& ex, start_handler started,
                       std::function<void()> lost) {
    // A channel named twice is one subscription to it (the hub and the watcher counts want them
    // distinct).
    std::vector<std::string> channels;
    channels.reserve(named.size());
    for (const auto& name : named) {
        if (std::find(channels.begin(), channels.end(), name) == channels.end())
            channels.push_back(name);
    }
    // The handoff (docs/design/backend.md): registered with the hub before the backlog is read,
    // so an event stored after the read's head reaches the sink, and one up to it is dropped.
    auto id = hub_.add(channels, sink, worker, held_limit);
    backend_.subscribe(
        channels, last_event_id, ex,
        [this, id, channels, started = std::move(started),
         lost = std::move(lost)](replay_result read) {
            if (read.error) {
                hub_.remove(id);
                subscription_start refused;
                refused.error = read.error;
                refused.detail = std::move(read.detail);
                started(std::move(refused));
                return;
            }
            if (!hub_.is_registered(id)) {
                // Unsubscribed while the backlog was read.
                backend_.unwatch(channels);
                return;
            }
            auto head = read.head;
            started({{}, {}, id, std::move(read.backlog), read.resync, read.replayed,
                     std::move(read.position)});
            switch (hub_.go_live(id, head)) {
                case hub::handoff::live:
                    break;
                case hub::handoff::overflowed:
                    lost();
                    break;
                case hub::handoff::gone:
                    // `started` unsubscribed before it went live: unsubscribe() left this to us.
                    backend_.unwatch(channels);
                    break;
            }
        });
}

void broker::unsubscribe(std::uint64_t subscription) {
    auto gone = hub_.remove(subscription);
    // Not yet live: the backlog read is under way, and its completion undoes its watch.
    if (gone.was_live) backend_.unwatch(gone.channels);
}

broker_stats broker::stats() const {
    auto s = backend_.stats();
    return {s.channels,  hub_.subscriptions(), s.published,        hub_.deliveries(), s.replayed,
            s.resyncs,   s.evicted,            s.channels_dropped, s.channel_limit_hits};
}

std::vector<channel_info> broker::channels() const {
    auto out = backend_.channels();
    hub_.count_subscribers(out);
    return out;
}

channel_census broker::census(std::span<const std::size_t> bounds, std::size_t busiest) const {
    auto spread = hub_.census(bounds, busiest);
    auto all = backend_.stats().channels;
    channel_census out{std::move(spread.at_most), all, spread.subscriptions,
                       std::move(spread.busiest)};
    // The backend's channels that no one here subscribes to have 0 subscribers: under every bound.
    auto idle = all > spread.channels ? all - spread.channels : 0;
    for (auto& n : out.at_most) n += idle;
    if (out.busiest.size() < busiest && idle > 0) {
        // Fewer channels with subscribers than asked for: the rest, with 0, by name.
        auto infos = backend_.channels();
        hub_.count_subscribers(infos);
        for (auto& info : infos) {
            if (out.busiest.size() >= busiest) break;
            if (info.subscribers == 0) out.busiest.emplace_back(std::move(info.name), 0);
        }
    }
    return out;
}

}  // namespace ssecast
