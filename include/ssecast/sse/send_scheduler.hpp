#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <cstddef>
#include <cstdint>
#include <deque>

namespace ssecast {

// Something with queued bytes to send, e.g. an event stream.
class sendable {
  public:
    // Sends what is queued without blocking. Must not destroy the object synchronously.
    virtual void send_now() = 0;

  protected:
    ~sendable() = default;

  private:
    friend class send_scheduler;
    std::uint64_t send_ticket_ = 0;  // 0: not scheduled; else its place in the scheduler's queue
};

// One per event loop: the streams that have something to send, sent round robin a chunk at a time.
//
// A send to an idle subscriber costs a syscall whatever it carries, so a fan-out to thousands of
// subscribers takes a while. Sending them all in one go would hold the loop for that long, leave
// publishes unread, and send each of the next events alone as well. Here the loop turns between
// chunks: publishes are read and answered, their events are queued on every subscriber, and a
// subscriber not yet reached sends them together with the earlier ones in one write. Under load
// the cost per event falls instead of the backlog growing; with no load nothing waits.
class send_scheduler {
  public:
    static constexpr std::size_t default_chunk = 256;

    explicit send_scheduler(boost::asio::io_context& io, std::size_t chunk = default_chunk);

    // Sends `s` soon, once however often it is called before that.
    void schedule(sendable& s);
    // `s` is going away: it must not be called.
    void cancel(sendable& s);

    // Waiting to be sent: at most one entry per scheduled sendable (bounded by the connections).
    // Any thread may read it (GET /metrics); only the loop's thread changes it.
    std::size_t waiting() const { return waiting_.load(std::memory_order_relaxed); }

  private:
    void run_chunk();
    void add_waiting(int delta);

    boost::asio::io_context& io_;
    std::size_t chunk_;
    // FIFO of scheduled sendables; cancelled ones become nullptr. Entry i has ticket popped_+i+1.
    std::deque<sendable*> queue_;
    std::uint64_t popped_ = 0;
    std::atomic<std::size_t> waiting_{0};
    bool posted_ = false;
};

}  // namespace ssecast
