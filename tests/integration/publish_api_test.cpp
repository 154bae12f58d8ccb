#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "http_client.hpp"
#include "test_server.hpp"

using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

// Every refusal is JSON {"error": "..."} naming the problem.
void expect_error(const test::http_response& res, int status, const std::string& fragment) {
    EXPECT_EQ(res.status, status) << res.body;
    EXPECT_EQ(res.headers.count("Content-Type") ? res.headers.at("Content-Type") : "",
              "application/json");
    auto body = json::parse(res.body, nullptr, false);
    ASSERT_TRUE(body.is_object()) << res.body;
    ASSERT_TRUE(body.contains("error")) << res.body;
    EXPECT_NE(body["error"].get<std::string>().find(fragment), std::string::npos)
        << "error \"" << body["error"] << "\" does not mention \"" << fragment << "\"";
}

class PublishApi : public ::testing::Test {
  protected:
    test::server server_{{"--max-body", "2KiB"}};
    std::uint16_t port() const { return server_.port(); }
};

}  // namespace

TEST_F(PublishApi, AnswersIdAndDeliveredCount) {
    test::sse_client a(port(), "/events?channel=news");
    test::sse_client b(port(), "/events?channel=news&channel=other");
    auto res = test::publish(port(), R"({"channel":"news","data":"x"})");
    ASSERT_EQ(res.status, 200) << res.body;
    auto answer = json::parse(res.body);
    EXPECT_EQ(answer["delivered"], 2);
    auto id = answer["id"].get<std::string>();
    EXPECT_TRUE(std::all_of(id.begin(), id.end(), [](char c) {
        return std::isdigit(c) || c == '-' || c == ':';
    })) << id;
    EXPECT_LE(id.size(), 32u);

    auto none = json::parse(test::publish(port(), R"({"channel":"nobody","data":"x"})").body);
    EXPECT_EQ(none["delivered"], 0);
}

TEST_F(PublishApi, IdsIncreaseAcrossChannels) {
    std::vector<std::string> ids;
    for (const char* ch : {"a", "b", "a", "c"}) {
        auto res = test::publish(port(), json{{"channel", ch}, {"data", "d"}}.dump());
        ASSERT_EQ(res.status, 200);
        ids.push_back(json::parse(res.body)["id"]);
    }
    auto seq = [](const std::string& id) { return std::stoull(id.substr(id.find('-') + 1)); };
    for (std::size_t i = 1; i < ids.size(); ++i) {
        EXPECT_EQ(ids[i].substr(0, ids[i].find('-')), ids[0].substr(0, ids[0].find('-')));
        EXPECT_GT(seq(ids[i]), seq(ids[i - 1]));
    }
}

TEST_F(PublishApi, DataShapesAndEventTypeReachTheSubscriber) {
    test::sse_client sub(port(), "/events");  // no channel: "default"
    ASSERT_EQ(test::publish(port(), R"({"data":"line1\r\nline2\rline3\nline4"})").status, 200);
    ASSERT_EQ(test::publish(port(), R"({"event":"price","data":{"sym":"X","px":1.5,"tags":["a"]}})")
                  .status,
              200);
    ASSERT_EQ(test::publish(port(), R"({"data":42})").status, 200);
    ASSERT_EQ(test::publish(port(), R"({"data":"","retry":5000})").status, 200);
    ASSERT_TRUE(sub.wait_events(4));
    EXPECT_EQ(sub.events()[0].data, "line1\nline2\nline3\nline4");
    EXPECT_EQ(sub.events()[0].type, "message");
    EXPECT_EQ(sub.events()[1].type, "price");
    EXPECT_EQ(json::parse(sub.events()[1].data),
              json::parse(R"({"sym":"X","px":1.5,"tags":["a"]})"));
    EXPECT_EQ(sub.events()[1].data.find('\n'), std::string::npos);
    EXPECT_EQ(sub.events()[2].data, "42");
    EXPECT_EQ(sub.events()[3].data, "");
    EXPECT_EQ(sub.parser().retry(), 5000u);
}

