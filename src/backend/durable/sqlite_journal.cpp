#include "ssecast/backend/durable/sqlite_journal.hpp"

#include <sqlite3.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <array>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

namespace ssecast {

namespace {

using clock = std::chrono::steady_clock;

constexpr int schema_version = 1;
// After an unclean stop that may have lost commits (--fsync batch or off), seqs go on this far
// above the last stored one: further than any number of events a lost commit could have held.
constexpr std::uint64_t unclean_seq_jump = std::uint64_t{1} << 32;
// Space a write must find free before a database that failed to write counts as usable again.
constexpr std::uintmax_t recovery_free_bytes = 1u << 20;
constexpr auto checkpoint_every = std::chrono::seconds(5);
constexpr int vacuum_pages = 256;

constexpr std::array<double, 14> commit_bounds = {0.00005, 0.0001, 0.00025, 0.0005, 0.001,
                                                  0.0025,  0.005,  0.01,    0.025,  0.05,
                                                  0.1,     0.25,   0.5,     1};
constexpr std::array<double, 13> batch_bounds = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024,
                                                 2048, 4096};

// A prepared statement, reset after each use.
class statement {
  public:
    statement() = default;
    statement(sqlite3* db, const char* sql) {
        if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr) != SQLITE_OK)
            throw journal_error(sqlite3_errmsg(db));
    }
    statement(const statement&) = delete;
    statement& operator=(const statement&) = delete;
    statement& operator=(statement&& other) noexcept {
        std::swap(stmt_, other.stmt_);
        return *this;
    }
    ~statement() { sqlite3_finalize(stmt_); }

    statement& bind(int i, std::int64_t v) {
        sqlite3_bind_int64(stmt_, i, v);
        return *this;
    }
    statement& bind(int i, const std::string& v) {
        sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
        return *this;
    }
    statement& bind_blob(int i, const std::string& v) {
        sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
        return *this;
    }
    statement& bind_null(int i) {
        sqlite3_bind_null(stmt_, i);
        return *this;
    }
    // Runs it to the end; the result code (SQLITE_DONE when it worked).
    int run() {
        int rc;
        while ((rc = sqlite3_step(stmt_)) == SQLITE_ROW) {
        }
        sqlite3_reset(stmt_);
        sqlite3_clear_bindings(stmt_);
        return rc;
    }
    sqlite3_stmt* get() { return stmt_; }

  private:
    sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace

const char* to_string(fsync_policy policy) {
    switch (policy) {
        case fsync_policy::always:
            return "always";
        case fsync_policy::batch:
            return "batch";
        case fsync_policy::off:
            return "off";
    }
    return "?";
}

struct sqlite_journal::impl {
    struct op {
        enum class kind { append, trim, forget } what = kind::append;
        std::vector<journal_record> records;
        completion done;
        std::string channel;
        std::uint64_t seq = 0;
    };

    journal_options options;
    std::filesystem::path file;
    sqlite3* db = nullptr;
    statement insert_event, set_meta, trim_history, raise_evicted, forget_history, forget_channel;

    std::mutex mutex;  // guards the queue and `stopping`
    std::condition_variable wake;
    std::deque<op> queue;
    std::size_t queued_ops = 0;
    bool stopping = false;
    std::thread writer;
    int lock_fd = -1;  // DIR/ssecast.lock, flock()ed for the journal's life: one daemon per DIR

    mutable std::mutex failure_mutex;
    std::optional<std::string> failure;

    std::atomic<std::uint64_t> commits{0}, events{0}, write_errors{0}, queued{0}, bytes{0};
    histogram commit_seconds{commit_bounds};
    histogram events_per_commit{batch_bounds};

    // Writer thread only.
    std::uint64_t last_seq = 0;
    std::uint64_t evicted_floor = 0;
    bool synchronous_full = false;
    bool unsynced = false;  // batch: commits since the last synced one
    clock::time_point last_sync = clock::now();
    clock::time_point last_checkpoint = clock::now();
    bool trimmed = false;  // since the last vacuum step

    ~impl() {
        insert_event = {};
        set_meta = {};
        trim_history = {};
        raise_evicted = {};
        forget_history = {};
        forget_channel = {};
        sqlite3_close(db);
        if (lock_fd >= 0) ::close(lock_fd);
    }

