// The hub's hand-over when the backlog read completes later than the subscription: the real hub
// and the real memory backend, behind a decorator that only delays (the snapshot, its completion,
// or both), as an asynchronous backend would.

#include "ssecast/fanout/hub.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "sse_parser.hpp"
#include "ssecast/backend/memory/memory_storage.hpp"
#include "ssecast/backend/storage.hpp"
#include "ssecast/core/event_id.hpp"
#include "ssecast/fanout/broker.hpp"
#include "ssecast/fanout/subscriber.hpp"

namespace {

using namespace std::chrono_literals;
using ssecast::frame;
using ssecast::new_event;

constexpr std::uint64_t epoch = 1700000000777;

std::string id(std::uint64_t seq) {
    return ssecast::to_string(ssecast::event_id{epoch, seq});
}

ssecast::memory_storage_options options(std::size_t history = 100) {
    ssecast::memory_storage_options o;
    o.history = history;
    o.epoch = epoch;
    return o;
}

new_event event(std::vector<std::string> channels, std::string data) {
    return {std::move(channels), {}, std::move(data), std::nullopt};
}

std::vector<sse_test::event> parse(const std::vector<frame>& frames) {
    sse_test::parser p;
    for (const auto& f : frames) p.feed(*f);
    return p.take_events();
}

std::vector<std::string> datas(const std::vector<frame>& frames) {
    std::vector<std::string> out;
    for (const auto& e : parse(frames)) out.push_back(e.data);
    return out;
}

std::uint64_t seq_of(std::string_view event_id) {
    auto parsed = ssecast::parse_event_id(event_id);
    EXPECT_TRUE(parsed.has_value()) << event_id;
    if (!parsed) return 0;
    EXPECT_EQ(parsed->epoch, epoch) << event_id;
    return parsed->seq;
}

using strings = std::vector<std::string>;
using seqs = std::vector<std::uint64_t>;

// --- the delaying decorator ---------------------------------------------------------------------

// A backend that forwards everything to another one, except that a subscription's backlog read
// (the snapshot) and its completion happen when the test says so. It only delays: what the read
// returns is the inner backend's. Not thread-safe: subscribe() and the release calls are made on
// one thread (the subscribers' worker thread).
class delaying_storage final : public ssecast::storage {
  public:
    enum class mode {
        pass,        // no delay
        completion,  // the snapshot is read at once, its completion waits for release()
        snapshot,    // the read itself waits for read() or release()
        timed,       // each is delayed by what `plan` says, on the completion's executor
    };
    struct delays {
        std::optional<std::chrono::microseconds> snapshot;    // nothing: read at once
        std::optional<std::chrono::microseconds> completion;  // nothing: completes at once
    };

    explicit delaying_storage(ssecast::storage& inner) : inner_(inner) {}

    mode holding = mode::pass;
    std::function<delays()> plan;  // mode::timed

    void publish(std::vector<new_event> batch, const boost::asio::any_io_executor& ex,
                 publish_handler done) override {
        inner_.publish(std::move(batch), ex, std::move(done));
    }

    void subscribe(const std::vector<std::string>& channels,
                   std::optional<std::string_view> last_event_id,
                   const boost::asio::any_io_executor& ex, replay_handler done) override {
        auto call = std::make_shared<pending>();
        call->channels = channels;
        if (last_event_id) call->last_event_id = std::string(*last_event_id);
        call->ex = ex;
        call->done = std::move(done);
        call->how = holding;
        switch (holding) {
            case mode::pass:
                call->released = true;
                read_now(call);
                return;
            case mode::completion:
                waiting_.push_back(call);
                read_now(call);
                return;
            case mode::snapshot:
                waiting_.push_back(call);
                return;
            case mode::timed: {
                auto d = plan ? plan() : delays{};
                call->completion_delay = d.completion;
                call->released = true;
                if (!d.snapshot) {
                    read_now(call);
                    return;
                }
                auto timer = std::make_shared<boost::asio::steady_timer>(ex, *d.snapshot);
                timer->async_wait(
                    [this, call, timer](boost::system::error_code) { read_now(call); });
                return;
            }
        }
    }

