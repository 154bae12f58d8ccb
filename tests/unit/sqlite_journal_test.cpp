#include "ssecast/backend/durable/sqlite_journal.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "temp_dir.hpp"

namespace {

using namespace std::chrono_literals;
using ssecast::fsync_policy;
using ssecast::journal_contents;
using ssecast::journal_error;
using ssecast::journal_failure;
using ssecast::journal_options;
using ssecast::journal_record;
using ssecast::sqlite_journal;
namespace fs = std::filesystem;

constexpr std::uint64_t epoch = 1700000000123;
constexpr std::uint64_t unclean_jump = std::uint64_t{1} << 32;

journal_options options_for(const fs::path& dir, fsync_policy fsync = fsync_policy::always) {
    journal_options o;
    o.dir = dir;
    o.fsync = fsync;
    o.new_epoch = epoch;
    return o;
}

// A record whose fields follow from its seq, so that what is read back can be checked against it.
journal_record record(std::uint64_t seq, std::vector<std::string> channels = {"news"},
                      std::optional<std::string> data = std::nullopt) {
    journal_record r;
    r.seq = seq;
    r.published_ms = 1700000000000 + static_cast<std::int64_t>(seq);
    r.channels = std::move(channels);
    r.type = seq % 2 == 0 ? "update" : "";
    r.data = data ? *data : "event " + std::to_string(seq);
    if (seq % 3 == 0) r.retry_ms = static_cast<std::uint32_t>(1000 + seq);
    return r;
}

std::vector<std::string> sorted(std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
}

void expect_record(const journal_record& got, const journal_record& want) {
    SCOPED_TRACE("seq " + std::to_string(want.seq));
    EXPECT_EQ(got.seq, want.seq);
    EXPECT_EQ(got.published_ms, want.published_ms);
    EXPECT_EQ(sorted(got.channels), sorted(want.channels));
    EXPECT_EQ(got.type, want.type);
    EXPECT_EQ(got.data, want.data);
    EXPECT_EQ(got.retry_ms, want.retry_ms);
}

// Every record is record(seq) for seq 1..n.
void expect_records_1_to(const journal_contents& c, std::uint64_t n) {
    ASSERT_EQ(c.records.size(), n);
    for (std::uint64_t seq = 1; seq <= n; ++seq) expect_record(c.records[seq - 1], record(seq));
}

// Appends and waits for the completion, 30 s at most: the failure, if any.
std::optional<journal_failure> append_wait(sqlite_journal& j, std::vector<journal_record> records) {
    auto promise = std::make_shared<std::promise<std::optional<journal_failure>>>();
    auto result = promise->get_future();
    j.append(std::move(records),
             [promise](std::optional<journal_failure> f) { promise->set_value(std::move(f)); });
    if (result.wait_for(30s) != std::future_status::ready) {
        ADD_FAILURE() << "the append was not completed within 30 s";
        return journal_failure{"not completed"};
    }
    return result.get();
}

// Polls `condition` until it holds or `limit` has passed; whether it holds.
template <typename Condition>
bool eventually(Condition condition, std::chrono::milliseconds limit = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!condition()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(1ms);
    }
    return true;
}

// Holds the writer thread inside a completion until released (at the latest when destroyed), so
// that everything appended meanwhile waits in the queue.
class writer_block {
  public:
    writer_block(sqlite_journal& j, std::uint64_t seq) : state_(std::make_shared<state>()) {
        j.append({record(seq)}, [s = state_](std::optional<journal_failure>) {
            s->entered = true;
            s->released.wait();
        });
        EXPECT_TRUE(eventually([&] { return state_->entered.load(); }))
            << "the writer never ran the blocking completion";
    }
    writer_block(const writer_block&) = delete;
    writer_block& operator=(const writer_block&) = delete;
    ~writer_block() { release(); }
    void release() {
        if (!released_) state_->release.set_value();
        released_ = true;
    }

  private:
    struct state {
        std::promise<void> release;
        std::shared_future<void> released = release.get_future().share();
        std::atomic<bool> entered{false};
    };
    std::shared_ptr<state> state_;
    bool released_ = false;
};

// What open() throws (the test fails when it succeeds).
std::string open_error(const journal_options& o) {
    try {
        sqlite_journal::open(o);
    } catch (const journal_error& e) {
        return e.what();
    }
    ADD_FAILURE() << "open() succeeded";
    return {};
}

