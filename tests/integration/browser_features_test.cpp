// The demo page, CORS and --max-stream-duration against the real daemon (the real-browser test is
// tests/interop/browser_test.mjs).

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "http_client.hpp"
#include "test_server.hpp"

namespace {

using namespace std::chrono_literals;
using nlohmann::json;

TEST(DemoPage, IsServedAtTheRootUnlessTurnedOff) {
    test::server on;
    auto page = test::request(on.port(), "GET", "/");
    ASSERT_EQ(page.status, 200);
    EXPECT_EQ(page.headers["Content-Type"], "text/html; charset=utf-8");
    EXPECT_NE(page.body.find("fetch(\"/events?\""), std::string::npos);
    EXPECT_NE(page.body.find("fetch(\"/notify\""), std::string::npos);
    // Strict: only the page's own script and style (by hash), requests to the daemon only. The
    // browser test (console_test.mjs) checks that the hashes fit: a wrong one stops the page.
    const auto& policy = page.headers["Content-Security-Policy"];
    EXPECT_EQ(policy.find("default-src 'none'; script-src 'sha256-"), 0u) << policy;
    EXPECT_NE(policy.find("; connect-src 'self'; base-uri 'none'; form-action 'none'; "
                          "frame-ancestors 'none'"),
              std::string::npos)
        << policy;
    EXPECT_EQ(policy.find("unsafe"), std::string::npos) << policy;

    test::server off({"--demo-page", "false"});
    EXPECT_EQ(test::request(off.port(), "GET", "/").status, 404);
}

TEST(CrossOrigin, AllowedOriginGetsHeadersOnStreamsAndAnswers) {
    test::server s({"--cors-origins", "https://app.example"});
    test::sse_client sub(s.port(), "/events?channel=c", {{"Origin", "https://app.example"}});
    ASSERT_EQ(sub.status(), 200);
    EXPECT_TRUE(sub.has_header_line("Access-Control-Allow-Origin: https://app.example"))
        << sub.head();
    EXPECT_TRUE(sub.has_header_line("Vary: Origin")) << sub.head();
    auto health =
        test::request(s.port(), "GET", "/healthz", "", {{"Origin", "https://app.example"}});
    EXPECT_EQ(health.headers["Access-Control-Allow-Origin"], "https://app.example");
    // The stream still works.
    ASSERT_EQ(test::publish(s.port(), R"({"channel":"c","data":"x"})").status, 200);
    ASSERT_TRUE(sub.wait_events(1));
}

TEST(CrossOrigin, OtherOriginsAreRefusedWithAJsonError) {
    test::server s({"--cors-origins", "https://app.example"});
    for (const std::string target : {"/events?channel=c", "/healthz"}) {
        auto res = test::request(s.port(), "GET", target, "", {{"Origin", "https://evil.example"}});
        EXPECT_EQ(res.status, 403) << target;
        EXPECT_NE(json::parse(res.body).at("error").get<std::string>().find("--cors-origins"),
                  std::string::npos)
            << res.body;
        EXPECT_EQ(res.headers.count("Access-Control-Allow-Origin"), 0u);
    }
    // Without an Origin (curl, servers) nothing changes.
    EXPECT_EQ(test::request(s.port(), "GET", "/healthz").status, 200);
}

TEST(CrossOrigin, PreflightForPublishing) {
    test::server s({"--cors-origins", "https://app.example"});
    auto ok = test::request(s.port(), "OPTIONS", "/notify", "",
                            {{"Origin", "https://app.example"},
                             {"Access-Control-Request-Method", "POST"},
                             {"Access-Control-Request-Headers", "content-type"}});
    EXPECT_EQ(ok.status, 204);
    EXPECT_EQ(ok.headers["Access-Control-Allow-Origin"], "https://app.example");
    EXPECT_NE(ok.headers["Access-Control-Allow-Methods"].find("POST"), std::string::npos);
    EXPECT_NE(ok.headers["Access-Control-Allow-Headers"].find("Content-Type"), std::string::npos);
    auto refused = test::request(
        s.port(), "OPTIONS", "/notify", "",
        {{"Origin", "https://evil.example"}, {"Access-Control-Request-Method", "POST"}});
    EXPECT_EQ(refused.status, 403);
}

TEST(MaxStreamDuration, StreamsEndWithARetryAndResumeWithoutLoss) {
    test::server s({"--max-stream-duration", "1s", "--reconnect-delay", "1s"});
    test::sse_client first(s.port(), "/events?channel=rebalance");
    ASSERT_EQ(first.status(), 200);
    ASSERT_EQ(test::publish(s.port(), R"({"channel":"rebalance","data":"before"})").status, 200);
    ASSERT_TRUE(first.wait_events(1));
    // Ended by the daemon between 1 s and 1.1 s (plus the 250 ms sweep), with a retry: first.
    ASSERT_TRUE(first.wait_closed(10s)) << "the stream was not ended";
    EXPECT_TRUE(first.raw().find("retry: ", first.raw().find("data: before")) != std::string::npos)
        << first.raw();
    EXPECT_TRUE(s.wait_for_log("reason=max stream duration")) << s.log();

    // Published while the client was away: the reconnect with Last-Event-ID gets it, once.
    auto gap = test::publish(s.port(), R"({"channel":"rebalance","data":"during the gap"})");
    ASSERT_EQ(gap.status, 200);
    test::sse_client second(s.port(), "/events?channel=rebalance",
                            {{"Last-Event-ID", first.events().back().last_event_id}});
    ASSERT_TRUE(second.wait_events(1));
    EXPECT_EQ(second.events()[0].data, "during the gap");
    EXPECT_EQ(second.events().size(), 1u);
}

TEST(MaxStreamDuration, AStreamEndedBeforeItsFirstEventLosesNothing) {
    // The stream's prelude carries a resume point (an id with no data), so a client that never got
    // an event still reconnects with Last-Event-ID and gets what was published in between.
    test::server s({"--max-stream-duration", "1s"});
    ASSERT_EQ(test::publish(s.port(), R"({"channel":"quiet","data":"old"})").status, 200);
    test::sse_client first(s.port(), "/events?channel=quiet");
    ASSERT_EQ(first.status(), 200);
    ASSERT_TRUE(first.wait_closed(10s));
    EXPECT_TRUE(first.events().empty());
    auto resume = first.parser().last_event_id();
    ASSERT_FALSE(resume.empty()) << first.raw();

    auto gap = test::publish(s.port(), R"({"channel":"quiet","data":"while away"})");
    ASSERT_EQ(gap.status, 200);
    test::sse_client second(s.port(), "/events?channel=quiet", {{"Last-Event-ID", resume}});
    ASSERT_TRUE(second.wait_events(1));
    EXPECT_EQ(second.events()[0].data, "while away");  // not "old": that was before the first
    EXPECT_EQ(second.events()[0].last_event_id, json::parse(gap.body).at("id").get<std::string>());
}

}  // namespace
