// GET /metrics, GET /readyz and the access log, against the real daemon: every scrape goes
// through the strict exposition-format parser, and counters are checked to move by exactly what
// the test did.

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "http_client.hpp"
#include "prometheus_text.hpp"
#include "test_server.hpp"

using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

// Scrapes GET /metrics on a new connection each time, and counts the scrapes (each is one
// accepted connection).
class scraper {
  public:
    explicit scraper(std::uint16_t port) : port_(port) {}

    prom::exposition operator()() {
        ++count_;
        auto res = test::request(port_, "GET", "/metrics");
        EXPECT_EQ(res.status, 200) << res.body;
        EXPECT_EQ(res.headers["Content-Type"], kContentType);
        text_ = res.body;
        return prom::parse(res.body);
    }
    // Scrapes until `ok` holds for a scrape (at most 10 s); returns the last scrape.
    template <typename F>
    prom::exposition until(F&& ok) {
        prom::exposition last;
        test::eventually([&] { return ok(last = (*this)()); });
        return last;
    }
    int count() const { return count_; }
    const std::string& text() const { return text_; }

  private:
    std::uint16_t port_;
    int count_ = 0;
    std::string text_;
};

// Bytes this client received on its stream: the response header and the body so far.
std::size_t received(const test::sse_client& c) {
    return c.head().size() + 4 + c.raw().size();
}

// Sends one request with Connection: close and returns every byte of the answer.
std::string raw_exchange(std::uint16_t port, const std::string& method, const std::string& target,
                         const std::string& body = "", const test::header_map& headers = {}) {
    test::connection c(port);
    c.send(test::format_request(method, target, body, headers, false));
    EXPECT_TRUE(c.wait_closed(10s));
    return c.buffer();
}

}  // namespace

// Every family the daemon writes, with its type; each has a HELP line.
TEST(Metrics, EveryFamilyIsThereWithHelpAndType) {
    test::server s;
    scraper scrape(s.port());
    auto m = scrape();
    const std::map<std::string, std::string> expected = {
        {"ssecast_build_info", "gauge"},
        {"ssecast_process_start_time_seconds", "gauge"},
        {"ssecast_uptime_seconds", "gauge"},
        {"ssecast_connections", "gauge"},
        {"ssecast_subscribers", "gauge"},
        {"ssecast_channels", "gauge"},
        {"ssecast_send_queue", "gauge"},
        {"ssecast_token_cache_entries", "gauge"},
        {"ssecast_connections_accepted_total", "counter"},
        {"ssecast_connections_refused_total", "counter"},
        {"ssecast_requests_rejected_total", "counter"},
        {"ssecast_streams_started_total", "counter"},
        {"ssecast_events_published_total", "counter"},
        {"ssecast_event_deliveries_total", "counter"},
        {"ssecast_events_dropped_total", "counter"},
        {"ssecast_slow_consumer_disconnects_total", "counter"},
        {"ssecast_events_replayed_total", "counter"},
        {"ssecast_resyncs_total", "counter"},
        {"ssecast_events_expired_total", "counter"},
        {"ssecast_channels_dropped_total", "counter"},
        {"ssecast_channel_limit_hits_total", "counter"},
        {"ssecast_auth_failures_total", "counter"},
        {"ssecast_bytes_sent_total", "counter"},
        {"ssecast_channel_subscribers", "histogram"},
        {"ssecast_publish_duration_seconds", "histogram"},
        {"ssecast_publish_to_write_seconds", "histogram"},
        {"ssecast_connections_per_ip_refused_total", "counter"},
        {"ssecast_connections_per_ip_addresses", "gauge"},
        {"ssecast_publish_rate_limited_total", "counter"},
        {"ssecast_publish_rate_buckets", "gauge"},
        {"process_cpu_seconds_total", "counter"},
        {"process_open_fds", "gauge"},
        {"process_max_fds", "gauge"},
        {"process_resident_memory_bytes", "gauge"},
        {"process_start_time_seconds", "gauge"},
    };
    std::map<std::string, std::string> got;
    for (const auto& [name, f] : m.families) {
        got[name] = f.type;
        EXPECT_FALSE(f.help.empty()) << name;
        EXPECT_FALSE(f.samples.empty()) << name;
    }
    EXPECT_EQ(got, expected) << scrape.text();

    EXPECT_EQ(m.at("ssecast_build_info", {{"version", "0.1.0"}}), 1);
    auto now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch());
    auto started = m.at("ssecast_process_start_time_seconds");
    EXPECT_LE(started, now.count());
    EXPECT_GT(started, now.count() - 600);
    auto uptime = m.at("ssecast_uptime_seconds");
    EXPECT_GE(uptime, 0);
    EXPECT_GT(scrape().at("ssecast_uptime_seconds"), uptime);
    // The process start time is fixed, not worked out anew from the uptime at each scrape.
    EXPECT_EQ(scrape().at("ssecast_process_start_time_seconds"), started);
    EXPECT_EQ(m.at("ssecast_connections"), 1);  // this scrape
    EXPECT_EQ(m.at("ssecast_subscribers"), 0);
    EXPECT_EQ(m.at("ssecast_channels"), 0);
    EXPECT_EQ(m.at("ssecast_send_queue"), 0);
    EXPECT_EQ(m.at("ssecast_connections_per_ip_addresses"), 1);  // this scrape's address
    EXPECT_EQ(m.at("ssecast_connections_per_ip_refused_total"), 0);
    EXPECT_EQ(m.at("ssecast_publish_rate_limited_total"), 0);
    EXPECT_EQ(m.at("ssecast_publish_rate_buckets"), 0);
    EXPECT_EQ(m.hist("ssecast_channel_subscribers").count, 0);
}

