#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ssecast/backend/storage.hpp"
#include "ssecast/fanout/subscriber.hpp"

namespace ssecast {

// The local fan-out: which subscribers of this process want which channels, on which worker, and
// the hand-over of each stored event to them, serialized once, in seq order, once per subscriber
// even when it is on several of the event's channels. Every backend feeds it (event_sink).
class hub final : public event_sink {
  public:
    // One executor per worker thread that owns subscribers: each event is queued once to each
    // worker with subscribers of its channels and delivered there. Empty: one worker, delivered
    // inline by on_committed() (unit tests and tools).
    explicit hub(std::vector<boost::asio::any_io_executor> workers);
    ~hub();

    void on_committed(std::span<const committed_event> events,
                      std::span<std::size_t> delivered) override;

    // On worker `worker`'s thread: registers `sink` for `channels` (distinct). Events for it are
    // held, up to `held_limit` bytes, until go_live(): a subscriber is registered before its
    // backlog is read, so nothing published meanwhile is missed.
    std::uint64_t add(const std::vector<std::string>& channels, subscriber& sink,
                      std::size_t worker, std::size_t held_limit);
    // On its worker's thread, once its backlog (events up to `head`) is queued: hands it the held
    // events after `head` and live ones from now on. `overflowed`: more was held than its limit,
    // and none is handed over (the subscriber must start again from its last event); `gone`: it
    // was removed meanwhile.
    enum class handoff { live, overflowed, gone };
    handoff go_live(std::uint64_t id, std::uint64_t head);
    bool is_registered(std::uint64_t id) const;
    // On its worker's thread. The channels it had, and whether it was live.
    struct removed {
        std::vector<std::string> channels;
        bool was_live = false;
        bool found = false;
    };
    removed remove(std::uint64_t id);

    std::size_t subscriptions() const;
    std::uint64_t deliveries() const;
    // Subscribers of each named channel.
    void count_subscribers(std::vector<channel_info>& channels) const;
    // How subscribers spread over the channels with any: per bound, the channels with at most
    // that many, and the `busiest` channels, most first, ties by name.
    struct spread {
        std::vector<std::uint64_t> at_most;
        std::uint64_t channels = 0;
        std::uint64_t subscriptions = 0;
        std::vector<std::pair<std::string, std::size_t>> busiest;
    };
    spread census(std::span<const std::size_t> bounds, std::size_t busiest) const;

  private:
    struct channel;
    struct subscription;
    struct delivery {
        frame encoded;
        std::uint64_t seq = 0;
        std::chrono::steady_clock::time_point published;
        std::vector<std::uint64_t> channels;  // hub channel ids
    };
    struct worker;

    void deliver(std::size_t index, const std::vector<delivery>& work);
    void drain(std::size_t index);
    void hand_over(subscription& sub, const frame& f, std::uint64_t seq,
                   std::chrono::steady_clock::time_point published);

    std::vector<boost::asio::any_io_executor> executors_;
    mutable std::mutex mutex_;  // guards channels_ and each channel's subscriber list
    struct name_hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const {
            return std::hash<std::string_view>{}(s);
        }
    };
    std::unordered_map<std::string, std::unique_ptr<channel>, name_hash, std::equal_to<>> channels_;
    std::unordered_map<std::uint64_t, std::unique_ptr<subscription>> subscriptions_;
    std::vector<std::unique_ptr<worker>> workers_;
    std::uint64_t next_channel_ = 1;
    std::uint64_t next_subscription_ = 1;
    std::uint64_t deliveries_ = 0;
};

}  // namespace ssecast
