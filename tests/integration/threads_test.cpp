#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "http_client.hpp"
#include "test_server.hpp"

using namespace std::chrono_literals;
using json = nlohmann::json;

// Subscribers land on different event loops (round robin); each loop gets every event once and
// delivers in publish order, while publishers on other loops publish concurrently.
TEST(Threads, SubscribersOnEveryLoopGetEveryEventInOrder) {
    test::server s({"--threads", "4", "--history", "10000"});
    EXPECT_TRUE(s.wait_for_log("threads=4"));
    std::vector<std::unique_ptr<test::sse_client>> subs;
    for (int i = 0; i < 64; ++i) {
        subs.push_back(std::make_unique<test::sse_client>(s.port(), "/events?channel=t&channel=u"));
    }
    // Two publishers at once, on their own connections (so on different loops).
    std::vector<std::string> ids[2];
    auto run_publisher = [&](int which) {
        test::publisher p(s.port());
        for (int i = 0; i < 200; ++i) {
            auto res = p.post(
                json{{"channel", which == 0 ? "t" : "u"}, {"data", std::to_string(which)}}.dump());
            ASSERT_EQ(res.status, 200);
            EXPECT_EQ(json::parse(res.body)["delivered"], 64);
            ids[which].push_back(json::parse(res.body)["id"]);
        }
    };
    std::thread a(run_publisher, 0), b(run_publisher, 1);
    a.join();
    b.join();
    ASSERT_EQ(ids[0].size() + ids[1].size(), 400u);

    auto seq = [](const std::string& id) { return std::stoull(id.substr(id.find('-') + 1)); };
    for (auto& sub : subs) {
        if (!sub->wait_events(400, 5s)) {
            std::set<std::string> got;
            for (auto& e : sub->events()) got.insert(e.last_event_id);
            std::string missing;
            for (int w = 0; w < 2; ++w)
                for (auto& id : ids[w])
                    if (!got.count(id)) missing += id + " ";
            FAIL() << sub->events().size() << " missing: " << missing << "\nraw tail: "
                   << sub->raw().substr(sub->raw().size() > 600 ? sub->raw().size() - 600 : 0);
        }
        std::uint64_t previous = 0;
        std::size_t from[2] = {0, 0};
        for (const auto& e : sub->events()) {
            auto n = seq(e.last_event_id);
            EXPECT_GT(n, previous) << "out of order or duplicated";
            previous = n;
            int which = e.data == "0" ? 0 : 1;
            ASSERT_LT(from[which], ids[which].size());
            EXPECT_EQ(e.last_event_id, ids[which][from[which]++]);
        }
    }
    EXPECT_EQ(s.stop().code, 0) << s.log();
}

TEST(Threads, ReplayAcrossLoopsHasNoGapAndNoDuplicate) {
    test::server s({"--threads", "3", "--history", "10000"});
    test::publisher publisher(s.port());
    std::vector<std::string> ids;
    auto publish_one = [&] {
        auto res = publisher.post(R"({"channel":"r","data":"x"})");
        ASSERT_EQ(res.status, 200);
        ids.push_back(json::parse(res.body)["id"]);
    };
    publish_one();
    // Each reconnect lands on the next loop; events published between the connections must be
    // replayed exactly once.
    std::string last = ids.back();
    for (int round = 0; round < 30; ++round) {
        test::sse_client sub(s.port(), "/events?channel=r", {{"Last-Event-ID", last}});
        auto before = ids.size();
        publish_one();
        publish_one();
        ASSERT_TRUE(sub.wait_events(2)) << "round " << round;
        EXPECT_FALSE(sub.wait_events(3, 50ms));
        EXPECT_EQ(sub.events()[0].last_event_id, ids[before]);
        EXPECT_EQ(sub.events()[1].last_event_id, ids[before + 1]);
        last = sub.events()[1].last_event_id;
    }
}

// Once a client sees its stream open, an event published at once must reach it, whichever loops
// the stream and the publisher are on.
TEST(Threads, EventPublishedRightAfterTheStreamOpensIsDelivered) {
    test::server s({"--threads", "4"});
    test::publisher publisher(s.port());
    for (int round = 0; round < 100; ++round) {
        auto channel = "open-" + std::to_string(round);
        test::sse_client sub(s.port(), "/events?channel=" + channel);
        ASSERT_EQ(sub.status(), 200);
        auto res = publisher.post(json{{"channel", channel}, {"data", "now"}}.dump());
        ASSERT_EQ(res.status, 200);
        EXPECT_EQ(json::parse(res.body)["delivered"], 1) << "round " << round;
        ASSERT_TRUE(sub.wait_events(1, 5s)) << "round " << round;
    }
}
