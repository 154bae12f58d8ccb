#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "http_client.hpp"
#include "test_server.hpp"

using namespace std::chrono_literals;
using json = nlohmann::json;

TEST(StreamBasics, SubscriberGetsHeadersPreludeAndPublishedEvent) {
    test::server s({"--heartbeat", "15s"});
    test::sse_client sub(s.port(), "/events?channel=news");
    EXPECT_EQ(sub.status(), 200);
    EXPECT_TRUE(sub.has_header_line("Content-Type: text/event-stream; charset=utf-8"));
    EXPECT_TRUE(sub.has_header_line("Cache-Control: no-cache, no-transform"));
    EXPECT_TRUE(sub.has_header_line("X-Accel-Buffering: no"));
    // The body starts at once with the reconnect delay, before any event exists.
    ASSERT_TRUE(sub.wait_raw("retry: 3000\n"));
    EXPECT_EQ(sub.parser().retry(), 3000u);

    auto res =
        test::publish(s.port(), R"({"channel":"news","event":"update","data":"hello\nworld"})");
    ASSERT_EQ(res.status, 200) << res.body;
    auto answer = json::parse(res.body);
    EXPECT_EQ(answer["delivered"], 1);
    ASSERT_TRUE(sub.wait_events(1));
    EXPECT_EQ(sub.events()[0].type, "update");
    EXPECT_EQ(sub.events()[0].data, "hello\nworld");
    EXPECT_EQ(sub.events()[0].last_event_id, answer["id"].get<std::string>());

    auto stopped = s.stop();
    EXPECT_TRUE(stopped.exited);
    EXPECT_EQ(stopped.code, 0) << s.log();
}