// The sqlite3 shell's output for `sql` (which must not contain double quotes) on `db`.
std::string sqlite3_shell(const fs::path& db, const std::string& sql) {
    const std::string command = "sqlite3 -batch '" + db.string() + "' \"" + sql + "\" 2>&1";
    FILE* pipe = ::popen(command.c_str(), "r");
    if (pipe == nullptr) {
        ADD_FAILURE() << "cannot run " << command;
        return {};
    }
    std::string out;
    char buffer[4096];
    std::size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
    const int status = ::pclose(pipe);
    EXPECT_EQ(status, 0) << command << ": " << out
                         << " (the sqlite3 shell comes with scripts/install-deps.sh)";
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
}

std::uint64_t size_or_zero(const fs::path& p) {
    std::error_code ec;
    const auto size = fs::file_size(p, ec);
    return ec ? 0 : size;
}

void write_bytes(const fs::path& file, std::uint64_t offset, const std::string& bytes) {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    ASSERT_TRUE(f) << "cannot open " << file;
    f.seekp(static_cast<std::streamoff>(offset));
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    ASSERT_TRUE(f) << "cannot write " << file;
}

// A tmpfs mounted on a directory for the test's life: a file system that can be filled or made
// read-only, which chmod cannot do for root (CI runs as root).
class tmpfs_mount {
  public:
    tmpfs_mount(const fs::path& dir, const std::string& size) : dir_(dir) {
        const std::string data = "size=" + size + ",mode=0700";
        if (::mount("tmpfs", dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, data.c_str()) == 0) {
            mounted_ = true;
        } else {
            error_ = errno;
        }
    }
    tmpfs_mount(const tmpfs_mount&) = delete;
    tmpfs_mount& operator=(const tmpfs_mount&) = delete;
    ~tmpfs_mount() {
        if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
    }
    bool mounted() const { return mounted_; }
    int error() const { return error_; }
    bool remount_read_only() {
        return ::mount(nullptr, dir_.c_str(), nullptr, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV,
                       nullptr) == 0;
    }

  private:
    fs::path dir_;
    bool mounted_ = false;
    int error_ = 0;
};

#define MOUNT_TMPFS_OR_SKIP(name, dir, size)                                                    \
    tmpfs_mount name(dir, size);                                                                \
    if (!name.mounted()) {                                                                      \
        if (name.error() == EPERM) {                                                            \
            GTEST_SKIP() << "mounting a tmpfs needs CAP_SYS_ADMIN (root outside a restricted "  \
                            "container), which this process lacks";                             \
        }                                                                                       \
        FAIL() << "mount tmpfs on " << (dir) << ": " << std::strerror(name.error());            \
    }

// Runs `work` in a child process with the journal open, then kills it with SIGKILL once `work`
// has returned: an unclean stop, as after a crash. `work` says whether it went well.
void run_then_kill(const journal_options& o, const std::function<bool(sqlite_journal&)>& work) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const pid_t pid = ::fork();
    ASSERT_NE(pid, -1) << std::strerror(errno);
    if (pid == 0) {
        ::close(fds[0]);
        char verdict = 'f';
        try {
            // Never destroyed: the process is killed with the journal open.
            auto opened = sqlite_journal::open(o);
            if (work(*opened.first)) verdict = 'k';
            (void)!::write(fds[1], &verdict, 1);
            for (;;) ::pause();
        } catch (...) {
            (void)!::write(fds[1], &verdict, 1);
        }
        ::_exit(1);
    }
    ::close(fds[1]);
    char verdict = 0;
    const auto n = ::read(fds[0], &verdict, 1);
    ::close(fds[0]);
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_EQ(n, 1) << "the child died before its work was done";
    ASSERT_EQ(verdict, 'k') << "the child's work failed";
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

