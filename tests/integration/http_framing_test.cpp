// Request framing (RFC 9112): what decides where a request's body ends, and so where the next
// request begins. A request whose framing is in doubt is refused and its connection closed, so
// nothing hidden in its body is ever read as a request of its own (request smuggling).

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "http_client.hpp"
#include "test_server.hpp"

using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

// A publish the daemon takes from a local client: no forwarding header.
std::string inner_publish(const std::string& channel, const std::string& data) {
    auto body = json{{"channel", channel}, {"data", data}}.dump();
    return "POST /notify HTTP/1.1\r\nHost: x\r\nContent-Type: "
           "application/json\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
}

// The answer to `raw` on a connection of its own, and whether the daemon then closed it.
struct outcome {
    test::http_response response;
    bool closed = false;
};

outcome exchange(std::uint16_t port, const std::string& raw) {
    test::connection c(port);
    c.send(raw);
    outcome out;
    out.response = c.read_response(10s);
    // A refused request closes the connection at once; an answered one may keep it open.
    out.closed = out.response.status < 400 || c.wait_closed(10s);
    return out;
}

std::string error_of(const test::http_response& res) {
    auto body = json::parse(res.body, nullptr, false);
    return body.is_object() && body.contains("error") ? body["error"].get<std::string>() : "";
}

// The channel has no event: a subscriber resuming from before everything sees only `control`,
// published last on purpose, so an event smuggled in earlier would come first.
void expect_only_control_event(std::uint16_t port, const std::string& channel) {
    auto control = test::publish(port, json{{"channel", channel}, {"data", "control"}}.dump());
    ASSERT_EQ(control.status, 200) << control.body;
    auto id = json::parse(control.body)["id"].get<std::string>();
    auto epoch = id.substr(0, id.find('-'));
    test::sse_client sub(port, "/events?channel=" + channel, {{"Last-Event-ID", epoch + "-0"}});
    ASSERT_TRUE(sub.wait_events(1));
    EXPECT_EQ(sub.events()[0].data, "control") << "an event was smuggled into " << channel;
    EXPECT_EQ(sub.events()[0].last_event_id, id);
}

}  // namespace

// Seen on the landed daemon: the outer request is refused 403 (it carries X-Forwarded-For), was
// read as having no body, and the request in its body, without the forwarding header, was
// published.
TEST(HttpFraming, TransferEncodingThatDoesNotEndInChunkedIsRefusedAndClosed) {
    test::server s;
    const std::vector<std::string> codings = {
        "identity",    "gzip", "chunked, identity", "xchunked",
        "\"chunked\"", "",     "chunked, chunked",  "chunked;x=1"};
    int n = 0;
    for (const auto& coding : codings) {
        SCOPED_TRACE("Transfer-Encoding: " + coding);
        auto channel = "smuggled-" + std::to_string(n++);
        auto raw =
            std::string("POST /notify HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.7\r\n") +
            "Content-Type: application/json\r\nTransfer-Encoding: " + coding + "\r\n\r\n" +
            inner_publish(channel, "smuggled");
        auto out = exchange(s.port(), raw);
        EXPECT_EQ(out.response.status, 400) << out.response.body;
        EXPECT_NE(error_of(out.response).find("Transfer-Encoding"), std::string::npos)
            << out.response.body;
        EXPECT_TRUE(out.closed);
        expect_only_control_event(s.port(), channel);
    }
}

TEST(HttpFraming, AnUnknownCodingBeforeChunkedIs501) {
    test::server s;
    auto body = json{{"channel", "gz"}, {"data", "x"}}.dump();
    char size[16];
    std::snprintf(size, sizeof size, "%zx", body.size());
    auto out = exchange(s.port(),
                        "POST /notify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                        "Transfer-Encoding: gzip, chunked\r\n\r\n" +
                            std::string(size) + "\r\n" + body + "\r\n0\r\n\r\n");
    EXPECT_EQ(out.response.status, 501) << out.response.body;
    EXPECT_NE(error_of(out.response).find("gzip"), std::string::npos) << out.response.body;
    EXPECT_TRUE(out.closed);
    expect_only_control_event(s.port(), "gz");
}

TEST(HttpFraming, TransferEncodingWithContentLengthIsRefused) {
    test::server s;
    auto inner = inner_publish("both", "smuggled");
    const std::vector<std::string> heads = {
        // Beast itself refuses these two orders of chunked and Content-Length ...
        "Transfer-Encoding: chunked\r\nContent-Length: 0\r\n",
        "Content-Length: 0\r\nTransfer-Encoding: chunked\r\n",
        // ... but not a coding that is not chunked, before a Content-Length.
        "Transfer-Encoding: identity\r\nContent-Length: 0\r\n",
    };
    for (const auto& head : heads) {
        SCOPED_TRACE(head);
        auto out = exchange(s.port(),
                            "POST /notify HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.7\r\n"
                            "Content-Type: application/json\r\n" +
                                head + "\r\n" + inner);
        EXPECT_EQ(out.response.status, 400) << out.response.body;
        EXPECT_TRUE(out.closed);
    }
    expect_only_control_event(s.port(), "both");
}