namespace {

// The fields of /proc/PID/stat after the command name: the first is field 3 of proc(5).
std::vector<std::string> proc_stat_fields(pid_t pid) {
    auto text = test::read_file("/proc/" + std::to_string(pid) + "/stat");
    std::istringstream rest(text.substr(text.rfind(')') + 1));
    std::vector<std::string> fields;
    for (std::string f; rest >> f;) fields.push_back(f);
    return fields;
}

// User and system CPU time of the process, as the kernel tells it to anyone.
double cpu_seconds_of(pid_t pid) {
    auto fields = proc_stat_fields(pid);
    return static_cast<double>(std::stoull(fields.at(14 - 3)) + std::stoull(fields.at(15 - 3))) /
           static_cast<double>(sysconf(_SC_CLK_TCK));
}

}  // namespace

// The process families under Prometheus' own names, types and HELP texts (those of its client
// libraries' process collector), each checked against what the test sees of the daemon.
TEST(Metrics, ProcessFamiliesHavePrometheusNamesAndTellTheTruth) {
    auto wall = [] {
        return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    };
    auto before_start = wall();
    test::server s({"--threads", "2"});
    auto after_start = wall();
    scraper scrape(s.port());
    auto m = scrape();
    const std::map<std::string, std::pair<std::string, std::string>> expected = {
        {"process_cpu_seconds_total",
         {"counter", "Total user and system CPU time spent in seconds."}},
        {"process_open_fds", {"gauge", "Number of open file descriptors."}},
        {"process_max_fds", {"gauge", "Maximum number of open file descriptors."}},
        {"process_resident_memory_bytes", {"gauge", "Resident memory size in bytes."}},
        {"process_start_time_seconds",
         {"gauge", "Start time of the process since unix epoch in seconds."}},
    };
    for (const auto& [name, type_and_help] : expected) {
        const auto* f = m.find(name);
        ASSERT_NE(f, nullptr) << name << " missing:\n" << scrape.text();
        EXPECT_EQ(f->type, type_and_help.first) << name;
        EXPECT_EQ(f->help, type_and_help.second) << name;
        ASSERT_EQ(f->samples.size(), 1u) << name;
        EXPECT_TRUE(f->samples[0].labels.empty()) << name;
    }

    // Started within the test's window (the boot time it is counted from is whole seconds).
    EXPECT_GE(m.at("process_start_time_seconds"), before_start - 1);
    EXPECT_LE(m.at("process_start_time_seconds"), after_start + 1);
    // Resident memory: what /proc/PID/status says, give or take what changed between the reads.
    auto status = test::read_file("/proc/" + std::to_string(s.pid()) + "/status");
    auto vm_rss = std::stod(status.substr(status.find("VmRSS:") + 6)) * 1024;
    EXPECT_GT(m.at("process_resident_memory_bytes"), vm_rss / 2);
    EXPECT_LT(m.at("process_resident_memory_bytes"), vm_rss * 2);
    // CPU time: between the kernel's figures just before and just after the scrape.
    auto cpu_before = cpu_seconds_of(s.pid());
    auto cpu = scrape().at("process_cpu_seconds_total");
    auto cpu_after = cpu_seconds_of(s.pid());
    EXPECT_GT(cpu, 0);
    EXPECT_LE(cpu_before, cpu);
    EXPECT_LE(cpu, cpu_after);

    // The open-files limit, as the test sets it on the running daemon.
    rlimit limit{};
    ASSERT_EQ(prlimit(s.pid(), RLIMIT_NOFILE, nullptr, &limit), 0);
    EXPECT_EQ(scrape().at("process_max_fds"), static_cast<double>(limit.rlim_cur));
    rlimit lowered{3000, limit.rlim_max};
    ASSERT_EQ(prlimit(s.pid(), RLIMIT_NOFILE, &lowered, nullptr), 0);
    EXPECT_EQ(scrape().at("process_max_fds"), 3000);

    // Open descriptors: one more per connection the test opens, back down when they close.
    auto open_fds = [](const prom::exposition& e) { return e.at("process_open_fds"); };
    auto idle = open_fds(scrape.until([&](const prom::exposition& e) {
        return e.at("ssecast_connections") == 1;  // the scrape's own
    }));
    constexpr int streams = 40;
    std::vector<std::unique_ptr<test::sse_client>> subs;
    for (int i = 0; i < streams; ++i) {
        subs.push_back(std::make_unique<test::sse_client>(s.port(), "/events?channel=fds"));
        ASSERT_TRUE(subs.back()->wait_raw(":ok\n"));
    }
    auto busy =
        scrape.until([&](const prom::exposition& e) { return open_fds(e) == idle + streams; });
    EXPECT_EQ(open_fds(busy), idle + streams) << scrape.text();
    subs.clear();
    auto after = scrape.until([&](const prom::exposition& e) { return open_fds(e) == idle; });
    EXPECT_EQ(open_fds(after), idle) << scrape.text();
}

