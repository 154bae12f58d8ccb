#include "ssecast/backend/memory/memory_broker.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sse_parser.hpp"
#include "ssecast/core/event_id.hpp"

namespace {

using namespace std::chrono_literals;
using ssecast::frame;
using ssecast::memory_broker;
using ssecast::memory_broker_options;
using ssecast::new_event;

constexpr std::uint64_t epoch = 1700000000123;

std::string id(std::uint64_t seq) {
    return ssecast::to_string(ssecast::event_id{epoch, seq});
}

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

memory_broker_options options(std::size_t history = 100) {
    memory_broker_options o;
    o.history = history;
    o.epoch = epoch;
    return o;
}

new_event event(std::vector<std::string> channels, std::string data, std::string type = {}) {
    return {std::move(channels), std::move(type), std::move(data), std::nullopt};
}

// Publishes one event and returns its receipt (fails the test if it was refused).
ssecast::publish_receipt publish(memory_broker& b, std::vector<std::string> channels,
                                 std::string data) {
    auto receipts = b.publish({event(std::move(channels), std::move(data))});
    EXPECT_TRUE(receipts.has_value());
    EXPECT_EQ(receipts ? receipts->size() : 0u, 1u);
    return receipts && !receipts->empty() ? receipts->front() : ssecast::publish_receipt{};
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

// --- publishing and live delivery ---------------------------------------------------------------

TEST(MemoryBroker, PublishAssignsStrictlyIncreasingIds) {
    memory_broker b(options());
    EXPECT_EQ(publish(b, {"a"}, "1").id, id(1));
    EXPECT_EQ(publish(b, {"b"}, "2").id, id(2));
    EXPECT_EQ(publish(b, {"a", "b"}, "3").id, id(3));

    auto batch = b.publish({event({"a"}, "4"), event({"c"}, "5"), event({"a", "c"}, "6")});
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
    EXPECT_EQ(b.stats().published, 6u);
}

TEST(MemoryBroker, PublishedFrameCarriesIdTypeDataAndRetry) {
    memory_broker b(options());
    recorder r;
    ASSERT_TRUE(b.subscribe({"a"}, std::nullopt, r, 0).accepted);
    auto receipts = b.publish({{{"a"}, "greeting", "hello\nworld", 1500}});
    ASSERT_TRUE(receipts.has_value());
    ASSERT_EQ(r.got.size(), 1u);
    EXPECT_EQ(*r.got[0],
              "id: " + id(1) + "\nevent: greeting\nretry: 1500\ndata: hello\ndata: world\n\n");
}

TEST(MemoryBroker, LiveDeliveryReachesOnlyThatChannelsSubscribers) {
    memory_broker b(options());
    recorder on_a, on_b, on_c;
    ASSERT_TRUE(b.subscribe({"a"}, std::nullopt, on_a, 0).accepted);
    ASSERT_TRUE(b.subscribe({"b"}, std::nullopt, on_b, 0).accepted);
    ASSERT_TRUE(b.subscribe({"c"}, std::nullopt, on_c, 0).accepted);

    EXPECT_EQ(publish(b, {"a"}, "for a").delivered, 1u);
    EXPECT_EQ(publish(b, {"b"}, "for b").delivered, 1u);
    EXPECT_EQ(publish(b, {"nobody"}, "for nobody").delivered, 0u);

    EXPECT_EQ(datas(on_a.got), strings({"for a"}));
    EXPECT_EQ(ids(on_a.got), strings({id(1)}));
    EXPECT_EQ(datas(on_b.got), strings({"for b"}));
    EXPECT_EQ(ids(on_b.got), strings({id(2)}));
    EXPECT_TRUE(on_c.got.empty());
    EXPECT_EQ(b.stats().deliveries, 2u);
}

TEST(MemoryBroker, EventOnTwoChannelsReachesASubscriberOfBothOnce) {
    memory_broker b(options());
    recorder both, only_a, only_b;
    ASSERT_TRUE(b.subscribe({"a", "b"}, std::nullopt, both, 0).accepted);
    ASSERT_TRUE(b.subscribe({"a"}, std::nullopt, only_a, 0).accepted);
    ASSERT_TRUE(b.subscribe({"b"}, std::nullopt, only_b, 0).accepted);

    auto r = publish(b, {"a", "b"}, "shared");
    EXPECT_EQ(r.delivered, 3u);
    EXPECT_EQ(datas(both.got), strings({"shared"}));
    EXPECT_EQ(datas(only_a.got), strings({"shared"}));
    EXPECT_EQ(datas(only_b.got), strings({"shared"}));
    // One frame, built once and shared.
    EXPECT_EQ(both.got[0].get(), only_a.got[0].get());

    publish(b, {"b", "a"}, "reversed");
    publish(b, {"a"}, "just a");
    EXPECT_EQ(datas(both.got), strings({"shared", "reversed", "just a"}));
    EXPECT_EQ(datas(only_b.got), strings({"shared", "reversed"}));
}

TEST(MemoryBroker, DeliveredCountsTheSubscriptionsOfTheEventsChannels) {
    memory_broker b(options());
    recorder one, two, elsewhere;
    ASSERT_TRUE(b.subscribe({"a"}, std::nullopt, one, 0).accepted);
    ASSERT_TRUE(b.subscribe({"a"}, std::nullopt, two, 0).accepted);
    ASSERT_TRUE(b.subscribe({"b"}, std::nullopt, elsewhere, 0).accepted);
    EXPECT_EQ(publish(b, {"a"}, "x").delivered, 2u);
    EXPECT_EQ(publish(b, {"c"}, "y").delivered, 0u);
    EXPECT_EQ(b.stats().deliveries, 2u);
}

TEST(MemoryBroker, UnsubscribeStopsDelivery) {
    memory_broker b(options());
    recorder stays, leaves;
    auto s1 = b.subscribe({"a", "b"}, std::nullopt, leaves, 0);
    auto s2 = b.subscribe({"a"}, std::nullopt, stays, 0);
    ASSERT_TRUE(s1.accepted);
    ASSERT_TRUE(s2.accepted);
    EXPECT_NE(s1.subscription, s2.subscription);
    EXPECT_EQ(b.stats().subscriptions, 2u);

    publish(b, {"a"}, "before");
    b.unsubscribe(s1.subscription);
    EXPECT_EQ(b.stats().subscriptions, 1u);
    EXPECT_EQ(publish(b, {"a"}, "after a").delivered, 1u);
    EXPECT_EQ(publish(b, {"b"}, "after b").delivered, 0u);

    EXPECT_EQ(datas(leaves.got), strings({"before"}));
    EXPECT_EQ(datas(stays.got), strings({"before", "after a"}));

    b.unsubscribe(s1.subscription);  // twice: harmless
    b.unsubscribe(987654);           // unknown: harmless
    b.unsubscribe(s2.subscription);
    EXPECT_EQ(publish(b, {"a"}, "to nobody").delivered, 0u);
    EXPECT_EQ(stays.got.size(), 2u);
    EXPECT_EQ(b.stats().subscriptions, 0u);
}

TEST(MemoryBroker, UnsubscribeInAnyOrderKeepsTheOthersSubscribed) {
    memory_broker b(options());
    std::vector<recorder> sinks(6);
    std::vector<std::uint64_t> handles;
    for (std::size_t i = 0; i < sinks.size(); ++i) {
        std::vector<std::string> chans = {"x"};
        if (i % 2 == 0) chans.push_back("y");
        handles.push_back(b.subscribe(chans, std::nullopt, sinks[i], 0).subscription);
    }
    // Remove from the front, the middle and the back of the subscriber lists.
    for (std::size_t gone : {0u, 3u, 5u}) b.unsubscribe(handles[gone]);
    EXPECT_EQ(publish(b, {"x"}, "x1").delivered, 3u);
    EXPECT_EQ(publish(b, {"y"}, "y1").delivered, 2u);  // sinks 2 and 4 are still on y
    for (std::size_t i = 0; i < sinks.size(); ++i) {
        bool present = i == 1 || i == 2 || i == 4;
        strings expected;
        if (present) expected.push_back("x1");
        if (i == 2 || i == 4) expected.push_back("y1");
        EXPECT_EQ(datas(sinks[i].got), expected) << "sink " << i;
    }
    for (std::size_t i : {1u, 2u, 4u}) b.unsubscribe(handles[i]);
    EXPECT_EQ(publish(b, {"x", "y"}, "none").delivered, 0u);
}

// --- resuming -----------------------------------------------------------------------------------

TEST(MemoryBroker, SubscribeWithoutLastIdHasNoBacklog) {
    memory_broker b(options());
    publish(b, {"a"}, "1");
    publish(b, {"a"}, "2");
    recorder r;
    auto start = b.subscribe({"a"}, std::nullopt, r, 0);
    EXPECT_TRUE(start.accepted);
    EXPECT_TRUE(start.backlog.empty());
    EXPECT_FALSE(start.resync);
    EXPECT_EQ(start.replayed, 0u);
    EXPECT_TRUE(r.got.empty());
}

TEST(MemoryBroker, SubscribeWithNewestIdHasNoBacklog) {
    memory_broker b(options());
    publish(b, {"a"}, "1");
    auto last = publish(b, {"a"}, "2").id;
    recorder r;
    auto start = b.subscribe({"a"}, last, r, 0);
    EXPECT_TRUE(start.accepted);
    EXPECT_TRUE(start.backlog.empty());
    EXPECT_FALSE(start.resync);
    EXPECT_EQ(start.replayed, 0u);
}

TEST(MemoryBroker, SubscribeWithOlderIdReplaysExactlyTheMissedEvents) {
    memory_broker b(options());
    publish(b, {"a"}, "1");
    auto seen = publish(b, {"a"}, "2").id;
    publish(b, {"other"}, "not for a");
    publish(b, {"a"}, "3");
    publish(b, {"a"}, "4");

    recorder r;
    auto start = b.subscribe({"a"}, seen, r, 0);
    EXPECT_TRUE(start.accepted);
    EXPECT_FALSE(start.resync);
    EXPECT_EQ(start.replayed, 2u);
    EXPECT_EQ(datas(start.backlog), strings({"3", "4"}));
    EXPECT_EQ(ids(start.backlog), strings({id(4), id(5)}));
    EXPECT_TRUE(r.got.empty()) << "the backlog is returned, not delivered";
    EXPECT_EQ(b.stats().replayed, 2u);

    // Then live, with nothing twice and nothing lost.
    publish(b, {"a"}, "5");
    EXPECT_EQ(datas(r.got), strings({"5"}));
}

TEST(MemoryBroker, ResumeFromIdOfAnotherChannelsEvent) {
    memory_broker b(options());
    publish(b, {"a"}, "a1");
    auto other = publish(b, {"b"}, "b1").id;
    publish(b, {"a"}, "a2");
    recorder r;
    auto start = b.subscribe({"a"}, other, r, 0);
    EXPECT_FALSE(start.resync);
    EXPECT_EQ(datas(start.backlog), strings({"a2"}));
}

TEST(MemoryBroker, MultiChannelBacklogIsMergedInPublishOrderWithoutDuplicates) {
    memory_broker b(options());
    auto seen = publish(b, {"a"}, "old").id;
    publish(b, {"b"}, "b1");
    publish(b, {"a"}, "a1");
    publish(b, {"a", "b"}, "ab");
    publish(b, {"c"}, "c1");
    publish(b, {"b"}, "b2");
    publish(b, {"b", "a"}, "ba");
    publish(b, {"a"}, "a2");

    recorder r;
    auto start = b.subscribe({"b", "a"}, seen, r, 0);
    EXPECT_FALSE(start.resync);
    EXPECT_EQ(datas(start.backlog), strings({"b1", "a1", "ab", "b2", "ba", "a2"}));
    EXPECT_EQ(ids(start.backlog), strings({id(2), id(3), id(4), id(6), id(7), id(8)}));
    EXPECT_EQ(start.replayed, 6u);
}

TEST(MemoryBroker, SubscribeIsAtomicWithPublish) {
    memory_broker b(options());
    auto seen = publish(b, {"a"}, "1").id;
    publish(b, {"a", "b"}, "2");
    recorder r;
    auto start = b.subscribe({"a", "b"}, seen, r, 0);
    publish(b, {"a", "b"}, "3");
    publish(b, {"b"}, "4");
    auto all = start.backlog;
    all.insert(all.end(), r.got.begin(), r.got.end());
    EXPECT_EQ(datas(all), strings({"2", "3", "4"}));
}

// --- gaps and resync ----------------------------------------------------------------------------

class MemoryBrokerEviction : public ::testing::Test {
  protected:
    // history 3: after five events on "a", 3..5 are kept and 1..2 were evicted.
    memory_broker b{options(3)};
    recorder r;

    void SetUp() override {
        for (int i = 1; i <= 5; ++i) publish(b, {"a"}, "e" + std::to_string(i));
    }
};

TEST_F(MemoryBrokerEviction, ResumeFromTheHighestEvictedIdIsNoGap) {
    auto start = b.subscribe({"a"}, id(2), r, 0);
    EXPECT_FALSE(start.resync);
    EXPECT_EQ(datas(start.backlog), strings({"e3", "e4", "e5"}));
    EXPECT_EQ(start.replayed, 3u);
    EXPECT_EQ(b.stats().resyncs, 0u);
}

TEST_F(MemoryBrokerEviction, ResumeFromBeforeTheEvictedIdsResyncsFirst) {
    auto start = b.subscribe({"a"}, id(1), r, 0);
    EXPECT_TRUE(start.accepted);
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
    EXPECT_EQ(b.stats().resyncs, 1u);

    auto from_zero = b.subscribe({"a"}, id(0), r, 0);
    EXPECT_TRUE(from_zero.resync);
    expect_resync_notice(from_zero.backlog, id(0), id(3));
}

class MemoryBrokerUnknownIds : public MemoryBrokerEviction,
                               public ::testing::WithParamInterface<std::string> {};

TEST_P(MemoryBrokerUnknownIds, ResyncThenEverythingBuffered) {
    const std::string given = GetParam();
    auto start = b.subscribe({"a"}, given, r, 0);
    EXPECT_TRUE(start.accepted);
    EXPECT_TRUE(start.resync);
    EXPECT_EQ(start.replayed, 3u);
    expect_resync_notice(start.backlog, given, id(3));
    auto all = datas(start.backlog);
    ASSERT_EQ(all.size(), 4u);
    EXPECT_EQ(strings(all.begin() + 1, all.end()), strings({"e3", "e4", "e5"}));
}

INSTANTIATE_TEST_SUITE_P(
    Ids, MemoryBrokerUnknownIds,
    ::testing::Values(std::string("garbage"), std::string(""), std::string("1-2-3"),
                      std::to_string(epoch + 1) + "-3",  // another run
                      std::to_string(epoch - 1) + "-5", std::to_string(epoch) + "-6",  // future
                      std::to_string(epoch) + "-999999", std::string("\xC3\xA9t\xC3\xA9")));

TEST(MemoryBroker, UnknownIdResyncsEvenWithoutEvictions) {
    memory_broker b(options());
    publish(b, {"a"}, "1");
    publish(b, {"a"}, "2");
    recorder r;
    auto start = b.subscribe({"a"}, std::to_string(epoch + 1) + "-1", r, 0);
    EXPECT_TRUE(start.resync);
    expect_resync_notice(start.backlog, std::to_string(epoch + 1) + "-1", id(1));
    EXPECT_EQ(datas(start.backlog), strings({datas(start.backlog)[0], "1", "2"}));
}

TEST(MemoryBroker, UnknownIdOnAnEmptyChannelResyncsWithNullOldest) {
    memory_broker b(options());
    recorder r;
    auto start = b.subscribe({"a"}, "nonsense", r, 0);
    EXPECT_TRUE(start.resync);
    EXPECT_EQ(start.replayed, 0u);
    ASSERT_EQ(start.backlog.size(), 1u);
    expect_resync_notice(start.backlog, "nonsense", std::nullopt);
}

TEST(MemoryBroker, LongGarbageIdIsEchoedShortened) {
    memory_broker b(options());
    recorder r;
    std::string huge(5000, '7');
    auto start = b.subscribe({"a"}, huge, r, 0);
    ASSERT_TRUE(start.resync);
    auto events = parse(start.backlog);
    ASSERT_EQ(events.size(), 1u);
    auto body = nlohmann::json::parse(events[0].data, nullptr, false);
    ASSERT_TRUE(body.is_object());
    auto echoed = body["lastEventId"].get<std::string>();
    EXPECT_LT(echoed.size(), huge.size());
    EXPECT_TRUE(huge.starts_with(echoed));
}

TEST_F(MemoryBrokerEviction, ResumingFromTheResyncNoticeIdDoesNotResyncAgain) {
    auto first = b.subscribe({"a"}, "garbage", r, 0);
    ASSERT_TRUE(first.resync);
    auto notice = parse(first.backlog).front();
    ASSERT_EQ(notice.type, "resync");
    ASSERT_FALSE(notice.last_event_id.empty()) << "the notice needs an id to resume from";
    ASSERT_TRUE(ssecast::parse_event_id(notice.last_event_id).has_value());

    recorder again;
    auto second = b.subscribe({"a"}, notice.last_event_id, again, 0);
    EXPECT_FALSE(second.resync);
    EXPECT_EQ(datas(second.backlog), strings({"e3", "e4", "e5"}));
}

TEST(MemoryBroker, ResyncIsDecidedPerChannelOfTheSubscription) {
    memory_broker b(options(2));
    auto seen = publish(b, {"quiet"}, "q1").id;                                 // 1
    for (int i = 0; i < 4; ++i) publish(b, {"busy"}, "b" + std::to_string(i));  // 2..5
    recorder r;
    // "quiet" lost nothing after 1, but "busy" evicted 2 and 3.
    EXPECT_FALSE(b.subscribe({"quiet"}, seen, r, 0).resync);
    auto start = b.subscribe({"quiet", "busy"}, seen, r, 0);
    EXPECT_TRUE(start.resync);
    expect_resync_notice(start.backlog, seen, id(1));  // oldest retained across both channels
    auto all = datas(start.backlog);
    ASSERT_EQ(all.size(), 3u);
    EXPECT_EQ(all[1], "b2");
    EXPECT_EQ(all[2], "b3");
}

// --- channel limit ------------------------------------------------------------------------------

TEST(MemoryBroker, ChannelLimitRefusesPublishWithoutConsumingIds) {
    auto o = options();
    o.max_channels = 2;
    memory_broker b(o);
    recorder r;
    ASSERT_TRUE(b.subscribe({"a"}, std::nullopt, r, 0).accepted);
    EXPECT_EQ(publish(b, {"b"}, "b1").id, id(1));

    EXPECT_FALSE(b.publish({event({"c"}, "refused")}).has_value());
    // All or nothing: the event for "a" in the same batch is not published either.
    EXPECT_FALSE(b.publish({event({"a"}, "a-in-refused-batch"), event({"c"}, "c")}).has_value());
    EXPECT_FALSE(b.publish({event({"a", "c"}, "on a and c")}).has_value());
    EXPECT_TRUE(r.got.empty());

    auto next = publish(b, {"a"}, "a1");
    EXPECT_EQ(next.id, id(2)) << "a refused publish consumed ids";
    EXPECT_EQ(datas(r.got), strings({"a1"}));
    EXPECT_EQ(b.stats().published, 2u);
    EXPECT_EQ(b.stats().channel_limit_hits, 3u);

    recorder late;
    auto start = b.subscribe({"a", "c"}, std::nullopt, late, 0);
    EXPECT_FALSE(start.accepted);
    EXPECT_TRUE(b.subscribe({"b", "a"}, std::nullopt, late, 0).accepted);
    EXPECT_EQ(b.stats().channel_limit_hits, 4u);

    recorder history;
    auto replay = b.subscribe({"a"}, id(0), history, 0);
    EXPECT_EQ(datas(replay.backlog), strings({"a1"}));
}

TEST(MemoryBroker, RefusedRequestsDoNotUseUpChannelSlots) {
    auto o = options();
    o.max_channels = 3;
    memory_broker b(o);
    publish(b, {"a"}, "a1");
    // Two new channels fit, the third does not: the request is refused...
    EXPECT_FALSE(b.publish({event({"x", "y", "z"}, "refused")}).has_value());
    recorder r;
    EXPECT_FALSE(b.subscribe({"p", "q", "s"}, std::nullopt, r, 0).accepted);
    // ...and must leave the registry as it was, so that these still fit.
    EXPECT_EQ(b.stats().channels, 1u);
    EXPECT_TRUE(b.subscribe({"m", "n"}, std::nullopt, r, 0).accepted);
}

// --- housekeeping -------------------------------------------------------------------------------

TEST(MemoryBroker, MaxAgeEvictionMakesALaterResumeResync) {
    auto o = options();
    o.max_age = 1ms;
    memory_broker b(o);
    publish(b, {"a"}, "1");
    publish(b, {"a"}, "2");
    publish(b, {"a"}, "3");
    auto now = std::chrono::steady_clock::now();  // after every publish above

    b.maintain(now + 1s);
    EXPECT_EQ(b.stats().evicted, 3u);
    auto info = b.channels();
    ASSERT_EQ(info.size(), 1u);
    EXPECT_EQ(info[0].buffered, 0u);

    recorder r;
    auto start = b.subscribe({"a"}, id(1), r, 0);
    EXPECT_TRUE(start.resync);
    EXPECT_EQ(start.replayed, 0u);
    ASSERT_EQ(start.backlog.size(), 1u);
    auto notice = expect_resync_notice(start.backlog, id(1), std::nullopt);
    EXPECT_EQ(notice.last_event_id, id(3));

    recorder again;
    EXPECT_FALSE(b.subscribe({"a"}, id(3), again, 0).resync);
    EXPECT_FALSE(b.subscribe({"a"}, notice.last_event_id, again, 0).resync);
}

TEST(MemoryBroker, MaxAgeKeepsRecentEvents) {
    auto o = options();
    o.max_age = std::chrono::hours(1);
    memory_broker b(o);
    publish(b, {"a"}, "1");
    publish(b, {"a"}, "2");
    b.maintain(std::chrono::steady_clock::now());
    EXPECT_EQ(b.stats().evicted, 0u);
    recorder r;
    auto start = b.subscribe({"a"}, id(0), r, 0);
    EXPECT_FALSE(start.resync);
    EXPECT_EQ(datas(start.backlog), strings({"1", "2"}));
}

TEST(MemoryBroker, WithoutMaxAgeMaintainKeepsEvents) {
    memory_broker b(options());
    publish(b, {"a"}, "1");
    b.maintain(std::chrono::steady_clock::now() + std::chrono::hours(24 * 365));
    EXPECT_EQ(b.stats().evicted, 0u);
    recorder r;
    EXPECT_EQ(datas(b.subscribe({"a"}, id(0), r, 0).backlog), strings({"1"}));
}

TEST(MemoryBroker, EmptyChannelIsDroppedAfterGrace) {
    auto o = options();
    o.channel_grace = 10s;
    memory_broker b(o);
    recorder r;
    auto sub = b.subscribe({"idle", "busy"}, std::nullopt, r, 0);
    publish(b, {"busy"}, "keeps busy alive");
    recorder watcher;
    auto watching = b.subscribe({"watched"}, std::nullopt, watcher, 0);
    b.unsubscribe(sub.subscription);
    EXPECT_EQ(b.stats().channels, 3u);

    auto t = std::chrono::steady_clock::now();
    b.maintain(t);  // "idle" is marked empty
    EXPECT_EQ(b.stats().channels, 3u);
    b.maintain(t + 9s);
    EXPECT_EQ(b.stats().channels, 3u) << "dropped before the grace period ended";
    b.maintain(t + 10s);
    EXPECT_EQ(b.stats().channels, 2u);
    EXPECT_EQ(b.stats().channels_dropped, 1u);
    auto info = b.channels();
    ASSERT_EQ(info.size(), 2u);
    EXPECT_EQ(info[0].name, "busy");     // has an event
    EXPECT_EQ(info[1].name, "watched");  // has a subscriber

    b.maintain(t + 1h);
    EXPECT_EQ(b.stats().channels, 2u);
    b.unsubscribe(watching.subscription);
    b.maintain(t + 2h);
    b.maintain(t + 3h);
    ASSERT_EQ(b.channels().size(), 1u);
    EXPECT_EQ(b.channels()[0].name, "busy");
}

TEST(MemoryBroker, ActivityRestartsTheGracePeriod) {
    auto o = options();
    o.channel_grace = 10s;
    memory_broker b(o);
    recorder r;
    b.unsubscribe(b.subscribe({"c"}, std::nullopt, r, 0).subscription);
    auto t = std::chrono::steady_clock::now();
    b.maintain(t);  // marked empty at t
    // A subscriber comes and goes before the next sweep: the channel was in use.
    b.unsubscribe(b.subscribe({"c"}, std::nullopt, r, 0).subscription);
    b.maintain(t + 10s);  // marked again, not dropped
    EXPECT_EQ(b.stats().channels, 1u);
    b.maintain(t + 20s);
    EXPECT_EQ(b.stats().channels, 0u);
    EXPECT_TRUE(b.channels().empty());
}

TEST(MemoryBroker, ZeroGraceDropsOnTheSecondSweep) {
    auto o = options();
    o.channel_grace = 0ms;
    memory_broker b(o);
    recorder r;
    b.unsubscribe(b.subscribe({"c"}, std::nullopt, r, 0).subscription);
    auto t = std::chrono::steady_clock::now();
    b.maintain(t);
    EXPECT_EQ(b.stats().channels, 1u);
    b.maintain(t);
    EXPECT_EQ(b.stats().channels, 0u);
}

TEST(MemoryBroker, RecreatedChannelRemembersEvictionsOfTheDroppedOne) {
    auto o = options(2);
    o.max_age = 1ms;
    o.channel_grace = 1s;
    memory_broker b(o);
    for (int i = 1; i <= 4; ++i) publish(b, {"a"}, std::to_string(i));  // 1..2 evicted by count
    auto t = std::chrono::steady_clock::now() + 1min;
    b.maintain(t);  // 3..4 evicted by age; "a" now empty
    b.maintain(t + 1s);
    ASSERT_EQ(b.stats().channels, 0u) << "precondition: the channel was dropped";
    EXPECT_EQ(b.stats().channels_dropped, 1u);

    recorder r;
    auto start = b.subscribe({"a"}, id(3), r, 0);  // recreates "a"
    EXPECT_TRUE(start.accepted);
    EXPECT_TRUE(start.resync) << "event 4 was lost with the dropped channel";
    ASSERT_EQ(start.backlog.size(), 1u);
    expect_resync_notice(start.backlog, id(3), std::nullopt);

    recorder up_to_date;
    EXPECT_FALSE(b.subscribe({"a"}, id(4), up_to_date, 0).resync);
}

TEST(MemoryBroker, RecreatedChannelWithZeroHistoryStillResyncs) {
    auto o = options(0);
    o.channel_grace = 0ms;
    memory_broker b(o);
    publish(b, {"a"}, "never kept");
    auto t = std::chrono::steady_clock::now();
    b.maintain(t);
    b.maintain(t);
    ASSERT_EQ(b.stats().channels, 0u);
    recorder r;
    EXPECT_TRUE(b.subscribe({"a"}, id(0), r, 0).resync);
    EXPECT_FALSE(b.subscribe({"a"}, id(1), r, 0).resync);
}

TEST(MemoryBroker, ZeroHistoryResyncsAnyEarlierResume) {
    memory_broker b(options(0));
    auto first = publish(b, {"a"}, "1").id;
    publish(b, {"a"}, "2");
    recorder r;
    auto start = b.subscribe({"a"}, first, r, 0);
    EXPECT_TRUE(start.resync);
    EXPECT_EQ(start.replayed, 0u);
    EXPECT_FALSE(b.subscribe({"a"}, id(2), r, 0).resync);
}

// --- introspection ------------------------------------------------------------------------------

TEST(MemoryBroker, ChannelsReportsSubscribersBufferedAndLastId) {
    memory_broker b(options(2));
    recorder r1, r2;
    b.subscribe({"beta", "alpha"}, std::nullopt, r1, 0);
    b.subscribe({"beta"}, std::nullopt, r2, 0);
    publish(b, {"gamma"}, "g1");
    publish(b, {"beta"}, "b1");
    publish(b, {"beta"}, "b2");
    publish(b, {"beta", "gamma"}, "b3");

    auto info = b.channels();
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

    auto stats = b.stats();
    EXPECT_EQ(stats.channels, 3u);
    EXPECT_EQ(stats.subscriptions, 2u);
    EXPECT_EQ(stats.published, 4u);
    EXPECT_EQ(stats.deliveries, 6u);
}

// --- a channel named twice in one subscription ---------------------------------------------------

TEST(MemoryBroker, ChannelNamedTwiceInSubscribeCountsOneSubscriber) {
    memory_broker b(options());
    recorder r;
    auto start = b.subscribe({"a", "a"}, std::nullopt, r, 0);
    ASSERT_TRUE(start.accepted);
    auto info = b.channels();
    ASSERT_EQ(info.size(), 1u);
    EXPECT_EQ(info[0].subscribers, 1u);
    EXPECT_EQ(publish(b, {"a"}, "x").delivered, 1u);
    EXPECT_EQ(r.got.size(), 1u);
    b.unsubscribe(start.subscription);
    EXPECT_EQ(b.channels()[0].subscribers, 0u);
}

// Subscribes "first" to a, "twice" to a and a, drops "first", subscribes "last" to a, drops
// "twice", then publishes to a. Exits 0 when exactly "last" got the event.
[[noreturn]] void channel_named_twice_scenario() {
    memory_broker b(options());
    recorder first, twice, last;
    auto s1 = b.subscribe({"a"}, std::nullopt, first, 0);
    auto s2 = b.subscribe({"a", "a"}, std::nullopt, twice, 0);
    b.unsubscribe(s1.subscription);
    b.subscribe({"a"}, std::nullopt, last, 0);
    b.unsubscribe(s2.subscription);
    auto delivered = publish(b, {"a"}, "x").delivered;
    std::exit(delivered == 1 && last.got.size() == 1 ? 0 : 1);
}

// Run in a child process: the corruption this checks for ends in a use-after-free, which the
// sanitizers turn into an abort.
TEST(MemoryBrokerDeathTest, ChannelNamedTwiceInSubscribeKeepsOtherSubscribersIntact) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(channel_named_twice_scenario(), ::testing::ExitedWithCode(0), "");
}

}  // namespace