TEST(SqliteJournal, CreatesThenReopensWithEpochRecordsAndLastSeq) {
    test::temp_dir dir;
    {
        auto [j, contents] = sqlite_journal::open(options_for(dir.root()));
        EXPECT_EQ(j->file(), dir.root() / "ssecast.db");
        EXPECT_EQ(contents.epoch, epoch);
        EXPECT_EQ(contents.last_seq, 0u);
        EXPECT_EQ(contents.evicted_floor, 0u);
        EXPECT_TRUE(contents.records.empty());
        EXPECT_TRUE(contents.evicted.empty());
        EXPECT_FALSE(append_wait(*j, {record(1), record(2)}));
        EXPECT_FALSE(append_wait(*j, {record(3)}));
        const auto stats = j->stats();
        EXPECT_EQ(stats.events, 3u);
        EXPECT_GE(stats.commits, 2u);
        EXPECT_EQ(stats.write_errors, 0u);
        EXPECT_EQ(stats.queued, 0u);
        EXPECT_GT(stats.database_bytes, 0u);
        EXPECT_GE(stats.commit_seconds.count, 2u);
        EXPECT_FALSE(j->unavailable());
    }
    auto o = options_for(dir.root());
    o.new_epoch = epoch + 1;  // only for a new database
    auto [j, contents] = sqlite_journal::open(o);
    EXPECT_EQ(contents.epoch, epoch);
    EXPECT_EQ(contents.last_seq, 3u);
    expect_records_1_to(contents, 3);
    EXPECT_EQ(contents.evicted, (std::vector<std::pair<std::string, std::uint64_t>>{{"news", 0}}));
}

TEST(SqliteJournal, CleanStopKeepsLastSeqWithEveryPolicy) {
    for (auto policy : {fsync_policy::always, fsync_policy::batch, fsync_policy::off}) {
        SCOPED_TRACE(ssecast::to_string(policy));
        test::temp_dir dir;
        {
            auto [j, contents] = sqlite_journal::open(options_for(dir.root(), policy));
            EXPECT_FALSE(append_wait(*j, {record(1), record(2)}));
        }
        for (int reopen = 0; reopen < 2; ++reopen) {
            auto [j, contents] = sqlite_journal::open(options_for(dir.root(), policy));
            EXPECT_EQ(contents.last_seq, 2u);
            expect_records_1_to(contents, 2);
        }
    }
}

TEST(SqliteJournal, FieldsRoundTripExactly) {
    test::temp_dir dir;
    journal_record empty = record(1);
    empty.type.clear();
    empty.data.clear();
    empty.retry_ms.reset();
    journal_record binary = record(2);
    binary.data = std::string("line one\nline\0two\r\n\xff", 21);
    binary.type = "ünïcode";
    binary.retry_ms = 0;
    binary.published_ms = -5;  // before 1970: still a number
    {
        auto [j, contents] = sqlite_journal::open(options_for(dir.root()));
        EXPECT_FALSE(append_wait(*j, {empty, binary}));
    }
    auto [j, contents] = sqlite_journal::open(options_for(dir.root()));
    ASSERT_EQ(contents.records.size(), 2u);
    expect_record(contents.records[0], empty);
    expect_record(contents.records[1], binary);
}

TEST(SqliteJournal, MultiChannelRecordRoundTripsAsOneRecord) {
    test::temp_dir dir;
    {
        auto [j, contents] = sqlite_journal::open(options_for(dir.root()));
        EXPECT_FALSE(append_wait(*j, {record(1, {"c", "a", "b"}), record(2, {"b"})}));
    }
    // One row per (channel, event).
    EXPECT_EQ(sqlite3_shell(dir.root() / "ssecast.db", "SELECT count(*) FROM history"), "4");
    auto [j, contents] = sqlite_journal::open(options_for(dir.root()));
    ASSERT_EQ(contents.records.size(), 2u);
    expect_record(contents.records[0], record(1, {"a", "b", "c"}));
    expect_record(contents.records[1], record(2, {"b"}));
    EXPECT_EQ(contents.evicted,
              (std::vector<std::pair<std::string, std::uint64_t>>{{"a", 0}, {"b", 0}, {"c", 0}}));
}

TEST(SqliteJournal, SchemaIsVersionedInWalModeWithIncrementalVacuum) {
    test::temp_dir dir;
    { sqlite_journal::open(options_for(dir.root())); }
    const auto db = dir.root() / "ssecast.db";
    EXPECT_EQ(sqlite3_shell(db, "PRAGMA user_version"), "1");
    EXPECT_EQ(sqlite3_shell(db, "PRAGMA journal_mode"), "wal");
    EXPECT_EQ(sqlite3_shell(db, "PRAGMA auto_vacuum"), "2");  // incremental
    EXPECT_EQ(sqlite3_shell(db, "SELECT value FROM meta WHERE key = 'epoch'"),
              std::to_string(epoch));
    EXPECT_EQ(sqlite3_shell(db, "SELECT value FROM meta WHERE key = 'clean'"), "1");
}