// N events to M subscribers: the counters move by exactly that, the histograms count every
// publish and every write, the bytes counted are the bytes the subscribers received.
TEST(Metrics, CountersMoveByExactlyWhatWasDone) {
    constexpr std::size_t subscribers = 3;
    constexpr std::size_t events = 5;
    test::server s({"--threads", "2", "--heartbeat", "1h"});
    scraper scrape(s.port());
    std::vector<std::unique_ptr<test::sse_client>> subs;
    for (std::size_t i = 0; i < subscribers; ++i) {
        subs.push_back(std::make_unique<test::sse_client>(s.port(), "/events?channel=m"));
        // Everything the stream sends before the first event.
        ASSERT_TRUE(subs.back()->wait_raw("\n\n"));  // the prelude ends at its blank line
    }
    auto all_received = [&] {
        std::size_t total = 0;
        for (const auto& sub : subs) total += received(*sub);
        return total;
    };
    const auto received_before = all_received();
    auto before = scrape.until([&](const prom::exposition& m) {
        return m.at("ssecast_bytes_sent_total") == static_cast<double>(received_before);
    });
    ASSERT_EQ(before.at("ssecast_bytes_sent_total"), static_cast<double>(received_before));
    EXPECT_EQ(before.at("ssecast_subscribers"), subscribers);
    EXPECT_EQ(before.at("ssecast_streams_started_total"), subscribers);
    EXPECT_EQ(before.at("ssecast_channels"), 1);
    auto channel_hist = before.hist("ssecast_channel_subscribers");
    EXPECT_EQ(channel_hist.count, 1);
    EXPECT_EQ(channel_hist.sum, subscribers);
    EXPECT_EQ(channel_hist.buckets.at(1), std::make_pair(1.0, 0.0));   // le="1"
    EXPECT_EQ(channel_hist.buckets.at(2), std::make_pair(10.0, 1.0));  // le="10"
    const int scrapes_before = scrape.count();

    test::publisher pub(s.port());
    for (std::size_t i = 0; i < events; ++i) {
        auto res = pub.post(json{{"channel", "m"}, {"data", "event " + std::to_string(i)}}.dump());
        ASSERT_EQ(res.status, 200) << res.body;
        ASSERT_EQ(json::parse(res.body).at("delivered"), subscribers);
        // Every subscriber has it before the next is published: one write per event each.
        for (auto& sub : subs) ASSERT_TRUE(sub->wait_events(i + 1));
    }
    const auto received_after = all_received();

    auto after = scrape.until([&](const prom::exposition& m) {
        return m.hist("ssecast_publish_to_write_seconds").count -
                       before.hist("ssecast_publish_to_write_seconds").count ==
                   events * subscribers &&
               m.at("ssecast_bytes_sent_total") == static_cast<double>(received_after) &&
               m.at("ssecast_connections") == subscribers + 2;  // publisher and this scrape
    });
    auto delta = [&](const std::string& name) { return after.at(name) - before.at(name); };
    EXPECT_EQ(delta("ssecast_events_published_total"), events);
    EXPECT_EQ(delta("ssecast_event_deliveries_total"), events * subscribers);
    EXPECT_EQ(delta("ssecast_events_dropped_total"), 0);
    EXPECT_EQ(delta("ssecast_slow_consumer_disconnects_total"), 0);
    EXPECT_EQ(delta("ssecast_streams_started_total"), 0);
    EXPECT_EQ(delta("ssecast_requests_rejected_total"), 0);
    EXPECT_EQ(delta("ssecast_events_replayed_total"), 0);
    EXPECT_EQ(delta("ssecast_resyncs_total"), 0);
    // The publisher's connection and every scrape since.
    EXPECT_EQ(delta("ssecast_connections_accepted_total"), 1 + scrape.count() - scrapes_before);
    EXPECT_EQ(delta("ssecast_bytes_sent_total"),
              static_cast<double>(received_after - received_before));

    auto publish_before = before.hist("ssecast_publish_duration_seconds");
    auto publish_after = after.hist("ssecast_publish_duration_seconds");
    EXPECT_EQ(publish_after.count - publish_before.count, events);
    EXPECT_GT(publish_after.sum, publish_before.sum);
    auto write_before = before.hist("ssecast_publish_to_write_seconds");
    auto write_after = after.hist("ssecast_publish_to_write_seconds");
    EXPECT_EQ(write_after.count - write_before.count, events * subscribers);
    EXPECT_GT(write_after.sum, write_before.sum);
    // The waits above took far less than 10 s: every write is in a finite bucket.
    EXPECT_EQ(write_after.buckets.at(write_after.buckets.size() - 2).second, write_after.count);

    EXPECT_EQ(after.at("ssecast_subscribers"), subscribers);
    EXPECT_EQ(after.at("ssecast_connections"), subscribers + 2);
    EXPECT_EQ(after.at("ssecast_channels"), 1);

    // Streams going away show in the gauges.
    subs.pop_back();
    auto fewer = scrape.until(
        [&](const prom::exposition& m) { return m.at("ssecast_subscribers") == subscribers - 1; });
    EXPECT_EQ(fewer.at("ssecast_subscribers"), subscribers - 1);
    EXPECT_EQ(fewer.hist("ssecast_channel_subscribers").sum, subscribers - 1);
}

