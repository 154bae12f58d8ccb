#include "ssecast/sse/event_stream.hpp"

#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <span>
#include <utility>

#include "ssecast/fanout/broker.hpp"
#include "ssecast/config/config.hpp"
#include "ssecast/metrics/metrics.hpp"
#include "ssecast/metrics/server_counters.hpp"
#include "ssecast/sse/jitter.hpp"
#include "ssecast/sse/stream_owner.hpp"

namespace ssecast {

namespace asio = boost::asio;

namespace {

constexpr std::string_view header_lines =
    "HTTP/1.1 200 OK\r\n"
    "Server: ssecast\r\n"
    "Content-Type: text/event-stream; charset=utf-8\r\n"
    "Cache-Control: no-cache, no-transform\r\n"
    "X-Accel-Buffering: no\r\n"
    "Connection: close\r\n";

// Shared by every stream that needs no header of its own.
frame response_header(const std::string& extra_headers) {
    static const frame plain =
        std::make_shared<const std::string>(std::string(header_lines) + "\r\n");
    if (extra_headers.empty()) return plain;
    return std::make_shared<const std::string>(std::string(header_lines) + extra_headers + "\r\n");
}

// Allocates exactly what is asked. Asio's default allocator reuses a per-thread cached block when
// it is large enough: the wait every idle stream keeps pending would then sit in a block recycled
// from a bigger operation (the HTTP read, several hundred bytes) for the life of the stream.
template <typename T>
struct exact_allocator {
    using value_type = T;
    exact_allocator() = default;
    template <typename U>
    exact_allocator(const exact_allocator<U>&) noexcept {}
    T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T))); }
    void deallocate(T* p, std::size_t) noexcept { ::operator delete(p); }
    template <typename U>
    bool operator==(const exact_allocator<U>&) const noexcept {
        return true;
    }
};

}  // namespace

event_stream::event_stream(asio::ip::tcp::socket socket, connection_slot slot, stream_owner& owner,
                           std::vector<std::string> channels, std::string peer)
    : socket_(std::move(socket)),
      slot_(std::move(slot)),
      owner_(owner),
      channels_(std::move(channels)),
      peer_(std::move(peer)) {
    boost::system::error_code ignored;
    // Writes are tried synchronously first (see write_queued): they must never block.
    socket_.non_blocking(true, ignored);
    queue_limit_ = owner_.settings().max_queue;
    if (auto limit = owner_.settings().max_stream_duration) {
        // Up to 10% later, so that streams opened together do not all end together.
        expires_ = opened_ + with_jitter(*limit, *limit / 10);
    }
    slot_.become_stream();
    owner_.add(*this);
}

event_stream::~event_stream() {
    if (subscribed_) owner_.store().unsubscribe(subscription_);
    owner_.remove(*this);
}

void event_stream::start(std::optional<std::string> last_event_id, const std::string& extra_headers,
                         std::optional<std::chrono::system_clock::time_point> token_expires) {
    if (token_expires) {
        auto left = *token_expires - std::chrono::system_clock::now();
        token_deadline_ = std::chrono::steady_clock::now() +
                          std::chrono::duration_cast<std::chrono::steady_clock::duration>(left);
        token_exp_ =
            std::chrono::duration_cast<std::chrono::seconds>(token_expires->time_since_epoch())
                .count();
    }
    ++owner_.counters().streams_started;
    // Subscribe before a byte goes out: once the client sees the stream open it may publish, and
    // that event must reach it (live events are handed over later on this thread, after these).
    auto self = shared_from_this();
    owner_.store().subscribe(
        channels_, last_event_id, *this, owner_.shard(), owner_.settings().max_queue,
        socket_.get_executor(),
        [self, resume_from = last_event_id, extra_headers](subscription_start begin) {
            self->started(std::move(begin), resume_from, extra_headers);
        },
        [self] {
            // More went live while the backlog was read than the queue may hold: the client
            // resumes from the last event of its backlog.
            self->finish(jittered_retry(self->owner_.settings().reconnect_delay),
                         "live events overflowed --max-queue while the backlog was read");
        });
}