TEST(SqliteJournal, TrimDeletesAndTheEvictionSurvivesReopen) {
    test::temp_dir dir;
    {
        auto [j, contents] = sqlite_journal::open(options_for(dir.root()));
        EXPECT_FALSE(append_wait(*j, {record(1, {"a"}), record(2, {"a"}), record(3, {"a"}),
                                      record(4, {"a"}), record(5, {"a"}), record(6, {"a", "b"})}));
        j->trim("a", 3);
        j->trim("a", 2);  // lower: the highest stays
    }
    {
        auto [j, contents] = sqlite_journal::open(options_for(dir.root()));
        ASSERT_EQ(contents.records.size(), 3u);
        expect_record(contents.records[0], record(4, {"a"}));
        expect_record(contents.records[1], record(5, {"a"}));
        expect_record(contents.records[2], record(6, {"a", "b"}));
        EXPECT_EQ(contents.evicted,
                  (std::vector<std::pair<std::string, std::uint64_t>>{{"a", 3}, {"b", 0}}));
        EXPECT_EQ(contents.last_seq, 6u);
        j->trim("b", 6);
    }
    auto [j, contents] = sqlite_journal::open(options_for(dir.root()));
    ASSERT_EQ(contents.records.size(), 3u);
    EXPECT_EQ(contents.records[2].channels, std::vector<std::string>{"a"});
    EXPECT_EQ(contents.evicted,
              (std::vector<std::pair<std::string, std::uint64_t>>{{"a", 3}, {"b", 6}}));
}

TEST(SqliteJournal, ForgetDropsTheChannelAndRaisesTheFloor) {
    test::temp_dir dir;
    {
        auto [j, contents] = sqlite_journal::open(options_for(dir.root()));
        EXPECT_FALSE(
            append_wait(*j, {record(1, {"x"}), record(2, {"y"}), record(3, {"x", "y"})}));
        j->trim("x", 1);
        j->forget("x", 7);
    }
    {
        auto [j, contents] = sqlite_journal::open(options_for(dir.root()));
        EXPECT_EQ(contents.evicted_floor, 7u);
        ASSERT_EQ(contents.records.size(), 2u);
        expect_record(contents.records[0], record(2, {"y"}));
        expect_record(contents.records[1], record(3, {"y"}));
        EXPECT_EQ(contents.evicted, (std::vector<std::pair<std::string, std::uint64_t>>{{"y", 0}}));
        j->forget("y", 3);  // lower: the floor stays
    }
    auto [j, contents] = sqlite_journal::open(options_for(dir.root()));
    EXPECT_EQ(contents.evicted_floor, 7u);
    EXPECT_TRUE(contents.records.empty());
    EXPECT_TRUE(contents.evicted.empty());
    EXPECT_EQ(contents.last_seq, 3u);
}

TEST(SqliteJournal, TrimsOfAChannelCoalesceAndForgetOrdersThem) {
    test::temp_dir dir;
    {
        auto [j, contents] = sqlite_journal::open(options_for(dir.root()));
        writer_block block(*j, 1);
        for (std::uint64_t i = 1; i <= 1000; ++i) {
            j->trim("a", i);
            j->trim("b", i);
        }
        j->forget("a", 500);
        j->trim("a", 2000);  // after the forget: a trim of its own
        block.release();
    }
    auto [j, contents] = sqlite_journal::open(options_for(dir.root()));
    EXPECT_EQ(contents.evicted_floor, 500u);
    EXPECT_EQ(contents.evicted, (std::vector<std::pair<std::string, std::uint64_t>>{
                                    {"a", 2000}, {"b", 1000}, {"news", 0}}));
}

