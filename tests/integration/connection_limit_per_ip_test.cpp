// --max-connections-per-ip: one address (an IPv4 address, an IPv6 /64) cannot hold more than its
// share of the connections. Other clients are played by other loopback source addresses
// (127.0.0.2, ...), and by X-Forwarded-For through a trusted proxy.

#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "http_client.hpp"
#include "prometheus_text.hpp"
#include "test_server.hpp"

using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

// One request on a fresh connection from `source`.
test::http_response request_from(std::uint16_t port, const char* source, const std::string& target,
                                 const test::header_map& headers = {}) {
    test::connection c(port, "127.0.0.1", source);
    c.send(test::format_request("GET", target, "", headers, false));
    return c.read_response();
}

// A scrape from an address no test connection uses (it counts as one address itself).
prom::exposition scrape(std::uint16_t port) {
    auto res = request_from(port, "127.0.0.250", "/metrics");
    EXPECT_EQ(res.status, 200) << res.body;
    return prom::parse(res.body);
}

double tracked(std::uint16_t port) {
    return scrape(port).at("ssecast_connections_per_ip_addresses");
}

void expect_refused_with_429(const test::http_response& res) {
    EXPECT_EQ(res.status, 429) << res.body;
    EXPECT_EQ(res.headers.at("Content-Type"), "application/json");
    auto body = json::parse(res.body, nullptr, false);
    ASSERT_TRUE(body.is_object()) << res.body;
    EXPECT_NE(body["error"].get<std::string>().find("connection limit per address"),
              std::string::npos)
        << res.body;
    ASSERT_TRUE(res.headers.count("Retry-After")) << "no Retry-After";
    EXPECT_GE(std::stoi(res.headers.at("Retry-After")), 1);
    EXPECT_EQ(res.headers.at("Retry-After").find_first_not_of("0123456789"), std::string::npos);
    EXPECT_EQ(res.headers.at("Connection"), "close");
}

// The come-back-later answer of /events: 200, a comment saying why, a jittered retry:, closed.
void expect_come_back_later(test::sse_client& sub) {
    EXPECT_EQ(sub.status(), 200);
    EXPECT_TRUE(sub.wait_closed());
    EXPECT_NE(sub.raw().find(": connection limit per address reached\n"), std::string::npos)
        << sub.raw();
    ASSERT_TRUE(sub.parser().retry().has_value()) << sub.raw();
    EXPECT_GE(*sub.parser().retry(), 1000u);
    EXPECT_TRUE(sub.events().empty());
}

}  // namespace

TEST(ConnectionLimitPerIp, PastTheLimitStreamsComeBackLaterAndTheRestGet429) {
    test::server s({"--max-connections-per-ip", "3"});
    std::vector<std::unique_ptr<test::sse_client>> streams;
    for (int i = 0; i < 3; ++i) {
        streams.push_back(std::make_unique<test::sse_client>(s.port(), "/events?channel=x"));
        ASSERT_EQ(streams.back()->status(), 200);
        ASSERT_TRUE(streams.back()->wait_raw(":ok\n"));
    }
    test::sse_client over(s.port(), "/events?channel=x");
    expect_come_back_later(over);
    expect_refused_with_429(test::request(s.port(), "GET", "/readyz"));
    expect_refused_with_429(test::request(s.port(), "GET", "/no-such-path"));
    // A health check is answered (a monitor behind a proxy shares the clients' address), and its
    // connection closed after it, kept alive or not.
    test::connection check(s.port());
    check.send(test::format_request("GET", "/healthz", "", {}, true));
    auto health = check.read_response();
    EXPECT_EQ(health.status, 200) << health.body;
    EXPECT_EQ(json::parse(health.body).at("status"), "ok") << health.body;
    EXPECT_EQ(health.headers["Connection"], "close");
    EXPECT_TRUE(check.wait_closed(10s));

    // Another address is not affected.
    EXPECT_EQ(request_from(s.port(), "127.0.0.2", "/healthz").status, 200);

    // The health check too: it came over the limit.
    EXPECT_EQ(scrape(s.port()).at("ssecast_connections_per_ip_refused_total"), 4);
    // 127.0.0.1 and the scrape's address (127.0.0.2's connection is closing).
    EXPECT_TRUE(test::eventually([&] { return tracked(s.port()) == 2; })) << tracked(s.port());
    auto health_json = json::parse(request_from(s.port(), "127.0.0.2", "/healthz").body);
    EXPECT_EQ(health_json["counters"]["connections_per_ip_refused"], 4) << health_json;

    // The warning names the address and, for a loopback one, what a proxy on this host needs.
    ASSERT_TRUE(s.wait_for_log("refused a connection from 127.0.0.1;")) << s.log();
    auto warning = test::lines_with(s.log(), "refused a connection from 127.0.0.1;").front();
    EXPECT_NE(warning.find("--max-connections-per-ip 3"), std::string::npos) << warning;
    EXPECT_NE(warning.find("--trusted-proxies"), std::string::npos) << warning;
    EXPECT_NE(warning.find(" warning "), std::string::npos) << warning;

    // Once the streams are gone the address is served again.
    streams.clear();
    EXPECT_TRUE(
        test::eventually([&] { return test::request(s.port(), "GET", "/readyz").status == 200; }));
}