// A replay of megabytes does not fit the socket at once: the rest is written when the socket has
// room, and those bytes count too.
TEST(Metrics, BytesSentCountsWritesThatWaitedForTheSocket) {
    test::server s({"--heartbeat", "1h"});
    auto first = test::publish(s.port(), R"({"channel":"big","data":"start"})");
    ASSERT_EQ(first.status, 200);
    auto resume = json::parse(first.body).at("id").get<std::string>();
    test::publisher pub(s.port());
    const std::string payload(48 * 1024, 'b');
    constexpr std::size_t events = 100;
    for (std::size_t i = 0; i < events; ++i)
        ASSERT_EQ(pub.post(json{{"channel", "big"}, {"data", payload}}.dump()).status, 200);

    test::sse_client sub(s.port(), "/events?channel=big&lastEventId=" + resume);
    ASSERT_TRUE(sub.wait_events(events, 30s)) << sub.events().size();
    scraper scrape(s.port());
    auto m = scrape.until([&](const prom::exposition& e) {
        return e.at("ssecast_bytes_sent_total") == static_cast<double>(received(sub));
    });
    EXPECT_EQ(m.at("ssecast_bytes_sent_total"), static_cast<double>(received(sub)));
    EXPECT_GT(received(sub), events * payload.size());
    EXPECT_EQ(m.at("ssecast_events_replayed_total"), events);
}