    // Subscriptions whose completion has not been released yet.
    std::size_t waiting() const { return waiting_.size(); }
    // Reads the oldest held subscription's snapshot now (mode::snapshot); its completion still
    // waits for release().
    void read() {
        for (auto& call : waiting_) {
            if (call->read) continue;
            read_now(call);
            return;
        }
        ADD_FAILURE() << "no subscription waits for its read";
    }
    // Lets the `which`-th oldest held subscription complete (reading its snapshot first if not
    // done yet): the completion is posted to its executor.
    void release(std::size_t which = 0) {
        if (which >= waiting_.size()) {
            ADD_FAILURE() << "no subscription #" << which << " waits for its completion";
            return;
        }
        auto call = waiting_[which];
        waiting_.erase(waiting_.begin() + static_cast<std::ptrdiff_t>(which));
        call->released = true;
        if (!call->read) {
            read_now(call);
        } else {
            finish(call);
        }
    }

    void unwatch(const std::vector<std::string>& channels) override { inner_.unwatch(channels); }
    void maintain(std::chrono::steady_clock::time_point now) override { inner_.maintain(now); }
    ssecast::storage_stats stats() const override { return inner_.stats(); }
    std::vector<ssecast::channel_info> channels() const override { return inner_.channels(); }
    std::optional<std::string> unavailable() const override { return inner_.unavailable(); }
    void stop() override { inner_.stop(); }

  private:
    struct pending {
        std::vector<std::string> channels;
        std::optional<std::string> last_event_id;
        boost::asio::any_io_executor ex;
        replay_handler done;
        mode how = mode::pass;
        bool read = false;
        bool released = false;
        std::optional<ssecast::replay_result> result;
        std::optional<std::chrono::microseconds> completion_delay;
    };

    void read_now(const std::shared_ptr<pending>& call) {
        call->read = true;
        std::optional<std::string_view> last;
        if (call->last_event_id) last = *call->last_event_id;
        inner_.subscribe(call->channels, last, call->ex, [this, call](ssecast::replay_result r) {
            call->result = std::move(r);
            finish(call);
        });
    }

    // Completes `call` once it is both read and released.
    void finish(const std::shared_ptr<pending>& call) {
        if (!call->released || !call->result) return;
        auto run = [call] {
            auto result = std::move(*call->result);
            call->result.reset();
            call->done(std::move(result));
        };
        if (call->how == mode::timed && call->completion_delay) {
            auto timer =
                std::make_shared<boost::asio::steady_timer>(call->ex, *call->completion_delay);
            timer->async_wait([run, timer](boost::system::error_code) { run(); });
            return;
        }
        if (call->how == mode::pass) {
            run();  // as the inner backend did
            return;
        }
        boost::asio::post(call->ex, run);
    }

    ssecast::storage& inner_;
    std::deque<std::shared_ptr<pending>> waiting_;
};

// --- a subscriber that records its whole stream -------------------------------------------------

// The stream a client would get: the backlog (when `started` runs), then what the hub hands over.
struct stream : ssecast::subscriber {
    std::vector<frame> frames;
    std::optional<ssecast::subscription_start> start;
    std::size_t before_start = 0;  // frames delivered before `started` ran: must stay 0
    std::size_t lost = 0;
    std::size_t started = 0;
    std::size_t backlog_frames = 0;
    std::size_t unflushed = 0;

    void deliver(const frame& f, std::chrono::steady_clock::time_point) override {
        if (!start) ++before_start;
        frames.push_back(f);
        ++unflushed;
    }
    void flush() override { unflushed = 0; }

    void on_started(ssecast::subscription_start s) {
        ++started;
        backlog_frames = s.backlog.size();
        frames.insert(frames.end(), s.backlog.begin(), s.backlog.end());
        start = std::move(s);
    }
    std::vector<frame> live() const {
        return {frames.begin() + static_cast<std::ptrdiff_t>(backlog_frames), frames.end()};
    }
};

// The hub over the delayed memory backend, in one of two set-ups: delivered inline by the
// publisher's call (no worker loops), or on a worker loop, which here is `io` (run by the test).
class HubHandoff : public ::testing::TestWithParam<bool> {
  protected:
    static constexpr std::size_t unlimited = std::size_t{1} << 30;

    boost::asio::io_context io;
    std::unique_ptr<ssecast::hub> fanout;
    std::unique_ptr<ssecast::memory_storage> memory;
    std::unique_ptr<delaying_storage> delayed;
    std::unique_ptr<ssecast::broker> b;

