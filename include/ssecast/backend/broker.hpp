#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ssecast/backend/subscriber.hpp"
#include "ssecast/core/event.hpp"
#include "ssecast/sse/sse_frame.hpp"

namespace ssecast {

struct subscription_start {
    bool accepted = false;           // false: the channel limit was reached
    std::uint64_t subscription = 0;  // handle for unsubscribe()
    std::vector<frame> backlog;      // resync notice (if any), then missed events
    bool resync = false;
    std::size_t replayed = 0;  // events in the backlog
    // The id of the newest event published before the subscription: a client that has seen no
    // event yet resumes from here, so that what is published while it reconnects is not lost.
    std::string position;
};

struct channel_info {
    std::string name;
    std::size_t subscribers = 0;
    std::size_t buffered = 0;
    std::optional<std::string> last_id;
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

// The storage and fan-out backend: owns channels, their history and their subscribers. Knows
// nothing of HTTP. In memory now; Redis-backed and durable implementations come later.
class broker {
  public:
    virtual ~broker() = default;

    // Publishes the events in order. All or nothing: if a channel cannot be created because the
    // channel limit is reached, nothing is published and the result is empty.
    virtual std::optional<std::vector<publish_receipt>> publish(
        const std::vector<new_event>& batch) = 0;

    // Subscribes `sink` to `channels` and returns what it missed after `last_event_id`. Atomic
    // with respect to publish(): every event is either in the backlog or delivered live to `sink`,
    // never both, never neither. Called on the thread of shard `shard`, where `sink` then gets its
    // live events; `sink` must stay valid until unsubscribe(), called on that thread too.
    virtual subscription_start subscribe(const std::vector<std::string>& channels,
                                         std::optional<std::string_view> last_event_id,
                                         subscriber& sink, std::size_t shard) = 0;

    virtual void unsubscribe(std::uint64_t subscription) = 0;

    // Periodic housekeeping: evicts events past their max age and drops channels that have been
    // empty (no subscribers, no events) for the grace period.
    virtual void maintain(std::chrono::steady_clock::time_point now) = 0;

    virtual broker_stats stats() const = 0;
    virtual std::vector<channel_info> channels() const = 0;
    // Cheaper than channels() for many channels: copies no names but those of the `busiest`.
    // `bounds` are increasing.
    virtual channel_census census(std::span<const std::size_t> bounds,
                                  std::size_t busiest) const = 0;
    // Why the broker cannot take publishes and subscriptions now (say, its backend is out of
    // reach); nothing when it can.
    virtual std::optional<std::string> unavailable() const = 0;
};

}  // namespace ssecast
