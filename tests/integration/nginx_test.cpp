// ssecast behind the real Nginx (Debian's nginx-light), configured with config/nginx/ssecast.conf:
// events are not buffered, Last-Event-ID replay works, heartbeats outlive proxy_read_timeout,
// publishing through the public site is refused, and with --trusted-proxies each client is seen
// by its own address.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

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

// A loopback port nobody listens on right now.
std::uint16_t free_port() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    close(fd);
    return ntohs(addr.sin_port);
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

void replace_all(std::string& text, const std::string& from, const std::string& to) {
    std::size_t at = 0;
    std::size_t count = 0;
    while ((at = text.find(from, at)) != std::string::npos) {
        text.replace(at, from.size(), to);
        at += to.size();
        ++count;
    }
    if (count == 0) throw std::runtime_error("config/nginx/ssecast.conf has no \"" + from + "\"");
}

// Nginx running the project's site file, pointed at a test daemon, on a free loopback port.
class nginx {
  public:
    nginx(std::uint16_t upstream_port, const std::string& read_timeout = "1h")
        : dir_(test::make_temp_dir()) {
        fs::permissions(dir_, fs::perms::owner_all | fs::perms::group_read |
                                  fs::perms::others_read | fs::perms::group_exec |
                                  fs::perms::others_exec);
        auto site = test::read_file(source_dir() / "config/nginx/ssecast.conf");
        // Only the addresses and the read timeout differ from the shipped file.
        port_ = free_port();
        replace_all(site, "server 127.0.0.1:8080;",
                    "server 127.0.0.1:" + std::to_string(upstream_port) + ";");
        replace_all(site, "listen 80;", "listen 127.0.0.1:" + std::to_string(port_) + ";");
        replace_all(site, "proxy_read_timeout 1h;", "proxy_read_timeout " + read_timeout + ";");
        std::ofstream(dir_ / "site.conf") << site;
        auto d = dir_.string();
        std::ofstream(dir_ / "nginx.conf")
            << "worker_processes 1;\npid " << d << "/nginx.pid;\nerror_log " << d
            << "/error.log info;\nevents { worker_connections 256; }\nhttp {\n  access_log off;\n"
            << "  client_body_temp_path " << d << "/body;\n  proxy_temp_path " << d << "/proxy;\n"
            << "  fastcgi_temp_path " << d << "/fastcgi;\n  uwsgi_temp_path " << d << "/uwsgi;\n"
            << "  scgi_temp_path " << d << "/scgi;\n  include " << d << "/site.conf;\n}\n";
        proc_ = std::make_unique<test::process>(
            std::vector<std::string>{nginx_binary, "-p", d, "-c", d + "/nginx.conf", "-g",
                                     "daemon off;"},
            std::map<std::string, std::string>{}, dir_ / "stdout.log", dir_ / "stderr.log");
        if (!test::eventually([&] { return accepts(port_) || !proc_->running(); }, 20s) ||
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
    std::uint16_t port() const { return port_; }
    std::string log() const {
        return test::read_file(dir_ / "stderr.log") + test::read_file(dir_ / "error.log");
    }

  private:
    fs::path dir_;
    std::uint16_t port_ = 0;
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
