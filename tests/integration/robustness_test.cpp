// Garbage, oversized, slow and hostile requests: each gets a clear answer or is closed, and the
// daemon keeps serving (healthz and a live subscriber), then shuts down cleanly (exit 0; under
// ASan a leak or a crash fails that).

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "http_client.hpp"
#include "test_server.hpp"

using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

// The daemon's log can hold an ASan report; keep failure messages readable.
std::string log_tail(const std::string& log, std::size_t max = 6000) {
    return log.size() <= max ? log : "...\n" + log.substr(log.size() - max);
}

// Sends what the peer takes; false when it stops taking bytes (closed, reset, or 10 s stuck).
bool send_all(test::connection& c, std::string_view bytes) {
    timeval limit{10, 0};
    setsockopt(c.fd(), SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
    try {
        c.send(bytes);
        return true;
    } catch (const std::exception&) {
        return false;
    }
}

// Closes with a reset instead of a FIN.
void abort_connection(test::connection& c) {
    linger hard{1, 0};
    setsockopt(c.fd(), SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
}

std::string post_request(const std::string& body, bool keep_alive = true,
                         const std::string& extra_headers = "") {
    return "POST /notify HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" +
           extra_headers + (keep_alive ? "" : "Connection: close\r\n") +
           "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

// A JSON error answer: the status, and a body {"error": "<non-empty>"}.
void expect_json_error(const test::http_response& res, const std::vector<int>& statuses,
                       const std::string& what) {
    SCOPED_TRACE(what);
    bool expected_status = false;
    for (int st : statuses) expected_status = expected_status || res.status == st;
    EXPECT_TRUE(expected_status) << "status " << res.status << " body " << res.body.substr(0, 300);
    if (res.status == 0) return;
    auto content_type = res.headers.find("Content-Type");
    ASSERT_NE(content_type, res.headers.end());
    EXPECT_EQ(content_type->second, "application/json");
    auto body = json::parse(res.body, nullptr, false);
    ASSERT_FALSE(body.is_discarded()) << res.body;
    ASSERT_TRUE(body.is_object()) << res.body;
    ASSERT_TRUE(body.contains("error")) << res.body;
    EXPECT_TRUE(body["error"].is_string() && !body["error"].get<std::string>().empty()) << res.body;
}

class Robustness : public ::testing::Test {
  protected:
    void start(std::vector<std::string> args = {"--request-timeout", "1s"}) {
        server_ = std::make_unique<test::server>(std::move(args));
    }
    std::uint16_t port() const { return server_->port(); }
    test::server& server() { return *server_; }

    // Every other connection is gone: the /healthz request that asks is the only one left.
    void expect_no_other_connections(std::chrono::milliseconds timeout) {
        std::string last;
        EXPECT_TRUE(test::eventually(
            [&] {
                auto health = test::request(port(), "GET", "/healthz");
                last = health.body;
                return health.status == 200 && json::parse(health.body).at("connections") == 1;
            },
            timeout))
            << last;
    }

    // The daemon answers /healthz and delivers a published event to a new subscriber.
    void expect_alive(const std::string& after) {
        SCOPED_TRACE("daemon alive after: " + after);
        ASSERT_TRUE(server_->running()) << "the daemon exited; log:\n" << log_tail(server_->log());
        try {
            auto health = test::request(port(), "GET", "/healthz");
            ASSERT_EQ(health.status, 200) << health.body;
            auto body = json::parse(health.body);
            EXPECT_EQ(body.at("status"), "ok");

            auto channel = "alive-" + std::to_string(++alive_checks_);
            test::sse_client sub(port(), "/events?channel=" + channel);
            ASSERT_EQ(sub.status(), 200);
            auto res =
                test::publish(port(), json{{"channel", channel}, {"data", "still alive"}}.dump());
            ASSERT_EQ(res.status, 200) << res.body;
            ASSERT_TRUE(sub.wait_events(1)) << "the subscriber got no event";
            EXPECT_EQ(sub.events()[0].data, "still alive");
            EXPECT_EQ(sub.events()[0].last_event_id,
                      json::parse(res.body).at("id").get<std::string>());
        } catch (const std::exception& e) {
            FAIL() << "exception: " << e.what() << "; daemon log:\n" << log_tail(server_->log());
        }
    }

    // Checks that the daemon is alive, stops it, and checks that it exited cleanly.
    void finish_server(const std::string& after) {
        if (!server_) return;
        expect_alive(after);
        auto stopped = server_->stop();
        EXPECT_TRUE(stopped.exited) << "the daemon did not exit after SIGTERM";
        EXPECT_EQ(stopped.code, 0) << log_tail(server_->log());
        server_.reset();
    }

    void TearDown() override { finish_server("the whole test"); }

  private:
    std::unique_ptr<test::server> server_;
    int alive_checks_ = 0;
};

}  // namespace

TEST_F(Robustness, RandomGarbageOnManyConnections) {
    start();
    constexpr int kConnections = 300;
    std::mt19937 rng(20240531);
    auto random_bytes = [&](std::size_t n) {
        std::string out(n, '\0');
        for (auto& c : out) c = static_cast<char>(rng() & 0xff);
        return out;
    };
    int answered = 0;
    for (int i = 0; i < kConnections; ++i) {
        SCOPED_TRACE("connection " + std::to_string(i));
        auto garbage = random_bytes(1 + rng() % 4096);
        std::string bytes;
        switch (i % 4) {
            case 0:  // pure noise
                bytes = garbage;
                break;
            case 1:  // a valid request line, then noise for headers
                bytes = "GET /events?channel=x HTTP/1.1\r\n" + garbage;
                break;
            case 2:  // valid framing, noise for a body
                bytes = post_request(garbage, false);
                break;
            default:  // noise in the target
                bytes = "GET /" + garbage + " HTTP/1.1\r\n\r\n";
                break;
        }
        test::connection c(port());
        send_all(c, bytes);
        switch ((i / 4) % 3) {
            case 0:  // goes away at once, with a reset
                abort_connection(c);
                break;
            case 1:  // ends its side and waits for the daemon to close
                shutdown(c.fd(), SHUT_WR);
                EXPECT_TRUE(c.wait_closed(10s)) << "not closed after the client's FIN";
                break;
            default:  // waits for an answer
                c.read_until(
                    [](const std::string& b) { return b.find("\r\n\r\n") != std::string::npos; },
                    5s);
                break;
        }
        if (!c.buffer().empty()) {
            ++answered;
            EXPECT_EQ(c.buffer().rfind("HTTP/1.1 4", 0), 0u) << c.buffer().substr(0, 200);
        }
        if (i % 50 == 49) {
            expect_alive("garbage connection " + std::to_string(i));
            if (HasFatalFailure()) return;
        }
    }
    EXPECT_GT(answered, kConnections / 4) << "the daemon answered too few garbage requests";
    // Nothing lingers: every garbage connection is gone (only this /healthz request remains).
    expect_no_other_connections(15s);
}

TEST_F(Robustness, HugeRequestLine) {
    start();
    test::connection c(port());
    send_all(
        c, "GET /events?channel=" + std::string(100 * 1024, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n");
    // RFC 9112: a request-target too long is 414.
    expect_json_error(c.read_response(10s), {414}, "100 KiB request line");
    EXPECT_TRUE(c.wait_closed(10s));
}

TEST_F(Robustness, OversizedHeadersGet431) {
    start();
    {
        test::connection c(port());
        std::string headers;
        for (int i = 0; i < 20; ++i)
            headers += "X-Filler-" + std::to_string(i) + ": " + std::string(1000, 'h') + "\r\n";
        send_all(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n" + headers + "\r\n");
        expect_json_error(c.read_response(10s), {431}, "20 headers of 1 KB");
        EXPECT_TRUE(c.wait_closed(10s));
    }
    {
        test::connection c(port());
        send_all(c, "GET /events HTTP/1.1\r\nHost: x\r\nCookie: " + std::string(17 * 1024, 'c') +
                        "\r\n\r\n");
        expect_json_error(c.read_response(10s), {431}, "one header of 17 KiB");
        EXPECT_TRUE(c.wait_closed(10s));
    }
}

TEST_F(Robustness, HugeContentLengthGets413WhileTheBodyIsStillComing) {
    start();
    // As curl does: headers, then the body without waiting; the answer comes while it sends.
    test::connection c(port());
    std::string head =
        "POST /notify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
        std::to_string(10 * 1024 * 1024) + "\r\n\r\n";
    send_all(c, head);
    send_all(c, std::string(1024 * 1024, ' '));
    auto res = c.read_response(10s);
    expect_json_error(res, {413}, "Content-Length of 10 MiB");
}

TEST_F(Robustness, HugeContentLengthWithExpectContinueGets413WithoutTheBody) {
    start();
    test::connection c(port());
    send_all(c,
             "POST /notify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: "
             "100-continue\r\n"
             "Content-Length: " +
                 std::to_string(10 * 1024 * 1024) + "\r\n\r\n");
    expect_json_error(c.read_response(10s), {413},
                      "Content-Length of 10 MiB, Expect: 100-continue");
}

TEST_F(Robustness, OversizedChunkedBodyGets413) {
    start();
    test::connection c(port());
    std::string body;
    for (int i = 0; i < 12; ++i) body += "2000\r\n" + std::string(0x2000, 'y') + "\r\n";  // 96 KiB
    body += "0\r\n\r\n";
    send_all(
        c,
        "POST /notify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: "
        "chunked\r\n\r\n" +
            body);
    expect_json_error(c.read_response(10s), {413}, "96 KiB chunked body, --max-body 64KiB");

    // A chunked body under the limit is an ordinary publish.
    test::sse_client sub(port(), "/events?channel=chunked");
    auto event = json{{"channel", "chunked"}, {"data", "in chunks"}}.dump();
    std::string chunks;
    for (std::size_t i = 0; i < event.size(); i += 7) {
        auto piece = event.substr(i, 7);
        char size[16];
        std::snprintf(size, sizeof size, "%zx", piece.size());
        chunks += std::string(size) + "\r\n" + piece + "\r\n";
    }
    test::connection ok(port());
    send_all(
        ok,
        "POST /notify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: "
        "chunked\r\n\r\n" +
            chunks + "0\r\n\r\n");
    auto res = ok.read_response(10s);
    ASSERT_EQ(res.status, 200) << res.body;
    ASSERT_TRUE(sub.wait_events(1));
    EXPECT_EQ(sub.events()[0].data, "in chunks");
}

TEST_F(Robustness, BadContentLengthFraming) {
    start();
    const std::vector<std::string> heads = {
        "Content-Length: 99999999999999999999999999\r\n",
        "Content-Length: -1\r\n",
        "Content-Length: 12abc\r\n",
        "Content-Length: 2\r\nContent-Length: 3\r\n",
        "Transfer-Encoding: chunked\r\nContent-Length: 2\r\n",
    };
    for (const auto& h : heads) {
        test::connection c(port());
        send_all(c, "POST /notify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + h +
                        "\r\n{}");
        expect_json_error(c.read_response(10s), {400, 413}, h);
    }
}

TEST_F(Robustness, InvalidHttpVersionsGet400) {
    start();
    const std::vector<std::string> lines = {
        "GET /healthz HTTP/2.0",       "GET /healthz HTTP/3.0", "GET /healthz HTTP/1.9",
        "GET /healthz HTTP/0.9",       "GET /healthz HTTP/1.x", "GET /healthz HTTP/11",
        "GET /healthz http/1.1",       "GET /healthz FOO/1.1",  "GET /healthz",
        "GET /healthz HTTP/1.1 extra", "PRI * HTTP/2.0",
    };
    for (const auto& line : lines) {
        test::connection c(port());
        send_all(c, line + "\r\nHost: x\r\n\r\n");
        auto res = c.read_response(10s);
        expect_json_error(res, {400, 505}, line);
        EXPECT_TRUE(c.wait_closed(10s)) << line;
    }
    // The HTTP/2 connection preface as a client without prior knowledge sends it.
    test::connection h2(port());
    send_all(
        h2, std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") + std::string("\0\0\0\4\0\0\0\0\0", 9));
    expect_json_error(h2.read_response(10s), {400, 505}, "HTTP/2 preface");
    // HTTP/1.0 is still served.
    test::connection old(port());
    send_all(old, "GET /healthz HTTP/1.0\r\n\r\n");
    auto res = old.read_response(10s);
    EXPECT_EQ(res.status, 200) << res.body;
}

TEST_F(Robustness, StalledRequestIsClosedAfterTheRequestTimeout) {
    start({"--request-timeout", "1s"});
    test::connection in_headers(port());
    send_all(in_headers, "POST /notify HTTP/1.1\r\nHost: x\r\nContent-Le");
    test::connection in_body(port());
    send_all(in_body,
             "POST /notify HTTP/1.1\r\nHost: x\r\nContent-Type: "
             "application/json\r\nContent-Length: 100\r\n\r\n{\"da");
    test::connection idle_after_request(port());
    send_all(idle_after_request, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(idle_after_request.read_response(10s).status, 200);

    // The daemon serves others meanwhile.
    expect_alive("stalled requests are pending");
    EXPECT_TRUE(in_headers.wait_closed(10s)) << "request stopped in the headers is still open";
    EXPECT_TRUE(in_body.wait_closed(10s)) << "request stopped in the body is still open";
    EXPECT_TRUE(idle_after_request.wait_closed(10s)) << "idle keep-alive connection is still open";
}

TEST_F(Robustness, ManyIdleAndHalfClosedConnections) {
    start({"--request-timeout", "3s"});
    constexpr int kIdle = 150;
    constexpr int kHalfClosed = 50;
    std::vector<std::unique_ptr<test::connection>> idle;
    std::vector<std::unique_ptr<test::connection>> half_closed;
    for (int i = 0; i < kIdle; ++i) idle.push_back(std::make_unique<test::connection>(port()));
    for (int i = 0; i < kHalfClosed; ++i) {
        half_closed.push_back(std::make_unique<test::connection>(port()));
        shutdown(half_closed.back()->fd(), SHUT_WR);
    }
    expect_alive("200 idle connections were opened");
    if (HasFatalFailure()) return;

    // The half-closed ones are closed at once, the idle ones at the request timeout.
    auto deadline = test::clock::now() + 20s;
    int still_open = 0;
    for (auto* group : {&half_closed, &idle}) {
        for (auto& c : *group) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline -
                                                                              test::clock::now());
            if (!c->wait_closed(std::max(left, std::chrono::milliseconds(1)))) ++still_open;
        }
    }
    EXPECT_EQ(still_open, 0) << "connections the daemon never closed";
    expect_no_other_connections(10s);
}

TEST_F(Robustness, ALongPipelineIsAnsweredInFullAndInOrder) {
    // Thousands of requests arrive in a few reads: each is answered from the buffer in turn.
    start();
    constexpr int kRequests = 3000;
    std::string pipeline;
    for (int i = 0; i < kRequests; ++i)
        pipeline += post_request(json{{"channel", "long-pipe"}, {"data", i}}.dump());
    test::connection c(port());
    // Sent from a second thread while the answers are read here: neither side's buffers fill up.
    bool sent = false;
    std::thread writer([&] { sent = send_all(c, pipeline); });
    std::vector<std::string> ids;
    for (int i = 0; i < kRequests; ++i) {
        auto res = c.read_response(20s);
        if (res.status != 200) {
            ADD_FAILURE() << "answer " << i << ": " << res.status << " " << res.body;
            break;
        }
        ids.push_back(json::parse(res.body).at("id").get<std::string>());
    }
    writer.join();
    EXPECT_TRUE(sent);
    ASSERT_EQ(ids.size(), static_cast<std::size_t>(kRequests));
    auto seq = [](const std::string& id) { return std::stoull(id.substr(id.find('-') + 1)); };
    for (int i = 1; i < kRequests; ++i) ASSERT_EQ(seq(ids[i]), seq(ids[i - 1]) + 1) << i;
    expect_alive("after a long pipeline");
}

TEST_F(Robustness, PipelinedRequestsAreAnsweredInOrder) {
    start();
    test::sse_client sub(port(), "/events?channel=pipe");
    ASSERT_EQ(sub.status(), 200);
    test::connection c(port());
    send_all(c, post_request(json{{"channel", "pipe"}, {"data", "first"}}.dump()) +
                    post_request(
                        json{{"channel", "pipe"}, {"event", "second"}, {"data", "second"}}.dump()) +
                    "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" +
                    post_request(json{{"channel", "pipe"}, {"data", "third"}}.dump(), false));
    auto first = c.read_response(10s);
    auto second = c.read_response(10s);
    auto health = c.read_response(10s);
    auto third = c.read_response(10s);
    ASSERT_EQ(first.status, 200) << first.body;
    ASSERT_EQ(second.status, 200) << second.body;
    ASSERT_EQ(health.status, 200) << health.body;
    ASSERT_EQ(third.status, 200) << third.body;
    EXPECT_TRUE(json::parse(health.body).contains("uptime_seconds")) << health.body;
    EXPECT_TRUE(c.wait_closed(10s)) << "Connection: close on the last request was not honoured";

    ASSERT_TRUE(sub.wait_events(3));
    std::vector<std::string> ids;
    for (const auto* r : {&first, &second, &third})
        ids.push_back(json::parse(r->body).at("id").get<std::string>());
    EXPECT_EQ(sub.events()[0].data, "first");
    EXPECT_EQ(sub.events()[1].data, "second");
    EXPECT_EQ(sub.events()[1].type, "second");
    EXPECT_EQ(sub.events()[2].data, "third");
    for (int i = 0; i < 3; ++i) EXPECT_EQ(sub.events()[i].last_event_id, ids[i]);
}

TEST_F(Robustness, InvalidJsonGets400OnAKeptAliveConnection) {
    start();
    const std::vector<std::string> bodies = {
        "",
        "{",
        "null",
        "42",
        "\"text\"",
        "[1,2",
        "[]",
        "{\"data\":}",
        "{\"data\":1,}",
        "{\"data\":1} trailing",
        "{'data':1}",
        "\xff\xfe",
        "{\"data\":\"\xff\"}",
        "{\"data\":\"\\ud800\"}",
        std::string("{\"data\":\"a\0b\"}", 14),
        "{\"channel\":\"x\"}",
        "{\"channel\":5,\"data\":1}",
        "{\"channels\":[],\"data\":1}",
        "{\"data\":1,\"unknown\":true}",
        "[{\"data\":1},{\"event\":\"\",\"data\":2}]",
    };
    test::connection c(port());
    for (const auto& body : bodies) {
        send_all(c, post_request(body));
        expect_json_error(c.read_response(10s), {400}, "body: " + body);
        ASSERT_FALSE(c.closed()) << "the keep-alive connection was closed after a 400 for: "
                                 << body;
    }
    // The connection still publishes.
    send_all(c, post_request(R"({"channel":"json","data":"ok"})"));
    EXPECT_EQ(c.read_response(10s).status, 200);
    auto channels = test::request(port(), "GET", "/channels");
    ASSERT_EQ(channels.status, 200);
    auto listed = json::parse(channels.body);
    for (const auto& ch : listed.at("channels")) {
        if (ch.at("name") != "json") {
            EXPECT_EQ(ch.at("buffered"), 0) << "a rejected body was published: " << ch;
        }
    }
}

TEST_F(Robustness, DeeplyNestedJsonDoesNotCrash) {
    struct nested_case {
        std::string what;
        std::string body;
        std::vector<int> statuses;
    };
    auto nested_data = [](std::size_t depth, const std::string& open, const std::string& close) {
        std::string b = "{\"data\":";
        b.reserve(depth * (open.size() + close.size()) + 16);
        for (std::size_t i = 0; i < depth; ++i) b += open;
        b += "1";
        for (std::size_t i = 0; i < depth; ++i) b += close;
        return b + "}";
    };
    auto run_cases = [&](const std::vector<nested_case>& cases,
                         const std::vector<std::string>& args) {
        start(args);
        for (const auto& nc : cases) {
            SCOPED_TRACE(nc.what + " (" + std::to_string(nc.body.size()) + " bytes)");
            try {
                test::connection c(port());
                send_all(c, post_request(nc.body, false));
                auto res = c.read_response(30s);
                bool expected_status = false;
                for (int st : nc.statuses) expected_status = expected_status || res.status == st;
                EXPECT_TRUE(expected_status)
                    << "status " << res.status << " body " << res.body.substr(0, 300);
                if (res.status != 200) expect_json_error(res, nc.statuses, nc.what);
            } catch (const std::exception& e) {
                ADD_FAILURE() << "exception: " << e.what();
            }
            expect_alive(nc.what);
            // A crash fails the case; the next case gets a fresh daemon, so each is judged alone.
            if (!server().running()) start(args);
        }
    };

    // Within the default --max-body of 64 KiB.
    run_cases(
        {
            {"100000 unclosed '['", std::string(100000, '['), {400, 413}},
            {"60000 unclosed '['", std::string(60000, '['), {400, 413}},
            {"array nested 30000 deep",
             std::string(30000, '[') + std::string(30000, ']'),
             {400, 413}},
            {"data: array nested 32000 deep", nested_data(32000, "[", "]"), {200, 400, 413}},
            {"data: object nested 8000 deep", nested_data(8000, "{\"a\":", "}"), {200, 400, 413}},
        },
        {"--request-timeout", "1s"});
    finish_server("the cases within the default --max-body");

    // With a larger --max-body the nesting can go deeper than any stack (also without ASan).
    run_cases(
        {
            {"1000000 unclosed '['", std::string(1000000, '['), {400, 413}},
            {"data: array nested 500000 deep", nested_data(500000, "[", "]"), {200, 400, 413}},
        },
        {"--request-timeout", "5s", "--max-body", "4MiB"});
}

TEST_F(Robustness, ControlCharactersInChannelNamesGet400) {
    start();
    for (const std::string q : {"a%00b", "%00", "a%0Db", "%0D", "a%0Ab", "a%0D%0Aevent:%20evil",
                                "a%09b", "a%20b", "a%7Fb", "%C3%A9", "a%", "a%0", "a%zz"}) {
        auto res = test::request(port(), "GET", "/events?channel=" + q);
        expect_json_error(res, {400}, "channel=" + q);
    }
    for (const std::string name : {"a\\u0000b", "a\\rb", "a\\nb", "\\r\\n", ""}) {
        auto res = test::publish(port(), "{\"channel\":\"" + name + "\",\"data\":1}");
        expect_json_error(res, {400}, "publish to channel " + name);
        res = test::publish(port(), "{\"channels\":[\"ok\",\"" + name + "\"],\"data\":1}");
        expect_json_error(res, {400}, "publish to channels ok and " + name);
    }
    // Nothing reached a channel.
    auto channels = test::request(port(), "GET", "/channels");
    ASSERT_EQ(channels.status, 200);
    auto listed = json::parse(channels.body);
    for (const auto& ch : listed.at("channels")) {
        EXPECT_EQ(ch.at("buffered"), 0) << ch;
    }
}

TEST_F(Robustness, DataCannotForgeFieldsEventsOrIds) {
    start();
    test::sse_client sub(port(), "/events?channel=forge");
    ASSERT_EQ(sub.status(), 200);
    ASSERT_TRUE(sub.wait_raw("retry: 3000\n"));

    const std::string forged = "x\n\nid: 999\nevent: evil\ndata: y";
    const std::string mixed = "a\rb\r\nc";
    const std::string more = "retry: 1\r\r\n:comment\nid\n\n\n";
    std::vector<std::string> ids;
    for (const auto& data : {forged, mixed, more}) {
        auto res = test::publish(port(), json{{"channel", "forge"}, {"data", data}}.dump());
        ASSERT_EQ(res.status, 200) << res.body;
        ids.push_back(json::parse(res.body).at("id").get<std::string>());
    }
    // A non-string value is one line of compact JSON; its newlines stay escaped.
    auto object = json{{"text", "line1\nline2\r\n\nid: 1"}, {"n", 1}};
    auto res = test::publish(port(), json{{"channel", "forge"}, {"data", object}}.dump());
    ASSERT_EQ(res.status, 200) << res.body;
    ids.push_back(json::parse(res.body).at("id").get<std::string>());

    ASSERT_TRUE(sub.wait_events(4));
    ASSERT_TRUE(sub.wait_raw("id: " + ids[3] + "\n"));
    ASSERT_TRUE(sub.wait_raw(object.dump() + "\n\n"));
    const auto& events = sub.events();
    ASSERT_EQ(events.size(), 4u);
    for (std::size_t i = 0; i < events.size(); ++i) {
        EXPECT_EQ(events[i].type, "message") << "event " << i;
        EXPECT_EQ(events[i].last_event_id, ids[i]) << "event " << i;
    }
    EXPECT_EQ(events[0].data, forged);
    // Line breaks are the one thing SSE cannot carry verbatim: CR, CRLF and LF all become LF.
    EXPECT_EQ(events[1].data, "a\nb\nc");
    EXPECT_EQ(events[2].data, "retry: 1\n\n:comment\nid\n\n\n");
    EXPECT_EQ(json::parse(events[3].data), object);
    EXPECT_EQ(sub.parser().retry(), 3000u) << "a data line changed the reconnection time";
    EXPECT_EQ(sub.parser().last_event_id(), ids[3]);

    // The bytes on the wire, frame by frame.
    const auto& raw = sub.raw();
    EXPECT_NE(raw.find("id: " + ids[0] +
                       "\ndata: x\ndata: \ndata: id: 999\ndata: event: evil\ndata: data: y\n\n"),
              std::string::npos)
        << raw;
    EXPECT_NE(raw.find("id: " + ids[1] + "\ndata: a\ndata: b\ndata: c\n\n"), std::string::npos)
        << raw;
    EXPECT_NE(
        raw.find("id: " + ids[2] +
                 "\ndata: retry: 1\ndata: \ndata: :comment\ndata: id\ndata: \ndata: \ndata: \n\n"),
        std::string::npos)
        << raw;
    EXPECT_NE(raw.find("id: " + ids[3] + "\ndata: " + object.dump() + "\n\n"), std::string::npos)
        << raw;
    EXPECT_EQ(raw.find("\nevent:"), std::string::npos) << raw;
    EXPECT_EQ(raw.find('\r'), std::string::npos) << raw;
}

TEST_F(Robustness, BadEventTypesGet400AndPublishNothing) {
    start();
    test::sse_client sub(port(), "/events?channel=types");
    ASSERT_EQ(sub.status(), 200);
    const std::vector<std::string> types = {"\\n",
                                            "a\\nb",
                                            "\\r",
                                            "a\\rb",
                                            "a\\r\\nevent: evil",
                                            "a\\u0000b",
                                            "",
                                            "resync",
                                            std::string(129, 't')};
    for (const auto& type : types) {
        auto res = test::publish(
            port(), "{\"channel\":\"types\",\"event\":\"" + type + "\",\"data\":\"x\"}");
        expect_json_error(res, {400}, "event type " + type.substr(0, 40));
    }
    auto res = test::publish(port(), "{\"channel\":\"types\",\"event\":5,\"data\":\"x\"}");
    expect_json_error(res, {400}, "event type that is a number");
    // In a batch, one bad type rejects everything.
    res = test::publish(
        port(),
        R"([{"channel":"types","data":"ok"},{"channel":"types","event":"a\nb","data":"x"}])");
    expect_json_error(res, {400}, "batch with a bad event type");

    // The longest allowed type goes through, and it is the only event the subscriber sees.
    res = test::publish(
        port(), json{{"channel", "types"}, {"event", std::string(128, 't')}, {"data", "x"}}.dump());
    ASSERT_EQ(res.status, 200) << res.body;
    ASSERT_TRUE(sub.wait_events(1));
    EXPECT_EQ(sub.events()[0].type, std::string(128, 't'));
    EXPECT_EQ(sub.events()[0].last_event_id, json::parse(res.body).at("id").get<std::string>());
    EXPECT_FALSE(sub.wait_events(2, 200ms)) << "a rejected event reached the subscriber";
}