TEST(HttpFraming, TransferEncodingInAnHttp10RequestIsRefused) {
    test::server s;
    auto out = exchange(s.port(),
                        "POST /notify HTTP/1.0\r\nHost: x\r\nContent-Type: application/json\r\n"
                        "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    EXPECT_EQ(out.response.status, 400) << out.response.body;
    EXPECT_NE(error_of(out.response).find("HTTP/1.0"), std::string::npos) << out.response.body;
    EXPECT_TRUE(out.closed);
}

TEST(HttpFraming, SeveralContentLengthsAreRefused) {
    test::server s;
    auto body = json{{"channel", "lengths"}, {"data", "x"}}.dump();
    auto n = std::to_string(body.size());
    for (const auto& head : {"Content-Length: " + n + "\r\nContent-Length: 1\r\n",
                             "Content-Length: " + n + "\r\nContent-Length: " + n + "\r\n",
                             "Content-Length: " + n + ", " + n + "\r\n"}) {
        SCOPED_TRACE(head);
        auto out = exchange(
            s.port(), "POST /notify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
                          head + "\r\n" + body);
        EXPECT_EQ(out.response.status, 400) << out.response.body;
        EXPECT_TRUE(out.closed);
    }
    expect_only_control_event(s.port(), "lengths");
}

TEST(HttpFraming, HostHeaderRules) {
    test::server s;
    struct attempt {
        std::string request;
        int status;
    };
    const std::vector<attempt> attempts = {
        {"GET /healthz HTTP/1.1\r\n\r\n", 400},                          // no Host
        {"GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},    // two
        {"GET /healthz HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400},    // two, the same
        {"GET /healthz HTTP/1.1\r\nHost: a b\r\n\r\n", 400},             // not a host
        {"GET /healthz HTTP/1.1\r\nHost: a/b\r\n\r\n", 400},             // not a host
        {"GET /healthz HTTP/1.1\r\nHost: user@a\r\n\r\n", 400},          // not a host
        {"GET /healthz HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", 200},      // IPv6 literal
        {"GET /healthz HTTP/1.1\r\nHost: example.com:80\r\n\r\n", 200},  // name and port
        {"GET /healthz HTTP/1.1\r\nHost:\r\n\r\n", 200},  // empty: allowed (RFC 9112 §3.2)
        {"GET /healthz HTTP/1.0\r\n\r\n", 200},           // HTTP/1.0 needs none
    };
    for (const auto& a : attempts) {
        SCOPED_TRACE(a.request);
        auto out = exchange(s.port(), a.request);
        EXPECT_EQ(out.response.status, a.status) << out.response.body;
        if (a.status == 400) {
            EXPECT_NE(error_of(out.response).find("Host"), std::string::npos) << out.response.body;
            EXPECT_TRUE(out.closed);
        }
    }
}

// Seen on the landed daemon: 414 "request line is longer than 16384 bytes" for a short request
// line followed by one 100 KB header.
TEST(HttpFraming, ALongHeaderAfterAShortRequestLineIs431) {
    test::server s;
    for (std::size_t size : {17 * 1024, 100 * 1024, 1024 * 1024}) {
        SCOPED_TRACE(size);
        test::connection c(s.port());
        std::string raw =
            "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(size, 'a') + "\r\n\r\n";
        try {
            c.send(raw);
        } catch (const std::exception&) {
            // The daemon may answer and close before taking a megabyte: the answer is what counts.
        }
        auto res = c.read_response(10s);
        EXPECT_EQ(res.status, 431) << res.body;
        EXPECT_NE(error_of(res).find("headers"), std::string::npos) << res.body;
    }
}

TEST(HttpFraming, ValidChunkedAndContentLengthRequestsStillWork) {
    test::server s;
    test::sse_client sub(s.port(), "/events?channel=framed");
    auto body = json{{"channel", "framed"}, {"data", "by length"}}.dump();
    auto out = exchange(s.port(),
                        "POST /notify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                        "Content-Length: " +
                            std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
    EXPECT_EQ(out.response.status, 200) << out.response.body;
    auto chunked = json{{"channel", "framed"}, {"data", "by chunks"}}.dump();
    char size[16];
    std::snprintf(size, sizeof size, "%zx", chunked.size());
    out = exchange(s.port(),
                   "POST /notify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                   "Transfer-Encoding: Chunked\r\nConnection: close\r\n\r\n" +
                       std::string(size) + "\r\n" + chunked + "\r\n0\r\n\r\n");
    EXPECT_EQ(out.response.status, 200) << out.response.body;
    ASSERT_TRUE(sub.wait_events(2));
    EXPECT_EQ(sub.events()[0].data, "by length");
    EXPECT_EQ(sub.events()[1].data, "by chunks");
}
