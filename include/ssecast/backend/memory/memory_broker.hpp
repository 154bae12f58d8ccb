#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "ssecast/backend/broker.hpp"
#include "ssecast/backend/memory/channel_registry.hpp"

namespace ssecast {

struct memory_broker_options {
    std::size_t history = 1000;                        // events kept per channel
    std::optional<std::chrono::milliseconds> max_age;  // events older than this are evicted
    std::size_t max_channels = 10000;
    std::chrono::milliseconds channel_grace{60000};  // empty channels are dropped after this
    std::uint64_t epoch = 0;                         // this run's id epoch
    // One executor per thread that owns subscribers: each event is handed once to each thread
    // that has subscribers of its channels, and delivered there. Empty: one shard, delivered
    // inline by publish() (unit tests and tools).
    std::vector<boost::asio::any_io_executor> shards;
};

// The broker that keeps everything in this process.
class memory_broker final : public broker {
  public:
    explicit memory_broker(memory_broker_options options);

    std::optional<std::vector<publish_receipt>> publish(
        const std::vector<new_event>& batch) override;
    subscription_start subscribe(const std::vector<std::string>& channels,
                                 std::optional<std::string_view> last_event_id, subscriber& sink,
                                 std::size_t shard) override;
    void unsubscribe(std::uint64_t subscription) override;
    void maintain(std::chrono::steady_clock::time_point now) override;
    broker_stats stats() const override;
    std::vector<channel_info> channels() const override;
    channel_census census(std::span<const std::size_t> bounds, std::size_t busiest) const override;
    // Everything is in this process: available as long as it runs.
    std::optional<std::string> unavailable() const override { return std::nullopt; }

  private:
    // The channels of each list, created where missing, duplicates removed; nothing when they do
    // not all fit under the channel limit.
    std::optional<std::vector<std::vector<channel*>>> resolve(
        const std::vector<const std::vector<std::string>*>& lists);
    struct delivery {
        frame encoded;
        std::uint64_t seq = 0;
        std::chrono::steady_clock::time_point published;
        std::vector<std::uint64_t> channels;  // channel ids
    };
    // On shard `index`'s thread: hands the events to its subscribers of their channels.
    void deliver(std::size_t index, const std::vector<delivery>& work);
    frame resync_notice(std::string_view last_event_id, std::uint64_t position_seq,
                        std::optional<std::uint64_t> oldest_seq) const;

    memory_broker_options options_;
    mutable std::mutex mutex_;
    channel_registry registry_;
    std::unordered_map<std::uint64_t, std::unique_ptr<subscription>> subscriptions_;
    struct shard {
        // Events waiting for the shard's loop, in publish order. A queue of our own rather than
        // one posted handler per event: Asio may run a handler posted from the loop's own thread
        // before one posted earlier from another thread, and the order must be the publish order.
        std::mutex mutex;
        std::vector<delivery> pending;
        bool drain_posted = false;
        // Touched only on the shard's thread: channel id -> its subscribers there.
        std::unordered_map<std::uint64_t, std::vector<subscription*>> subscribers;
        std::vector<subscriber*> touched;  // scratch space of deliver(), kept to reuse its memory
        std::uint64_t rounds = 0;          // deliver() calls so far
    };
    // On shard `index`'s thread: delivers everything queued for it.
    void drain(std::size_t index);
    std::vector<std::unique_ptr<shard>> shards_;
    std::uint64_t last_seq_ = 0;
    std::uint64_t next_subscription_ = 1;
    broker_stats stats_;
};

}  // namespace ssecast