// --- shards: events handed to each thread's loop -------------------------------------------------

#include <boost/asio/io_context.hpp>

namespace {

struct sharded {
    boost::asio::io_context loop0, loop1;
    memory_broker broker{[this] {
        auto o = options();
        o.shards = {loop0.get_executor(), loop1.get_executor()};
        return o;
    }()};
};

}  // namespace

TEST(MemoryBrokerShards, EventsReachEachShardThroughItsLoopInOrder) {
    sharded s;
    recorder on0, on1, other;
    ASSERT_TRUE(s.broker.subscribe({"a"}, std::nullopt, on0, 0).accepted);
    ASSERT_TRUE(s.broker.subscribe({"a"}, std::nullopt, on1, 1).accepted);
    ASSERT_TRUE(s.broker.subscribe({"b"}, std::nullopt, other, 1).accepted);
    EXPECT_EQ(publish(s.broker, {"a"}, "1").delivered, 2u);
    EXPECT_EQ(publish(s.broker, {"a"}, "2").delivered, 2u);
    // Nothing is delivered on the publishing thread: each shard's loop does it.
    EXPECT_TRUE(on0.got.empty());
    EXPECT_TRUE(on1.got.empty());
    s.loop0.poll();
    EXPECT_EQ(datas(on0.got), strings({"1", "2"}));
    EXPECT_TRUE(on1.got.empty());
    s.loop1.poll();
    EXPECT_EQ(datas(on1.got), strings({"1", "2"}));
    EXPECT_TRUE(other.got.empty());
}