    std::string error_text() const { return sqlite3_errmsg(db); }
    int exec(const char* sql) { return sqlite3_exec(db, sql, nullptr, nullptr, nullptr); }
    void exec_or_throw(const char* sql) {
        if (exec(sql) != SQLITE_OK) throw journal_error(error_text());
    }
    void set_synchronous(bool full) {
        if (synchronous_full == full) return;
        exec(full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
        synchronous_full = full;
    }
    // A commit that changes nothing writes nothing (and syncs nothing): one that must reach the
    // disk changes a counter.
    std::uint64_t writes = 0;
    int touch() { return meta("writes", ++writes); }
    int meta(const char* key, std::uint64_t value) {
        return set_meta.bind(1, std::string(key)).bind(2, static_cast<std::int64_t>(value)).run();
    }

    void refresh_size() {
        std::error_code ec;
        auto main = std::filesystem::file_size(file, ec);
        if (ec) main = 0;
        auto wal = std::filesystem::file_size(file.string() + "-wal", ec);
        if (ec) wal = 0;
        bytes = main + wal;
    }

    void fail(const std::string& why) {
        std::lock_guard lock(failure_mutex);
        failure = why;
    }
    bool failing() const {
        std::lock_guard lock(failure_mutex);
        return failure.has_value();
    }

    void run();
    void commit(std::deque<op>& ops);
    void idle();
    // Every few seconds: an incremental vacuum step after trims, and a WAL checkpoint.
    void housekeeping(clock::time_point now);
};

void sqlite_journal::impl::run() {
    while (true) {
        std::deque<op> ops;
        bool last = false;
        {
            std::unique_lock lock(mutex);
            auto wait = std::chrono::milliseconds(1000);
            if (options.fsync == fsync_policy::batch && unsynced) {
                auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    last_sync + options.fsync_interval - clock::now());
                wait = std::clamp(left, std::chrono::milliseconds(0), wait);
            }
            wake.wait_for(lock, wait, [&] { return stopping || !queue.empty(); });
            ops.swap(queue);
            queued_ops = 0;
            queued = 0;
            last = stopping && ops.empty();
        }
        if (!ops.empty()) {
            commit(ops);
        } else {
            idle();
        }
        if (last) return;
    }
}

