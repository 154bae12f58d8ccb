// The backend contract (docs/design/backend.md): one typed suite that every backend must pass,
// through the broker facade and the local fan-out hub, exactly as HTTP uses them. A backend is a
// type in `Backends` with a static factory; its completions may run inline or be posted to the
// executor passed in (from another thread, later), so every call here waits for its completion.

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "sse_parser.hpp"
#include "ssecast/backend/durable/durable_storage.hpp"
#include "ssecast/backend/memory/memory_storage.hpp"
#include "ssecast/backend/storage.hpp"
#include "ssecast/core/event_id.hpp"
#include "ssecast/fanout/broker.hpp"
#include "ssecast/fanout/hub.hpp"
#include "ssecast/fanout/subscriber.hpp"
#include "temp_dir.hpp"

namespace {

using namespace std::chrono_literals;
using ssecast::frame;
using ssecast::new_event;

constexpr std::uint64_t epoch = 1700000000123;

std::string id(std::uint64_t seq) {
    return ssecast::to_string(ssecast::event_id{epoch, seq});
}

// --- the backends -------------------------------------------------------------------------------

// A backend under test: `make` builds a fresh one per call, handing what it stores to `sink` (the
// hub). `dir` is an empty directory of its own, for a backend that stores on disk. A fresh store
// numbers its ids in `o.epoch`.
struct memory_backend {
    static constexpr const char* name = "memory";
    static std::unique_ptr<ssecast::storage> make(const ssecast::memory_storage_options& o,
                                                  ssecast::event_sink& sink,
                                                  const std::filesystem::path& /*dir*/) {
        return std::make_unique<ssecast::memory_storage>(o, sink);
    }
};

// --data-dir: the same rings, each publish stored in SQLite first (completions come from the
// database's writer thread), for each --fsync policy.
template <ssecast::fsync_policy Policy>
struct durable_backend {
    static constexpr const char* name = Policy == ssecast::fsync_policy::always  ? "durable_always"
                                        : Policy == ssecast::fsync_policy::batch ? "durable_batch"
                                                                                 : "durable_off";
    static std::unique_ptr<ssecast::storage> make(const ssecast::memory_storage_options& o,
                                                  ssecast::event_sink& sink,
                                                  const std::filesystem::path& dir) {
        ssecast::durable_options d{o, {}};
        d.journal.dir = dir;
        d.journal.fsync = Policy;
        d.journal.new_epoch = o.epoch;  // the tests expect ids in their epoch
        return std::make_unique<ssecast::durable_storage>(std::move(d), sink);
    }
};

using Backends = ::testing::Types<memory_backend, durable_backend<ssecast::fsync_policy::always>,
                                  durable_backend<ssecast::fsync_policy::batch>,
                                  durable_backend<ssecast::fsync_policy::off>>;

struct backend_names {
    template <typename T>
    static std::string GetName(int) {
        return T::name;
    }
};

// --- helpers ------------------------------------------------------------------------------------

// A test sink: records every frame it is handed, and how often it was told to flush.
struct recorder : ssecast::subscriber {
    std::vector<frame> got;
    std::vector<std::chrono::steady_clock::time_point> published;  // of each frame in `got`
    std::size_t flushes = 0;
    std::size_t unflushed = 0;  // frames handed over since the last flush
    void deliver(const frame& f, std::chrono::steady_clock::time_point when) override {
        got.push_back(f);
        published.push_back(when);
        ++unflushed;
    }
    void flush() override {
        ++flushes;
        unflushed = 0;
    }
};

ssecast::memory_storage_options options(std::size_t history = 100) {
    ssecast::memory_storage_options o;
    o.history = history;
    o.epoch = epoch;
    return o;
}

new_event event(std::vector<std::string> channels, std::string data, std::string type = {}) {
    return {std::move(channels), std::move(type), std::move(data), std::nullopt};
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

std::vector<std::string> ids(const std::vector<frame>& frames) {
    std::vector<std::string> out;
    for (const auto& e : parse(frames)) out.push_back(e.last_event_id);
    return out;
}

using strings = std::vector<std::string>;

// Checks that `frames` opens with a resync notice for `given` and `oldest`, and returns the notice
// as parsed.
sse_test::event expect_resync_notice(const std::vector<frame>& frames, const std::string& given,
                                     const std::optional<std::string>& oldest) {
    auto events = parse(frames);
    EXPECT_FALSE(events.empty());
    if (events.empty()) return {};
    const auto& notice = events.front();
    EXPECT_EQ(notice.type, "resync");
    auto body = nlohmann::json::parse(notice.data, nullptr, false);
    EXPECT_TRUE(body.is_object()) << notice.data;
    if (!body.is_object()) return notice;
    EXPECT_EQ(body.value("lastEventId", std::string("<missing>")), given) << notice.data;
    EXPECT_TRUE(body.contains("oldestId")) << notice.data;
    if (!body.contains("oldestId")) return notice;
    if (oldest) {
        EXPECT_EQ(body["oldestId"], *oldest) << notice.data;
    } else {
        EXPECT_TRUE(body["oldestId"].is_null()) << notice.data;
    }
    EXPECT_EQ(notice.data.find('\n'), std::string::npos) << "one data line";
    return notice;
}

// --- the fixture --------------------------------------------------------------------------------

// A backend, the hub it feeds and the broker over both, with synchronous helpers: each call waits
// (running `io`, up to a deadline) for its completion, wherever and whenever the backend runs it.
template <typename Backend>
class BackendContract : public ::testing::Test {
  protected:
    static constexpr auto completion_deadline = 10s;
    // The held-events limit of the subscriptions made here: never reached by these tests.
    static constexpr std::size_t held_limit = std::size_t{1} << 30;

    ~BackendContract() override { close(); }

    // A fresh backend with these options (the previous one, if any, is closed first). `workers`:
    // the hub's worker executors (none: delivered inline, on the thread that stored the event).
    void open(const ssecast::memory_storage_options& o,
              std::vector<boost::asio::any_io_executor> workers = {}) {
        close();
        fanout_ = std::make_unique<ssecast::hub>(std::move(workers));
        auto where = dir_.root() / ("store-" + std::to_string(++opened_));
        std::filesystem::create_directories(where);
        store_ = Backend::make(o, *fanout_, where);
        broker_ = std::make_unique<ssecast::broker>(*store_, *fanout_);
    }
    void close() {
        broker_.reset();
        if (store_) store_->stop();
        store_.reset();
        fanout_.reset();
    }
    // The broker (a backend with the default options when none was opened).
    ssecast::broker& b() {
        if (!broker_) open(options());
        return *broker_;
    }

    // Runs `io` until `done()` holds; false on timeout.
    bool run_until(const std::function<bool()>& done) {
        auto guard = boost::asio::make_work_guard(io);
        auto deadline = std::chrono::steady_clock::now() + completion_deadline;
        while (!done()) {
            auto now = std::chrono::steady_clock::now();
            if (now >= deadline) return false;
            io.restart();
            io.run_one_for(std::min<std::chrono::steady_clock::duration>(deadline - now, 100ms));
        }
        return true;
    }

    // Publishes the batch and waits for its completion: the receipts, or nothing when the backend
    // refused it for the channel limit (any other error fails the test).
    std::optional<std::vector<ssecast::publish_receipt>> publish(std::vector<new_event> batch) {
        struct state {
            std::optional<ssecast::publish_result> result;
            std::thread::id thread;
        };
        auto s = std::make_shared<state>();
        b().publish(std::move(batch), io.get_executor(), [s](ssecast::publish_result r) {
            s->thread = std::this_thread::get_id();
            s->result = std::move(r);
        });
        if (!run_until([&] { return s->result.has_value(); })) {
            ADD_FAILURE() << "the publish did not complete within " << completion_deadline.count()
                          << " s";
            return std::nullopt;
        }
        EXPECT_EQ(s->thread, std::this_thread::get_id()) << "completion not run on `ex`";
        auto& result = *s->result;
        if (result.error == ssecast::store_errc::channel_limit) {
            EXPECT_TRUE(result.receipts.empty());
            return std::nullopt;
        }
        if (result.error) {
            ADD_FAILURE() << "publish failed: " << result.error.message() << " " << result.detail;
            return std::nullopt;
        }
        return std::move(result.receipts);
    }

    // Publishes one event and returns its receipt (fails the test if it was refused).
    ssecast::publish_receipt publish(std::vector<std::string> channels, std::string data) {
        auto receipts = publish({event(std::move(channels), std::move(data))});
        EXPECT_TRUE(receipts.has_value());
        EXPECT_EQ(receipts ? receipts->size() : 0u, 1u);
        return receipts && !receipts->empty() ? receipts->front() : ssecast::publish_receipt{};
    }

    // Subscribes and waits for `started`: the backlog is in the answer, and `sink` is live.
    ssecast::subscription_start subscribe(const std::vector<std::string>& channels,
                                          std::optional<std::string_view> last_event_id,
                                          ssecast::subscriber& sink, std::size_t worker = 0) {
        struct state {
            std::optional<ssecast::subscription_start> start;
            std::thread::id thread;
            bool lost = false;
        };
        auto s = std::make_shared<state>();
        b().subscribe(
            channels, last_event_id, sink, worker, held_limit, io.get_executor(),
            [s](ssecast::subscription_start start) {
                s->thread = std::this_thread::get_id();
                s->start = std::move(start);
            },
            [s] { s->lost = true; });
        if (!run_until([&] { return s->start.has_value(); })) {
            ADD_FAILURE() << "the subscription did not start within " << completion_deadline.count()
                          << " s";
            return {};
        }
        EXPECT_EQ(s->thread, std::this_thread::get_id()) << "`started` not run on `ex`";
        EXPECT_FALSE(s->lost) << "the held events overflowed " << held_limit << " bytes";
        return std::move(*s->start);
    }

    bool accepted(const std::vector<std::string>& channels,
                  std::optional<std::string_view> last_event_id, ssecast::subscriber& sink,
                  std::size_t worker = 0) {
        return !subscribe(channels, last_event_id, sink, worker).error;
    }

    // Destroys the backend and this test's files: for a child process that ends with exit().
    void discard() {
        close();
        std::error_code ignored;
        std::filesystem::remove_all(dir_.root(), ignored);
    }

    test::temp_dir dir_;
    boost::asio::io_context io;  // where completions run

  private:
    std::unique_ptr<ssecast::hub> fanout_;
    std::unique_ptr<ssecast::storage> store_;
    std::unique_ptr<ssecast::broker> broker_;
    int opened_ = 0;
};

TYPED_TEST_SUITE(BackendContract, Backends, backend_names);

// --- publishing and live delivery ---------------------------------------------------------------

TYPED_TEST(BackendContract, PublishAssignsStrictlyIncreasingIds) {
    EXPECT_EQ(this->publish({"a"}, "1").id, id(1));
    EXPECT_EQ(this->publish({"b"}, "2").id, id(2));
    EXPECT_EQ(this->publish({"a", "b"}, "3").id, id(3));

    auto batch = this->publish({event({"a"}, "4"), event({"c"}, "5"), event({"a", "c"}, "6")});
    ASSERT_TRUE(batch.has_value());
    ASSERT_EQ(batch->size(), 3u);
    EXPECT_EQ((*batch)[0].id, id(4));
    EXPECT_EQ((*batch)[1].id, id(5));
    EXPECT_EQ((*batch)[2].id, id(6));
    for (const auto& r : *batch) EXPECT_EQ(r.delivered, 0u);

    std::uint64_t previous = 0;
    for (const auto& r : *batch) {
        auto parsed = ssecast::parse_event_id(r.id);
        ASSERT_TRUE(parsed.has_value());
        EXPECT_EQ(parsed->epoch, epoch);
        EXPECT_GT(parsed->seq, previous);
        previous = parsed->seq;
    }
    EXPECT_EQ(this->b().stats().published, 6u);
}

TYPED_TEST(BackendContract, PublishedFrameCarriesIdTypeDataAndRetry) {
    recorder r;
    ASSERT_TRUE(this->accepted({"a"}, std::nullopt, r));
    auto receipts = this->publish({{{"a"}, "greeting", "hello\nworld", 1500}});
    ASSERT_TRUE(receipts.has_value());
    ASSERT_EQ(r.got.size(), 1u);
    EXPECT_EQ(*r.got[0],
              "id: " + id(1) + "\nevent: greeting\nretry: 1500\ndata: hello\ndata: world\n\n");
}

TYPED_TEST(BackendContract, LiveDeliveryReachesOnlyThatChannelsSubscribers) {
    recorder on_a, on_b, on_c;
    ASSERT_TRUE(this->accepted({"a"}, std::nullopt, on_a));
    ASSERT_TRUE(this->accepted({"b"}, std::nullopt, on_b));
    ASSERT_TRUE(this->accepted({"c"}, std::nullopt, on_c));

    EXPECT_EQ(this->publish({"a"}, "for a").delivered, 1u);
    EXPECT_EQ(this->publish({"b"}, "for b").delivered, 1u);
    EXPECT_EQ(this->publish({"nobody"}, "for nobody").delivered, 0u);

    EXPECT_EQ(datas(on_a.got), strings({"for a"}));
    EXPECT_EQ(ids(on_a.got), strings({id(1)}));
    EXPECT_EQ(datas(on_b.got), strings({"for b"}));
    EXPECT_EQ(ids(on_b.got), strings({id(2)}));
    EXPECT_TRUE(on_c.got.empty());
    EXPECT_EQ(this->b().stats().deliveries, 2u);
}

TYPED_TEST(BackendContract, EventOnTwoChannelsReachesASubscriberOfBothOnce) {
    recorder both, only_a, only_b;
    ASSERT_TRUE(this->accepted({"a", "b"}, std::nullopt, both));
    ASSERT_TRUE(this->accepted({"a"}, std::nullopt, only_a));
    ASSERT_TRUE(this->accepted({"b"}, std::nullopt, only_b));

    auto r = this->publish({"a", "b"}, "shared");
    EXPECT_EQ(r.delivered, 3u);
    EXPECT_EQ(datas(both.got), strings({"shared"}));
    EXPECT_EQ(datas(only_a.got), strings({"shared"}));
    EXPECT_EQ(datas(only_b.got), strings({"shared"}));
    // One frame, built once and shared.
    ASSERT_FALSE(both.got.empty());
    ASSERT_FALSE(only_a.got.empty());
    EXPECT_EQ(both.got[0].get(), only_a.got[0].get());

    this->publish({"b", "a"}, "reversed");
    this->publish({"a"}, "just a");
    EXPECT_EQ(datas(both.got), strings({"shared", "reversed", "just a"}));
    EXPECT_EQ(datas(only_b.got), strings({"shared", "reversed"}));
}

TYPED_TEST(BackendContract, DeliveredCountsTheSubscriptionsOfTheEventsChannels) {
    recorder one, two, elsewhere;
    ASSERT_TRUE(this->accepted({"a"}, std::nullopt, one));
    ASSERT_TRUE(this->accepted({"a"}, std::nullopt, two));
    ASSERT_TRUE(this->accepted({"b"}, std::nullopt, elsewhere));
    EXPECT_EQ(this->publish({"a"}, "x").delivered, 2u);
    EXPECT_EQ(this->publish({"c"}, "y").delivered, 0u);
    EXPECT_EQ(this->b().stats().deliveries, 2u);
}

TYPED_TEST(BackendContract, UnsubscribeStopsDelivery) {
    recorder stays, leaves;
    auto s1 = this->subscribe({"a", "b"}, std::nullopt, leaves);
    auto s2 = this->subscribe({"a"}, std::nullopt, stays);
    ASSERT_FALSE(s1.error);
    ASSERT_FALSE(s2.error);
    EXPECT_NE(s1.subscription, s2.subscription);
    EXPECT_EQ(this->b().stats().subscriptions, 2u);

    this->publish({"a"}, "before");
    this->b().unsubscribe(s1.subscription);
    EXPECT_EQ(this->b().stats().subscriptions, 1u);
    EXPECT_EQ(this->publish({"a"}, "after a").delivered, 1u);
    EXPECT_EQ(this->publish({"b"}, "after b").delivered, 0u);

    EXPECT_EQ(datas(leaves.got), strings({"before"}));
    EXPECT_EQ(datas(stays.got), strings({"before", "after a"}));

    this->b().unsubscribe(s1.subscription);  // twice: harmless
    this->b().unsubscribe(987654);           // unknown: harmless
    this->b().unsubscribe(s2.subscription);
    EXPECT_EQ(this->publish({"a"}, "to nobody").delivered, 0u);
    EXPECT_EQ(stays.got.size(), 2u);
    EXPECT_EQ(this->b().stats().subscriptions, 0u);
}

TYPED_TEST(BackendContract, UnsubscribeInAnyOrderKeepsTheOthersSubscribed) {
    std::vector<recorder> sinks(6);
    std::vector<std::uint64_t> handles;
    for (std::size_t i = 0; i < sinks.size(); ++i) {
        std::vector<std::string> chans = {"x"};
        if (i % 2 == 0) chans.push_back("y");
        handles.push_back(this->subscribe(chans, std::nullopt, sinks[i]).subscription);
    }
    // Remove from the front, the middle and the back of the subscriber lists.
    for (std::size_t gone : {0u, 3u, 5u}) this->b().unsubscribe(handles[gone]);
    EXPECT_EQ(this->publish({"x"}, "x1").delivered, 3u);
    EXPECT_EQ(this->publish({"y"}, "y1").delivered, 2u);  // sinks 2 and 4 are still on y
    for (std::size_t i = 0; i < sinks.size(); ++i) {
        bool present = i == 1 || i == 2 || i == 4;
        strings expected;
        if (present) expected.push_back("x1");
        if (i == 2 || i == 4) expected.push_back("y1");
        EXPECT_EQ(datas(sinks[i].got), expected) << "sink " << i;
    }
    for (std::size_t i : {1u, 2u, 4u}) this->b().unsubscribe(handles[i]);
    EXPECT_EQ(this->publish({"x", "y"}, "none").delivered, 0u);
}

TYPED_TEST(BackendContract, LiveDeliveryCarriesThePublishTime) {
    recorder r;
    ASSERT_TRUE(this->accepted({"a"}, std::nullopt, r));
    auto before = std::chrono::steady_clock::now();
    this->publish({"a"}, "1");
    auto after = std::chrono::steady_clock::now();
    ASSERT_EQ(r.published.size(), 1u);
    EXPECT_GE(r.published[0], before);
    EXPECT_LE(r.published[0], after);
}

// --- resuming -----------------------------------------------------------------------------------

TYPED_TEST(BackendContract, SubscribeWithoutLastIdHasNoBacklog) {
    this->publish({"a"}, "1");
    this->publish({"a"}, "2");
    recorder r;
    auto start = this->subscribe({"a"}, std::nullopt, r);
    EXPECT_FALSE(start.error);
    EXPECT_TRUE(start.backlog.empty());
    EXPECT_FALSE(start.resync);
    EXPECT_EQ(start.replayed, 0u);
    EXPECT_TRUE(r.got.empty());
    // Where a client that has seen nothing resumes: after the newest event stored.
    EXPECT_EQ(start.position, id(2));
}

TYPED_TEST(BackendContract, SubscribeWithNewestIdHasNoBacklog) {
    this->publish({"a"}, "1");
    auto last = this->publish({"a"}, "2").id;
    recorder r;
    auto start = this->subscribe({"a"}, last, r);
    EXPECT_FALSE(start.error);
    EXPECT_TRUE(start.backlog.empty());
    EXPECT_FALSE(start.resync);
    EXPECT_EQ(start.replayed, 0u);
}

TYPED_TEST(BackendContract, SubscribeWithOlderIdReplaysExactlyTheMissedEvents) {
    this->publish({"a"}, "1");
    auto seen = this->publish({"a"}, "2").id;
    this->publish({"other"}, "not for a");
    this->publish({"a"}, "3");
    this->publish({"a"}, "4");

    recorder r;
    auto start = this->subscribe({"a"}, seen, r);
    EXPECT_FALSE(start.error);
    EXPECT_FALSE(start.resync);
    EXPECT_EQ(start.replayed, 2u);
    EXPECT_EQ(datas(start.backlog), strings({"3", "4"}));
    EXPECT_EQ(ids(start.backlog), strings({id(4), id(5)}));
    EXPECT_TRUE(r.got.empty()) << "the backlog is returned, not delivered";
    EXPECT_EQ(this->b().stats().replayed, 2u);

    // Then live, with nothing twice and nothing lost.
    this->publish({"a"}, "5");
    EXPECT_EQ(datas(r.got), strings({"5"}));
}

TYPED_TEST(BackendContract, ResumeFromIdOfAnotherChannelsEvent) {
    this->publish({"a"}, "a1");
    auto other = this->publish({"b"}, "b1").id;
    this->publish({"a"}, "a2");
    recorder r;
    auto start = this->subscribe({"a"}, other, r);
    EXPECT_FALSE(start.resync);
    EXPECT_EQ(datas(start.backlog), strings({"a2"}));
}

TYPED_TEST(BackendContract, MultiChannelBacklogIsMergedInPublishOrderWithoutDuplicates) {
    auto seen = this->publish({"a"}, "old").id;
    this->publish({"b"}, "b1");
    this->publish({"a"}, "a1");
    this->publish({"a", "b"}, "ab");
    this->publish({"c"}, "c1");
    this->publish({"b"}, "b2");
    this->publish({"b", "a"}, "ba");
    this->publish({"a"}, "a2");

    recorder r;
    auto start = this->subscribe({"b", "a"}, seen, r);
    EXPECT_FALSE(start.resync);
    EXPECT_EQ(datas(start.backlog), strings({"b1", "a1", "ab", "b2", "ba", "a2"}));
    EXPECT_EQ(ids(start.backlog), strings({id(2), id(3), id(4), id(6), id(7), id(8)}));
    EXPECT_EQ(start.replayed, 6u);
}

TYPED_TEST(BackendContract, SubscribeIsAtomicWithPublish) {
    auto seen = this->publish({"a"}, "1").id;
    this->publish({"a", "b"}, "2");
    recorder r;
    auto start = this->subscribe({"a", "b"}, seen, r);
    this->publish({"a", "b"}, "3");
    this->publish({"b"}, "4");
    auto all = start.backlog;
    all.insert(all.end(), r.got.begin(), r.got.end());
    EXPECT_EQ(datas(all), strings({"2", "3", "4"}));
}

// --- publishers on several threads --------------------------------------------------------------

// Promise 4 (docs/design/backend.md): however many threads publish at once, the sink gets the
// events in seq order, never two batches at once, and the history keeps that order. A subscriber
// that got event N drops any later hand-over of an event below N (it would be a duplicate), so an
// event handed over out of order is an event lost.
TYPED_TEST(BackendContract, ConcurrentPublishersAreHandedOverInSeqOrder) {
    constexpr int threads = 4;
    constexpr int per_thread = 300;
    constexpr std::uint64_t total = threads * per_thread;
    this->open(options(total));
    recorder live;
    ASSERT_TRUE(this->accepted({"a", "b"}, std::nullopt, live));

    std::atomic<int> failures{0};
    auto deadline = std::chrono::steady_clock::now() + 60s;
    std::vector<std::thread> publishers;
    for (int t = 0; t < threads; ++t) {
        publishers.emplace_back([&, t] {
            boost::asio::io_context own;  // this publisher's completions
            auto guard = boost::asio::make_work_guard(own);
            for (int i = 0; i < per_thread; ++i) {
                std::vector<std::string> chans;
                if (i % 3 != 2) chans.push_back("a");
                if (i % 3 != 1) chans.push_back("b");
                bool done = false;
                this->b().publish({event(chans, std::to_string(t) + "-" + std::to_string(i))},
                                  own.get_executor(), [&](ssecast::publish_result r) {
                                      done = true;
                                      if (r.error) ++failures;
                                  });
                while (!done && std::chrono::steady_clock::now() < deadline) {
                    own.restart();
                    own.run_one_for(100ms);
                }
                if (!done) {
                    ++failures;
                    return;
                }
            }
        });
    }
    for (auto& p : publishers) p.join();
    ASSERT_EQ(failures.load(), 0);

    std::vector<std::string> expected;
    for (std::uint64_t seq = 1; seq <= total; ++seq) expected.push_back(id(seq));
    auto got = ids(live.got);
    EXPECT_EQ(got.size(), expected.size()) << "events lost in the hand-over";
    EXPECT_TRUE(got == expected) << "not every event, in seq order";
    EXPECT_EQ(this->b().stats().deliveries, total);

    recorder replay;
    auto start = this->subscribe({"a", "b"}, id(0), replay);
    EXPECT_FALSE(start.resync);
    EXPECT_TRUE(ids(start.backlog) == expected) << "the history is not every event in seq order";
    EXPECT_EQ(start.position, id(total));
}

// --- gaps and resync ----------------------------------------------------------------------------

template <typename Backend>
class BackendContractEviction : public BackendContract<Backend> {
  protected:
    // history 3: after five events on "a", 3..5 are kept and 1..2 were evicted.
    recorder r;

    void SetUp() override { fill(); }
    void fill() {
        this->open(options(3));
        for (int i = 1; i <= 5; ++i) this->publish({"a"}, "e" + std::to_string(i));
    }
};

TYPED_TEST_SUITE(BackendContractEviction, Backends, backend_names);

TYPED_TEST(BackendContractEviction, ResumeFromTheHighestEvictedIdIsNoGap) {
    auto start = this->subscribe({"a"}, id(2), this->r);
    EXPECT_FALSE(start.resync);
    EXPECT_EQ(datas(start.backlog), strings({"e3", "e4", "e5"}));
    EXPECT_EQ(start.replayed, 3u);
    EXPECT_EQ(this->b().stats().resyncs, 0u);
}

TYPED_TEST(BackendContractEviction, ResumeFromBeforeTheEvictedIdsResyncsFirst) {
    auto start = this->subscribe({"a"}, id(1), this->r);
    EXPECT_FALSE(start.error);
    EXPECT_TRUE(start.resync);
    EXPECT_EQ(start.replayed, 3u);
    ASSERT_EQ(start.backlog.size(), 4u);
    expect_resync_notice(start.backlog, id(1), id(3));
    auto events = parse(start.backlog);
    ASSERT_EQ(events.size(), 4u);
    EXPECT_EQ(events[1].data, "e3");
    EXPECT_EQ(events[2].data, "e4");
    EXPECT_EQ(events[3].data, "e5");
    EXPECT_EQ(events[3].last_event_id, id(5));
    EXPECT_EQ(this->b().stats().resyncs, 1u);

    auto from_zero = this->subscribe({"a"}, id(0), this->r);
    EXPECT_TRUE(from_zero.resync);
    expect_resync_notice(from_zero.backlog, id(0), id(3));
}

// Was a value-parameterized suite (GoogleTest has no typed and value-parameterized suites at
// once): each id is tried on a fresh backend of its own.
TYPED_TEST(BackendContractEviction, UnknownIdsResyncThenEverythingBuffered) {
    const std::vector<std::string> unknown = {
        std::string("garbage"),
        std::string(""),
        std::string("1-2-3"),
        std::to_string(epoch + 1) + "-3",  // another run
        std::to_string(epoch - 1) + "-5",
        std::to_string(epoch) + "-6",  // future
        std::to_string(epoch) + "-999999",
        std::string("\xC3\xA9t\xC3\xA9"),
    };
    for (std::size_t k = 0; k < unknown.size(); ++k) {
        const std::string& given = unknown[k];
        SCOPED_TRACE("unknown id #" + std::to_string(k) + ": \"" + given + "\"");
        if (k > 0) this->fill();
        recorder sink;
        auto start = this->subscribe({"a"}, given, sink);
        EXPECT_FALSE(start.error);
        EXPECT_TRUE(start.resync);
        EXPECT_EQ(start.replayed, 3u);
        expect_resync_notice(start.backlog, given, id(3));
        auto all = datas(start.backlog);
        ASSERT_EQ(all.size(), 4u);
        EXPECT_EQ(strings(all.begin() + 1, all.end()), strings({"e3", "e4", "e5"}));
    }
}

TYPED_TEST(BackendContract, UnknownIdResyncsEvenWithoutEvictions) {
    this->publish({"a"}, "1");
    this->publish({"a"}, "2");
    recorder r;
    auto start = this->subscribe({"a"}, std::to_string(epoch + 1) + "-1", r);
    EXPECT_TRUE(start.resync);
    expect_resync_notice(start.backlog, std::to_string(epoch + 1) + "-1", id(1));
    auto all = datas(start.backlog);
    ASSERT_FALSE(all.empty());
    EXPECT_EQ(all, strings({all[0], "1", "2"}));
}

TYPED_TEST(BackendContract, UnknownIdOnAnEmptyChannelResyncsWithNullOldest) {
    recorder r;
    auto start = this->subscribe({"a"}, "nonsense", r);
    EXPECT_TRUE(start.resync);
    EXPECT_EQ(start.replayed, 0u);
    ASSERT_EQ(start.backlog.size(), 1u);
    expect_resync_notice(start.backlog, "nonsense", std::nullopt);
}

TYPED_TEST(BackendContract, LongGarbageIdIsEchoedShortened) {
    recorder r;
    std::string huge(5000, '7');
    auto start = this->subscribe({"a"}, huge, r);
    ASSERT_TRUE(start.resync);
    auto events = parse(start.backlog);
    ASSERT_EQ(events.size(), 1u);
    auto body = nlohmann::json::parse(events[0].data, nullptr, false);
    ASSERT_TRUE(body.is_object());
    auto echoed = body["lastEventId"].template get<std::string>();
    EXPECT_LT(echoed.size(), huge.size());
    EXPECT_TRUE(huge.starts_with(echoed));
}

TYPED_TEST(BackendContractEviction, ResumingFromTheResyncNoticeIdDoesNotResyncAgain) {
    auto first = this->subscribe({"a"}, "garbage", this->r);
    ASSERT_TRUE(first.resync);
    auto notice = parse(first.backlog).front();
    ASSERT_EQ(notice.type, "resync");
    ASSERT_FALSE(notice.last_event_id.empty()) << "the notice needs an id to resume from";
    ASSERT_TRUE(ssecast::parse_event_id(notice.last_event_id).has_value());

    recorder again;
    auto second = this->subscribe({"a"}, notice.last_event_id, again);
    EXPECT_FALSE(second.resync);
    EXPECT_EQ(datas(second.backlog), strings({"e3", "e4", "e5"}));
}

TYPED_TEST(BackendContract, ResyncIsDecidedPerChannelOfTheSubscription) {
    this->open(options(2));
    auto seen = this->publish({"quiet"}, "q1").id;                                 // 1
    for (int i = 0; i < 4; ++i) this->publish({"busy"}, "b" + std::to_string(i));  // 2..5
    recorder r;
    // "quiet" lost nothing after 1, but "busy" evicted 2 and 3.
    EXPECT_FALSE(this->subscribe({"quiet"}, seen, r).resync);
    auto start = this->subscribe({"quiet", "busy"}, seen, r);
    EXPECT_TRUE(start.resync);
    expect_resync_notice(start.backlog, seen, id(1));  // oldest retained across both channels
    auto all = datas(start.backlog);
    ASSERT_EQ(all.size(), 3u);
    EXPECT_EQ(all[1], "b2");
    EXPECT_EQ(all[2], "b3");
}

// --- channel limit ------------------------------------------------------------------------------

TYPED_TEST(BackendContract, ChannelLimitRefusesPublishWithoutConsumingIds) {
    auto o = options();
    o.max_channels = 2;
    this->open(o);
    recorder r;
    ASSERT_TRUE(this->accepted({"a"}, std::nullopt, r));
    EXPECT_EQ(this->publish({"b"}, "b1").id, id(1));

    EXPECT_FALSE(this->publish({event({"c"}, "refused")}).has_value());
    // All or nothing: the event for "a" in the same batch is not published either.
    EXPECT_FALSE(
        this->publish({event({"a"}, "a-in-refused-batch"), event({"c"}, "c")}).has_value());
    EXPECT_FALSE(this->publish({event({"a", "c"}, "on a and c")}).has_value());
    EXPECT_TRUE(r.got.empty());

    auto next = this->publish({"a"}, "a1");
    EXPECT_EQ(next.id, id(2)) << "a refused publish consumed ids";
    EXPECT_EQ(datas(r.got), strings({"a1"}));
    EXPECT_EQ(this->b().stats().published, 2u);
    EXPECT_EQ(this->b().stats().channel_limit_hits, 3u);

    recorder late;
    auto start = this->subscribe({"a", "c"}, std::nullopt, late);
    EXPECT_EQ(start.error, std::error_code(ssecast::store_errc::channel_limit));
    EXPECT_TRUE(this->accepted({"b", "a"}, std::nullopt, late));
    EXPECT_EQ(this->b().stats().channel_limit_hits, 4u);

    recorder history;
    auto replay = this->subscribe({"a"}, id(0), history);
    EXPECT_EQ(datas(replay.backlog), strings({"a1"}));
}

TYPED_TEST(BackendContract, RefusedRequestsDoNotUseUpChannelSlots) {
    auto o = options();
    o.max_channels = 3;
    this->open(o);
    this->publish({"a"}, "a1");
    // Two new channels fit, the third does not: the request is refused...
    EXPECT_FALSE(this->publish({event({"x", "y", "z"}, "refused")}).has_value());
    recorder r;
    EXPECT_FALSE(this->accepted({"p", "q", "s"}, std::nullopt, r));
    // ...and must leave the registry as it was, so that these still fit.
    EXPECT_EQ(this->b().stats().channels, 1u);
    EXPECT_TRUE(this->accepted({"m", "n"}, std::nullopt, r));
}

// --- housekeeping -------------------------------------------------------------------------------

TYPED_TEST(BackendContract, MaxAgeEvictionMakesALaterResumeResync) {
    auto o = options();
    o.max_age = 1ms;
    this->open(o);
    this->publish({"a"}, "1");
    this->publish({"a"}, "2");
    this->publish({"a"}, "3");
    auto now = std::chrono::steady_clock::now();  // after every publish above

    this->b().maintain(now + 1s);
    EXPECT_EQ(this->b().stats().evicted, 3u);
    auto info = this->b().channels();
    ASSERT_EQ(info.size(), 1u);
    EXPECT_EQ(info[0].buffered, 0u);

    recorder r;
    auto start = this->subscribe({"a"}, id(1), r);
    EXPECT_TRUE(start.resync);
    EXPECT_EQ(start.replayed, 0u);
    ASSERT_EQ(start.backlog.size(), 1u);
    auto notice = expect_resync_notice(start.backlog, id(1), std::nullopt);
    EXPECT_EQ(notice.last_event_id, id(3));

    recorder again;
    EXPECT_FALSE(this->subscribe({"a"}, id(3), again).resync);
    EXPECT_FALSE(this->subscribe({"a"}, notice.last_event_id, again).resync);
}

TYPED_TEST(BackendContract, MaxAgeKeepsRecentEvents) {
    auto o = options();
    o.max_age = std::chrono::hours(1);
    this->open(o);
    this->publish({"a"}, "1");
    this->publish({"a"}, "2");
    this->b().maintain(std::chrono::steady_clock::now());
    EXPECT_EQ(this->b().stats().evicted, 0u);
    recorder r;
    auto start = this->subscribe({"a"}, id(0), r);
    EXPECT_FALSE(start.resync);
    EXPECT_EQ(datas(start.backlog), strings({"1", "2"}));
}

TYPED_TEST(BackendContract, WithoutMaxAgeMaintainKeepsEvents) {
    this->publish({"a"}, "1");
    this->b().maintain(std::chrono::steady_clock::now() + std::chrono::hours(24 * 365));
    EXPECT_EQ(this->b().stats().evicted, 0u);
    recorder r;
    EXPECT_EQ(datas(this->subscribe({"a"}, id(0), r).backlog), strings({"1"}));
}

TYPED_TEST(BackendContract, EmptyChannelIsDroppedAfterGrace) {
    auto o = options();
    o.channel_grace = 10s;
    this->open(o);
    recorder r;
    auto sub = this->subscribe({"idle", "busy"}, std::nullopt, r);
    this->publish({"busy"}, "keeps busy alive");
    recorder watcher;
    auto watching = this->subscribe({"watched"}, std::nullopt, watcher);
    this->b().unsubscribe(sub.subscription);
    EXPECT_EQ(this->b().stats().channels, 3u);

    auto t = std::chrono::steady_clock::now();
    this->b().maintain(t);  // "idle" is marked empty
    EXPECT_EQ(this->b().stats().channels, 3u);
    this->b().maintain(t + 9s);
    EXPECT_EQ(this->b().stats().channels, 3u) << "dropped before the grace period ended";
    this->b().maintain(t + 10s);
    EXPECT_EQ(this->b().stats().channels, 2u);
    EXPECT_EQ(this->b().stats().channels_dropped, 1u);
    auto info = this->b().channels();
    ASSERT_EQ(info.size(), 2u);
    EXPECT_EQ(info[0].name, "busy");     // has an event
    EXPECT_EQ(info[1].name, "watched");  // has a subscriber

    this->b().maintain(t + 1h);
    EXPECT_EQ(this->b().stats().channels, 2u);
    this->b().unsubscribe(watching.subscription);
    this->b().maintain(t + 2h);
    this->b().maintain(t + 3h);
    ASSERT_EQ(this->b().channels().size(), 1u);
    EXPECT_EQ(this->b().channels()[0].name, "busy");
}

TYPED_TEST(BackendContract, ActivityRestartsTheGracePeriod) {
    auto o = options();
    o.channel_grace = 10s;
    this->open(o);
    recorder r;
    this->b().unsubscribe(this->subscribe({"c"}, std::nullopt, r).subscription);
    auto t = std::chrono::steady_clock::now();
    this->b().maintain(t);  // marked empty at t
    // A subscriber comes and goes before the next sweep: the channel was in use.
    this->b().unsubscribe(this->subscribe({"c"}, std::nullopt, r).subscription);
    this->b().maintain(t + 10s);  // marked again, not dropped
    EXPECT_EQ(this->b().stats().channels, 1u);
    this->b().maintain(t + 20s);
    EXPECT_EQ(this->b().stats().channels, 0u);
    EXPECT_TRUE(this->b().channels().empty());
}

TYPED_TEST(BackendContract, ZeroGraceDropsOnTheSecondSweep) {
    auto o = options();
    o.channel_grace = 0ms;
    this->open(o);
    recorder r;
    this->b().unsubscribe(this->subscribe({"c"}, std::nullopt, r).subscription);
    auto t = std::chrono::steady_clock::now();
    this->b().maintain(t);
    EXPECT_EQ(this->b().stats().channels, 1u);
    this->b().maintain(t);
    EXPECT_EQ(this->b().stats().channels, 0u);
}

TYPED_TEST(BackendContract, RecreatedChannelRemembersEvictionsOfTheDroppedOne) {
    auto o = options(2);
    o.max_age = 1ms;
    o.channel_grace = 1s;
    this->open(o);
    for (int i = 1; i <= 4; ++i) this->publish({"a"}, std::to_string(i));  // 1..2 evicted by count
    auto t = std::chrono::steady_clock::now() + 1min;
    this->b().maintain(t);  // 3..4 evicted by age; "a" now empty
    this->b().maintain(t + 1s);
    ASSERT_EQ(this->b().stats().channels, 0u) << "precondition: the channel was dropped";
    EXPECT_EQ(this->b().stats().channels_dropped, 1u);

    recorder r;
    auto start = this->subscribe({"a"}, id(3), r);  // recreates "a"
    EXPECT_FALSE(start.error);
    EXPECT_TRUE(start.resync) << "event 4 was lost with the dropped channel";
    ASSERT_EQ(start.backlog.size(), 1u);
    expect_resync_notice(start.backlog, id(3), std::nullopt);

    recorder up_to_date;
    EXPECT_FALSE(this->subscribe({"a"}, id(4), up_to_date).resync);
}

TYPED_TEST(BackendContract, RecreatedChannelWithZeroHistoryStillResyncs) {
    auto o = options(0);
    o.channel_grace = 0ms;
    this->open(o);
    this->publish({"a"}, "never kept");
    auto t = std::chrono::steady_clock::now();
    this->b().maintain(t);
    this->b().maintain(t);
    ASSERT_EQ(this->b().stats().channels, 0u);
    recorder r;
    EXPECT_TRUE(this->subscribe({"a"}, id(0), r).resync);
    EXPECT_FALSE(this->subscribe({"a"}, id(1), r).resync);
}

TYPED_TEST(BackendContract, ZeroHistoryResyncsAnyEarlierResume) {
    this->open(options(0));
    auto first = this->publish({"a"}, "1").id;
    this->publish({"a"}, "2");
    recorder r;
    auto start = this->subscribe({"a"}, first, r);
    EXPECT_TRUE(start.resync);
    EXPECT_EQ(start.replayed, 0u);
    EXPECT_FALSE(this->subscribe({"a"}, id(2), r).resync);
}

// --- introspection ------------------------------------------------------------------------------

TYPED_TEST(BackendContract, ChannelsReportsSubscribersBufferedAndLastId) {
    this->open(options(2));
    recorder r1, r2;
    this->subscribe({"beta", "alpha"}, std::nullopt, r1);
    this->subscribe({"beta"}, std::nullopt, r2);
    this->publish({"gamma"}, "g1");
    this->publish({"beta"}, "b1");
    this->publish({"beta"}, "b2");
    this->publish({"beta", "gamma"}, "b3");

    auto info = this->b().channels();
    ASSERT_EQ(info.size(), 3u);
    EXPECT_EQ(info[0].name, "alpha");
    EXPECT_EQ(info[0].subscribers, 1u);
    EXPECT_EQ(info[0].buffered, 0u);
    EXPECT_FALSE(info[0].last_id.has_value());

    EXPECT_EQ(info[1].name, "beta");
    EXPECT_EQ(info[1].subscribers, 2u);
    EXPECT_EQ(info[1].buffered, 2u);  // capped by history
    EXPECT_EQ(info[1].last_id, id(4));

    EXPECT_EQ(info[2].name, "gamma");
    EXPECT_EQ(info[2].subscribers, 0u);
    EXPECT_EQ(info[2].buffered, 2u);
    EXPECT_EQ(info[2].last_id, id(4));

    auto stats = this->b().stats();
    EXPECT_EQ(stats.channels, 3u);
    EXPECT_EQ(stats.subscriptions, 2u);
    EXPECT_EQ(stats.published, 4u);
    EXPECT_EQ(stats.deliveries, 6u);
}

TYPED_TEST(BackendContract, CensusCountsChannelsAtOrBelowEachBoundAndNamesTheBusiest) {
    std::vector<recorder> sinks(8);
    // "busy" gets 3 subscribers; "mid", "also" and "one" 2 each (a tie, broken by name); "quiet"
    // none (a publish creates it).
    std::size_t next = 0;
    for (auto [name, n] : std::vector<std::pair<std::string, int>>{
             {"busy", 3}, {"mid", 2}, {"also", 2}, {"one", 1}}) {
        for (int i = 0; i < n - (name == "busy" ? 1 : 0); ++i)
            ASSERT_TRUE(this->accepted({name}, std::nullopt, sinks[next++]));
    }
    // One subscriber of two channels counts in both: busy's third, one's second.
    ASSERT_TRUE(this->accepted({"busy", "one"}, std::nullopt, sinks[next++]));
    this->publish({"quiet"}, "x");
    ASSERT_EQ(next, sinks.size());

    const std::array<std::size_t, 4> bounds = {0, 1, 2, 10};
    auto c = this->b().census(bounds, 3);
    EXPECT_EQ(c.channels, 5u);
    EXPECT_EQ(c.subscriptions, 3u + 2u + 2u + 2u);
    EXPECT_EQ(c.at_most, (std::vector<std::uint64_t>{1, 1, 4, 5}));
    using entry = std::pair<std::string, std::size_t>;
    EXPECT_EQ(c.busiest, (std::vector<entry>{{"busy", 3}, {"also", 2}, {"mid", 2}}));

    EXPECT_TRUE(this->b().census(bounds, 0).busiest.empty());
    auto all = this->b().census(bounds, 100);
    ASSERT_EQ(all.busiest.size(), 5u);
    EXPECT_EQ(all.busiest.back(), (entry{"quiet", 0}));
    EXPECT_EQ(all.busiest[3], (entry{"one", 2}));
}

TYPED_TEST(BackendContract, CensusOfAnEmptyBroker) {
    const std::array<std::size_t, 2> bounds = {0, 1};
    auto c = this->b().census(bounds, 5);
    EXPECT_EQ(c.channels, 0u);
    EXPECT_EQ(c.subscriptions, 0u);
    EXPECT_EQ(c.at_most, (std::vector<std::uint64_t>{0, 0}));
    EXPECT_TRUE(c.busiest.empty());
    EXPECT_FALSE(this->b().unavailable().has_value());
}

// --- a channel named twice in one subscription ---------------------------------------------------

TYPED_TEST(BackendContract, ChannelNamedTwiceInSubscribeCountsOneSubscriber) {
    recorder r;
    auto start = this->subscribe({"a", "a"}, std::nullopt, r);
    ASSERT_FALSE(start.error);
    auto info = this->b().channels();
    ASSERT_EQ(info.size(), 1u);
    EXPECT_EQ(info[0].subscribers, 1u);
    EXPECT_EQ(this->publish({"a"}, "x").delivered, 1u);
    EXPECT_EQ(r.got.size(), 1u);
    this->b().unsubscribe(start.subscription);
    ASSERT_EQ(this->b().channels().size(), 1u);
    EXPECT_EQ(this->b().channels()[0].subscribers, 0u);
}

template <typename Backend>
class BackendContractDeathTest : public BackendContract<Backend> {
  protected:
    // Subscribes "first" to a, "twice" to a and a, drops "first", subscribes "last" to a, drops
    // "twice", then publishes to a. Exits 0 when exactly "last" got the event.
    [[noreturn]] void channel_named_twice_scenario() {
        recorder first, twice, last;
        auto s1 = this->subscribe({"a"}, std::nullopt, first);
        auto s2 = this->subscribe({"a", "a"}, std::nullopt, twice);
        this->b().unsubscribe(s1.subscription);
        this->subscribe({"a"}, std::nullopt, last);
        this->b().unsubscribe(s2.subscription);
        auto delivered = this->publish({"a"}, "x").delivered;
        bool ok = delivered == 1 && last.got.size() == 1;
        this->discard();
        std::exit(ok ? 0 : 1);
    }
};

TYPED_TEST_SUITE(BackendContractDeathTest, Backends, backend_names);

// Run in a child process: the corruption this checks for ends in a use-after-free, which the
// sanitizers turn into an abort.
TYPED_TEST(BackendContractDeathTest, ChannelNamedTwiceInSubscribeKeepsOtherSubscribersIntact) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(this->channel_named_twice_scenario(), ::testing::ExitedWithCode(0), "");
}

// --- worker loops: events handed to each worker thread's loop -----------------------------------

// The hub with two worker loops, as the daemon runs it; completions still run on `io`. Nothing runs
// a loop but the test, so what each loop was handed is visible.
template <typename Backend>
class BackendContractWorkers : public BackendContract<Backend> {
  protected:
    boost::asio::io_context loop0, loop1;

