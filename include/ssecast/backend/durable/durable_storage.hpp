#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include "ssecast/backend/durable/sqlite_journal.hpp"
#include "ssecast/backend/memory/memory_storage.hpp"

namespace ssecast {

struct durable_options {
    memory_storage_options memory;  // its epoch is the database's, whatever is given here
    journal_options journal;
};

// The backend of --data-dir: the history in memory, as memory_storage keeps it (replays read it
// there, at memory speed), and every event in an SQLite database before it counts as published:
// its receipt, its place in the history and its live delivery all wait for the commit. At start
// the rings are rebuilt from the database, with the same epoch and the seqs going on, so ids
// given out before a restart still resume exactly.
class durable_storage final : public storage, private history_observer {
  public:
    // Opens the database; throws journal_error when it cannot be used.
    durable_storage(durable_options options, event_sink& sink);
    ~durable_storage() override;

    void publish(std::vector<new_event> batch, const boost::asio::any_io_executor& ex,
                 publish_handler done) override;
    void subscribe(const std::vector<std::string>& channels,
                   std::optional<std::string_view> last_event_id,
                   const boost::asio::any_io_executor& ex, replay_handler done) override {
        memory_->subscribe(channels, last_event_id, ex, std::move(done));
    }
    void unwatch(const std::vector<std::string>& channels) override { memory_->unwatch(channels); }
    void maintain(std::chrono::steady_clock::time_point now) override { memory_->maintain(now); }
    storage_stats stats() const override { return memory_->stats(); }
    std::vector<channel_info> channels() const override { return memory_->channels(); }
    std::optional<std::string> unavailable() const override;
    void stop() override;
    void write_metrics(exposition& out) const override;

    std::uint64_t epoch() const { return epoch_; }
    std::size_t restored() const { return restored_; }  // events read back at start

  private:
    // history_observer: the database forgets what the rings forget.
    void evicted(const std::string& channel, std::uint64_t up_to) override;
    void dropped(const std::string& channel, std::uint64_t floor) override;

    // After a commit: one post per event loop for all its publishes, not one each (a wake-up of
    // the loop per publish cost more than the write itself).
    void hand_back();

    std::unique_ptr<sqlite_journal> journal_;
    struct finished {
        boost::asio::any_io_executor ex;
        publish_handler done;
        publish_result result;
    };
    std::vector<finished> finished_;  // the writer thread's
    std::unique_ptr<memory_storage> memory_;
    // Seqs are taken and batches queued to the journal under it, so the journal gets them in
    // seq order (and commits, and so hands them to the history, in that order).
    mutable std::mutex order_;
    bool stopped_ = false;                 // under order_
    std::atomic<bool> forgetting_{true};  // false once stop() began: the journal is closing
    std::uint64_t epoch_ = 0;
    std::size_t restored_ = 0;
};

}  // namespace ssecast