TEST(ConnectionLimitPerIp, TheWarningIsAtMostOneLineASecondAndCountsEveryRefusal) {
    test::server s({"--max-connections-per-ip", "1"});
    test::sse_client held(s.port(), "/events?channel=x");
    ASSERT_TRUE(held.wait_raw(":ok\n"));

    // The warning lines so far, and the sum of the "; N refused since ..." counts they report.
    const std::string counted = " refused since the last such warning";
    auto reported = [&] {
        std::uint64_t sum = 0;
        std::size_t lines = 0;
        for (const auto& line : test::lines_with(s.log(), counted)) {
            auto end = line.find(counted);
            auto start = line.rfind("; ", end) + 2;
            sum += std::stoull(line.substr(start, end - start));
            ++lines;
        }
        return std::make_pair(lines, sum);
    };
    auto started = test::clock::now();
    std::uint64_t refused = 0;
    for (int i = 0; i < 50; ++i) {
        ASSERT_EQ(test::request(s.port(), "GET", "/readyz").status, 429);
        ++refused;
    }
    ASSERT_TRUE(test::eventually([&] { return reported().first >= 1; })) << s.log();
    auto lines_after_burst = reported().first;
    // One refusal at a time until a new line comes (the next second): it reports all of them.
    bool new_line = false;
    for (int i = 0; i < 40 && !new_line; ++i) {
        ASSERT_EQ(test::request(s.port(), "GET", "/readyz").status, 429);
        ++refused;
        new_line = test::eventually([&] { return reported().first > lines_after_burst; }, 200ms);
    }
    auto elapsed = std::chrono::duration<double>(test::clock::now() - started).count();
    auto [lines, sum] = reported();
    EXPECT_TRUE(new_line) << s.log();
    EXPECT_EQ(sum, refused) << "every refusal is in one line's count; log:\n" << s.log();
    EXPECT_LE(static_cast<double>(lines), elapsed + 1) << s.log();
}

TEST(ConnectionLimitPerIp, ThroughATrustedProxyEachClientIsCountedAndTheProxyIsNot) {
    test::server s({"--trusted-proxies", "127.0.0.1", "--max-connections-per-ip", "2"});
    auto as = [](const char* client) { return test::header_map{{"X-Forwarded-For", client}}; };
    std::vector<std::unique_ptr<test::sse_client>> streams;
    for (int i = 0; i < 2; ++i) {
        streams.push_back(
            std::make_unique<test::sse_client>(s.port(), "/events", as("203.0.113.7")));
        ASSERT_TRUE(streams.back()->wait_raw(":ok\n"));
    }
    test::sse_client over(s.port(), "/events", as("203.0.113.7"));
    expect_come_back_later(over);
    test::sse_client other(s.port(), "/events", as("203.0.113.8"));
    EXPECT_TRUE(other.wait_raw(":ok\n")) << other.raw();
    // The proxy's own requests (no X-Forwarded-For) are not limited.
    for (int i = 0; i < 5; ++i) {
        streams.push_back(std::make_unique<test::sse_client>(s.port(), "/events"));
        ASSERT_TRUE(streams.back()->wait_raw(":ok\n")) << "proxy stream " << i;
    }

    // One keep-alive connection carries one client, then another: it moves between them.
    test::connection moving(s.port());
    moving.send(test::format_request("GET", "/readyz", "", as("203.0.113.20"), true));
    EXPECT_EQ(moving.read_response().status, 200);
    moving.send(test::format_request("GET", "/readyz", "", as("203.0.113.21"), true));
    EXPECT_EQ(moving.read_response().status, 200);
    // Counted under .7, .8 and .21 only (and the scrape's address): .20 was left behind.
    EXPECT_TRUE(test::eventually([&] { return tracked(s.port()) == 4; })) << tracked(s.port());
    // Moving onto a client that is at its limit: refused, and the connection closed.
    moving.send(test::format_request("GET", "/readyz", "", as("203.0.113.7"), true));
    expect_refused_with_429(moving.read_response());
    EXPECT_TRUE(moving.wait_closed(10s));

    auto warning = test::lines_with(s.log(), "refused a connection from 203.0.113.7;");
    ASSERT_FALSE(warning.empty()) << s.log();
    EXPECT_EQ(warning.front().find("loopback"), std::string::npos) << warning.front();
    EXPECT_EQ(scrape(s.port()).at("ssecast_connections_per_ip_refused_total"), 2);
}