    void SetUp() override { open(options()); }
    void TearDown() override { close(); }

    bool on_worker_loop() const { return GetParam(); }

    void open(const ssecast::memory_storage_options& o) {
        close();
        std::vector<boost::asio::any_io_executor> workers;
        if (on_worker_loop()) workers.push_back(io.get_executor());
        fanout = std::make_unique<ssecast::hub>(std::move(workers));
        memory = std::make_unique<ssecast::memory_storage>(o, *fanout);
        delayed = std::make_unique<delaying_storage>(*memory);
        b = std::make_unique<ssecast::broker>(*delayed, *fanout);
    }
    void close() {
        b.reset();
        delayed.reset();
        memory.reset();
        fanout.reset();
    }

    // Runs what is ready on `io` (hand-overs to the worker, released completions).
    void run_ready() {
        io.restart();
        io.poll();
    }

    std::vector<ssecast::publish_receipt> publish(std::vector<new_event> batch) {
        std::optional<ssecast::publish_result> result;
        b->publish(std::move(batch), io.get_executor(),
                   [&](ssecast::publish_result r) { result = std::move(r); });
        EXPECT_TRUE(result.has_value()) << "the memory backend completes inline";
        if (!result) return {};
        EXPECT_FALSE(result->error) << result->error.message();
        return std::move(result->receipts);
    }
    ssecast::publish_receipt publish(std::vector<std::string> channels, std::string data) {
        auto receipts = publish({event(std::move(channels), std::move(data))});
        EXPECT_EQ(receipts.size(), 1u);
        return receipts.empty() ? ssecast::publish_receipt{} : receipts.front();
    }

    // Subscribes `sink`; its completion may come later (per `delayed->holding`).
    void subscribe(const std::vector<std::string>& channels,
                   std::optional<std::string_view> last_event_id, stream& sink,
                   std::size_t held_limit = unlimited, std::function<void(stream&)> on_lost = {},
                   std::function<void(stream&)> after_start = {}) {
        b->subscribe(
            channels, last_event_id, sink, 0, held_limit, io.get_executor(),
            [&sink, after_start](ssecast::subscription_start s) {
                sink.on_started(std::move(s));
                if (after_start) after_start(sink);
            },
            [&sink, on_lost] {
                ++sink.lost;
                if (on_lost) on_lost(sink);
            });
    }

    // Seqs of what `sink` got, backlog and live.
    static seqs received(const stream& sink) {
        seqs out;
        for (const auto& e : parse(sink.frames)) out.push_back(seq_of(e.last_event_id));
        return out;
    }

    std::vector<std::string> channel_names() const {
        std::vector<std::string> out;
        for (const auto& c : b->channels()) out.push_back(c.name);
        return out;
    }
};

INSTANTIATE_TEST_SUITE_P(Hub, HubHandoff, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                             return info.param ? std::string("OnWorkerLoop")
                                               : std::string("Inline");
                         });

// --- (a) what is published while the backlog is read -------------------------------------------

// The snapshot is read at once; its completion comes after more events were stored: those are held
// and come after the backlog, each once, in seq order.
TEST_P(HubHandoff, EventsStoredAfterTheSnapshotComeOnceAfterTheBacklog) {
    publish({"a"}, "1");
    publish({"b"}, "2");
    publish({"a", "b"}, "3");

    delayed->holding = delaying_storage::mode::completion;
    stream s;
    subscribe({"a", "b"}, id(1), s);
    ASSERT_EQ(delayed->waiting(), 1u);

    EXPECT_EQ(publish({"a"}, "4").delivered, 1u) << "a held subscriber counts";
    publish({"b"}, "5");
    publish({"b", "a"}, "6");
    publish({"c"}, "not ours");
    auto batch = publish({event({"a"}, "8"), event({"a", "b"}, "9")});
    ASSERT_EQ(batch.size(), 2u);
    run_ready();  // on a worker loop, the hand-overs reach it now: held
    EXPECT_FALSE(s.start.has_value());
    EXPECT_TRUE(s.frames.empty()) << "nothing goes out before the backlog";

    delayed->release();
    publish({"a"}, "10");  // queued after the completion (on a worker loop): live
    run_ready();
    ASSERT_TRUE(s.start.has_value());
    EXPECT_FALSE(s.start->error);
    EXPECT_EQ(s.before_start, 0u);
    EXPECT_EQ(s.lost, 0u);
    EXPECT_EQ(s.start->position, id(3)) << "the head when the snapshot was read";
    EXPECT_EQ(s.start->replayed, 2u);
    EXPECT_FALSE(s.start->resync);
    EXPECT_EQ(datas(s.start->backlog), strings({"2", "3"}));
    EXPECT_EQ(received(s), (seqs{2, 3, 4, 5, 6, 8, 9, 10}));
    EXPECT_EQ(datas(s.frames), strings({"2", "3", "4", "5", "6", "8", "9", "10"}));
    EXPECT_EQ(s.unflushed, 0u);

    publish({"b"}, "11");
    run_ready();
    EXPECT_EQ(received(s), (seqs{2, 3, 4, 5, 6, 8, 9, 10, 11}));
    EXPECT_EQ(s.started, 1u);
}