TEST(MemoryBrokerShards, ShardsWithoutSubscribersOfTheChannelGetNothing) {
    sharded s;
    recorder on1;
    ASSERT_TRUE(s.broker.subscribe({"a"}, std::nullopt, on1, 1).accepted);
    publish(s.broker, {"a"}, "1");
    EXPECT_EQ(s.loop0.poll(), 0u);  // no work was handed to shard 0
    EXPECT_EQ(s.loop1.poll(), 1u);  // one handover for shard 1
    EXPECT_EQ(datas(on1.got), strings({"1"}));
}

TEST(MemoryBrokerShards, ABatchIsOneHandoverPerShard) {
    sharded s;
    recorder on0;
    ASSERT_TRUE(s.broker.subscribe({"a", "b"}, std::nullopt, on0, 0).accepted);
    ASSERT_TRUE(s.broker.publish({event({"a"}, "1"), event({"b"}, "2"), event({"a", "b"}, "3")}));
    EXPECT_EQ(s.loop0.poll(), 1u);
    EXPECT_EQ(datas(on0.got), strings({"1", "2", "3"}));
    // One flush for the whole batch: the three events leave in one write.
    EXPECT_EQ(on0.flushes, 1u);
    EXPECT_EQ(on0.unflushed, 0u);
}

