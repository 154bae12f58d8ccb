#include "ssecast/sse/send_scheduler.hpp"

#include <boost/asio/post.hpp>

namespace ssecast {

send_scheduler::send_scheduler(boost::asio::io_context& io, std::size_t chunk)
    : io_(io), chunk_(chunk == 0 ? 1 : chunk) {}

void send_scheduler::schedule(sendable& s) {
    if (s.send_ticket_ != 0) return;
    queue_.push_back(&s);
    s.send_ticket_ = popped_ + queue_.size();
    add_waiting(1);
    if (!posted_) {
        posted_ = true;
        boost::asio::post(io_, [this] { run_chunk(); });
    }
}

void send_scheduler::add_waiting(int delta) {
    // One writer: a relaxed load and store, no read-modify-write on the hot path.
    waiting_.store(waiting_.load(std::memory_order_relaxed) + static_cast<std::size_t>(delta),
                   std::memory_order_relaxed);
}

void send_scheduler::cancel(sendable& s) {
    if (s.send_ticket_ == 0) return;
    queue_[s.send_ticket_ - popped_ - 1] = nullptr;
    s.send_ticket_ = 0;
    add_waiting(-1);
}

void send_scheduler::run_chunk() {
    posted_ = false;
    for (std::size_t sent = 0; sent < chunk_ && !queue_.empty();) {
        auto* s = queue_.front();
        queue_.pop_front();
        ++popped_;
        if (s == nullptr) continue;
        s->send_ticket_ = 0;
        add_waiting(-1);
        ++sent;
        // May schedule itself again (it is then at the back of the queue).
        s->send_now();
    }
    if (!queue_.empty() && !posted_) {
        posted_ = true;
        boost::asio::post(io_, [this] { run_chunk(); });
    }
}

}  // namespace ssecast
