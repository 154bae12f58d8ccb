#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "http_client.hpp"
#include "test_server.hpp"

using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

std::string publish_id(std::uint16_t port, const std::string& channel, const std::string& data) {
    auto res = test::publish(port, json{{"channel", channel}, {"data", data}}.dump());
    EXPECT_EQ(res.status, 200) << res.body;
    return json::parse(res.body)["id"];
}

std::vector<std::string> datas(const std::vector<sse_test::event>& events) {
    std::vector<std::string> out;
    for (const auto& e : events) out.push_back(e.data);
    return out;
}

}  // namespace

TEST(SubscribeApi, BadChannelsAre400WithJson) {
    test::server s;
    for (const char* target :
         {"/events?channel=bad%20name", "/events?channel=", "/events?channel=%00",
          "/events?channel=a%0D", "/events?channel=%zz"}) {
        auto res = test::request(s.port(), "GET", target);
        EXPECT_EQ(res.status, 400) << target;
        EXPECT_TRUE(json::parse(res.body, nullptr, false).contains("error"))
            << target << ": " << res.body;
    }
    std::string many = "/events?";
    for (int i = 0; i < 33; ++i) many += "channel=c" + std::to_string(i) + "&";
    auto res = test::request(s.port(), "GET", many);
    EXPECT_EQ(res.status, 400);
    EXPECT_NE(res.body.find("32"), std::string::npos);
    EXPECT_TRUE(s.wait_for_log("status=400"));
}

TEST(SubscribeApi, ThirtyTwoChannelsAreAllowed) {
    test::server s;
    std::string target = "/events?";
    for (int i = 0; i < 32; ++i) target += "channel=c" + std::to_string(i) + "&";
    test::sse_client sub(s.port(), target);
    EXPECT_EQ(sub.status(), 200);
    publish_id(s.port(), "c31", "last");
    ASSERT_TRUE(sub.wait_events(1));
    EXPECT_EQ(sub.events()[0].data, "last");
}

TEST(SubscribeApi, HeartbeatCommentsKeepComing) {
    test::server s({"--heartbeat", "100ms"});
    test::sse_client sub(s.port(), "/events?channel=quiet");
    // Five heartbeats in a row after the prelude; the deadline is generous, no timing is asserted.
    ASSERT_TRUE(sub.wait_raw("\n\n:\n:\n:\n:\n:\n", 10s)) << sub.raw();
    EXPECT_GE(sub.parser().comments().size(), 6u);  // ":ok" plus the heartbeats
    EXPECT_TRUE(sub.events().empty());
}

TEST(SubscribeApi, ReplayFromHeaderFromQueryAndHeaderWins) {
    test::server s;
    std::vector<std::string> ids;
    for (int i = 0; i < 5; ++i) ids.push_back(publish_id(s.port(), "r", "e" + std::to_string(i)));

    test::sse_client by_header(s.port(), "/events?channel=r", {{"Last-Event-ID", ids[1]}});
    ASSERT_TRUE(by_header.wait_events(3));
    EXPECT_EQ(datas(by_header.events()), (std::vector<std::string>{"e2", "e3", "e4"}));
    EXPECT_EQ(by_header.events()[0].last_event_id, ids[2]);

    test::sse_client by_query(s.port(), "/events?channel=r&lastEventId=" + ids[3]);
    ASSERT_TRUE(by_query.wait_events(1));
    EXPECT_EQ(datas(by_query.events()), (std::vector<std::string>{"e4"}));

    test::sse_client both(s.port(), "/events?channel=r&lastEventId=" + ids[0],
                          {{"Last-Event-ID", ids[2]}});
    ASSERT_TRUE(both.wait_events(2));
    EXPECT_EQ(datas(both.events()), (std::vector<std::string>{"e3", "e4"}));

    // Replay first, then live, nothing twice.
    publish_id(s.port(), "r", "live");
    ASSERT_TRUE(by_header.wait_events(4));
    EXPECT_EQ(by_header.events()[3].data, "live");
    ASSERT_FALSE(by_header.wait_events(5, 200ms));
}

TEST(SubscribeApi, NewestIdGivesNoReplayAndNoResync) {
    test::server s;
    publish_id(s.port(), "n", "old");
    auto newest = publish_id(s.port(), "n", "newest");
    test::sse_client sub(s.port(), "/events?channel=n", {{"Last-Event-ID", newest}});
    publish_id(s.port(), "n", "next");
    ASSERT_TRUE(sub.wait_events(1));
    EXPECT_EQ(datas(sub.events()), (std::vector<std::string>{"next"}));
}

