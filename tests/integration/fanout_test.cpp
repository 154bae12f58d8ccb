// Fan-out: many concurrent subscribers each get every event of their channels, in order.

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "http_client.hpp"
#include "test_server.hpp"

using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

using test::publisher;

// The test process and the daemon each hold one descriptor per subscriber.
bool enough_descriptors(rlim_t needed, std::string& why) {
    test::raise_fd_limit();
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
        why = "getrlimit(RLIMIT_NOFILE) failed";
        return false;
    }
    if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < needed) {
        why = "RLIMIT_NOFILE is " + std::to_string(limit.rlim_cur) + " (hard " +
              std::to_string(limit.rlim_max) + "), this test needs " + std::to_string(needed);
        return false;
    }
    return true;
}

struct expected_event {
    std::string id;
    std::string type;  // "message" when none was given
    std::string data;
};

// Opens `n` subscribers on `target`, each checked for status 200.
void open_subscribers(std::uint16_t port, const std::string& target, std::size_t n,
                      std::vector<std::unique_ptr<test::sse_client>>& out) {
    for (std::size_t i = 0; i < n; ++i) {
        auto client = std::make_unique<test::sse_client>(port, target);
        ASSERT_EQ(client->status(), 200) << "subscriber " << out.size() << " on " << target << "\n"
                                         << client->head();
        out.push_back(std::move(client));
    }
}

void expect_exactly(test::sse_client& client, const std::vector<expected_event>& expected,
                    const std::string& who) {
    ASSERT_TRUE(client.wait_events(expected.size(), 10s))
        << who << " got " << client.events().size() << " of " << expected.size() << " events";
    ASSERT_EQ(client.events().size(), expected.size()) << who;
    for (std::size_t i = 0; i < expected.size(); ++i) {
        const auto& got = client.events()[i];
        ASSERT_EQ(got.last_event_id, expected[i].id) << who << " event " << i;
        ASSERT_EQ(got.type, expected[i].type) << who << " event " << i;
        ASSERT_EQ(got.data, expected[i].data) << who << " event " << i;
    }
    // Nothing more is on its way (a subscriber getting another channel's event would show here).
    // Everything was published before this subscriber is read, so it is all in the socket already.
    ASSERT_FALSE(client.wait_events(expected.size() + 1, 1ms)) << who << " got an extra event";
}

}  // namespace

TEST(Fanout, ThousandSubscribersGetEveryEventInOrder) {
    constexpr std::size_t kSubscribers = 1000;
    constexpr int kEvents = 50;
    std::string why;
    if (!enough_descriptors(2100, why)) GTEST_SKIP() << why;

    // A thousand streams and the requests beside them, all from 127.0.0.1: more than the default
    // --max-connections-per-ip allows one address.
    test::server s({"--max-connections-per-ip", "0"});
    std::vector<std::unique_ptr<test::sse_client>> subs;
    subs.reserve(kSubscribers);
    open_subscribers(s.port(), "/events?channel=big", kSubscribers, subs);
    ASSERT_EQ(subs.size(), kSubscribers);

    auto health = test::request(s.port(), "GET", "/healthz");
    ASSERT_EQ(health.status, 200);
    EXPECT_EQ(json::parse(health.body).at("subscribers"), kSubscribers) << health.body;

    publisher pub(s.port());
    std::vector<expected_event> expected;
    for (int i = 0; i < kEvents; ++i) {
        auto data = "event " + std::to_string(i) + " ";
        data.resize(100, static_cast<char>('a' + i % 26));
        json body{{"channel", "big"}, {"data", data}};
        std::string type = "message";
        if (i % 5 == 1) {
            type = "tick";
            body["event"] = type;
        } else if (i % 5 == 3) {
            type = "update-" + std::to_string(i);
            body["event"] = type;
        }
        auto res = pub.post(body.dump());
        ASSERT_EQ(res.status, 200) << res.body;
        auto answer = json::parse(res.body);
        EXPECT_EQ(answer.at("delivered"), kSubscribers) << "event " << i << ": " << res.body;
        expected.push_back({answer.at("id").get<std::string>(), type, data});
    }

    // One subscriber at a time: the kernel buffers hold what the others have not read yet.
    for (std::size_t i = 0; i < subs.size(); ++i) {
        expect_exactly(*subs[i], expected, "subscriber " + std::to_string(i));
        if (HasFatalFailure()) return;
    }

    auto channels = test::request(s.port(), "GET", "/channels");
    ASSERT_EQ(channels.status, 200);
    auto list = json::parse(channels.body).at("channels");
    ASSERT_EQ(list.size(), 1u) << channels.body;
    EXPECT_EQ(list[0].at("name"), "big");
    EXPECT_EQ(list[0].at("subscribers"), kSubscribers);
    EXPECT_EQ(list[0].at("buffered"), kEvents);
    EXPECT_EQ(list[0].at("lastId"), expected.back().id);

    // Shutting down with every stream open still ends cleanly.
    auto stopped = s.stop();
    EXPECT_TRUE(stopped.exited);
    EXPECT_EQ(stopped.code, 0) << s.log();
}