TEST(Metrics, SubscribersPerChannelAndTheBusiestChannelsSeries) {
    // Odd but valid channel names: every character a name may have, in the label value as is.
    const std::string odd = "x.y:z/w@q-r_s";
    auto open = [](test::server& s, const std::string& channel, int n) {
        std::vector<std::unique_ptr<test::sse_client>> out;
        for (int i = 0; i < n; ++i) {
            out.push_back(
                std::make_unique<test::sse_client>(s.port(), "/events?channel=" + channel));
            EXPECT_EQ(out.back()->status(), 200);
        }
        return out;
    };

    for (int per_channel : {0, 2}) {
        SCOPED_TRACE("--metrics-per-channel " + std::to_string(per_channel));
        test::server s({"--metrics-per-channel", std::to_string(per_channel)});
        auto a = open(s, odd, 3);
        auto b = open(s, "c", 2);
        auto c = open(s, "b", 1);
        ASSERT_EQ(test::publish(s.port(), R"({"channel":"quiet","data":"x"})").status, 200);
        scraper scrape(s.port());
        auto m = scrape.until(
            [](const prom::exposition& e) { return e.at("ssecast_subscribers") == 6; });

        auto h = m.hist("ssecast_channel_subscribers");
        using bucket = std::pair<double, double>;
        auto inf = std::numeric_limits<double>::infinity();
        EXPECT_EQ(h.buckets,
                  (std::vector<bucket>{
                      {0, 1}, {1, 2}, {10, 4}, {100, 4}, {1000, 4}, {10000, 4}, {inf, 4}}));
        EXPECT_EQ(h.sum, 6);
        EXPECT_EQ(h.count, 4);

        const auto* busiest = m.find("ssecast_channel_subscribers_current");
        if (per_channel == 0) {
            EXPECT_EQ(busiest, nullptr) << scrape.text();
            continue;
        }
        ASSERT_NE(busiest, nullptr) << scrape.text();
        EXPECT_EQ(busiest->type, "gauge");
        ASSERT_EQ(busiest->samples.size(), 2u) << scrape.text();
        EXPECT_EQ(busiest->samples[0].labels, (prom::label_set{{"channel", odd}}));
        EXPECT_EQ(busiest->samples[0].value, 3);
        EXPECT_EQ(busiest->samples[1].labels, (prom::label_set{{"channel", "c"}}));
        EXPECT_EQ(busiest->samples[1].value, 2);
        EXPECT_NE(
            scrape.text().find("ssecast_channel_subscribers_current{channel=\"" + odd + "\"} 3\n"),
            std::string::npos)
            << scrape.text();
    }
}