    void SetUp() override { this->open(options(), {loop0.get_executor(), loop1.get_executor()}); }
    void TearDown() override { this->close(); }  // before the loops go

    // Runs what is ready on `loop`: how many handlers ran.
    static std::size_t poll(boost::asio::io_context& loop) {
        loop.restart();
        return loop.poll();
    }
};

TYPED_TEST_SUITE(BackendContractWorkers, Backends, backend_names);

TYPED_TEST(BackendContractWorkers, EventsReachEachWorkerThroughItsLoopInOrder) {
    recorder on0, on1, other;
    ASSERT_TRUE(this->accepted({"a"}, std::nullopt, on0, 0));
    ASSERT_TRUE(this->accepted({"a"}, std::nullopt, on1, 1));
    ASSERT_TRUE(this->accepted({"b"}, std::nullopt, other, 1));
    EXPECT_EQ(this->publish({"a"}, "1").delivered, 2u);
    EXPECT_EQ(this->publish({"a"}, "2").delivered, 2u);
    // Nothing is delivered on the publishing thread: each worker's loop does it.
    EXPECT_TRUE(on0.got.empty());
    EXPECT_TRUE(on1.got.empty());
    this->poll(this->loop0);
    EXPECT_EQ(datas(on0.got), strings({"1", "2"}));
    EXPECT_TRUE(on1.got.empty());
    this->poll(this->loop1);
    EXPECT_EQ(datas(on1.got), strings({"1", "2"}));
    EXPECT_TRUE(other.got.empty());
}

TYPED_TEST(BackendContractWorkers, WorkersWithoutSubscribersOfTheChannelGetNothing) {
    recorder on1;
    ASSERT_TRUE(this->accepted({"a"}, std::nullopt, on1, 1));
    this->publish({"a"}, "1");
    EXPECT_EQ(this->poll(this->loop0), 0u);  // no work was handed to worker 0
    EXPECT_EQ(this->poll(this->loop1), 1u);  // one handover for worker 1
    EXPECT_EQ(datas(on1.got), strings({"1"}));
}

TYPED_TEST(BackendContractWorkers, ABatchIsOneHandoverPerWorker) {
    recorder on0;
    ASSERT_TRUE(this->accepted({"a", "b"}, std::nullopt, on0, 0));
    ASSERT_TRUE(this->publish({event({"a"}, "1"), event({"b"}, "2"), event({"a", "b"}, "3")}));
    EXPECT_EQ(this->poll(this->loop0), 1u);
    EXPECT_EQ(datas(on0.got), strings({"1", "2", "3"}));
    // One flush for the whole batch: the three events leave in one write.
    EXPECT_EQ(on0.flushes, 1u);
    EXPECT_EQ(on0.unflushed, 0u);
}

TYPED_TEST(BackendContractWorkers, EverySubscriberThatGotSomethingIsFlushed) {
    recorder replayed, fresh;
    ASSERT_TRUE(this->accepted({"a"}, std::nullopt, fresh, 0));
    this->publish({"a"}, "1");
    // Joins with event 1 in its replay while 1 is still in flight: it must still be flushed for 2.
    ASSERT_TRUE(this->accepted({"a"}, id(0), replayed, 0));
    this->publish({"a"}, "2");
    this->poll(this->loop0);
    EXPECT_EQ(datas(replayed.got), strings({"2"}));
    EXPECT_EQ(replayed.unflushed, 0u);
    EXPECT_EQ(replayed.flushes, 1u);
    EXPECT_EQ(fresh.unflushed, 0u);
}

TYPED_TEST(BackendContractWorkers,
           EventInFlightToTheWorkerIsNotSentTwiceToANewReplayingSubscriber) {
    recorder early, late;
    ASSERT_TRUE(this->accepted({"a"}, std::nullopt, early, 0));
    auto first = this->publish({"a"}, "1");  // handed to worker 0, not yet delivered
    this->publish({"a"}, "2");
    // A subscriber resuming before event 1 joins on worker 0 while both are in flight: its replay
    // has them, so the pending handover must not deliver them again.
    auto start = this->subscribe({"a"}, id(0), late, 0);
    EXPECT_EQ(datas(start.backlog), strings({"1", "2"}));
    this->publish({"a"}, "3");
    this->poll(this->loop0);
    EXPECT_EQ(datas(early.got), strings({"1", "2", "3"}));
    EXPECT_EQ(datas(late.got), strings({"3"}));
    EXPECT_EQ(first.id, id(1));
}

TYPED_TEST(BackendContractWorkers, UnsubscribedBeforeTheHandoverRunsGetsNothing) {
    recorder gone, stays;
    auto sub = this->subscribe({"a"}, std::nullopt, gone, 1);
    ASSERT_TRUE(this->accepted({"a"}, std::nullopt, stays, 1));
    this->publish({"a"}, "1");
    this->b().unsubscribe(sub.subscription);
    this->poll(this->loop1);
    EXPECT_TRUE(gone.got.empty());
    EXPECT_EQ(datas(stays.got), strings({"1"}));
}

}  // namespace
