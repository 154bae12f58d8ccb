// ssecast behind the real Nginx (Debian's nginx-light), configured with config/nginx/ssecast.conf:
// events are not buffered, Last-Event-ID replay works, heartbeats outlive proxy_read_timeout,
// publishing through the public site is refused, and with --trusted-proxies each client is seen
// by its own address. With config/nginx/ssecast-tls.conf: curl receives the events one by one over
// TLS and HTTP/2, and plain HTTP is redirected to HTTPS.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "http_client.hpp"
#include "test_server.hpp"

namespace {

using namespace std::chrono_literals;
using nlohmann::json;
namespace fs = std::filesystem;

const char* const nginx_binary = "/usr/sbin/nginx";

fs::path source_dir() {
    return SSECAST_SOURCE_DIR;
}

// `count` loopback ports nobody listens on right now (all bound at once: distinct).
std::vector<std::uint16_t> free_ports(std::size_t count) {
    std::vector<int> fds;
    std::vector<std::uint16_t> ports;
    for (std::size_t i = 0; i < count; ++i) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
        socklen_t len = sizeof addr;
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
        fds.push_back(fd);
        ports.push_back(ntohs(addr.sin_port));
    }
    for (int fd : fds) close(fd);
    return ports;
}

bool accepts(std::uint16_t port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    close(fd);
    return ok;
}

// The shipped sites: config/nginx/ssecast.conf (HTTP) and config/nginx/ssecast-tls.conf (a
// redirect on the HTTP port, TLS and HTTP/2 on the other).
enum class site { http, tls };

// Nginx running one of the project's site files, pointed at a test daemon, on free loopback
// ports; tests/common/nginx_site.sh renders it (and makes the TLS site's certificate).
class nginx {
  public:
    explicit nginx(std::uint16_t upstream_port, const std::string& read_timeout = "1h",
                   site which = site::http)
        : dir_(test::make_temp_dir()) {
        auto ports = free_ports(2);
        port_ = ports[0];
        auto d = dir_.string();
        std::vector<std::string> render{
            "/bin/bash",      (source_dir() / "tests/common/nginx_site.sh").string(),
            "--site",         which == site::tls ? "ssecast-tls.conf" : "ssecast.conf",
            "--dir",          d,
            "--upstream",     std::to_string(upstream_port),
            "--http-port",    std::to_string(port_),
            "--read-timeout", read_timeout};
        if (which == site::tls) {
            tls_port_ = ports[1];
            render.insert(render.end(), {"--tls-port", std::to_string(tls_port_)});
        }
        auto rendered =
            test::process(render, {}, dir_ / "render.out", dir_ / "render.err").wait(30s);
        if (!rendered.exited || rendered.code != 0) {
            throw std::runtime_error("nginx_site.sh failed: " +
                                     test::read_file(dir_ / "render.err"));
        }
        proc_ = std::make_unique<test::process>(
            std::vector<std::string>{nginx_binary, "-p", d, "-c", d + "/nginx.conf", "-g",
                                     "daemon off;"},
            std::map<std::string, std::string>{}, dir_ / "stdout.log", dir_ / "stderr.log");
        auto listening = [&] { return accepts(port_) && (tls_port_ == 0 || accepts(tls_port_)); };
        if (!test::eventually([&] { return listening() || !proc_->running(); }, 20s) ||
            !proc_->running()) {
            throw std::runtime_error("nginx did not start: " + log());
        }
    }
    ~nginx() {
        proc_->signal(SIGQUIT);
        proc_->wait(10s);
        std::error_code ignored;
        fs::remove_all(dir_, ignored);
    }
    // The HTTP port (the TLS site's redirect), and the TLS site's HTTPS port.
    std::uint16_t port() const { return port_; }
    std::uint16_t tls_port() const { return tls_port_; }
    std::string log() const {
        return test::read_file(dir_ / "stderr.log") + test::read_file(dir_ / "error.log");
    }

  private:
    fs::path dir_;
    std::uint16_t port_ = 0;
    std::uint16_t tls_port_ = 0;
    std::unique_ptr<test::process> proc_;
};

class Nginx : public ::testing::Test {
  protected:
    void SetUp() override {
        if (access(nginx_binary, X_OK) != 0) {
            FAIL() << nginx_binary
                   << " is missing: scripts/install-test-deps.sh installs nginx-light";
        }
    }
};

std::string publish_direct(std::uint16_t port, const std::string& channel,
                           const std::string& data) {
    auto res = test::publish(port, json{{"channel", channel}, {"data", data}}.dump());
    EXPECT_EQ(res.status, 200) << res.body;
    return json::parse(res.body).at("id").get<std::string>();
}

