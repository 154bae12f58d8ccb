// A subscriber that stops reading is cut off once its queue passes --max-queue, and it does not
// hold back a subscriber that reads.

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "http_client.hpp"
#include "sse_parser.hpp"
#include "test_server.hpp"

using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

constexpr int kMaxEvents = 2000;
constexpr int kBatch = 4;
constexpr int kBatchesAfterDisconnect = 5;
constexpr std::size_t kPayload = 16 * 1024;

using test::publisher;

std::uint16_t local_port(int fd) {
    sockaddr_in addr{};
    socklen_t len = sizeof addr;
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    return ntohs(addr.sin_port);
}

// Reads the healthy subscriber on its own thread, as a real client would, and says how far it got.
class background_reader {
  public:
    explicit background_reader(test::sse_client& client)
        : client_(client), thread_([this] { run(); }) {}
    background_reader(const background_reader&) = delete;
    background_reader& operator=(const background_reader&) = delete;
    ~background_reader() { stop(); }

    void stop() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
    }
    std::size_t count() const { return count_.load(); }
    bool closed() const { return closed_.load(); }

  private:
    void run() {
        auto until = test::clock::now() + 50s;
        while (!stop_ && test::clock::now() < until) {
            bool got = client_.wait_events(client_.events().size() + 1, 100ms);
            count_ = client_.events().size();
            if (!got && client_.conn().closed()) {
                closed_ = true;
                return;
            }
        }
    }

    test::sse_client& client_;
    std::atomic<bool> stop_{false};
    std::atomic<bool> closed_{false};
    std::atomic<std::size_t> count_{0};
    std::thread thread_;
};

struct published {
    std::string id;
    std::string tag;
    std::size_t delivered = 0;
};

}  // namespace

TEST(SlowConsumer, NonReaderIsCutOffAndHealthySubscriberGetsEverything) {
    test::server s({"--max-queue", "64KiB", "--history", "2100"});

    // The subscriber that never reads. Its receive buffer is left alone: shrinking it after the
    // connect leaves an 8 KB window, through which draining the megabytes the daemon's kernel send
    // buffer took before the cut-off takes minutes (Linux grows that buffer to tcp_wmem's maximum
    // whatever the receiver does, so a small receive buffer would not make the cut-off come
    // sooner).
    test::connection slow(s.port());
    slow.send(test::format_request("GET", "/events?channel=slow", "", {}, true));
    ASSERT_TRUE(slow.read_until(
        [](const std::string& b) { return b.find("\r\n\r\n") != std::string::npos; }, 10s));
    ASSERT_EQ(slow.buffer().rfind("HTTP/1.1 200 ", 0), 0u) << slow.buffer();
    auto slow_port = local_port(slow.fd());
    // What the non-reader got before it stopped reading; the rest stays in the socket.
    sse_test::parser slow_parser;
    slow_parser.feed(slow.buffer().substr(slow.buffer().find("\r\n\r\n") + 4));
    slow.buffer().clear();

    test::sse_client healthy(s.port(), "/events?channel=slow");
    ASSERT_EQ(healthy.status(), 200);
    auto healthy_port = local_port(healthy.conn().fd());
    background_reader reader(healthy);

    publisher pub(s.port());
    std::vector<published> events;
    const std::string payload(kPayload, 'p');
    bool slow_logged = false;
    int batches_after = 0;
    while (static_cast<int>(events.size()) < kMaxEvents &&
           batches_after < kBatchesAfterDisconnect) {
        for (int k = 0; k < kBatch; ++k) {
            auto tag = "event " + std::to_string(events.size()) + " ";
            auto res = pub.post(json{{"channel", "slow"}, {"data", tag + payload}}.dump());
            ASSERT_EQ(res.status, 200) << "publish " << events.size() << " failed: " << res.body;
            auto answer = json::parse(res.body);
            events.push_back({answer.at("id").get<std::string>(), tag,
                              answer.at("delivered").get<std::size_t>()});
        }
        // The healthy subscriber has this batch before the next one is published.
        ASSERT_TRUE(test::eventually(
            [&] { return reader.count() >= events.size() || reader.closed(); }, 10s))
            << "healthy subscriber got " << reader.count() << " of " << events.size() << " events";
        ASSERT_FALSE(reader.closed()) << "the healthy subscriber was disconnected; log:\n"
                                      << s.log();
        if (slow_logged) {
            ++batches_after;
        } else {
            slow_logged = s.log().find("slow consumer") != std::string::npos;
        }
    }
    ASSERT_TRUE(slow_logged) << "no slow consumer disconnect after " << events.size()
                             << " events of " << kPayload << " bytes; log:\n"
                             << s.log();
    std::cout << "[ info     ] slow consumer cut off after about "
              << events.size() - kBatch * kBatchesAfterDisconnect << " events\n";

    // The disconnect is logged for the non-reader's connection, with the reason.
    auto log = s.log();
    auto slow_lines = test::lines_with(log, "peer=127.0.0.1:" + std::to_string(slow_port) + " ");
    ASSERT_EQ(slow_lines.size(), 1u) << log;
    EXPECT_NE(slow_lines[0].find("stream end"), std::string::npos) << slow_lines[0];
    EXPECT_NE(slow_lines[0].find("reason=slow consumer"), std::string::npos) << slow_lines[0];
    EXPECT_TRUE(
        test::lines_with(log, "peer=127.0.0.1:" + std::to_string(healthy_port) + " ").empty())
        << log;

    // Every event went to both subscribers until the cut, then to the healthy one only.
    bool cut = false;
    for (const auto& e : events) {
        EXPECT_TRUE(e.delivered == 1 || e.delivered == 2) << e.id << " delivered=" << e.delivered;
        if (e.delivered == 1) cut = true;
        if (cut) {
            EXPECT_EQ(e.delivered, 1u)
                << e.id << ": delivered to the non-reader after it was cut off";
        }
    }
    EXPECT_TRUE(cut);
    EXPECT_EQ(events.back().delivered, 1u);

    // The server closed the non-reader: draining its socket ends in EOF (or a reset). What it got
    // is a gap-free prefix of the published events.
    bool closed = false;
    auto drain_deadline = test::clock::now() + 20s;
    while (test::clock::now() < drain_deadline) {
        if (!slow.fill(200ms)) {
            closed = true;
            break;
        }
        slow_parser.feed(slow.buffer());
        slow.buffer().clear();
    }
    slow_parser.feed(slow.buffer());
    EXPECT_TRUE(closed) << "the non-reading connection is still open";
    auto slow_events = slow_parser.take_events();
    ASSERT_LT(slow_events.size(), events.size());
    for (std::size_t i = 0; i < slow_events.size(); ++i) {
        ASSERT_EQ(slow_events[i].last_event_id, events[i].id) << "non-reader event " << i;
        ASSERT_EQ(slow_events[i].data.substr(0, events[i].tag.size()), events[i].tag);
    }

    // The healthy subscriber got every event, in order, complete, and is still connected.
    reader.stop();
    ASSERT_FALSE(reader.closed());
    ASSERT_EQ(healthy.events().size(), events.size());
    for (std::size_t i = 0; i < events.size(); ++i) {
        ASSERT_EQ(healthy.events()[i].last_event_id, events[i].id) << "healthy event " << i;
        ASSERT_EQ(healthy.events()[i].data, events[i].tag + payload) << "healthy event " << i;
    }
    auto res = pub.post(json{{"channel", "slow"}, {"data", "still there?"}}.dump());
    ASSERT_EQ(res.status, 200);
    ASSERT_TRUE(healthy.wait_events(events.size() + 1));
    EXPECT_EQ(healthy.events().back().data, "still there?");
    events.push_back({json::parse(res.body).at("id").get<std::string>(), "still there?", 1});

    // The cut-off client comes back with the last id it saw and gets the rest, without a resync.
    test::header_map resume;
    if (!slow_events.empty()) resume["Last-Event-ID"] = slow_events.back().last_event_id;
    test::sse_client back(s.port(), "/events?channel=slow", resume);
    ASSERT_EQ(back.status(), 200);
    auto missing = events.size() - slow_events.size();
    ASSERT_TRUE(back.wait_events(missing, 20s))
        << "got " << back.events().size() << " of " << missing;
    for (std::size_t i = 0; i < missing; ++i) {
        ASSERT_EQ(back.events()[i].type, "message");
        ASSERT_EQ(back.events()[i].last_event_id, events[slow_events.size() + i].id);
    }

    auto health = test::request(s.port(), "GET", "/healthz");
    ASSERT_EQ(health.status, 200);
    EXPECT_EQ(json::parse(health.body).at("subscribers"), 2) << health.body;

    auto stopped = s.stop();
    EXPECT_TRUE(stopped.exited);
    EXPECT_EQ(stopped.code, 0) << s.log();
}