TEST(SubscribeApi, MultiChannelReplayMergesInPublishOrder) {
    test::server s;
    auto start = publish_id(s.port(), "a", "a0");
    publish_id(s.port(), "b", "b1");
    publish_id(s.port(), "c", "c2");
    publish_id(s.port(), "a", "a3");
    ASSERT_EQ(test::publish(s.port(), R"({"channels":["a","b"],"data":"ab4"})").status, 200);
    publish_id(s.port(), "b", "b5");
    test::sse_client sub(s.port(), "/events?channel=a&channel=b", {{"Last-Event-ID", start}});
    ASSERT_TRUE(sub.wait_events(4));
    EXPECT_EQ(datas(sub.events()), (std::vector<std::string>{"b1", "a3", "ab4", "b5"}));
    EXPECT_FALSE(sub.wait_events(5, 200ms));
}

TEST(SubscribeApi, ResyncWhenEventsAfterTheResumePointWereEvicted) {
    test::server s({"--history", "3"});
    std::vector<std::string> ids;
    for (int i = 0; i < 6; ++i) ids.push_back(publish_id(s.port(), "h", "e" + std::to_string(i)));
    // Ring holds e3 e4 e5. Resuming after e1 lost e2: resync, then e3 e4 e5.
    test::sse_client lost(s.port(), "/events?channel=h", {{"Last-Event-ID", ids[1]}});
    ASSERT_TRUE(lost.wait_events(4));
    EXPECT_EQ(lost.events()[0].type, "resync");
    auto notice = json::parse(lost.events()[0].data);
    EXPECT_EQ(notice["lastEventId"], ids[1]);
    EXPECT_EQ(notice["oldestId"], ids[3]);
    EXPECT_EQ(datas(std::vector<sse_test::event>(lost.events().begin() + 1, lost.events().end())),
              (std::vector<std::string>{"e3", "e4", "e5"}));

    // Exactly the event before the oldest retained: nothing lost, no resync.
    test::sse_client edge(s.port(), "/events?channel=h", {{"Last-Event-ID", ids[2]}});
    ASSERT_TRUE(edge.wait_events(3));
    EXPECT_EQ(datas(edge.events()), (std::vector<std::string>{"e3", "e4", "e5"}));
    EXPECT_FALSE(edge.wait_events(4, 200ms));
}

TEST(SubscribeApi, ResyncForGarbageAndEarlierRunIds) {
    test::server s({"--history", "10"});
    publish_id(s.port(), "g", "kept");
    for (const std::string& bad :
         {std::string("garbage"), std::string("1-1"), std::string("99999999999999-1")}) {
        test::sse_client sub(s.port(), "/events?channel=g", {{"Last-Event-ID", bad}});
        ASSERT_TRUE(sub.wait_events(2)) << bad;
        EXPECT_EQ(sub.events()[0].type, "resync") << bad;
        EXPECT_EQ(json::parse(sub.events()[0].data)["lastEventId"], bad);
        EXPECT_EQ(sub.events()[1].data, "kept");
        // Reconnecting from where the stream left off does not resync again.
        test::sse_client again(s.port(), "/events?channel=g",
                               {{"Last-Event-ID", sub.parser().last_event_id()}});
        publish_id(s.port(), "g", "after-" + bad);
        ASSERT_TRUE(again.wait_events(1));
        EXPECT_EQ(again.events()[0].type, "message");
        EXPECT_EQ(again.events()[0].data, "after-" + bad);
    }
}

TEST(SubscribeApi, ChannelLimitAnswersRetryNotAnError) {
    test::server s({"--max-channels", "2"});
    publish_id(s.port(), "one", "x");
    publish_id(s.port(), "two", "x");
    auto res = test::publish(s.port(), R"({"channel":"three","data":"x"})");
    EXPECT_EQ(res.status, 503);
    auto health = json::parse(test::request(s.port(), "GET", "/healthz").body);
    EXPECT_EQ(health["counters"]["channel_limit_hits"], 1);
    EXPECT_NE(json::parse(res.body)["error"].get<std::string>().find("channel limit"),
              std::string::npos);

    test::sse_client sub(s.port(), "/events?channel=three");
    EXPECT_EQ(sub.status(), 200);  // EventSource gives up for good on anything else
    EXPECT_TRUE(sub.wait_closed());
    EXPECT_TRUE(sub.parser().retry().has_value());
    EXPECT_TRUE(sub.events().empty());
}

TEST(SubscribeApi, ConnectionLimitAnswersRetryForStreamsAnd503ForTheRest) {
    test::server s({"--max-connections", "2"});
    test::sse_client a(s.port(), "/events?channel=x");
    test::sse_client b(s.port(), "/events?channel=x");
    test::sse_client over(s.port(), "/events?channel=x");
    EXPECT_EQ(over.status(), 200);
    EXPECT_TRUE(over.wait_closed());
    ASSERT_TRUE(over.parser().retry().has_value());
    EXPECT_GE(*over.parser().retry(), 1000u);
    // Readiness and the rest are refused; a health check is answered, so that a monitor does not
    // restart a daemon that is only full.
    auto ready = test::request(s.port(), "GET", "/readyz");
    EXPECT_EQ(ready.status, 503);
    EXPECT_EQ(json::parse(ready.body), json({{"error", "connection limit reached"}})) << ready.body;
    EXPECT_EQ(test::request(s.port(), "GET", "/channels").status, 503);
    auto health = test::request(s.port(), "GET", "/healthz");
    EXPECT_EQ(health.status, 200) << health.body;
    EXPECT_EQ(json::parse(health.body).at("status"), "ok") << health.body;
    EXPECT_TRUE(s.wait_for_log("connection limit reached"));
}