TEST_F(Nginx, EventsPassThroughOneByOneWithoutBuffering) {
    test::server daemon;
    nginx proxy(daemon.port());
    // Accept-Encoding asks for gzip, which would make Nginx buffer; the site turns it off.
    test::sse_client through(proxy.port(), "/events?channel=live", {{"Accept-Encoding", "gzip"}});
    test::sse_client direct(daemon.port(), "/events?channel=live");
    ASSERT_EQ(through.status(), 200) << proxy.log();
    EXPECT_TRUE(through.has_header_line("Content-Type: text/event-stream; charset=utf-8"))
        << through.head();
    EXPECT_EQ(through.head().find("Content-Encoding"), std::string::npos) << through.head();

    // Each event must arrive through Nginx before the next is published: nothing waits for a
    // buffer to fill. The latencies are printed for the record, not asserted.
    for (int i = 0; i < 5; ++i) {
        auto sent = test::clock::now();
        auto id = publish_direct(daemon.port(), "live", "event " + std::to_string(i));
        ASSERT_TRUE(through.wait_events(static_cast<std::size_t>(i) + 1, 10s))
            << "event " << i << " did not come through Nginx\n"
            << proxy.log();
        auto via_nginx = test::clock::now() - sent;
        ASSERT_TRUE(direct.wait_events(static_cast<std::size_t>(i) + 1, 10s));
        EXPECT_EQ(through.events().back().data, "event " + std::to_string(i));
        EXPECT_EQ(through.events().back().last_event_id, id);
        std::cout << "event " << i << ": received through Nginx "
                  << std::chrono::duration<double, std::milli>(via_nginx).count()
                  << " ms after the publish started\n";
    }
}

TEST_F(Nginx, LastEventIdReplayWorksThroughNginx) {
    test::server daemon;
    nginx proxy(daemon.port());
    auto first = publish_direct(daemon.port(), "replay", "one");
    publish_direct(daemon.port(), "replay", "two");
    publish_direct(daemon.port(), "replay", "three");

    test::sse_client resumed(proxy.port(), "/events?channel=replay", {{"Last-Event-ID", first}});
    ASSERT_EQ(resumed.status(), 200);
    ASSERT_TRUE(resumed.wait_events(2, 10s)) << resumed.raw();
    EXPECT_EQ(resumed.events()[0].data, "two");
    EXPECT_EQ(resumed.events()[1].data, "three");
    // Exactly the missed ones: then live events follow, nothing repeated.
    publish_direct(daemon.port(), "replay", "four");
    ASSERT_TRUE(resumed.wait_events(3, 10s));
    EXPECT_EQ(resumed.events()[2].data, "four");
    EXPECT_EQ(resumed.events().size(), 3u);
}

TEST_F(Nginx, HeartbeatsKeepAStreamOpenPastProxyReadTimeout) {
    test::server daemon({"--heartbeat", "200ms"});
    nginx proxy(daemon.port(), "1s");
    test::sse_client sub(proxy.port(), "/events?channel=quiet");
    ASSERT_EQ(sub.status(), 200);
    // Ten heartbeats in a row take about 2 s, twice the proxy's read timeout.
    std::string beats;
    for (int i = 0; i < 10; ++i) beats += ":\n";
    ASSERT_TRUE(sub.wait_raw(beats, 20s)) << sub.raw() << "\n" << proxy.log();
    publish_direct(daemon.port(), "quiet", "still here");
    ASSERT_TRUE(sub.wait_events(1, 10s)) << "the stream was cut\n" << proxy.log();
    EXPECT_EQ(sub.events()[0].data, "still here");
}

TEST_F(Nginx, WithoutHeartbeatsTheProxyTimeoutWouldEndTheStream) {
    // The control for the test above: the 1 s timeout is real, so the heartbeats are what kept it.
    test::server daemon({"--heartbeat", "1h"});
    nginx proxy(daemon.port(), "1s");
    test::sse_client sub(proxy.port(), "/events?channel=quiet");
    ASSERT_EQ(sub.status(), 200);
    EXPECT_TRUE(sub.wait_closed(15s)) << "Nginx kept a silent stream past proxy_read_timeout";
}

TEST_F(Nginx, PublishingThroughTheSiteIsRefused) {
    test::server daemon;
    nginx proxy(daemon.port());
    for (const std::string path : {"/notify", "/channels", "/metrics"}) {
        auto res = test::request(proxy.port(), path == "/notify" ? "POST" : "GET", path,
                                 R"({"channel":"x","data":"forged"})",
                                 {{"Content-Type", "application/json"}});
        EXPECT_EQ(res.status, 403) << path << ": " << res.body;
        EXPECT_FALSE(json::parse(res.body).at("error").get<std::string>().empty()) << res.body;
    }
    // Nothing was published: the channel does not exist.
    auto channels = test::request(daemon.port(), "GET", "/channels");
    ASSERT_EQ(channels.status, 200);
    EXPECT_TRUE(json::parse(channels.body).at("channels").empty()) << channels.body;
    // What the public may use still works.
    EXPECT_EQ(test::request(proxy.port(), "GET", "/healthz").status, 200);
}

const char* const curl_binary = "/usr/bin/curl";

// curl run to completion; its stdout.
std::string run_curl(const fs::path& dir, std::vector<std::string> args) {
    args.insert(args.begin(), curl_binary);
    auto status = test::process(args, {}, dir / "curl.out", dir / "curl.err").wait(20s);
    EXPECT_TRUE(status.exited && status.code == 0)
        << "curl exited with " << status.code << ": " << test::read_file(dir / "curl.err");
    return test::read_file(dir / "curl.out");
}

