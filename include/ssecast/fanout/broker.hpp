#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ssecast/backend/storage.hpp"
#include "ssecast/fanout/hub.hpp"
#include "ssecast/fanout/subscriber.hpp"

namespace ssecast {

struct subscription_start {
    std::error_code error;  // channel_limit, unavailable: no subscription
    std::string detail;
    std::uint64_t subscription = 0;  // handle for unsubscribe()
    std::vector<frame> backlog;      // resync notice (if any), then missed events
    bool resync = false;
    std::size_t replayed = 0;  // events in the backlog
    // The id of the newest event stored before the subscription: a client that has seen no event
    // yet resumes from here, so that what is published while it reconnects is not lost.
    std::string position;
};

struct broker_stats {
    std::size_t channels = 0;
    std::size_t subscriptions = 0;
    std::uint64_t published = 0;
    std::uint64_t deliveries = 0;
    std::uint64_t replayed = 0;
    std::uint64_t resyncs = 0;
    std::uint64_t evicted = 0;
    std::uint64_t channels_dropped = 0;
    std::uint64_t channel_limit_hits = 0;
};

// How subscribers spread over the channels at one moment.
struct channel_census {
    std::vector<std::uint64_t> at_most;  // per bound asked for: channels with at most that many
    std::uint64_t channels = 0;
    std::uint64_t subscriptions = 0;  // subscribers summed over the channels
    // The channels with the most subscribers (as many as asked for), most first, ties by name.
    std::vector<std::pair<std::string, std::size_t>> busiest;
};

// What the HTTP side sees: a backend (storage) and the local hub, as one. Knows nothing of HTTP,
// and HTTP nothing of the backend behind it.
class broker {
  public:
    broker(storage& backend, hub& fanout) : backend_(backend), hub_(fanout) {}

    // Stores the batch (all or nothing) and fans it out; `done` runs on `ex` (or inline).
    void publish(std::vector<new_event> batch, const boost::asio::any_io_executor& ex,
                 storage::publish_handler done) {
        backend_.publish(std::move(batch), ex, std::move(done));
    }

    // What the subscriber gets when its backlog is read: `started` runs first, on worker `worker`'s
    // thread (`ex`) where `sink` gets its events; then the sink gets, in seq order, what was
    // published meanwhile and everything after. `sink` must stay valid until unsubscribe(), which
    // is called on that thread too. `lost` runs instead of the live events when more of them
    // piled up during the read than `held_limit` bytes: the subscriber must start again from the
    // last event it got.
    using start_handler = std::function<void(subscription_start)>;
    void subscribe(const std::vector<std::string>& channels,
                   std::optional<std::string_view> last_event_id, subscriber& sink,
                   std::size_t worker, std::size_t held_limit,
                   const boost::asio::any_io_executor& ex, start_handler started,
                   std::function<void()> lost);
    void unsubscribe(std::uint64_t subscription);

    void maintain(std::chrono::steady_clock::time_point now) { backend_.maintain(now); }
    broker_stats stats() const;
    std::vector<channel_info> channels() const;
    // Cheaper than channels() for many channels: copies no names but those of the `busiest`.
    // `bounds` are increasing.
    channel_census census(std::span<const std::size_t> bounds, std::size_t busiest) const;
    // Why the backend cannot take publishes and subscriptions now; nothing when it can.
    std::optional<std::string> unavailable() const { return backend_.unavailable(); }
    // The backend's own /metrics families.
    void write_metrics(exposition& out) const { backend_.write_metrics(out); }

  private:
    storage& backend_;
    hub& hub_;
};

}  // namespace ssecast