void event_stream::started(subscription_start begin,
                           const std::optional<std::string>& last_event_id,
                           const std::string& extra_headers) {
    if (closed_) {
        // Closed (shutdown) while the backlog was read.
        if (!begin.error) owner_.store().unsubscribe(begin.subscription);
        return;
    }
    responding_ = true;
    append(response_header(extra_headers));
    // The first bytes of the body go out at once, so clients and proxies see the stream open. A
    // client with no resume point gets one (an id with no data sets EventSource's lastEventId
    // without an event): if the stream ends before its first event, the reconnect replays what
    // was published meanwhile instead of losing it.
    auto prelude =
        ":ok\nretry: " + std::to_string(owner_.settings().reconnect_delay.count()) + "\n";
    if (!last_event_id && !begin.error) prelude += "id: " + begin.position + "\n";
    append(std::make_shared<const std::string>(prelude + "\n"));
    if (begin.error) {
        // EventSource retries only after a 200: the stream opens and tells it when to come back.
        finish(jittered_retry(owner_.settings().reconnect_delay),
               begin.error == store_errc::channel_limit ? "channel limit reached"
                                                        : "storage unavailable");
        return;
    }
    subscription_ = begin.subscription;
    subscribed_ = true;
    // Replayed events are held by the history already; they do not count against the
    // subscriber's queue limit, which only bounds what piles up on top of them.
    std::size_t backlog_bytes = 0;
    for (const auto& f : begin.backlog) backlog_bytes += f->size();
    queue_limit_ += backlog_bytes;
    for (const auto& f : begin.backlog) append(f);
    events_replayed_ = begin.replayed;
    write_queued();
    spdlog::debug("stream open peer={} channels={} last_event_id={} replayed={} resync={}", peer_,
                  fmt::join(channels_, ","), last_event_id.value_or("-"), begin.replayed,
                  begin.resync);
    watch_peer();
}

void event_stream::end_due(std::chrono::steady_clock::time_point now) {
    // Either way the client resumes with its Last-Event-ID and misses nothing; after a
    // token-expired event, with a fresh token.
    if (now >= token_deadline_) {
        token_deadline_ = std::chrono::steady_clock::time_point::max();
        if (append_bounded(make_token_expired_frame(token_exp_)))
            finish(jittered_retry(owner_.settings().reconnect_delay), "token expired");
        return;
    }
    expires_ = std::chrono::steady_clock::time_point::max();
    finish(jittered_retry(owner_.settings().reconnect_delay), "max stream duration");
}

void event_stream::deliver(const frame& f, std::chrono::steady_clock::time_point published) {
    // Only queued: the broker calls flush() once it has handed over everything it has for us, so
    // events that arrive together leave in one gathered write.
    if (!append_bounded(f)) {
        owner_.metrics().add_event_dropped();
        return;
    }
    ++events_queued_;
    // Events arrive in publish order: the first since the last write is the oldest.
    if (queued_published_ == std::chrono::steady_clock::time_point::max())
        queued_published_ = published;
}

void event_stream::flush() {
    owner_.sends().schedule(*this);
}

void event_stream::send_now() {
    write_queued();
}

void event_stream::heartbeat() {
    if (!responding_) return;
    if (append_bounded(heartbeat_frame())) owner_.sends().schedule(*this);
}

bool event_stream::append_bounded(const frame& f) {
    if (finishing_ || closed_) return false;
    if (pending_bytes_ + f->size() > queue_limit_) {
        // What waits for the send scheduler is not the client's doing: send it now, and judge the
        // client only by what its socket will not take.
        write_queued();
        if (finishing_ || closed_) return false;
    }
    // An event larger than the limit on its own (--max-body above --max-queue) still goes to a
    // subscriber that has taken everything before it: the limit bounds what piles up.
    if (pending_bytes_ > 0 && pending_bytes_ + f->size() > queue_limit_) {
        // May run under the broker's lock: leave the broker alone and close from the event loop.
        finishing_ = true;
        ++owner_.counters().slow_consumer_disconnects;
        asio::post(socket_.get_executor(), [self = shared_from_this()] {
            // Abortive close: what is still queued in the kernel for this client is dropped at
            // once instead of pinning socket memory until it reads it; it resumes by id.
            boost::system::error_code ignored;
            self->socket_.set_option(asio::socket_base::linger(true, 0), ignored);
            self->close("slow consumer: more than " + std::to_string(self->queue_limit_) +
                        " bytes queued (--max-queue)");
        });
        return false;
    }
    append(f);
    return true;
}

void event_stream::finish(std::chrono::milliseconds retry, const char* reason) {
    if (finishing_ || closed_) return;
    // Still waiting for the backlog: no response has begun, so there is nothing to end politely.
    if (!responding_) return close(reason);
    enqueue(make_retry_frame(retry));
    finishing_ = true;
    finish_reason_ = reason;
    if (subscribed_) {
        owner_.store().unsubscribe(subscription_);
        subscribed_ = false;
    }
    if (!writing_) close(reason);
}

void event_stream::append(const frame& f) {
    pending_bytes_ += f->size();
    queue_.push_back(f);
}

bool event_stream::enqueue(const frame& f) {
    if (closed_) return false;
    append(f);
    write_queued();
    return true;
}