TEST(SqliteJournal, GroupCommitTakesEverythingQueuedFromFourThreads) {
    test::temp_dir dir;
    constexpr int threads = 4;
    constexpr int per_thread = 250;
    std::vector<std::vector<int>> completed(threads);  // written by the writer thread only
    std::atomic<int> done{0};
    std::atomic<int> failed{0};
    {
        auto [j, contents] = sqlite_journal::open(options_for(dir.root()));
        writer_block block(*j, 1);
        std::mutex seq_mutex;  // seqs ascend in queue order, as the broker assigns them
        std::uint64_t next_seq = 1;
        std::vector<std::thread> publishers;
        for (int t = 0; t < threads; ++t) {
            publishers.emplace_back([&, t] {
                for (int i = 0; i < per_thread; ++i) {
                    std::lock_guard lock(seq_mutex);
                    j->append({record(++next_seq)},
                              [&completed, &done, &failed, t, i](std::optional<journal_failure> f) {
                                  if (f) ++failed;
                                  completed[t].push_back(i);
                                  ++done;
                              });
                }
            });
        }
        for (auto& p : publishers) p.join();
        EXPECT_EQ(j->stats().queued, static_cast<std::uint64_t>(threads * per_thread));
        block.release();
        ASSERT_TRUE(eventually([&] { return done.load() == threads * per_thread; }));
        const auto stats = j->stats();
        std::cout << "group commit: " << stats.events << " events in " << stats.commits
                  << " commits\n";
        // The blocking append's commit, then one for everything queued behind it.
        EXPECT_EQ(stats.commits, 2u);
        EXPECT_LT(stats.commits, stats.events);
        EXPECT_EQ(stats.events, 1u + threads * per_thread);
        EXPECT_EQ(stats.events_per_commit.count, stats.commits);
        EXPECT_EQ(stats.events_per_commit.sum, 1.0 + threads * per_thread);
    }
    EXPECT_EQ(failed.load(), 0);
    std::vector<int> in_order(per_thread);
    for (int i = 0; i < per_thread; ++i) in_order[i] = i;
    for (int t = 0; t < threads; ++t) EXPECT_EQ(completed[t], in_order) << "thread " << t;
    auto [j, contents] = sqlite_journal::open(options_for(dir.root()));
    expect_records_1_to(contents, 1 + threads * per_thread);
}

TEST(SqliteJournal, FullQueueFailsAtOnceOnTheCallersThread) {
    test::temp_dir dir;
    auto o = options_for(dir.root());
    o.max_queue = 4;
    auto [j, contents] = sqlite_journal::open(o);
    std::atomic<int> succeeded{0};
    {
        writer_block block(*j, 1);
        j->append({record(2), record(3)}, [&](auto f) { succeeded += !f; });
        j->append({record(4), record(5)}, [&](auto f) { succeeded += !f; });
        EXPECT_EQ(j->stats().queued, 4u);
        std::optional<journal_failure> refusal;
        std::thread::id ran_on;
        bool ran = false;
        j->append({record(6)}, [&](std::optional<journal_failure> f) {
            refusal = std::move(f);
            ran_on = std::this_thread::get_id();
            ran = true;
        });
        ASSERT_TRUE(ran) << "a refused append's completion runs before append() returns";
        EXPECT_EQ(ran_on, std::this_thread::get_id());
        ASSERT_TRUE(refusal);
        EXPECT_NE(refusal->message.find("write queue full"), std::string::npos) << refusal->message;
    }
    EXPECT_TRUE(eventually([&] { return succeeded.load() == 2; }));
    EXPECT_FALSE(append_wait(*j, {record(6)}));  // room again
}

TEST(SqliteJournal, DestructorCommitsAndCompletesEverythingQueued) {
    test::temp_dir dir;
    std::atomic<int> succeeded{0};
    {
        auto [j, contents] = sqlite_journal::open(options_for(dir.root(), fsync_policy::batch));
        for (std::uint64_t seq = 1; seq <= 500; ++seq) {
            j->append({record(seq)}, [&](auto f) { succeeded += !f; });
        }
    }
    EXPECT_EQ(succeeded.load(), 500);
    auto [j, contents] = sqlite_journal::open(options_for(dir.root(), fsync_policy::batch));
    EXPECT_EQ(contents.last_seq, 500u);  // a clean stop: no jump
    expect_records_1_to(contents, 500);
}

TEST(SqliteJournal, BatchSyncsAnIdleJournalsLastCommit) {
    test::temp_dir dir;
    auto o = options_for(dir.root(), fsync_policy::batch);
    o.fsync_interval = 500ms;
    auto [j, contents] = sqlite_journal::open(o);
    // With nothing more to commit, the writer commits once more after the append, with
    // synchronous=FULL. Unless the append's own commit was already synced (the interval had passed
    // since the last synced one: a slow machine) or a checkpoint (which syncs too) came first:
    // then the next append, at once, is within the interval and unsynced.
    bool synced_by_a_commit = false;
    for (std::uint64_t seq = 1; seq <= 5 && !synced_by_a_commit; ++seq) {
        const auto before = j->stats().commits;
        ASSERT_FALSE(append_wait(*j, {record(seq)}));
        synced_by_a_commit = eventually([&] { return j->stats().commits >= before + 2; }, 3s);
    }
    EXPECT_TRUE(synced_by_a_commit) << "no syncing commit after any of 5 appends";
}