TEST(Fanout, ManyChannelsAndMultiChannelSubscribersGetExactlyTheirEvents) {
    constexpr int kChannels = 20;
    constexpr std::size_t kPerChannel = 10;
    constexpr std::size_t kEverything = 10;
    constexpr int kEvents = 100;
    std::string why;
    if (!enough_descriptors(2 * (kChannels * kPerChannel + kEverything) + 200, why))
        GTEST_SKIP() << why;

    test::server s;
    auto channel = [](int c) { return "room-" + std::to_string(c); };
    std::vector<std::vector<std::unique_ptr<test::sse_client>>> by_channel(kChannels);
    for (int c = 0; c < kChannels; ++c) {
        open_subscribers(s.port(), "/events?channel=" + channel(c), kPerChannel, by_channel[c]);
        if (HasFatalFailure()) return;
    }
    std::string all_target = "/events?";
    for (int c = 0; c < kChannels; ++c)
        all_target += (c == 0 ? "channel=" : "&channel=") + channel(c);
    std::vector<std::unique_ptr<test::sse_client>> everything;
    open_subscribers(s.port(), all_target, kEverything, everything);
    if (HasFatalFailure()) return;

    publisher pub(s.port());
    std::vector<std::vector<expected_event>> expected(kChannels);
    std::vector<expected_event> all;
    for (int i = 0; i < kEvents; ++i) {
        int c = i % kChannels;
        // Every tenth event also goes to the next channel: the all-channels subscribers get it
        // once.
        int also = i % 10 == 9 ? (c + 1) % kChannels : -1;
        auto data = json{{"n", i}, {"channel", channel(c)}};
        json body{{"data", data}};
        if (also < 0) {
            body["channel"] = channel(c);
        } else {
            body["channels"] = {channel(c), channel(also)};
        }
        auto res = pub.post(body.dump());
        ASSERT_EQ(res.status, 200) << res.body;
        auto answer = json::parse(res.body);
        EXPECT_EQ(answer.at("delivered"), (also < 0 ? 1 : 2) * kPerChannel + kEverything)
            << "event " << i << ": " << res.body;
        expected_event e{answer.at("id").get<std::string>(), "message", data.dump()};
        expected[c].push_back(e);
        if (also >= 0) expected[also].push_back(e);
        all.push_back(e);
    }

    for (int c = 0; c < kChannels; ++c) {
        for (std::size_t k = 0; k < by_channel[c].size(); ++k) {
            expect_exactly(*by_channel[c][k], expected[c],
                           channel(c) + " subscriber " + std::to_string(k));
            if (HasFatalFailure()) return;
        }
    }
    for (std::size_t k = 0; k < everything.size(); ++k) {
        expect_exactly(*everything[k], all, "all-channels subscriber " + std::to_string(k));
        if (HasFatalFailure()) return;
    }

    auto stopped = s.stop();
    EXPECT_TRUE(stopped.exited);
    EXPECT_EQ(stopped.code, 0) << s.log();
}