// The read itself is late: events stored between the registration and the snapshot are both held
// and in the backlog, and go out once (from the backlog); those after the snapshot once, after it.
TEST_P(HubHandoff, EventsStoredBeforeTheLateSnapshotAreNotSentTwice) {
    publish({"a"}, "1");

    delayed->holding = delaying_storage::mode::snapshot;
    stream s;
    subscribe({"a", "b"}, id(1), s);
    publish({"a"}, "2");
    publish({"a", "b"}, "3");
    run_ready();  // on a worker loop: held before the snapshot is read

    delayed->read();  // head 3
    publish({"b"}, "4");
    publish({"c"}, "not ours");
    publish({"a"}, "6");
    run_ready();
    EXPECT_FALSE(s.start.has_value());

    delayed->release();
    run_ready();
    ASSERT_TRUE(s.start.has_value());
    EXPECT_EQ(s.before_start, 0u);
    EXPECT_EQ(s.start->position, id(3));
    EXPECT_EQ(datas(s.start->backlog), strings({"2", "3"}));
    EXPECT_EQ(received(s), (seqs{2, 3, 4, 6}));

    publish({"a", "b"}, "7");
    run_ready();
    EXPECT_EQ(received(s), (seqs{2, 3, 4, 6, 7}));
    EXPECT_EQ(datas(s.live()), strings({"4", "6", "7"}));
}

// The same when the stored events are still on their way to the worker loop when the snapshot is
// read (and when the subscriber goes live).
TEST_P(HubHandoff, EventsInFlightToTheWorkerWhenTheSnapshotIsReadAreNotSentTwice) {
    delayed->holding = delaying_storage::mode::snapshot;
    stream s;
    subscribe({"a"}, id(0), s);
    publish({"a"}, "1");
    publish({"a"}, "2");
    delayed->read();  // head 2, while 1 and 2 may not have reached the worker yet
    publish({"a"}, "3");
    delayed->release();
    publish({"a"}, "4");
    run_ready();
    ASSERT_TRUE(s.start.has_value());
    EXPECT_EQ(s.before_start, 0u);
    EXPECT_EQ(datas(s.start->backlog), strings({"1", "2"}));
    EXPECT_EQ(received(s), (seqs{1, 2, 3, 4}));
}

// Without a resume point nothing is replayed: what was stored up to the snapshot is before the
// position, and everything after it goes out once.
TEST_P(HubHandoff, WithoutAResumePointTheStreamStartsAfterTheSnapshotsHead) {
    publish({"a"}, "1");
    delayed->holding = delaying_storage::mode::snapshot;
    stream s;
    subscribe({"a"}, std::nullopt, s);
    publish({"a"}, "2");  // held, then dropped: before the snapshot's head
    run_ready();
    delayed->read();
    publish({"a"}, "3");
    run_ready();
    delayed->release();
    run_ready();
    ASSERT_TRUE(s.start.has_value());
    EXPECT_TRUE(s.start->backlog.empty());
    EXPECT_EQ(s.start->position, id(2));
    EXPECT_EQ(received(s), (seqs{3}));
}