TEST(SqliteJournal, UncleanStopWithBatchContinuesIdsFarAhead) {
    test::temp_dir dir;
    const auto o = options_for(dir.root(), fsync_policy::batch);
    run_then_kill(o, [](sqlite_journal& j) {
        return !append_wait(j, {record(1), record(2)}) && !append_wait(j, {record(3)});
    });
    {
        auto [j, contents] = sqlite_journal::open(o);
        // Killed, not powered off: the commits are there.
        expect_records_1_to(contents, 3);
        EXPECT_EQ(contents.epoch, epoch);
        EXPECT_EQ(contents.last_seq, 3 + unclean_jump);
    }
    // Stored, and this stop was clean: no second jump.
    auto [j, contents] = sqlite_journal::open(o);
    EXPECT_EQ(contents.last_seq, 3 + unclean_jump);
}

TEST(SqliteJournal, UncleanStopWithAlwaysKeepsIds) {
    test::temp_dir dir;
    const auto o = options_for(dir.root(), fsync_policy::always);
    run_then_kill(o, [](sqlite_journal& j) {
        return !append_wait(j, {record(1), record(2)}) && !append_wait(j, {record(3)});
    });
    auto [j, contents] = sqlite_journal::open(o);
    expect_records_1_to(contents, 3);
    EXPECT_EQ(contents.last_seq, 3u);
}

TEST(SqliteJournal, MissingDirectoryIsNamed) {
    test::temp_dir dir;
    const auto missing = dir.root() / "nope";
    const auto message = open_error(options_for(missing));
    EXPECT_EQ(message, "data directory " + missing.string() + " does not exist");
    const auto file = dir.write("plain", "x");
    EXPECT_NE(open_error(options_for(file)).find("is not a directory"), std::string::npos);
}

TEST(SqliteJournal, NotADatabaseIsRefusedNamingTheFile) {
    test::temp_dir dir;
    const auto file = dir.write("ssecast.db", std::string(8192, 'z'));
    const auto message = open_error(options_for(dir.root()));
    EXPECT_NE(message.find(file), std::string::npos) << message;
    EXPECT_NE(message.find("not a database"), std::string::npos) << message;
    EXPECT_NE(message.find("move it away"), std::string::npos) << message;
}

TEST(SqliteJournal, CorruptedDatabaseIsRefusedNamingTheFile) {
    test::temp_dir dir;
    const auto file = dir.root() / "ssecast.db";
    {
        auto [j, contents] = sqlite_journal::open(options_for(dir.root()));
        for (std::uint64_t seq = 1; seq <= 200; ++seq) {
            ASSERT_FALSE(append_wait(*j, {record(seq, {"news"}, std::string(500, 'd'))}));
        }
    }
    const auto size = size_or_zero(file);
    ASSERT_GT(size, 4096u * 4);
    // Every page after the first (which holds the header and the schema).
    write_bytes(file, 4096, std::string(size - 4096, '\x5a'));
    const auto message = open_error(options_for(dir.root()));
    EXPECT_NE(message.find(file.string()), std::string::npos) << message;
    EXPECT_NE(message.find("restore it from a backup"), std::string::npos) << message;
}

TEST(SqliteJournal, TruncatedDatabaseIsRefusedOrConsistent) {
    test::temp_dir dir;
    const auto file = dir.root() / "ssecast.db";
    const std::string payload(700, 'p');
    {
        auto [j, contents] = sqlite_journal::open(options_for(dir.root()));
        for (std::uint64_t seq = 1; seq <= 300; ++seq) {
            ASSERT_FALSE(append_wait(*j, {record(seq, {"news"}, payload)}));
        }
    }
    fs::resize_file(file, size_or_zero(file) / 2);
    try {
        auto [j, contents] = sqlite_journal::open(options_for(dir.root()));
        for (const auto& r : contents.records) expect_record(r, record(r.seq, {"news"}, payload));
        std::cout << "truncated database opened with " << contents.records.size() << " records\n";
    } catch (const journal_error& e) {
        EXPECT_NE(std::string(e.what()).find(file.string()), std::string::npos) << e.what();
        std::cout << "truncated database refused: " << e.what() << "\n";
    }
}