TEST_F(PublishApi, ChannelsArrayDeliversOnceToASubscriberOfBoth) {
    test::sse_client both(port(), "/events?channel=a&channel=b");
    test::sse_client only_b(port(), "/events?channel=b");
    auto res = test::publish(port(), R"({"channels":["a","b"],"data":"twice?"})");
    ASSERT_EQ(res.status, 200);
    EXPECT_EQ(json::parse(res.body)["delivered"], 2);
    ASSERT_EQ(test::publish(port(), R"({"channel":"b","data":"marker"})").status, 200);
    ASSERT_TRUE(both.wait_events(2));
    ASSERT_TRUE(only_b.wait_events(2));
    EXPECT_EQ(both.events()[0].data, "twice?");
    EXPECT_EQ(both.events()[1].data, "marker");
    EXPECT_EQ(only_b.events()[0].data, "twice?");
}

TEST_F(PublishApi, BatchIsPublishedInOrderAndAnsweredWithAnArray) {
    test::sse_client sub(port(), "/events?channel=x");
    auto res = test::publish(
        port(),
        R"([{"channel":"x","data":"1"},{"channel":"x","data":"2"},{"channel":"y","data":"3"}])");
    ASSERT_EQ(res.status, 200) << res.body;
    auto answer = json::parse(res.body);
    ASSERT_TRUE(answer.is_array());
    ASSERT_EQ(answer.size(), 3u);
    EXPECT_EQ(answer[0]["delivered"], 1);
    EXPECT_EQ(answer[2]["delivered"], 0);
    ASSERT_TRUE(sub.wait_events(2));
    EXPECT_EQ(sub.events()[0].data, "1");
    EXPECT_EQ(sub.events()[0].last_event_id, answer[0]["id"]);
    EXPECT_EQ(sub.events()[1].data, "2");
    EXPECT_EQ(sub.events()[1].last_event_id, answer[1]["id"]);
}

TEST_F(PublishApi, BatchWithOneBadElementIsRejectedWhole) {
    test::sse_client sub(port(), "/events?channel=x");
    auto res = test::publish(
        port(), R"([{"channel":"x","data":"1"},{"channel":"x"},{"channel":"x","data":"3"}])");
    expect_error(res, 400, "event 1");
    ASSERT_EQ(test::publish(port(), R"({"channel":"x","data":"after"})").status, 200);
    ASSERT_TRUE(sub.wait_events(1));
    EXPECT_EQ(sub.events()[0].data, "after");  // nothing of the bad batch went out
    auto channels = json::parse(test::request(port(), "GET", "/channels").body);
    for (const auto& ch : channels["channels"]) {
        if (ch["name"] == "x") {
            EXPECT_EQ(ch["buffered"], 1);
        }
    }
}

TEST_F(PublishApi, RejectsBadInputWithClearErrors) {
    expect_error(test::publish(port(), R"({"channel":"x","data":)"), 400, "malformed JSON");
    expect_error(test::publish(port(), R"({"channel":"x"})"), 400, "\"data\" is required");
    expect_error(test::publish(port(), R"({"channel":"bad name","data":1})"), 400, "channel name");
    expect_error(test::publish(port(), R"({"channel":"","data":1})"), 400, "channel name");
    expect_error(
        test::publish(port(), json{{"channel", std::string(129, 'c')}, {"data", 1}}.dump()), 400,
        "128");
    expect_error(test::publish(port(), R"({"event":"a\nb","data":1})"), 400, "CR, LF or NUL");
    expect_error(test::publish(port(), R"({"event":"a\u0000b","data":1})"), 400, "CR, LF or NUL");
    expect_error(test::publish(port(), R"({"event":"resync","data":1})"), 400, "reserved");
    expect_error(test::publish(port(), json{{"event", std::string(129, 'e')}, {"data", 1}}.dump()),
                 400, "128");
    expect_error(test::publish(port(), R"({"retry":-1,"data":1})"), 400, "retry");
    expect_error(test::publish(port(), R"("just a string")"), 400, "object");
}