TEST(Metrics, PerChannelOptionFromTheEnvironment) {
    test::server s({}, {{"SSECAST_METRICS_PER_CHANNEL", "1"}});
    test::sse_client a(s.port(), "/events?channel=a");
    test::sse_client b1(s.port(), "/events?channel=b");
    test::sse_client b2(s.port(), "/events?channel=b");
    scraper scrape(s.port());
    auto m =
        scrape.until([](const prom::exposition& e) { return e.at("ssecast_subscribers") == 3; });
    const auto* busiest = m.find("ssecast_channel_subscribers_current");
    ASSERT_NE(busiest, nullptr) << scrape.text();
    ASSERT_EQ(busiest->samples.size(), 1u);
    EXPECT_EQ(m.at("ssecast_channel_subscribers_current", {{"channel", "b"}}), 2);
}

TEST(Metrics, LocalClientsOnlyUnlessOpened) {
    {
        test::server s;
        EXPECT_EQ(test::request(s.port(), "GET", "/metrics").status, 200);
        auto proxied =
            test::request(s.port(), "GET", "/metrics", "", {{"X-Forwarded-For", "1.2.3.4"}});
        EXPECT_EQ(proxied.status, 403);
        EXPECT_NE(proxied.body.find("only local clients"), std::string::npos) << proxied.body;
        auto post = test::request(s.port(), "POST", "/metrics");
        EXPECT_EQ(post.status, 405);
        EXPECT_EQ(post.headers["Allow"], "GET");
        // Refusals are counted like any other.
        auto m = prom::parse(test::request(s.port(), "GET", "/metrics").body);
        EXPECT_EQ(m.at("ssecast_requests_rejected_total"), 2);
    }
    {
        test::server s({"--metrics-access", "any"});
        auto proxied =
            test::request(s.port(), "GET", "/metrics", "", {{"X-Forwarded-For", "1.2.3.4"}});
        EXPECT_EQ(proxied.status, 200);
        EXPECT_NO_THROW(prom::parse(proxied.body));
        // Publishing stays local-only.
        EXPECT_EQ(
            test::publish(s.port(), R"({"data":"x"})", {{"X-Forwarded-For", "1.2.3.4"}}).status,
            403);
    }
}

// A subscriber cut off as a slow consumer: the event that overflowed its queue is the one drop.
// One thread, so that the cut-off (posted to the loop while the event is delivered) runs before
// the next publish is read, which then finds nobody to deliver to.
TEST(Metrics, SlowConsumerCutOffCountsTheDroppedEvent) {
    test::server s(
        {"--threads", "1", "--max-queue", "64KiB", "--history", "1", "--heartbeat", "1h"});
    test::connection slow(s.port());  // subscribes, then never reads
    slow.send(test::format_request("GET", "/events?channel=slow", "", {}, true));
    ASSERT_TRUE(slow.read_until(
        [](const std::string& b) { return b.find("retry: ") != std::string::npos; }, 10s));
    scraper scrape(s.port());
    scrape.until([](const prom::exposition& m) { return m.at("ssecast_subscribers") == 1; });

    // Smaller than --max-queue: the queue overflows once the kernel's buffers are full.
    test::publisher pub(s.port());
    const std::string payload(48 * 1024, 'p');
    std::size_t deliveries = 0;
    std::size_t last_delivered = 1;
    for (int i = 0; i < 2000 && last_delivered == 1; ++i) {
        auto res = pub.post(json{{"channel", "slow"}, {"data", payload}}.dump());
        ASSERT_EQ(res.status, 200) << res.body;
        last_delivered = json::parse(res.body).at("delivered").get<std::size_t>();
        deliveries += last_delivered;
    }
    ASSERT_EQ(last_delivered, 0u) << "no slow-consumer cut-off; log:\n" << s.log();
    auto m =
        scrape.until([](const prom::exposition& e) { return e.at("ssecast_subscribers") == 0; });
    EXPECT_EQ(m.at("ssecast_slow_consumer_disconnects_total"), 1) << scrape.text();
    EXPECT_EQ(m.at("ssecast_events_dropped_total"), 1) << scrape.text();
    EXPECT_EQ(m.at("ssecast_event_deliveries_total"), static_cast<double>(deliveries));
    EXPECT_EQ(m.at("ssecast_events_published_total"), static_cast<double>(deliveries + 1));
}