TEST(ConnectionLimitPerIp, AnAddressIsTrackedOnlyWhileItHasConnections) {
    test::server s;  // the default limit
    std::vector<std::string> sources;
    for (int i = 2; i < 42; ++i) sources.push_back("127.0.0." + std::to_string(i));
    std::vector<std::unique_ptr<test::connection>> idle;
    for (const auto& source : sources)
        idle.push_back(std::make_unique<test::connection>(s.port(), "127.0.0.1", source.c_str()));
    EXPECT_TRUE(test::eventually([&] { return tracked(s.port()) == 41; }))
        << tracked(s.port());  // 40 and the scrape's
    idle.clear();
    EXPECT_TRUE(test::eventually([&] { return tracked(s.port()) == 1; })) << tracked(s.port());
}

TEST(ConnectionLimitPerIp, BeyondTheAnswersKeptForRefusalsConnectionsAreClosedAtOnce) {
    test::server s({"--max-connections-per-ip", "1"});
    auto open = [&] {
        return std::make_unique<test::connection>(s.port(), "127.0.0.1", "127.0.0.2");
    };
    auto within = open();
    // 32 over the limit wait for their request, to be told; the 8 after them are closed.
    std::vector<std::unique_ptr<test::connection>> answered;
    for (int i = 0; i < 32; ++i) answered.push_back(open());
    std::vector<std::unique_ptr<test::connection>> dropped;
    for (int i = 0; i < 8; ++i) dropped.push_back(open());
    for (auto& c : dropped) {
        EXPECT_TRUE(c->wait_closed(5s)) << "a connection far over the limit was kept";
        EXPECT_TRUE(c->buffer().empty()) << c->buffer();
    }
    EXPECT_FALSE(answered.front()->closed());
    answered.front()->send(test::format_request("GET", "/readyz", "", {}, true));
    expect_refused_with_429(answered.front()->read_response());
    within->send(test::format_request("GET", "/readyz", "", {}, true));
    EXPECT_EQ(within->read_response().status, 200);
    EXPECT_EQ(scrape(s.port()).at("ssecast_connections_per_ip_refused_total"), 40);
}

TEST(ConnectionLimitPerIp, MappedPeersOfADualStackListenerCountAsIPv4) {
    std::unique_ptr<test::server> s;
    try {
        s = std::make_unique<test::server>(
            std::vector<std::string>{"--listen", "[::]:0", "--max-connections-per-ip", "1"});
    } catch (const std::exception& e) {
        GTEST_SKIP() << "no IPv6 listener here: " << e.what();
    }
    test::connection held(s->port());
    expect_refused_with_429(test::request(s->port(), "GET", "/readyz"));
    EXPECT_TRUE(s->wait_for_log("refused a connection from 127.0.0.1;")) << s->log();
}

TEST(ConnectionLimitPerIp, ZeroTurnsItOff) {
    test::server s({"--max-connections-per-ip", "0"});
    std::vector<std::unique_ptr<test::connection>> held;
    for (int i = 0; i < 50; ++i) held.push_back(std::make_unique<test::connection>(s.port()));
    EXPECT_EQ(test::request(s.port(), "GET", "/readyz").status, 200);
    auto m = prom::parse(test::request(s.port(), "GET", "/metrics").body);
    EXPECT_EQ(m.at("ssecast_connections_per_ip_addresses"), 0);
    EXPECT_EQ(m.at("ssecast_connections_per_ip_refused_total"), 0);
    EXPECT_NE(s.log().find("max_connections_per_ip=off"), std::string::npos) << s.log();
}