TEST(MemoryBrokerShards, EverySubscriberThatGotSomethingIsFlushed) {
    sharded s;
    recorder replayed, fresh;
    ASSERT_TRUE(s.broker.subscribe({"a"}, std::nullopt, fresh, 0).accepted);
    publish(s.broker, {"a"}, "1");
    // Joins with event 1 in its replay while 1 is still in flight: it must still be flushed for 2.
    ASSERT_TRUE(s.broker.subscribe({"a"}, id(0), replayed, 0).accepted);
    publish(s.broker, {"a"}, "2");
    s.loop0.poll();
    EXPECT_EQ(datas(replayed.got), strings({"2"}));
    EXPECT_EQ(replayed.unflushed, 0u);
    EXPECT_EQ(replayed.flushes, 1u);
    EXPECT_EQ(fresh.unflushed, 0u);
}

TEST(MemoryBrokerShards, EventInFlightToTheShardIsNotSentTwiceToANewReplayingSubscriber) {
    sharded s;
    recorder early, late;
    ASSERT_TRUE(s.broker.subscribe({"a"}, std::nullopt, early, 0).accepted);
    auto first = publish(s.broker, {"a"}, "1");  // handed to shard 0, not yet delivered
    publish(s.broker, {"a"}, "2");
    // A subscriber resuming before event 1 joins on shard 0 while both are in flight: its replay
    // has them, so the pending handover must not deliver them again.
    auto start = s.broker.subscribe({"a"}, id(0), late, 0);
    EXPECT_EQ(datas(start.backlog), strings({"1", "2"}));
    publish(s.broker, {"a"}, "3");
    s.loop0.poll();
    EXPECT_EQ(datas(early.got), strings({"1", "2", "3"}));
    EXPECT_EQ(datas(late.got), strings({"3"}));
    EXPECT_EQ(first.id, id(1));
}

