#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "ssecast/metrics/metrics.hpp"

namespace ssecast {

// --fsync: what a 200 promises (README, "Durability").
enum class fsync_policy {
    always,  // synchronous=FULL: on disk before the answer; survives power loss
    batch,   // synchronous=NORMAL, the WAL synced at least every fsync_interval; survives kill -9
    off,     // synchronous=NORMAL, the OS decides when; survives kill -9, not power loss
};

struct journal_options {
    std::filesystem::path dir;  // the database is dir/ssecast.db (and its -wal, -shm)
    fsync_policy fsync = fsync_policy::always;
    std::chrono::milliseconds fsync_interval{100};  // batch: the longest a commit stays unsynced
    // Events waiting for the writer thread. Past it, append() fails at once ("write queue full"):
    // memory stays bounded when the disk is slower than the publishers.
    std::size_t max_queue = 65536;
    std::uint64_t new_epoch = 0;  // the epoch stored when the database is created
    // Runs on the writer thread after the completions of each commit: where a caller hands on,
    // in one go, what the completions gathered.
    std::function<void()> after_completions;
};

// One stored event, as appended and as read back at start.
struct journal_record {
    std::uint64_t seq = 0;
    std::int64_t published_ms = 0;      // system clock, Unix milliseconds
    std::vector<std::string> channels;  // distinct
    std::string type;                   // empty: none
    std::string data;
    std::optional<std::uint32_t> retry_ms;
};

// What the database holds, read once at open.
struct journal_contents {
    std::uint64_t epoch = 0;     // kept from the first open of the directory
    std::uint64_t last_seq = 0;  // the seq to continue after (see open())
    // Per channel: the highest seq deleted from its history (0: none); channels with stored
    // events or evictions only.
    std::vector<std::pair<std::string, std::uint64_t>> evicted;
    std::uint64_t evicted_floor = 0;  // see forget()
    std::vector<journal_record> records;  // ascending seq
};

// A database that cannot be opened or used: the message names the file and the problem.
class journal_error : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// Why a write failed, for the publish answer ("database or disk is full", ...).
struct journal_failure {
    std::string message;
};

struct journal_stats {
    std::uint64_t commits = 0;
    std::uint64_t events = 0;        // appended and committed
    std::uint64_t write_errors = 0;  // failed commits
    std::uint64_t queued = 0;        // events waiting for the writer now
    std::uint64_t database_bytes = 0;  // the database file plus its WAL, as of the last commit
    histogram_snapshot commit_seconds;     // BEGIN to durable (per the fsync policy)
    histogram_snapshot events_per_commit;  // group commit: publishes per transaction
};

// The history in an SQLite database in WAL mode, written by one thread of its own: the event loops
// only queue. Everything queued in the meantime is committed in one transaction (group commit),
// then each append's completion runs on the writer thread, in queue order.
class sqlite_journal {
  public:
    // Opens (creating it and DIR's database when missing) and reads the contents. Throws
    // journal_error for a database that is damaged, not a database, of an unknown schema version,
    // or cannot be written (read-only directory or file, disk full).
    // After an unclean stop with --fsync other than always, the last commits may be lost while
    // their ids were given out: last_seq then jumps far ahead, so that no id is ever issued twice.
    static std::pair<std::unique_ptr<sqlite_journal>, journal_contents> open(
        const journal_options& options);
    ~sqlite_journal();  // stops the writer after it has committed and completed everything queued

    using completion = std::function<void(std::optional<journal_failure>)>;
    // Any thread. Stores the records (ascending seq, above everything appended before); `done`
    // runs on the writer thread once they are committed per the fsync policy, or with why not.
    // A full queue or a stopped journal runs `done` with the failure at once, on the caller's
    // thread.
    void append(std::vector<journal_record> records, completion done);
    // Any thread, in order with append(): deletes channel's events with seq <= up_to, and
    // remembers up_to as its highest evicted seq.
    void trim(std::string channel, std::uint64_t up_to);
    // Any thread, in order with append(): the channel is gone (no events left); its evictions are
    // folded into the floor, which channels created later start from.
    void forget(std::string channel, std::uint64_t evicted_floor);

    // Why writes fail now ("database or disk is full"), nothing when the last write worked. While
    // failing, the writer retries at least once a second on its own, so that this clears when
    // space returns even with no publish.
    std::optional<std::string> unavailable() const;
    journal_stats stats() const;
    const std::filesystem::path& file() const;

  private:
    struct impl;
    explicit sqlite_journal(std::unique_ptr<impl> state);
    std::unique_ptr<impl> impl_;
};

const char* to_string(fsync_policy policy);

}  // namespace ssecast
