// Slow-header and slow-body clients (slowloris): --request-timeout is one deadline for the whole
// request, not per read, so a client that trickles a byte a second is cut at the deadline however
// steadily it sends, and a thousand of them do not hold the daemon up for anyone else.

#include <gtest/gtest.h>

#include <atomic>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "http_client.hpp"
#include "test_server.hpp"

using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

// Sends `bytes` one byte a second until the daemon closes the connection or `limit` passes;
// returns how long the daemon took to close it (nothing if it did not).
std::optional<std::chrono::milliseconds> trickle(test::connection& c, const std::string& bytes,
                                                 std::chrono::milliseconds limit) {
    auto started = test::clock::now();
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        try {
            c.send(bytes.substr(i, 1));
        } catch (const std::exception&) {
            break;  // reset by the daemon
        }
        // Waiting for the close is the one-second pace (fill returns early only when it closes).
        auto until_next = test::clock::now() + 1s;
        while (test::clock::now() < until_next && !c.closed()) {
            c.fill(std::chrono::duration_cast<std::chrono::milliseconds>(until_next -
                                                                         test::clock::now()));
        }
        if (c.closed() || test::clock::now() - started > limit) break;
    }
    if (!c.closed() && !c.wait_closed(100ms)) return std::nullopt;
    return std::chrono::duration_cast<std::chrono::milliseconds>(test::clock::now() - started);
}

const std::string header_trickle =
    "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + std::string(60, 'a');
const std::string body_trickle =
    "POST /notify HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    "Content-Length: 100\r\n\r\n" +
    std::string(100, ' ');

}  // namespace

TEST(Slowloris, AHeaderTrickleIsCutAtTheRequestTimeout) {
    test::server s({"--request-timeout", "2s"});
    test::connection c(s.port());
    // A byte a second would keep a per-read timeout of 2 s waiting for ever; 8 s is plenty for
    // 2 s plus the 250 ms sweep.
    auto closed_after = trickle(c, header_trickle, 8s);
    ASSERT_TRUE(closed_after.has_value()) << "still open after 8 s of trickling";
    EXPECT_TRUE(c.buffer().empty()) << "answered: " << c.buffer();
    std::cout << "header trickle closed after " << closed_after->count() << " ms\n";
    EXPECT_EQ(test::request(s.port(), "GET", "/healthz").status, 200);
}

TEST(Slowloris, ABodyTrickleIsCutAtTheRequestTimeout) {
    test::server s({"--request-timeout", "2s"});
    test::connection c(s.port());
    // The header arrives whole; only the body trickles.
    c.send(body_trickle.substr(0, body_trickle.size() - 100));
    auto closed_after = trickle(c, std::string(100, ' '), 8s);
    ASSERT_TRUE(closed_after.has_value()) << "still open after 8 s of trickling";
    std::cout << "body trickle closed after " << closed_after->count() << " ms\n";
    // Nothing was published.
    auto channels = json::parse(test::request(s.port(), "GET", "/channels").body);
    EXPECT_TRUE(channels["channels"].empty()) << channels;
}

TEST(Slowloris, AThousandTricklersDoNotHoldUpOthers) {
    constexpr int kClients = 1000;
    constexpr int kSources = 4;  // 250 each: under the default --max-connections-per-ip
    constexpr auto kTimeout = 10s;
    test::server s({"--request-timeout", "10s"});
    std::vector<std::unique_ptr<test::connection>> slow;
    slow.reserve(kClients);
    for (int i = 0; i < kClients; ++i) {
        auto source = "127.0.0." + std::to_string(2 + i % kSources);
        slow.push_back(std::make_unique<test::connection>(s.port(), "127.0.0.1", source.c_str()));
        // Half of them in the headers, half in a body.
        slow.back()->send(i % 2 == 0 ? header_trickle.substr(0, 30)
                                     : body_trickle.substr(0, body_trickle.size() - 100));
    }
    auto opened = test::clock::now();

    // One byte more on each, every second: load, not synchronisation. Bounded by rounds and time.
    std::atomic<bool> stop{false};
    std::thread load([&] {
        for (int round = 0; round < 30 && !stop; ++round) {
            for (auto& c : slow) {
                if (stop) break;
                try {
                    c->send(" ");
                } catch (const std::exception&) {
                    // closed by the daemon
                }
            }
            for (int tick = 0; tick < 10 && !stop; ++tick) std::this_thread::sleep_for(100ms);
        }
    });
    struct stop_load {
        std::atomic<bool>& stop;
        std::thread& load;
        ~stop_load() {
            stop = true;
            load.join();
        }
    } stopper{stop, load};

    // All of them are connected meanwhile.
    ASSERT_TRUE(test::eventually(
        [&] {
            auto health = test::request(s.port(), "GET", "/healthz");
            return health.status == 200 &&
                   json::parse(health.body)["connections"].get<int>() >= kClients + 1;
        },
        5s))
        << "the trickling clients did not all get connected";

    // Others are served, within bounded waits.
    auto started = test::clock::now();
    auto health = test::request(s.port(), "GET", "/healthz", "", {}, 2s);
    auto health_ms =
        std::chrono::duration<double, std::milli>(test::clock::now() - started).count();
    EXPECT_EQ(health.status, 200) << "GET /healthz did not complete within 2 s";

    test::sse_client sub(s.port(), "/events?channel=alive", {}, 2s);
    ASSERT_TRUE(sub.wait_raw(":ok\n", 2s));
    started = test::clock::now();
    auto res = test::publish(s.port(), json{{"channel", "alive"}, {"data", "served"}}.dump());
    EXPECT_EQ(res.status, 200) << res.body;
    bool delivered = sub.wait_events(1, 2s);
    auto delivery_ms =
        std::chrono::duration<double, std::milli>(test::clock::now() - started).count();
    EXPECT_TRUE(delivered) << "publish to subscriber did not complete within 2 s";
    auto health_json = json::parse(test::request(s.port(), "GET", "/healthz").body);
    EXPECT_GE(health_json["connections"].get<int>(), kClients)
        << "the tricklers were gone before the measurements were done";
    std::cout << "with " << kClients << " trickling clients connected: GET /healthz took "
              << health_ms << " ms, publish to delivery took " << delivery_ms << " ms\n";

    // And the daemon cuts every one of them at the request timeout (+ the sweep), not later.
    int still_open = 0;
    auto deadline = opened + kTimeout + 5s;
    for (auto& c : slow) {
        auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - test::clock::now());
        if (!c->wait_closed(std::max(left, std::chrono::milliseconds(1)))) ++still_open;
    }
    EXPECT_EQ(still_open, 0) << "trickling clients the daemon did not cut";
}