void sqlite_journal::impl::commit(std::deque<op>& ops) {
    auto started = clock::now();
    // always: every commit synced; batch: the first commit after the interval is synced, which
    // makes every commit before it durable too (in WAL, the durable state is a prefix of commits).
    bool full = options.fsync == fsync_policy::always ||
                (options.fsync == fsync_policy::batch &&
                 started - last_sync >= options.fsync_interval);
    set_synchronous(full);
    std::uint64_t appended = 0;
    std::uint64_t newest = last_seq;
    int rc = exec("BEGIN IMMEDIATE") == SQLITE_OK ? SQLITE_DONE : SQLITE_ERROR;
    // The daemon sends a trim per evicted event: only the largest per channel needs doing.
    std::map<std::string, std::uint64_t> trims;
    auto apply_trim = [&](const std::string& channel, std::uint64_t up_to) {
        auto when = static_cast<std::int64_t>(up_to);
        int r = trim_history.bind(1, channel).bind(2, when).run();
        if (r == SQLITE_DONE) r = raise_evicted.bind(1, channel).bind(2, when).run();
        trimmed = true;
        return r;
    };
    for (auto& o : ops) {
        if (rc != SQLITE_DONE) break;
        switch (o.what) {
            case op::kind::append:
                for (const auto& r : o.records) {
                    for (const auto& channel : r.channels) {
                        insert_event.bind(1, channel)
                            .bind(2, static_cast<std::int64_t>(r.seq))
                            .bind(3, r.published_ms)
                            .bind(4, r.type)
                            .bind_blob(5, r.data);
                        if (r.retry_ms) {
                            insert_event.bind(6, static_cast<std::int64_t>(*r.retry_ms));
                        } else {
                            insert_event.bind_null(6);
                        }
                        rc = insert_event.run();
                        if (rc != SQLITE_DONE) break;
                    }
                    if (rc != SQLITE_DONE) break;
                    newest = std::max(newest, r.seq);
                    ++appended;
                }
                break;
            case op::kind::trim: {
                auto& up_to = trims[o.channel];
                up_to = std::max(up_to, o.seq);
                break;
            }
            case op::kind::forget:
                if (auto it = trims.find(o.channel); it != trims.end()) {
                    rc = apply_trim(it->first, it->second);
                    trims.erase(it);
                }
                if (rc == SQLITE_DONE) rc = forget_history.bind(1, o.channel).run();
                if (rc == SQLITE_DONE) rc = forget_channel.bind(1, o.channel).run();
                evicted_floor = std::max(evicted_floor, o.seq);
                if (rc == SQLITE_DONE) rc = meta("evicted_floor", evicted_floor);
                break;
        }
    }
    for (const auto& [channel, up_to] : trims) {
        if (rc != SQLITE_DONE) break;
        rc = apply_trim(channel, up_to);
    }
    if (rc == SQLITE_DONE && newest != last_seq) rc = meta("last_seq", newest);
    if (rc == SQLITE_DONE && exec("COMMIT") != SQLITE_OK) rc = SQLITE_ERROR;

    std::optional<journal_failure> failed;
    if (rc != SQLITE_DONE) {
        // Nothing of the group is stored: every publish in it is answered with why.
        failed = journal_failure{error_text()};
        exec("ROLLBACK");
        ++write_errors;
        fail(failed->message);
    } else {
        last_seq = newest;
        commits.fetch_add(1, std::memory_order_relaxed);
        events.fetch_add(appended, std::memory_order_relaxed);
        commit_seconds.observe(clock::now() - started);
        if (appended > 0) events_per_commit.observe(static_cast<double>(appended));
        if (full) {
            last_sync = clock::now();
            unsynced = false;
        } else if (options.fsync == fsync_policy::batch) {
            unsynced = true;
        }
        std::lock_guard lock(failure_mutex);
        failure.reset();
    }
    refresh_size();
    for (auto& o : ops) {
        if (o.done) o.done(failed);
    }
    if (options.after_completions) options.after_completions();
    // Under a steady load the writer is never idle: the file is looked after here too.
    housekeeping(clock::now());
}

void sqlite_journal::impl::idle() {
    auto now = clock::now();
    if (failing()) {
        // Retried on its own, so that /readyz recovers when space returns even with no publish.
        struct statvfs fs {};
        bool room = statvfs(file.parent_path().c_str(), &fs) != 0 ||
                    static_cast<std::uintmax_t>(fs.f_bavail) * fs.f_frsize >= recovery_free_bytes;
        set_synchronous(true);
        if (room && exec("BEGIN IMMEDIATE") == SQLITE_OK) {
            if (touch() == SQLITE_DONE && exec("COMMIT") == SQLITE_OK) {
                std::lock_guard lock(failure_mutex);
                failure.reset();
            } else {
                exec("ROLLBACK");
            }
        }
        return;
    }
    if (options.fsync == fsync_policy::batch && unsynced &&
        now - last_sync >= options.fsync_interval) {
        // Nothing to commit, but commits are waiting for their sync: a synced commit of no
        // change makes them durable.
        set_synchronous(true);
        if (exec("BEGIN IMMEDIATE") == SQLITE_OK && touch() == SQLITE_DONE &&
            exec("COMMIT") == SQLITE_OK) {
            last_sync = clock::now();
            unsynced = false;
            commits.fetch_add(1, std::memory_order_relaxed);
        } else {
            exec("ROLLBACK");
        }
    }
    housekeeping(now);
}

void sqlite_journal::impl::housekeeping(clock::time_point now) {
    if (now - last_checkpoint < checkpoint_every) return;
    last_checkpoint = now;
    if (trimmed) {
        // Pages freed by trims go back to the file system a few at a time.
        trimmed = false;
        auto sql = "PRAGMA incremental_vacuum(" + std::to_string(vacuum_pages) + ")";
        exec(sql.c_str());
    }
    // The WAL back to empty: nothing else reads the database here, so the checkpoint completes.
    exec("PRAGMA wal_checkpoint(TRUNCATE)");
    refresh_size();
}

sqlite_journal::sqlite_journal(std::unique_ptr<impl> state) : impl_(std::move(state)) {}