// Several subscribers waiting at once, released in another order than they came.
TEST_P(HubHandoff, SubscribersReleasedOutOfOrderEachGetTheirOwnExactStream) {
    delayed->holding = delaying_storage::mode::completion;
    publish({"a"}, "1");
    stream first, second;
    subscribe({"a"}, id(0), first);  // read at once: head 1
    publish({"a"}, "2");
    publish({"b"}, "3");
    delayed->holding = delaying_storage::mode::snapshot;
    subscribe({"a", "b"}, id(1), second);
    publish({"b"}, "4");
    run_ready();
    delayed->read();  // second's: head 4
    publish({"a"}, "5");
    run_ready();
    delayed->release(1);  // second goes live first
    run_ready();
    ASSERT_TRUE(second.start.has_value());
    EXPECT_FALSE(first.start.has_value());
    publish({"a", "b"}, "6");
    run_ready();
    delayed->release(0);  // then first
    publish({"b"}, "7");
    run_ready();
    ASSERT_TRUE(first.start.has_value());
    EXPECT_EQ(datas(first.start->backlog), strings({"1"}));
    EXPECT_EQ(received(first), (seqs{1, 2, 5, 6}));
    EXPECT_EQ(datas(second.start->backlog), strings({"2", "3", "4"}));
    EXPECT_EQ(received(second), (seqs{2, 3, 4, 5, 6, 7}));
    EXPECT_EQ(first.before_start + second.before_start, 0u);
}

// --- (b) more held than the limit ---------------------------------------------------------------

std::size_t frame_size(std::uint64_t seq, std::string_view data) {
    return ssecast::encode_event({id(seq), {}, data, std::nullopt}).size();
}

TEST_P(HubHandoff, HeldEventsOverTheLimitLoseTheLiveEventsButNotTheBacklog) {
    publish({"a"}, "1");
    delayed->holding = delaying_storage::mode::completion;
    // Two held events fit exactly in `fits`; `overflows` is one byte short.
    const std::size_t two = frame_size(2, "held-2") + frame_size(3, "held-3");
    stream fits, overflows;
    subscribe({"a"}, id(0), fits, two);
    subscribe({"a"}, id(0), overflows, two - 1);
    publish({"a"}, "held-2");
    publish({"a"}, "held-3");
    run_ready();
    delayed->release();
    delayed->release();
    run_ready();

    ASSERT_TRUE(fits.start.has_value());
    EXPECT_EQ(fits.lost, 0u);
    EXPECT_EQ(received(fits), (seqs{1, 2, 3}));

    ASSERT_TRUE(overflows.start.has_value()) << "`started` runs with the backlog all the same";
    EXPECT_FALSE(overflows.start->error);
    EXPECT_EQ(datas(overflows.start->backlog), strings({"1"}));
    EXPECT_EQ(overflows.lost, 1u);
    EXPECT_EQ(received(overflows), (seqs{1})) << "no held event is handed over";
    EXPECT_EQ(overflows.before_start, 0u);

    // "lost runs instead of the live events": a later event must not reach it either, or its
    // stream would go on past a gap (2 and 3 are missing).
    publish({"a"}, "4");
    run_ready();
    EXPECT_EQ(received(overflows), (seqs{1})) << "a live event after the lost hand-over";
    EXPECT_EQ(received(fits), (seqs{1, 2, 3, 4}));
}

// As the daemon does: the stream ends (and unsubscribes) from `lost`; the subscription is gone and
// its channel's watcher released.
TEST_P(HubHandoff, UnsubscribingFromLostReleasesTheSubscription) {
    auto o = options(0);
    o.channel_grace = 0ms;
    open(o);
    delayed->holding = delaying_storage::mode::completion;
    stream s;
    subscribe({"a"}, std::nullopt, s, 1,
              [this](stream& sink) { b->unsubscribe(sink.start->subscription); });
    publish({"a"}, "too big to hold");
    run_ready();
    delayed->release();
    run_ready();
    ASSERT_TRUE(s.start.has_value());
    EXPECT_EQ(s.lost, 1u);
    EXPECT_EQ(b->stats().subscriptions, 0u);
    publish({"a"}, "after");
    run_ready();
    EXPECT_TRUE(s.frames.empty());
    auto t = std::chrono::steady_clock::now();
    b->maintain(t);
    b->maintain(t);
    EXPECT_EQ(channel_names(), strings{}) << "the watcher of \"a\" leaked";
}

// --- (c) unsubscribed while the backlog is read -------------------------------------------------

