// --publish-rate / --publish-burst: a token bucket per publisher on POST /notify, after the
// access rule; past it, 429 with Retry-After, and nothing is published.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "http_client.hpp"
#include "prometheus_text.hpp"
#include "test_server.hpp"

using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

std::string event(int i) {
    return json{{"channel", "rate"}, {"data", i}}.dump();
}

// POST /notify on `conn` (keep-alive), with `headers`.
test::http_response post(test::connection& conn, const std::string& body,
                         const test::header_map& headers = {}) {
    auto all = headers;
    all.emplace("Content-Type", "application/json");
    conn.send(test::format_request("POST", "/notify", body, all, true));
    return conn.read_response();
}

void expect_rate_limited(const test::http_response& res) {
    EXPECT_EQ(res.status, 429) << res.body;
    EXPECT_EQ(res.headers.at("Content-Type"), "application/json");
    auto body = json::parse(res.body, nullptr, false);
    ASSERT_TRUE(body.is_object()) << res.body;
    EXPECT_NE(body["error"].get<std::string>().find("--publish-rate"), std::string::npos)
        << res.body;
    ASSERT_TRUE(res.headers.count("Retry-After")) << "no Retry-After";
    const auto& retry = res.headers.at("Retry-After");
    EXPECT_EQ(retry.find_first_not_of("0123456789"), std::string::npos) << retry;
    EXPECT_GE(std::stoi(retry), 1);
}

}  // namespace

TEST(PublishRate, TheBurstPassesThenRequestsGet429AndPublishNothing) {
    test::server s({"--publish-rate", "1/s", "--publish-burst", "3"});
    test::sse_client sub(s.port(), "/events?channel=rate");
    ASSERT_TRUE(sub.wait_raw(":ok\n"));
    test::connection conn(s.port());
    // A batch is one request, whatever its size.
    auto batch = post(conn, "[" + event(0) + "," + event(1) + "," + event(2) + "]");
    ASSERT_EQ(batch.status, 200) << batch.body;
    for (int i = 3; i < 5; ++i) ASSERT_EQ(post(conn, event(i)).status, 200) << i;
    auto refused = post(conn, event(99));
    expect_rate_limited(refused);
    EXPECT_FALSE(conn.closed()) << "a rate-limited publisher keeps its connection";
    EXPECT_TRUE(s.wait_for_log("status=429 reason=publish rate limit reached")) << s.log();

    ASSERT_TRUE(sub.wait_events(5));
    EXPECT_FALSE(sub.wait_events(6, 300ms)) << "the refused event was published";
    for (int i = 0; i < 5; ++i) EXPECT_EQ(sub.events()[i].data, std::to_string(i));

    auto m = prom::parse(test::request(s.port(), "GET", "/metrics").body);
    EXPECT_EQ(m.at("ssecast_publish_rate_limited_total"), 1);
    EXPECT_EQ(m.at("ssecast_publish_rate_buckets"), 1);
    auto health = json::parse(test::request(s.port(), "GET", "/healthz").body);
    EXPECT_EQ(health["counters"]["publish_rate_limited"], 1) << health;

    // The bucket refills at the rate: the publisher gets through again within its Retry-After
    // (and a little).
    auto wait = std::chrono::seconds(std::stoi(refused.headers.at("Retry-After")));
    test::http_response again;
    EXPECT_TRUE(
        test::eventually([&] { return (again = post(conn, event(5))).status == 200; }, wait + 2s))
        << again.status << " " << again.body;
}

TEST(PublishRate, PublishersAreCountedApart) {
    test::server s({"--publish-rate", "1/s", "--publish-burst", "1"});
    test::connection first(s.port());
    ASSERT_EQ(post(first, event(0)).status, 200);
    expect_rate_limited(post(first, event(1)));
    // Another address (loopback, so it may publish) has its own bucket.
    test::connection second(s.port(), "127.0.0.1", "127.0.0.2");
    EXPECT_EQ(post(second, event(2)).status, 200);
}

TEST(PublishRate, RefusedByTheAccessRuleTakesNoToken) {
    test::server s({"--publish-rate", "1/s", "--publish-burst", "1"});
    test::connection conn(s.port());
    for (int i = 0; i < 5; ++i) {
        EXPECT_EQ(post(conn, event(i), {{"X-Forwarded-For", "203.0.113.7"}}).status, 403) << i;
    }
    EXPECT_EQ(post(conn, event(5)).status, 200);
    expect_rate_limited(post(conn, event(6)));  // the one token was there, and is now gone
}

TEST(PublishRate, ThroughATrustedProxyTheClientIsThePublisher) {
    test::server s(
        {"--trusted-proxies", "127.0.0.1", "--publish-rate", "1/s", "--publish-burst", "1"});
    test::connection proxy(s.port());
    auto as = [](const char* client) { return test::header_map{{"X-Forwarded-For", client}}; };
    EXPECT_EQ(post(proxy, event(0), as("127.0.0.9")).status, 200);
    expect_rate_limited(post(proxy, event(1), as("127.0.0.9")));
    EXPECT_EQ(post(proxy, event(2), as("127.0.0.10")).status, 200);
    EXPECT_EQ(post(proxy, event(3)).status, 200);  // the proxy's own bucket
}

TEST(PublishRate, OffByDefault) {
    test::server s;
    test::connection conn(s.port());
    for (int i = 0; i < 200; ++i) ASSERT_EQ(post(conn, event(i)).status, 200) << i;
    auto m = prom::parse(test::request(s.port(), "GET", "/metrics").body);
    EXPECT_EQ(m.at("ssecast_publish_rate_buckets"), 0);
    EXPECT_NE(s.log().find("publish_rate=off"), std::string::npos) << s.log();
}

TEST(PublishRate, InvalidValuesExitWithCode2) {
    for (const char* rate : {"fast", "2000000/s", "5/h"}) {
        auto r = test::run_ssecast({"--publish-rate", rate});
        EXPECT_EQ(r.status.code, 2) << rate;
        EXPECT_NE(r.err.find("--publish-rate"), std::string::npos) << r.err;
    }
}