TEST(SlowConsumer, ABatchLargerThanTheQueueLimitReachesAReadingSubscriber) {
    // --max-queue bounds what a client has not taken, not what the daemon itself has yet to send:
    // a batch of 16 KiB handed over at once to a subscriber allowed 4 KiB is sent as it is queued,
    // and the subscriber, which reads, stays.
    test::server s({"--max-queue", "4KiB", "--threads", "1"});
    test::sse_client sub(s.port(), "/events?channel=big-batch");
    ASSERT_EQ(sub.status(), 200);
    json batch = json::array();
    for (int i = 0; i < 16; ++i)
        batch.push_back({{"channel", "big-batch"}, {"data", std::string(1024, 'a' + i)}});
    auto res = test::publish(s.port(), batch.dump());
    ASSERT_EQ(res.status, 200) << res.body;
    ASSERT_TRUE(sub.wait_events(16, 10s)) << "got " << sub.events().size() << " of 16; log:\n"
                                          << s.log();
    for (int i = 0; i < 16; ++i)
        EXPECT_EQ(sub.events()[static_cast<std::size_t>(i)].data, std::string(1024, 'a' + i));
    EXPECT_EQ(s.log().find("slow consumer"), std::string::npos) << s.log();
}

TEST(SlowConsumer, AnEventLargerThanTheQueueLimitReachesAReadingSubscriber) {
    // --max-body allows events bigger than --max-queue: one of them alone does not make a
    // subscriber that has taken everything before it a slow consumer.
    test::server s({"--max-queue", "4KiB", "--max-body", "64KiB"});
    test::sse_client sub(s.port(), "/events?channel=big");
    ASSERT_EQ(sub.status(), 200);
    const std::string big(16 * 1024, 'b');
    auto res = test::publish(s.port(), json{{"channel", "big"}, {"data", big}}.dump());
    ASSERT_EQ(res.status, 200) << res.body;
    ASSERT_TRUE(sub.wait_events(1, 10s)) << s.log();
    EXPECT_EQ(sub.events()[0].data, big);
    EXPECT_EQ(s.log().find("slow consumer"), std::string::npos) << s.log();
}