TEST(MemoryBrokerShards, UnsubscribedBeforeTheHandoverRunsGetsNothing) {
    sharded s;
    recorder gone, stays;
    auto sub = s.broker.subscribe({"a"}, std::nullopt, gone, 1);
    ASSERT_TRUE(s.broker.subscribe({"a"}, std::nullopt, stays, 1).accepted);
    publish(s.broker, {"a"}, "1");
    s.broker.unsubscribe(sub.subscription);
    s.loop1.poll();
    EXPECT_TRUE(gone.got.empty());
    EXPECT_EQ(datas(stays.got), strings({"1"}));
}

TEST(MemoryBroker, LiveDeliveryCarriesThePublishTime) {
    memory_broker b(options());
    recorder r;
    ASSERT_TRUE(b.subscribe({"a"}, std::nullopt, r, 0).accepted);
    auto before = std::chrono::steady_clock::now();
    publish(b, {"a"}, "1");
    auto after = std::chrono::steady_clock::now();
    ASSERT_EQ(r.published.size(), 1u);
    EXPECT_GE(r.published[0], before);
    EXPECT_LE(r.published[0], after);
}

TEST(MemoryBrokerCensus, CountsChannelsAtOrBelowEachBoundAndNamesTheBusiest) {
    memory_broker b(options());
    std::vector<recorder> sinks(8);
    // "busy" gets 3 subscribers; "mid", "also" and "one" 2 each (a tie, broken by name); "quiet"
    // none (a publish creates it).
    std::size_t next = 0;
    for (auto [name, n] : std::vector<std::pair<std::string, int>>{
             {"busy", 3}, {"mid", 2}, {"also", 2}, {"one", 1}}) {
        for (int i = 0; i < n - (name == "busy" ? 1 : 0); ++i)
            ASSERT_TRUE(b.subscribe({name}, std::nullopt, sinks[next++], 0).accepted);
    }
    // One subscriber of two channels counts in both: busy's third, one's second.
    ASSERT_TRUE(b.subscribe({"busy", "one"}, std::nullopt, sinks[next++], 0).accepted);
    publish(b, {"quiet"}, "x");
    ASSERT_EQ(next, sinks.size());

    const std::array<std::size_t, 4> bounds = {0, 1, 2, 10};
    auto c = b.census(bounds, 3);
    EXPECT_EQ(c.channels, 5u);
    EXPECT_EQ(c.subscriptions, 3u + 2u + 2u + 2u);
    EXPECT_EQ(c.at_most, (std::vector<std::uint64_t>{1, 1, 4, 5}));
    using entry = std::pair<std::string, std::size_t>;
    EXPECT_EQ(c.busiest, (std::vector<entry>{{"busy", 3}, {"also", 2}, {"mid", 2}}));

    EXPECT_TRUE(b.census(bounds, 0).busiest.empty());
    auto all = b.census(bounds, 100);
    ASSERT_EQ(all.busiest.size(), 5u);
    EXPECT_EQ(all.busiest.back(), (entry{"quiet", 0}));
    EXPECT_EQ(all.busiest[3], (entry{"one", 2}));
}

TEST(MemoryBrokerCensus, EmptyBroker) {
    memory_broker b(options());
    const std::array<std::size_t, 2> bounds = {0, 1};
    auto c = b.census(bounds, 5);
    EXPECT_EQ(c.channels, 0u);
    EXPECT_EQ(c.subscriptions, 0u);
    EXPECT_EQ(c.at_most, (std::vector<std::uint64_t>{0, 0}));
    EXPECT_TRUE(c.busiest.empty());
    EXPECT_FALSE(b.unavailable().has_value());
}