// Over the limit a health check gets its one answer and its connection is closed, though it asked
// to keep it: it never stays open over the limit, nor lets anything else in.
TEST(SubscribeApi, AHealthCheckOverTheConnectionLimitIsAnsweredThenClosed) {
    test::server s({"--max-connections", "1"});
    test::sse_client held(s.port(), "/events?channel=x");
    ASSERT_TRUE(held.wait_raw(":ok\n"));
    test::connection check(s.port());
    check.send(test::format_request("GET", "/healthz", "", {}, true));
    auto res = check.read_response();
    EXPECT_EQ(res.status, 200) << res.body;
    EXPECT_EQ(res.headers["Connection"], "close");
    EXPECT_TRUE(check.wait_closed(10s));
    EXPECT_TRUE(check.buffer().empty()) << check.buffer();
    test::sse_client over(s.port(), "/events?channel=x");
    EXPECT_TRUE(over.wait_closed());
    EXPECT_NE(over.raw().find(": connection limit reached\n"), std::string::npos) << over.raw();
    auto counters = json::parse(test::request(s.port(), "GET", "/healthz").body)["counters"];
    EXPECT_EQ(counters["connections_refused"], 3) << counters;  // both checks and the stream
}

// Seen on the landed daemon: with the limit at 500, one of 500 simultaneous opens was told
// "connection limit reached" while 499 were open (2 of 8 runs): a connection being handed to its
// worker, and a session becoming a stream, were briefly counted twice.
TEST(SubscribeApi, EveryStreamUpToTheConnectionLimitIsServed) {
    constexpr int limit = 500;
    test::server s({"--max-connections", std::to_string(limit), "--threads", "2"});
    for (int round = 0; round < 4; ++round) {
        SCOPED_TRACE("round " + std::to_string(round));
        // All connected before any request is sent, then all requests at once.
        std::vector<std::unique_ptr<test::connection>> conns;
        for (int i = 0; i < limit; ++i)
            conns.push_back(std::make_unique<test::connection>(s.port()));
        auto request = test::format_request("GET", "/events?channel=limit", "", {}, true);
        for (auto& c : conns) c->send(request);
        int opened = 0;
        for (auto& c : conns) {
            bool got = c->read_until(
                [](const std::string& b) {
                    return b.find(":ok\n") != std::string::npos ||
                           b.find("connection limit reached") != std::string::npos;
                },
                10s);
            ASSERT_TRUE(got) << "no answer on a connection";
            if (c->buffer().find(":ok\n") != std::string::npos) ++opened;
        }
        EXPECT_EQ(opened, limit);
        conns.clear();
        // Every connection is gone before the next round (this one is the only one left).
        ASSERT_TRUE(test::eventually([&] {
            auto health = json::parse(test::request(s.port(), "GET", "/healthz").body);
            return health["connections"] == 1;
        }));
    }
}

// The resume point is echoed in the resync notice up to 128 bytes, cut before a character that
// does not fit whole (seen on the landed daemon: the cut left half a character, sent as U+FFFD).
TEST(SubscribeApi, ResyncEchoIsCutOnACharacterBoundary) {
    test::server s;
    const std::string e_acute = "\xC3\xA9";  // é, two bytes in UTF-8
    for (std::size_t ascii : {126u, 127u}) {
        SCOPED_TRACE(ascii);
        auto resume = std::string(ascii, 'a') + e_acute + e_acute;
        test::sse_client header(s.port(), "/events?channel=echo", {{"Last-Event-ID", resume}});
        std::string escaped;
        for (unsigned char c : resume) {
            char hex[4];
            std::snprintf(hex, sizeof hex, "%%%02X", c);
            escaped += hex;
        }
        test::sse_client query(s.port(), "/events?channel=echo&lastEventId=" + escaped);
        // 126 ASCII bytes leave room for one whole é; 127 for none.
        auto expected = std::string(ascii, 'a') + (ascii == 126 ? e_acute : "");
        for (auto* sub : {&header, &query}) {
            ASSERT_TRUE(sub->wait_events(1));
            ASSERT_EQ(sub->events()[0].type, "resync");
            auto notice = json::parse(sub->events()[0].data);
            EXPECT_EQ(notice["lastEventId"], expected);
            EXPECT_EQ(notice["lastEventId"].get<std::string>().find("\xEF\xBF\xBD"),
                      std::string::npos);
        }
    }
}