TEST(SqliteJournal, GarbageWalOfACleanlyClosedDatabaseIsIgnoredOrRefused) {
    test::temp_dir dir;
    {
        auto [j, contents] = sqlite_journal::open(options_for(dir.root()));
        EXPECT_FALSE(append_wait(*j, {record(1), record(2), record(3)}));
    }
    // SQLite checks the WAL's header and each frame's checksum: garbage is no commit of its own.
    dir.write("ssecast.db-wal", std::string(65536, '\x5a'));
    try {
        auto [j, contents] = sqlite_journal::open(options_for(dir.root()));
        expect_records_1_to(contents, 3);  // everything was checkpointed at the close
    } catch (const journal_error& e) {
        EXPECT_NE(std::string(e.what()).find("ssecast.db"), std::string::npos) << e.what();
    }
}

TEST(SqliteJournal, GarbageInTheWalOfAKilledRunLeavesAPrefixOrIsRefused) {
    test::temp_dir dir;
    const auto o = options_for(dir.root(), fsync_policy::batch);
    run_then_kill(o, [](sqlite_journal& j) {
        for (std::uint64_t seq = 1; seq <= 50; ++seq) {
            if (append_wait(j, {record(seq)})) return false;
        }
        return true;
    });
    const auto wal = dir.root() / "ssecast.db-wal";
    const auto size = size_or_zero(wal);
    ASSERT_GT(size, 0u) << "the killed run left no WAL";
    write_bytes(wal, size / 2, std::string(size - size / 2, '\x5a'));
    try {
        auto [j, contents] = sqlite_journal::open(o);
        std::cout << "damaged WAL: " << contents.records.size() << " of 50 records kept\n";
        ASSERT_LE(contents.records.size(), 50u);
        expect_records_1_to(contents, contents.records.size());
        EXPECT_GT(contents.last_seq, unclean_jump);
    } catch (const journal_error& e) {
        EXPECT_NE(std::string(e.what()).find("ssecast.db"), std::string::npos) << e.what();
    }
}

TEST(SqliteJournal, UnknownSchemaVersionIsRefused) {
    test::temp_dir dir;
    const auto file = dir.root() / "ssecast.db";
    sqlite3_shell(file, "CREATE TABLE future(x); PRAGMA user_version = 7");
    EXPECT_EQ(open_error(options_for(dir.root())),
              "unknown schema version 7 in " + file.string() + " (written by a newer ssecast?)");
}

TEST(SqliteJournal, ForeignDatabaseIsRefused) {
    test::temp_dir dir;
    const auto file = dir.root() / "ssecast.db";
    sqlite3_shell(file, "CREATE TABLE someone_elses(x)");
    const auto message = open_error(options_for(dir.root()));
    EXPECT_NE(message.find(file.string()), std::string::npos) << message;
    EXPECT_NE(message.find("not an ssecast database"), std::string::npos) << message;
}

TEST(SqliteJournal, ReadOnlyFileSystemIsRefused) {
    test::temp_dir dir;
    MOUNT_TMPFS_OR_SKIP(mount, dir.root(), "4m");
    {
        auto [j, contents] = sqlite_journal::open(options_for(dir.root()));
        EXPECT_FALSE(append_wait(*j, {record(1)}));
    }
    fs::create_directory(dir.root() / "empty");
    ASSERT_TRUE(mount.remount_read_only()) << std::strerror(errno);
    for (const auto& d : {dir.root(), dir.root() / "empty"}) {
        const auto message = open_error(options_for(d));
        EXPECT_EQ(message.find("cannot write " + d.string()), 0u) << message;
        EXPECT_NE(message.find("Read-only file system"), std::string::npos) << message;
    }
}

