#include "ssecast/backend/durable/durable_storage.hpp"

#include <boost/asio/post.hpp>

#include "ssecast/core/event_id.hpp"
#include "ssecast/metrics/metrics.hpp"

namespace ssecast {

namespace {

std::int64_t unix_ms(std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace

durable_storage::durable_storage(durable_options options, event_sink& sink) {
    options.journal.after_completions = [this] { hand_back(); };
    auto [journal, contents] = sqlite_journal::open(options.journal);
    journal_ = std::move(journal);
    epoch_ = contents.epoch;
    options.memory.epoch = contents.epoch;
    history_observer* forgets = this;
    memory_ = std::make_unique<memory_storage>(options.memory, sink, forgets);

    // The steady clock (what max-age eviction reads) of each event, from its wall-clock time.
    auto wall_now = unix_ms(std::chrono::system_clock::now());
    auto steady_now = std::chrono::steady_clock::now();
    std::vector<memory_storage::restored_event> events;
    events.reserve(contents.records.size());
    for (auto& r : contents.records) {
        auto age = std::chrono::milliseconds(std::max<std::int64_t>(0, wall_now - r.published_ms));
        auto id = to_string(event_id{epoch_, r.seq});
        events.push_back({r.seq, steady_now - age, make_event_frame({id, r.type, r.data, r.retry_ms}),
                          std::move(r.channels)});
    }
    restored_ = events.size();
    memory_->restore(events, contents.evicted, contents.evicted_floor, contents.last_seq);
}

durable_storage::~durable_storage() {
    stop();
}

void durable_storage::publish(std::vector<new_event> batch, const boost::asio::any_io_executor& ex,
                              publish_handler done) {
    std::lock_guard order(order_);
    if (stopped_) {
        done({store_errc::unavailable, "shutting down", {}});
        return;
    }
    auto ready = memory_->prepare(batch);
    if (!ready) {
        done({store_errc::channel_limit, {}, {}});
        return;
    }
    auto published_ms = unix_ms(std::chrono::system_clock::now());
    std::vector<journal_record> records;
    records.reserve(batch.size());
    for (std::size_t i = 0; i < batch.size(); ++i) {
        auto& e = ready->events[i];
        records.push_back({e.seq, published_ms, e.names, std::move(batch[i].type),
                           std::move(batch[i].data), batch[i].retry_ms});
    }
    auto held = std::make_shared<memory_storage::prepared>(std::move(*ready));
    journal_->append(std::move(records), [this, held, ex, done = std::move(done)](
                                             std::optional<journal_failure> failed) {
        // On the journal's writer thread (or here, for a full queue), in seq order.
        publish_result result;
        if (failed) {
            memory_->abandon(*held);
            result.error = store_errc::unavailable;
            result.detail = std::move(failed->message);
            // Possibly on the caller's thread (a full queue), where no hand_back() follows.
            boost::asio::post(ex, [done, result = std::move(result)]() mutable {
                done(std::move(result));
            });
            return;
        }
        result.receipts = memory_->commit(std::move(*held));
        finished_.push_back({ex, done, std::move(result)});
    });
}

void durable_storage::hand_back() {
    while (!finished_.empty()) {
        auto ex = finished_.front().ex;
        std::vector<std::pair<publish_handler, publish_result>> theirs;
        std::vector<finished> others;
        for (auto& f : finished_) {
            if (f.ex == ex) {
                theirs.emplace_back(std::move(f.done), std::move(f.result));
            } else {
                others.push_back(std::move(f));
            }
        }
        finished_ = std::move(others);
        boost::asio::post(ex, [theirs = std::move(theirs)]() mutable {
            for (auto& [done, result] : theirs) done(std::move(result));
        });
    }
}

void durable_storage::evicted(const std::string& channel, std::uint64_t up_to) {
    if (forgetting_.load(std::memory_order_acquire)) journal_->trim(channel, up_to);
}

void durable_storage::dropped(const std::string& channel, std::uint64_t floor) {
    if (forgetting_.load(std::memory_order_acquire)) journal_->forget(channel, floor);
}

std::optional<std::string> durable_storage::unavailable() const {
    std::lock_guard order(order_);
    if (stopped_) return std::string("shutting down");
    if (auto why = journal_->unavailable()) return "database: " + *why;
    return std::nullopt;
}

void durable_storage::stop() {
    {
        std::lock_guard order(order_);
        if (stopped_) return;
        stopped_ = true;
    }
    // What the rings forget from now on stays in the database: the next start trims it again.
    forgetting_.store(false, std::memory_order_release);
    // Commits what is queued and runs its completions (posted to their loops), then closes.
    journal_.reset();
}

void durable_storage::write_metrics(exposition& out) const {
    std::lock_guard order(order_);
    if (stopped_) return;
    auto s = journal_->stats();
    out.counter("ssecast_storage_commits_total",
                "Transactions committed to the database (each holds every publish queued "
                "meanwhile: group commit).",
                s.commits);
    out.counter("ssecast_storage_events_committed_total", "Events committed to the database.",
                s.events);
    out.counter("ssecast_storage_write_errors_total",
                "Commits that failed (their publishes were answered 503).", s.write_errors);
    out.gauge("ssecast_storage_write_queue", "Events waiting for the database writer.",
              static_cast<double>(s.queued));
    out.gauge("ssecast_storage_database_bytes",
              "Size of the database file and its write-ahead log.",
              static_cast<double>(s.database_bytes));
    out.histogram("ssecast_storage_commit_seconds",
                  "Time of one commit, from BEGIN until it is as durable as --fsync promises.",
                  s.commit_seconds);
    out.histogram("ssecast_storage_events_per_commit", "Publishes committed per transaction.",
                  s.events_per_commit);
}

}  // namespace ssecast
