#include "ssecast/sse/send_scheduler.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <cstddef>
#include <functional>
#include <vector>

namespace {

using ssecast::send_scheduler;

// Records the order of sends; can reschedule itself from inside send_now().
struct recorder final : ssecast::sendable {
    int id = 0;
    std::vector<int>* log = nullptr;
    std::function<void()> on_send;
    void send_now() override {
        log->push_back(id);
        if (on_send) on_send();
    }
};

std::vector<recorder> make_recorders(std::size_t n, std::vector<int>& log) {
    std::vector<recorder> out(n);
    for (std::size_t i = 0; i < n; ++i) {
        out[i].id = static_cast<int>(i);
        out[i].log = &log;
    }
    return out;
}

TEST(SendScheduler, NothingIsSentBeforeTheLoopRuns) {
    boost::asio::io_context io;
    send_scheduler sends(io);
    std::vector<int> log;
    auto r = make_recorders(3, log);
    for (auto& s : r) sends.schedule(s);
    EXPECT_TRUE(log.empty());
    EXPECT_EQ(sends.waiting(), 3u);
    io.run();
    EXPECT_EQ(log, (std::vector<int>{0, 1, 2}));
    EXPECT_EQ(sends.waiting(), 0u);
}

TEST(SendScheduler, SchedulingTwiceSendsOnce) {
    boost::asio::io_context io;
    send_scheduler sends(io);
    std::vector<int> log;
    auto r = make_recorders(2, log);
    sends.schedule(r[0]);
    sends.schedule(r[1]);
    sends.schedule(r[0]);
    EXPECT_EQ(sends.waiting(), 2u);
    io.run();
    EXPECT_EQ(log, (std::vector<int>{0, 1}));
}

TEST(SendScheduler, OneChunkPerTurnSoOtherHandlersRunBetweenChunks) {
    boost::asio::io_context io;
    send_scheduler sends(io, 4);
    std::vector<int> log;
    auto r = make_recorders(10, log);
    for (auto& s : r) sends.schedule(s);
    // Posted after the scheduler's first turn: it must run before the second chunk.
    boost::asio::post(io, [&] { log.push_back(-1); });
    io.run();
    EXPECT_EQ(log, (std::vector<int>{0, 1, 2, 3, -1, 4, 5, 6, 7, 8, 9}));
}

TEST(SendScheduler, ScheduledBetweenChunksGoesToTheBack) {
    boost::asio::io_context io;
    send_scheduler sends(io, 2);
    std::vector<int> log;
    auto r = make_recorders(4, log);
    for (int i = 0; i < 3; ++i) sends.schedule(r[static_cast<std::size_t>(i)]);
    // After the first chunk (0, 1): 0 wants to send again and 3 arrives; 2 still goes first.
    boost::asio::post(io, [&] {
        sends.schedule(r[0]);
        sends.schedule(r[3]);
    });
    io.run();
    EXPECT_EQ(log, (std::vector<int>{0, 1, 2, 0, 3}));
}

TEST(SendScheduler, ASendableMayRescheduleItselfWhileSending) {
    boost::asio::io_context io;
    send_scheduler sends(io, 8);
    std::vector<int> log;
    auto r = make_recorders(2, log);
    int again = 2;
    r[0].on_send = [&] {
        if (again-- > 0) sends.schedule(r[0]);
    };
    sends.schedule(r[0]);
    sends.schedule(r[1]);
    io.run();
    EXPECT_EQ(log, (std::vector<int>{0, 1, 0, 0}));
    EXPECT_EQ(sends.waiting(), 0u);
}

TEST(SendScheduler, ACancelledSendableIsNeverCalled) {
    boost::asio::io_context io;
    send_scheduler sends(io, 2);
    std::vector<int> log;
    auto r = make_recorders(4, log);
    for (auto& s : r) sends.schedule(s);
    sends.cancel(r[1]);
    sends.cancel(r[1]);  // twice is harmless
    // Cancelled inside the first chunk, before its turn comes.
    r[0].on_send = [&] { sends.cancel(r[3]); };
    EXPECT_EQ(sends.waiting(), 3u);
    io.run();
    EXPECT_EQ(log, (std::vector<int>{0, 2}));
    EXPECT_EQ(sends.waiting(), 0u);
    // A cancelled sendable can be scheduled again.
    sends.schedule(r[1]);
    io.restart();
    io.run();
    EXPECT_EQ(log, (std::vector<int>{0, 2, 1}));
}

}  // namespace