// The broker hands out the subscription's handle only in `started`: a caller that must leave
// before (none does today) would use the handle the hub gives next, one more than the last.
class HubUnsubscribeWhileReading : public HubHandoff {
  protected:
    void SetUp() override {
        auto o = options(0);  // nothing stays in the rings: only watchers keep a channel
        o.channel_grace = 0ms;
        open(o);
        // A subscriber that stays: its channel must not be dropped (the check below means
        // something), and it tells the handle of the next subscription.
        subscribe({"kept"}, std::nullopt, control);
        ASSERT_TRUE(control.start.has_value());
        next_handle = control.start->subscription + 1;
    }
    void expect_only_kept_channel_left() {
        auto t = std::chrono::steady_clock::now();
        b->maintain(t);
        b->maintain(t);  // zero grace: dropped on the second sweep
        EXPECT_EQ(channel_names(), strings({"kept"})) << "a watcher leaked";
    }

    stream control;
    std::uint64_t next_handle = 0;
};

INSTANTIATE_TEST_SUITE_P(Hub, HubUnsubscribeWhileReading, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                             return info.param ? std::string("OnWorkerLoop")
                                               : std::string("Inline");
                         });

TEST_P(HubUnsubscribeWhileReading, AfterTheSnapshotNothingStartsNorIsDelivered) {
    delayed->holding = delaying_storage::mode::completion;
    stream s;
    subscribe({"a", "quiet"}, id(0), s);
    EXPECT_EQ(b->stats().subscriptions, 2u);
    b->unsubscribe(next_handle);
    ASSERT_EQ(b->stats().subscriptions, 1u) << "precondition: the handle was the next one";
    EXPECT_EQ(publish({"a"}, "1").delivered, 0u);
    run_ready();
    delayed->release();
    run_ready();
    EXPECT_EQ(s.started, 0u) << "`started` ran for a subscription already gone";
    EXPECT_TRUE(s.frames.empty());
    publish({"a", "quiet"}, "2");
    run_ready();
    EXPECT_TRUE(s.frames.empty());
    expect_only_kept_channel_left();
}

TEST_P(HubUnsubscribeWhileReading, BeforeTheSnapshotNothingStartsNorIsDelivered) {
    delayed->holding = delaying_storage::mode::snapshot;
    stream s;
    subscribe({"a", "quiet"}, id(0), s);
    b->unsubscribe(next_handle);
    ASSERT_EQ(b->stats().subscriptions, 1u) << "precondition: the handle was the next one";
    publish({"a"}, "1");
    run_ready();
    delayed->release();  // the read happens now, for a subscription already gone
    run_ready();
    EXPECT_EQ(s.started, 0u);
    EXPECT_TRUE(s.frames.empty());
    expect_only_kept_channel_left();
}

// The daemon's way (a stream closed while its backlog was read): `started` runs and unsubscribes
// at once, before the subscription went live; nothing held goes out.
TEST_P(HubUnsubscribeWhileReading, FromStartedBeforeGoingLiveNothingIsDelivered) {
    delayed->holding = delaying_storage::mode::completion;
    stream s;
    subscribe({"a", "quiet"}, id(0), s, unlimited, {},
              [this](stream& sink) { b->unsubscribe(sink.start->subscription); });
    publish({"a"}, "1");
    publish({"a"}, "2");
    run_ready();
    delayed->release();
    run_ready();
    EXPECT_EQ(s.started, 1u);
    EXPECT_EQ(s.lost, 0u);
    EXPECT_EQ(s.live(), std::vector<frame>{}) << "held events went to a removed subscription";
    EXPECT_EQ(b->stats().subscriptions, 1u);
    publish({"a"}, "3");
    run_ready();
    EXPECT_EQ(s.live(), std::vector<frame>{});
    expect_only_kept_channel_left();
}

// --- (d) the race -------------------------------------------------------------------------------