TEST(Readyz, ReadyWhileServing) {
    test::server s;
    auto res = test::request(s.port(), "GET", "/readyz");
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(res.headers["Content-Type"], "application/json");
    EXPECT_EQ(json::parse(res.body), json({{"status", "ready"}})) << res.body;
    // Open to every client, like /healthz.
    EXPECT_EQ(
        test::request(s.port(), "GET", "/readyz", "", {{"X-Forwarded-For", "1.2.3.4"}}).status,
        200);
    auto post = test::request(s.port(), "POST", "/readyz");
    EXPECT_EQ(post.status, 405);
    EXPECT_EQ(post.headers["Allow"], "GET");
    // /healthz keeps answering as before.
    auto health = test::request(s.port(), "GET", "/healthz");
    EXPECT_EQ(health.status, 200);
    EXPECT_EQ(json::parse(health.body).at("status"), "ok");
}

// A request already being read when SIGTERM arrives is answered 503; new connections are refused.
// To be in that state for sure: the request's header is sent pipelined behind a complete request,
// so it is parsed before the test even sees the first answer, and its one-byte body is held back
// until the daemon has started shutting down. One thread: the parse, the signal and the body are
// handled in that order on one loop.
TEST(Readyz, ShuttingDownAnswers503AndRefusesNewConnections) {
    test::server s({"--threads", "1", "--shutdown-timeout", "60s"});
    test::connection c(s.port());
    c.send(
        "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
        "GET /readyz HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n");
    ASSERT_EQ(c.read_response().status, 200);

    s.signal(SIGTERM);
    ASSERT_TRUE(s.wait_for_log("received SIGTERM"));
    c.send("x");
    auto res = c.read_response();
    EXPECT_EQ(res.status, 503);
    EXPECT_EQ(json::parse(res.body), json({{"error", "shutting down"}})) << res.body;
    EXPECT_EQ(res.headers["Connection"], "close");
    // The listener closed before that answer was written.
    EXPECT_THROW({ test::connection refused(s.port()); }, std::runtime_error);

    auto status = s.wait_exit(15s);
    EXPECT_TRUE(status.exited);
    EXPECT_EQ(status.code, 0) << s.log();
}