TEST(SqliteJournal, DiskFullFailsAppendsUntilSpaceReturns) {
    test::temp_dir dir;
    MOUNT_TMPFS_OR_SKIP(mount, dir.root(), "2m");
    const std::string big(512 * 1024, 'b');
    {
        auto [j, contents] = sqlite_journal::open(options_for(dir.root()));
        EXPECT_FALSE(append_wait(*j, {record(1)}));

        const auto filler = dir.root() / "filler";
        {
            const int fd = ::open(filler.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
            ASSERT_GE(fd, 0) << std::strerror(errno);
            const std::string chunk(16384, 'f');
            int error = 0;
            for (;;) {
                const auto n = ::write(fd, chunk.data(), chunk.size());
                if (n < 0) {
                    error = errno;
                    break;
                }
            }
            ::close(fd);
            ASSERT_EQ(error, ENOSPC) << std::strerror(error);
        }
        const auto failure = append_wait(*j, {record(2, {"news"}, big)});
        ASSERT_TRUE(failure) << "an append succeeded on a full file system";
        EXPECT_NE(failure->message.find("full"), std::string::npos) << failure->message;
        const auto why = j->unavailable();
        ASSERT_TRUE(why);
        EXPECT_NE(why->find("full"), std::string::npos) << *why;
        EXPECT_GE(j->stats().write_errors, 1u);
        std::cout << "disk full: " << failure->message << "\n";

        fs::remove(filler);
        // The writer retries on its own, with no append.
        EXPECT_TRUE(eventually([&] { return !j->unavailable(); }))
            << "still unavailable after space returned: " << j->unavailable().value_or("");
        EXPECT_FALSE(append_wait(*j, {record(3, {"news"}, big)}));
        EXPECT_FALSE(j->unavailable());
    }
    auto [j, contents] = sqlite_journal::open(options_for(dir.root()));
    // The failed append was rolled back.
    ASSERT_EQ(contents.records.size(), 2u);
    expect_record(contents.records[0], record(1));
    expect_record(contents.records[1], record(3, {"news"}, big));
    EXPECT_EQ(contents.last_seq, 3u);
}

TEST(SqliteJournal, SizeStaysBoundedWhenTrimsBoundTheHistory) {
    test::temp_dir dir;
    constexpr std::uint64_t appends = 20000;
    constexpr std::uint64_t kept = 100;
    const std::string payload(1024, 'k');
    const auto file = dir.root() / "ssecast.db";
    const auto wal = dir.root() / "ssecast.db-wal";
    std::uint64_t largest = 0;  // db + WAL, sampled while running
    {
        auto [j, contents] = sqlite_journal::open(options_for(dir.root(), fsync_policy::off));
        std::atomic<std::uint64_t> succeeded{0};
        for (std::uint64_t seq = 1; seq <= appends; ++seq) {
            j->append({record(seq, {"c"}, payload)}, [&](auto f) { succeeded += !f; });
            if (seq > kept) j->trim("c", seq - kept);
            // At most 64 in flight, so that the writer commits many small groups.
            if (seq % 64 == 0) {
                ASSERT_TRUE(eventually([&] { return succeeded.load() >= seq; }));
                largest = std::max(largest, size_or_zero(file) + size_or_zero(wal));
            }
        }
        ASSERT_TRUE(eventually([&] { return succeeded.load() == appends; }));
        largest = std::max(largest, j->stats().database_bytes);
        std::cout << "bounded size: largest db+wal while running " << largest << " bytes, "
                  << j->stats().commits << " commits\n";
    }
    const auto closed = size_or_zero(file) + size_or_zero(wal);
    std::cout << "bounded size: db+wal after close " << closed << " bytes\n";
    // Unbounded, the history alone would be over 20 MiB.
    // While running the WAL reaches about wal_autocheckpoint's 1000 pages before SQLite reuses
    // it; at the close it is checkpointed away.
    EXPECT_LT(largest, 8u << 20);
    EXPECT_LT(closed, 2u << 20);
    auto [j, contents] = sqlite_journal::open(options_for(dir.root()));
    ASSERT_EQ(contents.records.size(), kept);
    EXPECT_EQ(contents.records.front().seq, appends - kept + 1);
    EXPECT_EQ(contents.evicted,
              (std::vector<std::pair<std::string, std::uint64_t>>{{"c", appends - kept}}));
}

TEST(SqliteJournal, FsyncPolicyNames) {
    EXPECT_STREQ(ssecast::to_string(fsync_policy::always), "always");
    EXPECT_STREQ(ssecast::to_string(fsync_policy::batch), "batch");
    EXPECT_STREQ(ssecast::to_string(fsync_policy::off), "off");
}

}  // namespace