// Two publisher threads store 2000 events on three channels while subscribers join from random
// resume points, their snapshots and completions delayed at random, on a worker loop of its own
// thread. Each subscriber's stream (backlog and live) must be exactly the events of its channels
// after its resume point, in seq order, each once.
TEST(HubRace, SubscribersJoiningWhilePublishersRunGetExactlyTheEventsAfterTheirResumePoint) {
    const auto seed = static_cast<std::uint32_t>(std::random_device{}());
    SCOPED_TRACE("seed " + std::to_string(seed));
    constexpr int publishers = 2;
    constexpr std::size_t events_per_publisher = 1000;
    constexpr std::size_t total = publishers * events_per_publisher;
    constexpr std::size_t subscribers = 48;
    const std::vector<std::string> all_channels = {"c0", "c1", "c2"};
    const auto deadline = std::chrono::steady_clock::now() + 60s;

    boost::asio::io_context worker;
    auto guard = boost::asio::make_work_guard(worker);
    ssecast::hub fanout({worker.get_executor()});
    ssecast::memory_storage memory(options(total + 10), fanout);
    delaying_storage delayed(memory);
    delayed.holding = delaying_storage::mode::timed;
    std::mt19937 delay_rng(seed + 100);  // used on the worker thread only
    delayed.plan = [&delay_rng] {
        delaying_storage::delays d;
        std::uniform_int_distribution<int> pick(0, 3), micros(0, 3000);
        auto how = pick(delay_rng);
        if (how & 1) d.snapshot = std::chrono::microseconds(micros(delay_rng));
        if (how & 2) d.completion = std::chrono::microseconds(micros(delay_rng));
        return d;
    };
    ssecast::broker b(delayed, fanout);
    std::thread loop([&] { worker.run(); });

    // What was stored, as the publishers' receipts tell.
    struct stored {
        std::uint64_t seq;
        std::vector<std::string> channels;
    };
    std::mutex log_mutex;
    std::condition_variable progress;
    std::vector<stored> log;
    std::atomic<std::size_t> failures{0};

    auto subset = [&](std::mt19937& rng) {
        std::vector<std::string> out;
        while (out.empty()) {
            for (const auto& c : all_channels)
                if (rng() % 2 == 0) out.push_back(c);
        }
        return out;
    };

    std::vector<std::thread> publishing;
    for (int p = 0; p < publishers; ++p) {
        publishing.emplace_back([&, p] {
            std::mt19937 rng(seed + 1 + static_cast<std::uint32_t>(p));
            boost::asio::io_context own;  // where this publisher's completions run
            std::size_t sent = 0;
            while (sent < events_per_publisher && std::chrono::steady_clock::now() < deadline) {
                auto n = std::min<std::size_t>(1 + rng() % 4, events_per_publisher - sent);
                std::vector<new_event> batch;
                for (std::size_t i = 0; i < n; ++i)
                    batch.push_back(event(
                        subset(rng), "p" + std::to_string(p) + "-" + std::to_string(sent + i)));
                auto channels_of = batch;
                bool done = false;
                b.publish(std::move(batch), own.get_executor(), [&](ssecast::publish_result r) {
                    done = true;
                    if (r.error || r.receipts.size() != n) {
                        ++failures;
                        return;
                    }
                    std::lock_guard lock(log_mutex);
                    for (std::size_t i = 0; i < n; ++i) {
                        auto parsed = ssecast::parse_event_id(r.receipts[i].id);
                        if (!parsed) {
                            ++failures;
                            continue;
                        }
                        log.push_back({parsed->seq, channels_of[i].channels});
                    }
                });
                while (!done && std::chrono::steady_clock::now() < deadline) {
                    own.restart();
                    own.run_one_for(100ms);
                }
                if (!done) {
                    ++failures;
                    return;
                }
                sent += n;
                progress.notify_all();
            }
        });
    }

    // The subscribers, joining spread over the run.
    struct joiner : ssecast::subscriber {
        std::vector<std::string> channels;
        enum class from { known, zero, none, garbage } kind = from::none;
        std::optional<std::string> last_event_id;
        std::vector<frame> frames;  // backlog, then live (worker thread, read after it ended)
        std::optional<ssecast::subscription_start> start;
        std::size_t before_start = 0;
        std::size_t lost = 0;
        void deliver(const frame& f, std::chrono::steady_clock::time_point) override {
            if (!start) ++before_start;
            frames.push_back(f);
        }
        void flush() override {}
    };
    std::vector<std::unique_ptr<joiner>> joiners;
    std::atomic<std::size_t> started{0};
    std::mt19937 rng(seed);
    for (std::size_t k = 0; k < subscribers; ++k) {
        {
            // Joins once about k/subscribers of the events are stored (the first ones at once).
            std::unique_lock lock(log_mutex);
            progress.wait_until(lock, deadline, [&] {
                return log.size() >= k * total / subscribers || failures > 0;
            });
            auto j = std::make_unique<joiner>();
            j->channels = subset(rng);
            switch (rng() % 8) {
                case 0:
                    j->kind = joiner::from::none;
                    break;
                case 1:
                    j->kind = joiner::from::garbage;
                    j->last_event_id = "garbage-" + std::to_string(k);
                    break;
                case 2:
                    j->kind = joiner::from::zero;
                    j->last_event_id = id(0);
                    break;
                default:
                    if (log.empty()) {
                        j->kind = joiner::from::zero;
                        j->last_event_id = id(0);
                    } else {
                        j->kind = joiner::from::known;
                        j->last_event_id = id(log[rng() % log.size()].seq);
                    }
            }
            joiners.push_back(std::move(j));
        }
        auto* j = joiners.back().get();
        boost::asio::post(worker, [&b, &worker, &started, j] {
            std::optional<std::string_view> last;
            if (j->last_event_id) last = *j->last_event_id;
            b.subscribe(
                j->channels, last, *j, 0, std::size_t{64} << 20, worker.get_executor(),
                [j, &started](ssecast::subscription_start s) {
                    j->start = std::move(s);
                    j->frames.insert(j->frames.begin(), j->start->backlog.begin(),
                                     j->start->backlog.end());
                    ++started;
                },
                [j] { ++j->lost; });
        });
    }
    for (auto& t : publishing) t.join();
    // Every completion is on a timer or posted: the worker loop ends once they all ran and every
    // hand-over of the last events is delivered.
    guard.reset();
    loop.join();

    ASSERT_EQ(failures.load(), 0u);
    ASSERT_EQ(log.size(), total);
    std::sort(log.begin(), log.end(),
              [](const stored& x, const stored& y) { return x.seq < y.seq; });
    for (std::size_t i = 0; i < log.size(); ++i) ASSERT_EQ(log[i].seq, i + 1) << "seqs 1..N";
    ASSERT_EQ(started.load(), subscribers);

    for (std::size_t k = 0; k < joiners.size(); ++k) {
        const auto& j = *joiners[k];
        std::string what = "subscriber " + std::to_string(k) + " on";
        for (const auto& c : j.channels) what += " " + c;
        what += " from " + j.last_event_id.value_or("<none>");
        SCOPED_TRACE(what);
        ASSERT_TRUE(j.start.has_value());
        ASSERT_FALSE(j.start->error);
        EXPECT_EQ(j.lost, 0u);
        EXPECT_EQ(j.before_start, 0u) << "live events before the backlog";

        auto events = parse(j.frames);
        std::uint64_t after = 0;
        switch (j.kind) {
            case joiner::from::known:
                after = seq_of(*j.last_event_id);
                EXPECT_FALSE(j.start->resync);
                break;
            case joiner::from::zero:
                EXPECT_FALSE(j.start->resync);
                break;
            case joiner::from::none:
                after = seq_of(j.start->position);
                EXPECT_FALSE(j.start->resync);
                break;
            case joiner::from::garbage:
                EXPECT_TRUE(j.start->resync);
                ASSERT_FALSE(events.empty());
                EXPECT_EQ(events.front().type, "resync");
                events.erase(events.begin());
                break;
        }
        seqs got;
        for (const auto& e : events) got.push_back(seq_of(e.last_event_id));
        seqs expected;
        for (const auto& e : log) {
            if (e.seq <= after) continue;
            bool ours = std::any_of(e.channels.begin(), e.channels.end(), [&](const auto& c) {
                return std::find(j.channels.begin(), j.channels.end(), c) != j.channels.end();
            });
            if (ours) expected.push_back(e.seq);
        }
        EXPECT_TRUE(std::adjacent_find(got.begin(), got.end(), std::greater_equal<>()) == got.end())
            << "not strictly increasing";
        if (got != expected) {
            // Say where they part rather than print thousands of numbers.
            std::size_t i = 0;
            while (i < got.size() && i < expected.size() && got[i] == expected[i]) ++i;
            ADD_FAILURE() << "got " << got.size() << " events, expected " << expected.size()
                          << "; first difference at #" << i << ": got "
                          << (i < got.size() ? std::to_string(got[i]) : "<end>") << ", expected "
                          << (i < expected.size() ? std::to_string(expected[i]) : "<end>");
        }
    }
}

}  // namespace
