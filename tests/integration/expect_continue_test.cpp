// Expect: 100-continue (RFC 9110 §10.1.1), which curl sends with bodies over 1 MiB and then waits
// a second for: the daemon says go ahead when the request is acceptable, or gives its final
// answer at once, before the body.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "http_client.hpp"
#include "test_server.hpp"
#include "tokens.hpp"

using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

constexpr std::string_view go_ahead = "HTTP/1.1 100 Continue\r\n\r\n";

std::string publish_head(const std::string& path, std::size_t length,
                         const std::string& extra = "Expect: 100-continue\r\n",
                         const std::string& version = "HTTP/1.1") {
    return "POST " + path + " " + version +
           "\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
           std::to_string(length) + "\r\n" + extra + "\r\n";
}

// Reads until the end of the first header block (of a 100 or a final answer).
std::string first_head(test::connection& c) {
    c.read_until([](const std::string& b) { return b.find("\r\n\r\n") != std::string::npos; },
                 10s);
    return c.buffer().substr(0, c.buffer().find("\r\n\r\n") + 4);
}

std::string error_of(const test::http_response& res) {
    auto body = json::parse(res.body, nullptr, false);
    return body.is_object() && body.contains("error") ? body["error"].get<std::string>() : "";
}

}  // namespace

TEST(ExpectContinue, AnAcceptablePublishIsToldToGoAheadThenAnswered) {
    test::server s;
    test::sse_client sub(s.port(), "/events?channel=big");
    auto body = json{{"channel", "big"}, {"data", std::string(40000, 'x')}}.dump();
    test::connection c(s.port());
    c.send(publish_head("/notify", body.size()));
    ASSERT_EQ(first_head(c), go_ahead) << "no 100 Continue before the body was sent";
    c.buffer().erase(0, go_ahead.size());
    c.send(body);
    auto res = c.read_response(10s);
    EXPECT_EQ(res.status, 200) << res.body;
    ASSERT_TRUE(sub.wait_events(1));
    EXPECT_EQ(sub.events()[0].data.size(), 40000u);
    // The connection stays usable: a second publish on it, without Expect.
    auto small = json{{"channel", "big"}, {"data", "second"}}.dump();
    c.send(publish_head("/notify", small.size(), "") + small);
    EXPECT_EQ(c.read_response(10s).status, 200);
}

TEST(ExpectContinue, ARefusalComesAtOnceWithoutTheBody) {
    auto dir = test::make_temp_dir();
    auto tokens = test::write_private_file(dir / "tokens", "publisher-key-0123456789 news\n");
    test::server s({"--publish-tokens-file", tokens.string(), "--max-body", "1KiB"});
    struct attempt {
        std::string head;
        int status;
        std::string says;
    };
    const attempt attempts[] = {
        {publish_head("/notify", 100), 401, "needs a credential"},
        {publish_head("/notify", 100,
                      "Authorization: Bearer publisher-key-0123456789\r\n"
                      "Expect: 100-continue\r\n"),
         0, ""},  // allowed: go ahead
        {publish_head("/notify", 5000,
                      "Authorization: Bearer publisher-key-0123456789\r\n"
                      "Expect: 100-continue\r\n"),
         413, "larger than 1024 bytes"},
        {publish_head("/nowhere", 100), 404, "no such endpoint"},
        {publish_head("/healthz", 100), 405, "not allowed"},
    };
    for (const auto& a : attempts) {
        test::connection c(s.port());
        c.send(a.head);
        auto head = first_head(c);
        if (a.status == 0) {
            EXPECT_EQ(head, go_ahead);
            continue;
        }
        auto res = c.read_response(10s);
        EXPECT_EQ(res.status, a.status) << a.head;
        EXPECT_NE(error_of(res).find(a.says), std::string::npos) << res.body;
        // Its body was never read, so nothing after the header can be trusted: closed.
        EXPECT_TRUE(c.wait_closed(10s)) << a.head;
    }
    std::filesystem::remove_all(dir);
}

TEST(ExpectContinue, OtherExpectationsAre417AndHttp10IgnoresExpect) {
    test::server s;
    {
        test::connection c(s.port());
        c.send(publish_head("/notify", 10, "Expect: 200-ok\r\n"));
        auto res = c.read_response(10s);
        EXPECT_EQ(res.status, 417);
        EXPECT_NE(error_of(res).find("200-ok"), std::string::npos) << res.body;
    }
    // An HTTP/1.0 client cannot wait for 100 Continue (RFC 9110 §10.1.1): none is sent, the body
    // is read as it comes.
    auto body = json{{"channel", "old"}, {"data", "from 1.0"}}.dump();
    test::connection c(s.port());
    c.send(publish_head("/notify", body.size(), "Expect: 100-continue\r\n", "HTTP/1.0") + body);
    auto res = c.read_response(10s);
    EXPECT_EQ(res.status, 200) << res.body;
}
