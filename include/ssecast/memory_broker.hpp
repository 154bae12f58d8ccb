#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "ssecast/broker.hpp"
#include "ssecast/channel_registry.hpp"

namespace ssecast {

struct memory_broker_options {
    std::size_t history = 1000;                        // events kept per channel
    std::optional<std::chrono::milliseconds> max_age;  // events older than this are evicted
    std::size_t max_channels = 10000;
    std::chrono::milliseconds channel_grace{60000};  // empty channels are dropped after this
    std::uint64_t epoch = 0;                         // this run's id epoch
};

// The broker that keeps everything in this process.
class memory_broker final : public broker {
  public:
    explicit memory_broker(memory_broker_options options);

    std::optional<std::vector<publish_receipt>> publish(
        const std::vector<new_event>& batch) override;
    subscription_start subscribe(const std::vector<std::string>& channels,
                                 std::optional<std::string_view> last_event_id,
                                 subscriber& sink) override;
    void unsubscribe(std::uint64_t subscription) override;
    void maintain(std::chrono::steady_clock::time_point now) override;
    broker_stats stats() const override;
    std::vector<channel_info> channels() const override;

  private:
    // The channels of each list, created where missing, duplicates removed; nothing when they do
    // not all fit under the channel limit.
    std::optional<std::vector<std::vector<channel*>>> resolve(
        const std::vector<const std::vector<std::string>*>& lists);
    std::size_t append_and_fan_out(const new_event& event, const std::vector<channel*>& targets,
                                   std::uint64_t seq, std::chrono::steady_clock::time_point now);
    frame resync_notice(std::string_view last_event_id, std::uint64_t position_seq,
                        std::optional<std::uint64_t> oldest_seq) const;

    memory_broker_options options_;
    mutable std::mutex mutex_;
    channel_registry registry_;
    std::unordered_map<std::uint64_t, std::unique_ptr<subscription>> subscriptions_;
    std::uint64_t last_seq_ = 0;
    std::uint64_t next_subscription_ = 1;
    broker_stats stats_;
};

}  // namespace ssecast