void event_stream::write_queued() {
    if (writing_ || queue_.empty() || closed_) return;
    // Most of the time the socket has room: everything queued goes out in one non-blocking
    // gathered send right here, with no asynchronous operation and no completion handler.
    // The iovecs live on the stack: an idle stream keeps no buffer list. One send takes at most
    // 64 frames (Asio's limit too); the rest follows.
    std::array<asio::const_buffer, 64> iov;
    auto count = std::min(queue_.size(), iov.size());
    for (std::size_t i = 0; i < count; ++i) iov[i] = asio::buffer(*queue_[i]);
    boost::system::error_code ec;
    auto sent = socket_.write_some(std::span(iov.data(), count), ec);
    if (ec && ec != asio::error::would_block && ec != asio::error::try_again) {
        // May run inside the broker's delivery loop: close from the event loop instead.
        return close_later("write failed: " + ec.message());
    }
    pending_bytes_ -= sent;
    bytes_sent_ += sent;
    owner_.metrics().add_bytes_sent(sent);
    auto oldest_published =
        std::exchange(queued_published_, std::chrono::steady_clock::time_point::max());
    std::size_t whole = 0;
    while (whole < queue_.size() && sent >= queue_[whole]->size()) sent -= queue_[whole++]->size();
    if (whole == queue_.size()) {
        queue_.clear();
        written(oldest_published);
        if (finishing_) close_later(finish_reason_);
        return;
    }

    // The rest waits for the socket, starting inside the first frame not fully sent.
    writing_ = true;
    in_flight_published_ = oldest_published;
    in_flight_.assign(queue_.begin() + static_cast<std::ptrdiff_t>(whole), queue_.end());
    queue_.clear();
    buffers_.clear();
    for (const auto& f : in_flight_) buffers_.emplace_back(f->data(), f->size());
    buffers_.front() += sent;
    asio::async_write(
        socket_, buffers_,
        [self = shared_from_this()](boost::system::error_code write_ec, std::size_t n) {
            self->writing_ = false;
            self->in_flight_.clear();
            self->pending_bytes_ -= n;
            self->bytes_sent_ += n;
            self->owner_.metrics().add_bytes_sent(n);
            if (write_ec) {
                return self->close(write_ec == asio::error::operation_aborted
                                       ? "closed"
                                       : "write failed: " + write_ec.message());
            }
            self->written(self->in_flight_published_);
            if (self->queue_.empty() && self->finishing_) {
                return self->close(self->finish_reason_);
            }
            self->write_queued();
        });
}

void event_stream::written(std::chrono::steady_clock::time_point oldest_published) {
    // Measured once per write rather than per event: one clock read per write at most, none for a
    // write of heartbeats or replayed events only.
    if (oldest_published == std::chrono::steady_clock::time_point::max()) return;
    owner_.metrics().publish_to_write.observe(std::chrono::steady_clock::now() - oldest_published);
}

void event_stream::close_later(std::string reason) {
    finishing_ = true;
    asio::post(socket_.get_executor(),
               [self = shared_from_this(), reason = std::move(reason)] { self->close(reason); });
}

void event_stream::watch_peer() {
    // A client never sends anything after its request; readable means it closed (or sent junk,
    // which is read and dropped). This notices a departed client at once, not at the next write.
    socket_.async_wait(
        asio::socket_base::wait_read,
        asio::bind_allocator(exact_allocator<void>(),
                             [self = shared_from_this()](boost::system::error_code ec) {
                                 if (ec || self->closed_) return;
                                 std::array<char, 256> sink;
                                 boost::system::error_code read_ec;
                                 self->socket_.non_blocking(true, read_ec);
                                 auto n = self->socket_.read_some(asio::buffer(sink), read_ec);
                                 if (read_ec == asio::error::would_block) return self->watch_peer();
                                 if (read_ec || n == 0) {
                                     return self->close(read_ec == asio::error::eof
                                                            ? "client closed"
                                                            : "read failed: " + read_ec.message());
                                 }
                                 self->watch_peer();
                             }));
}

void event_stream::close(std::string reason) {
    if (closed_) return;
    closed_ = true;
    finishing_ = true;
    if (subscribed_) {
        owner_.store().unsubscribe(subscription_);
        subscribed_ = false;
    }
    boost::system::error_code ignored;
    socket_.close(ignored);
    queue_.clear();
    auto lived = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - opened_);
    spdlog::info(
        "stream end peer={} channels={} duration={:.3f}s events={} replayed={} bytes={} reason={}",
        peer_, fmt::join(channels_, ","), static_cast<double>(lived.count()) / 1000.0,
        events_replayed_ + events_queued_, events_replayed_, bytes_sent_, reason);
}

}  // namespace ssecast