TEST_F(PublishApi, ContentTypeMustBeJson) {
    expect_error(
        test::request(port(), "POST", "/notify", R"({"data":1})", {{"Content-Type", "text/plain"}}),
        415, "application/json");
    expect_error(test::request(port(), "POST", "/notify", "data=1",
                               {{"Content-Type", "application/x-www-form-urlencoded"}}),
                 415, "application/json");
    expect_error(test::request(port(), "POST", "/notify", R"({"data":1})"), 415,
                 "application/json");
    EXPECT_EQ(test::request(port(), "POST", "/notify", R"({"data":1})",
                            {{"Content-Type", "Application/JSON; charset=utf-8"}})
                  .status,
              200);
}

TEST_F(PublishApi, BodyOverTheLimitIs413) {
    auto big = json{{"data", std::string(3000, 'x')}}.dump();
    expect_error(test::publish(port(), big), 413, "--max-body");
    auto fits = json{{"data", std::string(1900, 'x')}}.dump();
    EXPECT_EQ(test::publish(port(), fits).status, 200);
}

TEST_F(PublishApi, WrongMethodUnknownPathAndForwardedPublishers) {
    auto res = test::request(port(), "GET", "/notify");
    expect_error(res, 405, "GET");
    EXPECT_EQ(res.headers["Allow"], "POST");
    res = test::request(port(), "POST", "/events", "{}", {{"Content-Type", "application/json"}});
    expect_error(res, 405, "POST");
    EXPECT_EQ(res.headers["Allow"], "GET");
    res = test::request(port(), "DELETE", "/healthz");
    expect_error(res, 405, "DELETE");
    EXPECT_EQ(res.headers["Allow"], "GET");
    expect_error(test::request(port(), "GET", "/nope"), 404, "/nope");

    // Every header only a proxy or CDN adds makes a loopback request relayed, so not local.
    for (const char* header :
         {"X-Forwarded-For", "Forwarded", "X-Real-IP", "Via", "X-Forwarded-Host",
          "X-Forwarded-Proto", "CF-Connecting-IP", "True-Client-IP", "X-Client-IP"}) {
        SCOPED_TRACE(header);
        expect_error(test::publish(port(), R"({"data":1})", {{header, "203.0.113.9"}}), 403,
                     "local");
        expect_error(test::request(port(), "GET", "/channels", "", {{header, "203.0.113.9"}}), 403,
                     "local");
    }
    EXPECT_TRUE(server_.wait_for_log("status=403"));
}

TEST_F(PublishApi, ManyPublishesOnOneKeepAliveConnection) {
    test::connection c(port());
    for (int i = 0; i < 50; ++i) {
        c.send(test::format_request("POST", "/notify", json{{"channel", "k"}, {"data", i}}.dump(),
                                    {{"Content-Type", "application/json"}}, true));
        auto res = c.read_response();
        ASSERT_EQ(res.status, 200) << "request " << i << ": " << res.body;
    }
    EXPECT_FALSE(c.closed());
}

TEST_F(PublishApi, HealthAndChannels) {
    test::sse_client sub(port(), "/events?channel=ops");
    ASSERT_EQ(test::publish(port(), R"({"channel":"ops","data":"x"})").status, 200);
    auto health = test::request(port(), "GET", "/healthz");
    ASSERT_EQ(health.status, 200);
    auto h = json::parse(health.body);
    EXPECT_EQ(h["status"], "ok");
    EXPECT_EQ(h["version"], "0.1.0");
    EXPECT_TRUE(h["uptime_seconds"].is_number());
    EXPECT_GE(h["connections"].get<int>(), 2);  // the stream and this request
    EXPECT_EQ(h["channels"], 1);
    EXPECT_EQ(h["counters"]["events_published"], 1);
    EXPECT_EQ(h["counters"]["deliveries"], 1);
    EXPECT_GE(h["counters"]["streams_started"], 1);

    auto list = json::parse(test::request(port(), "GET", "/channels").body);
    ASSERT_EQ(list["channels"].size(), 1u);
    auto ch = list["channels"][0];
    EXPECT_EQ(ch["name"], "ops");
    EXPECT_EQ(ch["subscribers"], 1);
    EXPECT_EQ(ch["buffered"], 1);
    EXPECT_TRUE(ch["lastId"].is_string());
}