sqlite_journal::~sqlite_journal() {
    {
        std::lock_guard lock(impl_->mutex);
        impl_->stopping = true;
    }
    impl_->wake.notify_one();
    impl_->writer.join();
    // A clean stop: nothing after this can have been lost.
    impl_->set_synchronous(true);
    impl_->meta("clean", 1);
    impl_->exec("PRAGMA wal_checkpoint(TRUNCATE)");
}

std::pair<std::unique_ptr<sqlite_journal>, journal_contents> sqlite_journal::open(
    const journal_options& options) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::exists(options.dir, ec))
        throw journal_error("data directory " + options.dir.string() + " does not exist");
    if (!fs::is_directory(options.dir, ec))
        throw journal_error(options.dir.string() + " is not a directory");

    // SQLite would only say "unable to open database file"; the reason is worth a line of its own.
    // (access() honours a read-only mount even for root.)
    for (const auto& place : {options.dir, options.dir / "ssecast.db"}) {
        if (fs::exists(place, ec) && ::access(place.c_str(), W_OK) != 0)
            throw journal_error("cannot write " + place.string() + ": " + std::strerror(errno));
    }

    auto state = std::make_unique<impl>();
    auto& s = *state;
    // Two daemons on one directory would hand out the same seqs: the second is refused.
    auto lock_path = (options.dir / "ssecast.lock").string();
    s.lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (s.lock_fd < 0)
        throw journal_error("cannot create " + lock_path + ": " + std::strerror(errno));
    if (::flock(s.lock_fd, LOCK_EX | LOCK_NB) != 0) {
        throw journal_error(options.dir.string() + " is in use by another ssecast (" + lock_path +
                            " is locked)");
    }
    s.options = options;
    s.file = options.dir / "ssecast.db";
    bool created = !fs::exists(s.file, ec);
    auto name = s.file.string();
    auto refuse = [&](const std::string& why) -> journal_error {
        return journal_error(name + ": " + why);
    };
    if (created) {
        // The history may hold private channels' events: the owner's alone, whatever the umask.
        // SQLite gives the WAL and its index the database file's mode.
        int fd = ::open(name.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
        if (fd < 0) throw refuse(std::string("cannot create: ") + std::strerror(errno));
        ::close(fd);
    }
    if (sqlite3_open_v2(name.c_str(), &s.db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                        nullptr) != SQLITE_OK) {
        throw refuse(s.db != nullptr ? s.error_text() : "cannot open");
    }
    sqlite3_extended_result_codes(s.db, 1);
    journal_contents contents;
    try {
        s.exec_or_throw("PRAGMA busy_timeout=5000");
        if (created) s.exec_or_throw("PRAGMA auto_vacuum=INCREMENTAL");
        {
            statement mode(s.db, "PRAGMA journal_mode=WAL");
            if (sqlite3_step(mode.get()) != SQLITE_ROW ||
                std::string(reinterpret_cast<const char*>(sqlite3_column_text(mode.get(), 0))) !=
                    "wal")
                throw journal_error("cannot switch to WAL mode: " + s.error_text());
        }
        std::int64_t version = 0;
        std::int64_t tables = 0;
        {
            statement v(s.db, "PRAGMA user_version");
            if (sqlite3_step(v.get()) == SQLITE_ROW) version = sqlite3_column_int64(v.get(), 0);
            statement t(s.db, "SELECT count(*) FROM sqlite_master");
            if (sqlite3_step(t.get()) == SQLITE_ROW) tables = sqlite3_column_int64(t.get(), 0);
        }
        if (version == 0 && tables > 0)
            throw journal_error("not an ssecast database (it has tables of its own)");
        if (version != 0 && version != schema_version) {
            throw journal_error("unknown schema version " + std::to_string(version) + " in " +
                                name + " (written by a newer ssecast?)");
        }
        {
            statement check(s.db, "PRAGMA quick_check");
            if (sqlite3_step(check.get()) != SQLITE_ROW)
                throw journal_error(s.error_text());
            std::string verdict = reinterpret_cast<const char*>(sqlite3_column_text(check.get(), 0));
            if (verdict != "ok") throw journal_error("damaged: " + verdict);
        }
        s.set_synchronous(true);
        if (version == 0) {
            s.exec_or_throw("BEGIN IMMEDIATE");
            s.exec_or_throw(
                "CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
                "CREATE TABLE history(channel TEXT NOT NULL, seq INTEGER NOT NULL,"
                " published_ms INTEGER NOT NULL, type TEXT NOT NULL, data BLOB NOT NULL,"
                " retry_ms INTEGER, PRIMARY KEY(channel, seq)) WITHOUT ROWID;"
                "CREATE TABLE channels(name TEXT PRIMARY KEY, evicted_seq INTEGER NOT NULL)"
                " WITHOUT ROWID;");
            auto insert = "INSERT INTO meta VALUES('epoch'," + std::to_string(options.new_epoch) +
                          "),('last_seq',0),('evicted_floor',0),('clean',1),('fsync',0)";
            s.exec_or_throw(insert.c_str());
            s.exec_or_throw("PRAGMA user_version=1");
            s.exec_or_throw("COMMIT");
        }

        std::map<std::string, std::int64_t> meta;
        {
            statement m(s.db, "SELECT key, value FROM meta");
            while (sqlite3_step(m.get()) == SQLITE_ROW) {
                meta[reinterpret_cast<const char*>(sqlite3_column_text(m.get(), 0))] =
                    sqlite3_column_int64(m.get(), 1);
            }
        }
        contents.epoch = static_cast<std::uint64_t>(meta["epoch"]);
        contents.last_seq = static_cast<std::uint64_t>(meta["last_seq"]);
        contents.evicted_floor = static_cast<std::uint64_t>(meta["evicted_floor"]);
        {
            // Every channel with evictions or stored events (0: none evicted yet), by name.
            statement c(s.db,
                        "SELECT name, evicted_seq FROM channels UNION ALL SELECT DISTINCT "
                        "channel, 0 FROM history WHERE channel NOT IN (SELECT name FROM "
                        "channels) ORDER BY 1");
            while (sqlite3_step(c.get()) == SQLITE_ROW) {
                contents.evicted.emplace_back(
                    reinterpret_cast<const char*>(sqlite3_column_text(c.get(), 0)),
                    static_cast<std::uint64_t>(sqlite3_column_int64(c.get(), 1)));
            }
        }
        {
            statement h(s.db,
                        "SELECT seq, channel, published_ms, type, data, retry_ms FROM history "
                        "ORDER BY seq, channel");
            int rc;
            while ((rc = sqlite3_step(h.get())) == SQLITE_ROW) {
                auto seq = static_cast<std::uint64_t>(sqlite3_column_int64(h.get(), 0));
                std::string channel = reinterpret_cast<const char*>(sqlite3_column_text(h.get(), 1));
                if (!contents.records.empty() && contents.records.back().seq == seq) {
                    contents.records.back().channels.push_back(std::move(channel));
                    continue;
                }
                auto& r = contents.records.emplace_back();
                r.seq = seq;
                r.channels.push_back(std::move(channel));
                r.published_ms = sqlite3_column_int64(h.get(), 2);
                r.type = reinterpret_cast<const char*>(sqlite3_column_text(h.get(), 3));
                auto* data = static_cast<const char*>(sqlite3_column_blob(h.get(), 4));
                r.data.assign(data != nullptr ? data : "",
                              static_cast<std::size_t>(sqlite3_column_bytes(h.get(), 4)));
                if (sqlite3_column_type(h.get(), 5) != SQLITE_NULL)
                    r.retry_ms = static_cast<std::uint32_t>(sqlite3_column_int64(h.get(), 5));
            }
            if (rc != SQLITE_DONE) throw journal_error(s.error_text());
        }
        if (!contents.records.empty())
            contents.last_seq = std::max(contents.last_seq, contents.records.back().seq);
        auto previous = static_cast<fsync_policy>(meta["fsync"]);
        if (meta["clean"] == 0 && previous != fsync_policy::always) {
            // The last run may have handed out ids of commits the crash lost: never again.
            contents.last_seq += unclean_seq_jump;
        }
        s.last_seq = contents.last_seq;
        s.evicted_floor = contents.evicted_floor;

        s.set_meta = statement(
            s.db, "INSERT INTO meta(key, value) VALUES(?1, ?2) ON CONFLICT(key) DO UPDATE SET "
                  "value = excluded.value");
        s.exec_or_throw("BEGIN IMMEDIATE");
        int rc = s.meta("clean", 0);
        if (rc == SQLITE_DONE) rc = s.meta("fsync", static_cast<std::uint64_t>(options.fsync));
        if (rc == SQLITE_DONE) rc = s.meta("last_seq", s.last_seq);
        if (rc != SQLITE_DONE || s.exec("COMMIT") != SQLITE_OK) {
            auto why = s.error_text();
            s.exec("ROLLBACK");
            throw journal_error("cannot write: " + why);
        }
        s.exec_or_throw("PRAGMA journal_size_limit=67108864");
        s.insert_event = statement(s.db,
                                   "INSERT OR REPLACE INTO history(channel, seq, published_ms, "
                                   "type, data, retry_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6)");
        s.trim_history = statement(s.db, "DELETE FROM history WHERE channel = ?1 AND seq <= ?2");
        s.raise_evicted = statement(
            s.db, "INSERT INTO channels(name, evicted_seq) VALUES(?1, ?2) ON CONFLICT(name) DO "
                  "UPDATE SET evicted_seq = max(evicted_seq, excluded.evicted_seq)");
        s.forget_history = statement(s.db, "DELETE FROM history WHERE channel = ?1");
        s.forget_channel = statement(s.db, "DELETE FROM channels WHERE name = ?1");
    } catch (const journal_error& e) {
        std::string why = e.what();
        if (why.find("malformed") != std::string::npos || why.find("damaged") != std::string::npos ||
            why.find("not a database") != std::string::npos) {
            why += " (restore it from a backup, or move it away to start with an empty history)";
        }
        if (why.find(name) != std::string::npos) throw journal_error(why);
        throw refuse(why);
    }
    s.refresh_size();
    state->writer = std::thread([raw = state.get()] { raw->run(); });
    return {std::unique_ptr<sqlite_journal>(new sqlite_journal(std::move(state))),
            std::move(contents)};
}