TEST_F(Nginx, TlsSiteStreamsEventsOneByOneOverHttp2) {
    test::server daemon({"--trusted-proxies", "127.0.0.1,::1"});
    nginx proxy(daemon.port(), "1h", site::tls);
    auto out = daemon.dir() / "stream.out";
    // From 127.0.0.2, to be told apart from Nginx (127.0.0.1) in the daemon's log.
    test::process curl(
        {curl_binary, "--http2", "-k", "-sS", "-N", "-i", "--interface", "127.0.0.2",
         "https://127.0.0.1:" + std::to_string(proxy.tls_port()) + "/events?channel=h2"},
        {}, out, daemon.dir() / "stream.err");
    auto stream = [&] { return test::read_file(out); };
    ASSERT_TRUE(test::eventually(
        [&] { return stream().find(":ok\n") != std::string::npos || !curl.running(); }, 10s))
        << stream() << test::read_file(daemon.dir() / "stream.err") << proxy.log();
    EXPECT_EQ(stream().rfind("HTTP/2 200", 0), 0u) << stream();
    EXPECT_NE(stream().find("content-type: text/event-stream; charset=utf-8"), std::string::npos)
        << stream();

    // Each event must reach curl before the next is published.
    for (int i = 0; i < 5; ++i) {
        auto sent = test::clock::now();
        auto data = "data: event " + std::to_string(i) + "\n";
        auto id = publish_direct(daemon.port(), "h2", "event " + std::to_string(i));
        ASSERT_TRUE(test::eventually(
            [&] { return stream().find("id: " + id + "\n" + data) != std::string::npos; }, 10s))
            << "event " << i << " did not come through Nginx over HTTP/2\n"
            << stream() << proxy.log();
        std::cout << "event " << i << ": received by curl over HTTP/2 "
                  << std::chrono::duration<double, std::milli>(test::clock::now() - sent).count()
                  << " ms after the publish started\n";
    }
    // The site sends X-Forwarded-For and the daemon trusts Nginx: the log names curl's address.
    curl.signal(SIGTERM);
    curl.wait(10s);
    EXPECT_TRUE(daemon.wait_for_log("stream end peer=127.0.0.2 proxy=127.0.0.1:")) << daemon.log();
}

TEST_F(Nginx, TlsSiteRedirectsPlainHttpToHttps) {
    test::server daemon;
    nginx proxy(daemon.port(), "1h", site::tls);
    auto https = "https://127.0.0.1:" + std::to_string(proxy.tls_port());
    auto res = test::request(proxy.port(), "GET", "/events?channel=x&lastEventId=1-1");
    EXPECT_EQ(res.status, 301) << res.body;
    EXPECT_EQ(res.headers["Location"], https + "/events?channel=x&lastEventId=1-1");
    // A client that follows it ends up on the HTTPS site, over HTTP/2.
    auto followed =
        run_curl(daemon.dir(), {"--http2", "-k", "-sS", "-L", "-o", "/dev/null", "-w",
                                "%{http_code} %{http_version} %{url_effective}",
                                "http://127.0.0.1:" + std::to_string(proxy.port()) + "/healthz"});
    EXPECT_EQ(followed, "200 2 " + https + "/healthz");
}

}  // namespace

// The shipped site sends X-Forwarded-For: with Nginx in --trusted-proxies the daemon logs and
// limits each client by its own address, not all of them as 127.0.0.1.
TEST_F(Nginx, WithTrustedProxiesEachClientIsItself) {
    test::server daemon({"--trusted-proxies", "127.0.0.1", "--max-connections-per-ip", "2"});
    nginx proxy(daemon.port());
    auto stream_from = [&](const char* source) {
        auto c = std::make_unique<test::connection>(proxy.port(), "127.0.0.1", source);
        c->send(test::format_request("GET", "/events?channel=nginx", "", {}, true));
        c->read_until(
            [](const std::string& b) {
                return b.find(":ok\n") != std::string::npos ||
                       b.find("connection limit per address") != std::string::npos;
            },
            10s);
        return c;
    };
    auto first = stream_from("127.0.0.2");
    auto second = stream_from("127.0.0.2");
    auto third = stream_from("127.0.0.2");
    auto other = stream_from("127.0.0.3");
    EXPECT_NE(first->buffer().find(":ok\n"), std::string::npos) << first->buffer();
    EXPECT_NE(second->buffer().find(":ok\n"), std::string::npos) << second->buffer();
    EXPECT_NE(third->buffer().find(": connection limit per address reached\n"), std::string::npos)
        << third->buffer();
    EXPECT_NE(other->buffer().find(":ok\n"), std::string::npos) << other->buffer();
    first.reset();
    EXPECT_TRUE(daemon.wait_for_log("stream end peer=127.0.0.2 proxy=127.0.0.1:")) << daemon.log();
}
