#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "ssecast/backend/memory/channel_registry.hpp"
#include "ssecast/backend/memory/history_observer.hpp"
#include "ssecast/backend/storage.hpp"

namespace ssecast {

struct memory_storage_options {
    std::size_t history = 1000;                        // events kept per channel
    std::optional<std::chrono::milliseconds> max_age;  // events older than this are evicted
    std::size_t max_channels = 10000;
    std::chrono::milliseconds channel_grace{60000};  // empty channels are dropped after this
    std::uint64_t epoch = 0;                         // the id epoch
};

// The backend that keeps the history in this process: a ring per channel. Everything completes
// inline. The durable backend keeps its copy of the history here too, and publishes in two steps
// (prepare, store elsewhere, commit).
class memory_storage final : public storage {
  public:
    // `observer`: told what the rings forget.
    memory_storage(memory_storage_options options, event_sink& sink,
                   history_observer* observer = nullptr);

    void publish(std::vector<new_event> batch, const boost::asio::any_io_executor& ex,
                 publish_handler done) override;
    void subscribe(const std::vector<std::string>& channels,
                   std::optional<std::string_view> last_event_id,
                   const boost::asio::any_io_executor& ex, replay_handler done) override;
    void unwatch(const std::vector<std::string>& channels) override;
    void maintain(std::chrono::steady_clock::time_point now) override;
    storage_stats stats() const override;
    std::vector<channel_info> channels() const override;
    // Everything is in this process: available as long as it runs.
    std::optional<std::string> unavailable() const override { return std::nullopt; }
    void stop() override {}  // nothing is ever under way

    // A batch with its channels resolved (and held: not dropped until committed), its seqs taken
    // and its frames encoded, not yet in the history nor handed to the sink.
    struct prepared {
        struct entry {
            std::uint64_t seq = 0;
            std::string id;
            frame encoded;
            std::chrono::steady_clock::time_point published;
            std::vector<channel*> targets;
            std::vector<std::string> names;  // the event's channels, distinct
        };
        std::vector<entry> events;
    };
    // Nothing when the channels do not all fit under the limit (then nothing changed). Seqs are
    // taken in call order; prepared batches must be committed (or abandoned) in that order, so the
    // caller serializes the two steps (durable_storage: one queue to the database).
    std::optional<prepared> prepare(const std::vector<new_event>& batch);
    // Into the history, then to the sink: the receipts.
    std::vector<publish_receipt> commit(prepared batch);
    // The batch was not stored: its seqs are never used, its channels no longer held.
    void abandon(const prepared& batch);

    // History read back at start (from the durable backend), before any publish or subscribe.
    struct restored_event {
        std::uint64_t seq = 0;
        std::chrono::steady_clock::time_point published;
        frame encoded;
        std::vector<std::string> channels;
    };
    void restore(const std::vector<restored_event>& events,
                 const std::vector<std::pair<std::string, std::uint64_t>>& evicted,
                 std::uint64_t floor, std::uint64_t last_seq);

  private:
    // prepare() and commit() with mutex_ held.
    std::optional<prepared> prepare_locked(const std::vector<new_event>& batch);
    std::vector<publish_receipt> commit_locked(prepared batch);
    // The channels of each list, created where missing, duplicates removed; nothing when they do
    // not all fit under the channel limit.
    std::optional<std::vector<std::vector<channel*>>> resolve(
        const std::vector<const std::vector<std::string>*>& lists);
    frame resync_notice(std::string_view last_event_id, std::uint64_t position_seq,
                        std::optional<std::uint64_t> oldest_seq) const;
    void push(channel& ch, std::uint64_t seq, std::chrono::steady_clock::time_point published,
              const frame& encoded);

    memory_storage_options options_;
    event_sink& sink_;
    history_observer* observer_;
    mutable std::mutex mutex_;
    channel_registry registry_;
    std::uint64_t last_seq_ = 0;       // taken by prepare()
    std::uint64_t committed_seq_ = 0;  // newest in the history: the head a snapshot reads
    storage_stats stats_;
};

}  // namespace ssecast
