// --trusted-proxies: the test itself plays the proxy, sending X-Forwarded-For from 127.0.0.1.
// Only a trusted peer's X-Forwarded-For names the client, and that client is what the logs show
// and what the local-only rule of POST /notify judges.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "http_client.hpp"
#include "test_server.hpp"

using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

test::http_response publish_via(std::uint16_t port, const test::header_map& proxy_headers,
                                const std::string& channel = "via") {
    return test::publish(port, json{{"channel", channel}, {"data", "x"}}.dump(), proxy_headers);
}

std::string error_of(const test::http_response& res) {
    auto body = json::parse(res.body, nullptr, false);
    if (body.is_discarded() || !body.contains("error")) return "";
    return body["error"].get<std::string>();
}

}  // namespace

TEST(TrustedProxies, PublishingThroughAProxyIsJudgedByTheRealClient) {
    test::server s({"--trusted-proxies", "127.0.0.1"});

    // A process on this host, relayed by the proxy: local, so it may publish; the log shows it.
    auto local = publish_via(s.port(), {{"X-Forwarded-For", "127.0.0.9"}});
    EXPECT_EQ(local.status, 200) << local.body;
    EXPECT_TRUE(s.wait_for_log(
        "request peer=127.0.0.9 proxy=127.0.0.1 method=POST path=/notify status=200"))
        << s.log();

    // A remote client, relayed: remote, refused; the log names the client, not the proxy.
    auto remote = publish_via(s.port(), {{"X-Forwarded-For", "198.51.100.1, 203.0.113.7"}});
    EXPECT_EQ(remote.status, 403) << remote.body;
    EXPECT_TRUE(s.wait_for_log(
        "rejected peer=203.0.113.7 proxy=127.0.0.1 method=POST path=/notify status=403"))
        << s.log();
    EXPECT_TRUE(s.wait_for_log(
        "request peer=203.0.113.7 proxy=127.0.0.1 method=POST path=/notify status=403"))
        << s.log();

    // The proxy relays without naming the client: relayed, so not local.
    auto unnamed = publish_via(s.port(), {{"X-Real-IP", "127.0.0.1"}});
    EXPECT_EQ(unnamed.status, 403) << unnamed.body;

    // An entry that is not an address, before the client is found: 400, never the proxy's.
    auto garbage = publish_via(s.port(), {{"X-Forwarded-For", "203.0.113.7, unknown"}});
    EXPECT_EQ(garbage.status, 400) << garbage.body;
    EXPECT_NE(error_of(garbage).find("X-Forwarded-For entry \"unknown\""), std::string::npos)
        << garbage.body;
    EXPECT_EQ(garbage.headers["Content-Type"], "application/json");

    // The proxy talking for itself is still local.
    EXPECT_EQ(publish_via(s.port(), {}).status, 200);

    // Nothing refused was published.
    auto channels = json::parse(test::request(s.port(), "GET", "/channels").body);
    ASSERT_EQ(channels["channels"].size(), 1u) << channels;
    EXPECT_EQ(channels["channels"][0]["buffered"], 2) << channels;
}

TEST(TrustedProxies, StreamLinesNameTheRelayedClient) {
    test::server s({"--trusted-proxies", "127.0.0.1"});
    {
        test::sse_client sub(s.port(), "/events?channel=relayed",
                             {{"X-Forwarded-For", "[2001:db8::7]:4711"}});
        ASSERT_EQ(sub.status(), 200);
        ASSERT_TRUE(sub.wait_raw(":ok\n"));
    }
    EXPECT_TRUE(s.wait_for_log("stream end peer=2001:db8::7 proxy=127.0.0.1:")) << s.log();
}

TEST(TrustedProxies, WithoutThemForwardedForNamesNobody) {
    test::server s;
    auto res = publish_via(s.port(), {{"X-Forwarded-For", "127.0.0.9"}});
    EXPECT_EQ(res.status, 403) << res.body;  // any proxy header makes a request remote
    EXPECT_TRUE(s.wait_for_log("request peer=127.0.0.1 method=POST path=/notify status=403"))
        << s.log();
    EXPECT_EQ(s.log().find("127.0.0.9"), std::string::npos) << s.log();
    // Nor is garbage looked at.
    EXPECT_EQ(publish_via(s.port(), {{"X-Forwarded-For", "unknown"}}).status, 403);
}

TEST(TrustedProxies, AnUntrustedPeerIsNotBelieved) {
    // Only 127.0.0.2 is trusted; the test connects from 127.0.0.1.
    test::server s({"--trusted-proxies", "127.0.0.2"});
    auto res = publish_via(s.port(), {{"X-Forwarded-For", "127.0.0.9"}});
    EXPECT_EQ(res.status, 403) << res.body;
    EXPECT_EQ(publish_via(s.port(), {{"X-Forwarded-For", "unknown"}}).status, 403);
    EXPECT_TRUE(s.wait_for_log("request peer=127.0.0.1 method=POST path=/notify status=403"))
        << s.log();
    EXPECT_EQ(s.log().find("127.0.0.9"), std::string::npos) << s.log();

    // From 127.0.0.2 it is believed.
    test::connection c(s.port(), "127.0.0.1", "127.0.0.2");
    c.send(test::format_request(
        "POST", "/notify", R"({"data":"x"})",
        {{"Content-Type", "application/json"}, {"X-Forwarded-For", "127.0.0.9"}}, false));
    EXPECT_EQ(c.read_response().status, 200);
    EXPECT_TRUE(s.wait_for_log("request peer=127.0.0.9 proxy=127.0.0.2 method=POST")) << s.log();
}

TEST(TrustedProxies, InvalidEntryExitsWithCode2NamingIt) {
    auto r = test::run_ssecast({"--trusted-proxies", "127.0.0.1,nginx.internal"});
    EXPECT_TRUE(r.status.exited);
    EXPECT_EQ(r.status.code, 2);
    EXPECT_NE(r.err.find("--trusted-proxies"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("\"nginx.internal\""), std::string::npos) << r.err;
}