void sqlite_journal::append(std::vector<journal_record> records, completion done) {
    std::size_t count = records.size();
    bool stopping = false;
    {
        std::lock_guard lock(impl_->mutex);
        stopping = impl_->stopping;
        if (!stopping && impl_->queued_ops + count <= impl_->options.max_queue) {
            impl_->queued_ops += count;
            impl_->queued += count;
            impl_->queue.push_back(
                {impl::op::kind::append, std::move(records), std::move(done), {}, 0});
            impl_->wake.notify_one();
            return;
        }
    }
    done(journal_failure{stopping ? std::string("shutting down")
                             : "write queue full (" + std::to_string(impl_->options.max_queue) +
                                   " events wait for the disk)"});
}

void sqlite_journal::trim(std::string channel, std::uint64_t up_to) {
    std::lock_guard lock(impl_->mutex);
    if (impl_->stopping) return;  // the next start trims again
    impl_->queue.push_back({impl::op::kind::trim, {}, {}, std::move(channel), up_to});
    ++impl_->queued_ops;
    impl_->wake.notify_one();
}

void sqlite_journal::forget(std::string channel, std::uint64_t evicted_floor) {
    std::lock_guard lock(impl_->mutex);
    if (impl_->stopping) return;
    impl_->queue.push_back({impl::op::kind::forget, {}, {}, std::move(channel), evicted_floor});
    ++impl_->queued_ops;
    impl_->wake.notify_one();
}

std::optional<std::string> sqlite_journal::unavailable() const {
    std::lock_guard lock(impl_->failure_mutex);
    return impl_->failure;
}

journal_stats sqlite_journal::stats() const {
    journal_stats s;
    s.commits = impl_->commits.load(std::memory_order_relaxed);
    s.events = impl_->events.load(std::memory_order_relaxed);
    s.write_errors = impl_->write_errors.load(std::memory_order_relaxed);
    s.queued = impl_->queued.load(std::memory_order_relaxed);
    s.database_bytes = impl_->bytes.load(std::memory_order_relaxed);
    s.commit_seconds = impl_->commit_seconds.snapshot();
    s.events_per_commit = impl_->events_per_commit.snapshot();
    return s;
}

const std::filesystem::path& sqlite_journal::file() const {
    return impl_->file;
}

}  // namespace ssecast