// Every answered plain request logs one line at info: peer, method, path, status, the bytes of
// the answer, and how long it took.
TEST(AccessLog, OneInfoLinePerAnsweredRequest) {
    test::server s;
    auto health = raw_exchange(s.port(), "GET", "/healthz");
    auto published = raw_exchange(s.port(), "POST", "/notify", R"({"channel":"a","data":"x"})",
                                  {{"Content-Type", "application/json"}});
    auto missing = raw_exchange(s.port(), "GET", "/nope?x=1");
    ASSERT_EQ(health.rfind("HTTP/1.1 200 ", 0), 0u) << health;
    ASSERT_EQ(published.rfind("HTTP/1.1 200 ", 0), 0u) << published;
    ASSERT_EQ(missing.rfind("HTTP/1.1 404 ", 0), 0u) << missing;

    auto expect_line = [&](const std::string& prefix) {
        ASSERT_TRUE(s.wait_for_log(prefix)) << prefix << "\n" << s.log();
        auto lines = test::lines_with(s.log(), prefix);
        ASSERT_EQ(lines.size(), 1u) << s.log();
        EXPECT_NE(lines[0].find(" info request peer="), std::string::npos) << lines[0];
        // The line ends with the duration in milliseconds.
        auto at = lines[0].find(" duration_ms=", lines[0].find(prefix) + prefix.size());
        ASSERT_EQ(at, lines[0].find(prefix) + prefix.size()) << lines[0];
        auto ms = prom::parse_value(lines[0].substr(at + 13));
        ASSERT_TRUE(ms.has_value()) << lines[0];
        EXPECT_GE(*ms, 0);
        EXPECT_LT(*ms, 10000);
    };
    expect_line("request peer=127.0.0.1 method=GET path=/healthz status=200 bytes=" +
                std::to_string(health.size()));
    expect_line("request peer=127.0.0.1 method=POST path=/notify status=200 bytes=" +
                std::to_string(published.size()));
    expect_line("request peer=127.0.0.1 method=GET path=/nope?x=1 status=404 bytes=" +
                std::to_string(missing.size()));
    // The rejection keeps its own warning with the reason.
    EXPECT_EQ(test::lines_with(s.log(), "rejected peer=127.0.0.1 method=GET path=/nope?x=1").size(),
              1u);

    // A stream is not a plain request: it logs its own line when it ends, no request line.
    { test::sse_client sub(s.port(), "/events?channel=a"); }
    ASSERT_TRUE(s.wait_for_log("stream end"));
    EXPECT_TRUE(test::lines_with(s.log(), "path=/events").empty()) << s.log();
}

// At warn there are no request lines. The daemon starts at info (the test finds its port in the
// startup line) and SIGHUP lowers it to warn.
TEST(AccessLog, NoRequestLinesBelowInfo) {
    auto dir = test::make_temp_dir();
    auto file = dir / "ssecast.toml";
    std::ofstream(file) << "log-level = \"info\"\n";
    test::server s({"--config", file.string()});
    std::ofstream(file) << "log-level = \"warn\"\n";
    s.signal(SIGHUP);

    // Whether a refused request got a request line. Once a later request's warning is in the log,
    // the first's request line (written before that warning, on one log queue) would be too.
    auto got_request_line = [&](const std::string& path) {
        EXPECT_EQ(test::request(s.port(), "GET", path).status, 404);
        EXPECT_EQ(test::request(s.port(), "GET", path + "-marker").status, 404);
        EXPECT_TRUE(s.wait_for_log("path=" + path + "-marker "));
        return !test::lines_with(s.log(), "request peer=127.0.0.1 method=GET path=" + path + " ")
                    .empty();
    };
    // The reload is applied at some point after the signal.
    bool quiet = false;
    for (int k = 0; k < 200 && !quiet; ++k)
        quiet = !got_request_line("/probe-" + std::to_string(k));
    ASSERT_TRUE(quiet) << s.log();
    // From then on: neither for refused requests nor for answered ones.
    EXPECT_FALSE(got_request_line("/after"));
    ASSERT_EQ(test::request(s.port(), "GET", "/healthz").status, 200);
    got_request_line("/last");
    EXPECT_TRUE(test::lines_with(s.log(), "path=/healthz").empty()) << s.log();
    EXPECT_EQ(test::lines_with(s.log(), "rejected peer=127.0.0.1 method=GET path=/after").size(),
              2u);
    std::filesystem::remove_all(dir);
}

TEST(AccessLog, OffMeansNoRequestLinesAtInfo) {
    test::server s({"--access-log", "off"});
    ASSERT_EQ(test::request(s.port(), "GET", "/healthz").status, 200);
    // Once the later request's warning is in the log, the first's request line would be too.
    ASSERT_EQ(test::request(s.port(), "GET", "/marker").status, 404);
    ASSERT_TRUE(s.wait_for_log("path=/marker "));
    EXPECT_TRUE(test::lines_with(s.log(), "request peer=").empty()) << s.log();
}
