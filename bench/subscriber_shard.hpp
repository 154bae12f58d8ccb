// The subscribers served by one thread: raw non-blocking sockets in a level-triggered epoll set
// that is nested in the thread's io_context (one asio wait on the epoll descriptor), so that one
// wakeup reads many sockets with a single large recv() each: no EAGAIN probe per read, no
// operation object per read, one shared read buffer per thread, and a fixed ~300 bytes of state per
// subscriber (the parser keeps no copy of the stream). Timers and control use asio.
//
// Connect: socket(), IP_BIND_ADDRESS_NO_PORT + bind() to the subscriber's source address (so the
// port is picked per destination at connect time and K addresses give K x ~28k connections), a
// non-blocking connect(), the request when writable, then the response head and the stream.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "clock.hpp"
#include "sse_parser.hpp"
#include "subscriber_stats.hpp"
#include "target.hpp"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

namespace bench {

// Read-only settings shared by the shards of a process.
struct shard_setup {
    target_kind target = target_kind::ssecast;
    sockaddr_in server{};
    std::string host_header;
    std::string channel_prefix;
    std::uint32_t channels = 1;
    std::vector<in_addr> sources;
    std::int64_t connect_timeout_ns = 10'000'000'000;
    std::uint32_t connect_concurrency = 1000;  // per shard; 0 = unlimited
    std::uint32_t read_size = 65536;
    bool delayed_acks = false;
    int rcvbuf = 0;
};

class subscriber_shard {
public:
    subscriber_shard(const shard_setup& setup, boost::asio::io_context& io)
        : setup_(setup), io_(io), epoll_(io), sweep_(io), buffer_(setup.read_size) {
        int ep = ::epoll_create1(EPOLL_CLOEXEC);
        if (ep < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
        epoll_.assign(ep);
        for (std::uint32_t c = 0; c < setup_.channels; ++c)
            requests_.push_back(subscribe_request(setup_.target, setup_.host_header,
                                                  channel_name(setup_.channel_prefix, c), {}));
        arm();
    }

    subscriber_shard(const subscriber_shard&) = delete;
    subscriber_shard& operator=(const subscriber_shard&) = delete;

    ~subscriber_shard() {
        for (auto& s : subs_) close_fd(s, true);
    }

    // Before connect_all(): one subscriber on channel `channel`, source address index `source`.
    void add(std::uint32_t channel, std::uint32_t source) {
        sub s;
        s.channel = channel;
        s.source = source;
        subs_.push_back(s);
    }

    std::size_t size() const { return subs_.size(); }

    // ---- called on the shard's thread (post) ---------------------------------------------------
    void connect_all() {
        queue_.clear();
        for (std::uint32_t i = 0; i < subs_.size(); ++i) {
            subs_[i].request = &requests_[subs_[i].channel];
            queue_.push_back(i);
        }
        limit_ = setup_.connect_concurrency;
        next_ = 0;
        pump();
        sweep();
    }

    // Closes every open stream (abortively: no TIME_WAIT left behind) and reconnects them all at
    // once with Last-Event-ID, expecting the backlog [first_seq, first_seq + count).
    void begin_storm(const std::string& last_event_id, std::uint64_t first_seq, std::uint32_t count) {
        storm_requests_.clear();
        for (std::uint32_t c = 0; c < setup_.channels; ++c)
            storm_requests_.push_back(subscribe_request(
                setup_.target, setup_.host_header, channel_name(setup_.channel_prefix, c), last_event_id));
        std::vector<std::uint32_t> owed(setup_.channels, 0);
        for (std::uint64_t s = first_seq; s < first_seq + count; ++s) ++owed[s % setup_.channels];
        storm_first_ = first_seq;
        storm_count_ = count;
        stats_.storm.start_ns = mono_ns();
        storm_active_ = true;
        queue_.clear();
        for (std::uint32_t i = 0; i < subs_.size(); ++i) {
            auto& s = subs_[i];
            bool was_streaming = s.st == state::streaming;
            close_fd(s, true);
            if (!was_streaming) continue;
            s.st = state::idle;
            s.storm_target = true;
            s.storm_owed = owed[s.channel];
            s.storm_got = 0;
            s.have_seq = false;
            s.request = &storm_requests_[s.channel];
            s.parser.reset();
            stats_.storm.expected += s.storm_owed;
            ++stats_.storm.targets;
            queue_.push_back(i);
        }
        limit_ = 0;  // all at once
        next_ = 0;
        pump();
        sweep();
    }

    // Closes every stream abortively (end of run).
    void close_all() {
        for (auto& s : subs_) close_fd(s, true);
    }

    // Number of channels' established streams (for the expected-deliveries arithmetic).
    std::vector<std::uint64_t> established_per_channel() const {
        std::vector<std::uint64_t> n(setup_.channels, 0);
        for (const auto& s : subs_)
            if (s.st == state::streaming) ++n[s.channel];
        return n;
    }

    const subscriber_stats& stats() const { return stats_; }

    // ---- progress, read from the process's main thread ----------------------------------------
    std::atomic<std::uint64_t> settled{0};       // connect phase: established or failed
    std::atomic<std::uint64_t> received{0};      // payload events received
    std::atomic<std::uint64_t> storm_settled{0}; // storm: caught up, failed or ended

private:
    enum class state : std::uint8_t { idle, connecting, requesting, awaiting, streaming, failed, ended, closed };

    struct sub {
        int fd = -1;
        std::uint32_t channel = 0;
        std::uint32_t source = 0;
        state st = state::idle;
        bool storm_target = false;
        bool have_seq = false;
        std::uint16_t sent = 0;  // request bytes written
        std::uint32_t storm_owed = 0;
        std::uint32_t storm_got = 0;
        std::uint64_t last_seq = 0;
        std::int64_t started_ns = 0;
        const std::string* request = nullptr;
        sse_parser parser;
    };

    connection_stats& conns() { return storm_active_ ? stats_.storm.conns : stats_.conns; }

    static bool in_flight(state st) {
        return st == state::connecting || st == state::requesting || st == state::awaiting;
    }

    void close_fd(sub& s, bool abortive) {
        if (s.fd < 0) return;
        if (abortive) {
            linger l{1, 0};
            ::setsockopt(s.fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
        }
        ::close(s.fd);  // also leaves the epoll set
        s.fd = -1;
        if (in_flight(s.st)) --flying_;
        if (s.st != state::failed && s.st != state::ended) s.st = state::closed;
    }

    void pump() {
        if (pumping_) return;
        pumping_ = true;
        while (next_ < queue_.size() && (limit_ == 0 || flying_ < limit_)) start_connect(queue_[next_++]);
        pumping_ = false;
    }

    void start_connect(std::uint32_t i) {
        auto& s = subs_[i];
        ++conns().attempted;
        s.parser.reset();
        s.sent = 0;
        s.started_ns = mono_ns();
        int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) return fail(s, classify_errno(errno), errno);
        int one = 1;
        ::setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        if (setup_.rcvbuf > 0) ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &setup_.rcvbuf, sizeof setup_.rcvbuf);
        sockaddr_in src{};
        src.sin_family = AF_INET;
        src.sin_addr = setup_.sources[s.source % setup_.sources.size()];
        if (::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0) {
            int e = errno;
            ::close(fd);
            return fail(s, classify_errno(e), e);
        }
        if (::connect(fd, reinterpret_cast<const sockaddr*>(&setup_.server), sizeof setup_.server) != 0 &&
            errno != EINPROGRESS) {
            int e = errno;
            ::close(fd);
            return fail(s, classify_errno(e), e);
        }
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
        ev.data.u32 = i;
        if (::epoll_ctl(epoll_.native_handle(), EPOLL_CTL_ADD, fd, &ev) != 0) {
            int e = errno;
            ::close(fd);
            return fail(s, classify_errno(e), e);
        }
        s.fd = fd;
        s.st = state::connecting;
        ++flying_;
    }

    void fail(sub& s, failure why, int err = 0) {
        if (why == failure::other && conns().first_other_error.empty())
            conns().first_other_error = err ? std::strerror(err) : "malformed response";
        conns().fail(why);
        close_fd(s, true);
        s.st = state::failed;
        if (s.storm_target) storm_settled.fetch_add(1, std::memory_order_relaxed);
        else settled.fetch_add(1, std::memory_order_relaxed);
        pump();
    }

    // The server ended a stream that had started.
    void ended(sub& s, bool reset) {
        if (s.parser.saw_limit_comment()) {
            // ssecast's "come back later": a refusal, not a stream.
            --conns().established;
            conns().fail(failure::server_limit);
            if (s.storm_target) --stats_.storm.reconnected;
        } else if (reset) {
            ++conns().ended_by_server_reset;
        } else {
            ++conns().ended_by_server_eof;
        }
        bool owed = s.storm_target && s.storm_got < s.storm_owed;
        close_fd(s, false);
        s.st = state::ended;
        if (owed) {
            ++stats_.storm.ended_early;
            storm_settled.fetch_add(1, std::memory_order_relaxed);
        }
    }

    void arm() {
        epoll_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                          [this](boost::system::error_code ec) {
                              if (!ec) poll();
                          });
    }

    // Drains the ready list; yields to other handlers between rounds.
    void poll() {
        epoll_event events[512];
        int n = ::epoll_wait(epoll_.native_handle(), events, 512, 0);
        for (int k = 0; k < n; ++k) on_ready(events[k].data.u32, events[k].events);
        if (n > 0) {
            boost::asio::post(io_, [this] { poll(); });
        } else {
            arm();
        }
    }

    void on_ready(std::uint32_t i, std::uint32_t events) {
        auto& s = subs_[i];
        if (s.fd < 0) return;
        if (s.st == state::connecting) {
            int err = 0;
            socklen_t len = sizeof err;
            ::getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len);
            if (err != 0) return fail(s, classify_errno(err), err);
            if (!(events & EPOLLOUT)) {
                if (events & (EPOLLERR | EPOLLHUP)) return fail(s, failure::reset, ECONNRESET);
                return;
            }
            s.st = state::requesting;
        }
        if (s.st == state::requesting) {
            auto& req = *s.request;
            auto n = ::send(s.fd, req.data() + s.sent, req.size() - s.sent, MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EAGAIN || errno == EINTR) return;
                return fail(s, classify_errno(errno), errno);
            }
            s.sent = static_cast<std::uint16_t>(s.sent + n);
            if (s.sent < req.size()) return;
            epoll_event ev{};
            ev.events = EPOLLIN | EPOLLRDHUP;
            ev.data.u32 = i;
            ::epoll_ctl(epoll_.native_handle(), EPOLL_CTL_MOD, s.fd, &ev);
            s.st = state::awaiting;
            return;
        }
        read_from(s);
    }

    void read_from(sub& s) {
        auto n = ::recv(s.fd, buffer_.data(), buffer_.size(), 0);
        if (n == 0) {
            if (s.st == state::awaiting) return fail(s, failure::closed_early);
            return ended(s, false);
        }
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) return;
            int e = errno;
            if (s.st == state::awaiting) return fail(s, classify_errno(e), e);
            return ended(s, true);
        }
        std::int64_t now = mono_ns();
        stats_.bytes += static_cast<std::uint64_t>(n);
        ++stats_.reads;
        bool was_awaiting = s.st == state::awaiting;
        s.parser.feed(buffer_.data(), static_cast<std::size_t>(n),
                      [&](const sse_event& ev) { on_event(s, ev, now); });
        if (s.parser.state() == sse_parser::phase::failed) return fail(s, failure::other);
        if (was_awaiting && s.parser.headers_done()) {
            if (s.parser.status() != 200) {
                ++conns().http_statuses[s.parser.status()];
                return fail(s, failure::http_status);
            }
            s.st = state::streaming;
            --flying_;
            ++conns().established;
            if (s.storm_target) {
                ++stats_.storm.reconnected;
                if (s.storm_got >= s.storm_owed) storm_caught_up(s, now);
            } else {
                settled.fetch_add(1, std::memory_order_relaxed);
            }
            pump();
        }
        if (setup_.delayed_acks) {
            int zero = 0;
            ::setsockopt(s.fd, IPPROTO_TCP, TCP_QUICKACK, &zero, sizeof zero);
        }
        received.store(stats_.received, std::memory_order_relaxed);
    }

    void storm_caught_up(sub& s, std::int64_t now) {
        ++stats_.storm.caught_up;
        stats_.storm.catch_up.record(now - stats_.storm.start_ns);
        stats_.storm.last_caught_up_ns = std::max(stats_.storm.last_caught_up_ns, now);
        s.storm_target = false;  // done: later events are plain deliveries
        s.storm_owed = 0;
        storm_settled.fetch_add(1, std::memory_order_relaxed);
    }

    void on_event(sub& s, const sse_event& ev, std::int64_t now) {
        ++stats_.events;
        if (!ev.has_payload) {
            if (ev.resync) {
                ++stats_.resyncs;
                if (storm_active_) ++stats_.storm.resyncs;
            } else {
                ++stats_.foreign;
            }
            return;
        }
        if (s.storm_target) {
            if (ev.seq >= storm_first_ && ev.seq < storm_first_ + storm_count_) {
                if (s.have_seq && ev.seq <= s.last_seq) {
                    ++stats_.storm.duplicates;
                } else {
                    ++s.storm_got;
                    ++stats_.storm.got;
                    s.last_seq = ev.seq;
                    s.have_seq = true;
                    // Caught up is decided once the stream is established (on the head's read).
                    if (s.storm_got == s.storm_owed && s.st == state::streaming) storm_caught_up(s, now);
                }
            } else {
                ++stats_.storm.unexpected;
            }
            return;
        }
        ++stats_.received;
        if (s.have_seq && ev.seq <= s.last_seq) ++stats_.out_of_order;
        s.last_seq = ev.seq;
        s.have_seq = true;
        stats_.latency.record(now - ev.send_ns);
        stats_.first_event_ns = std::min(stats_.first_event_ns, now);
        stats_.last_event_ns = now;
    }

    // Times out connection attempts; runs while any are in flight or queued.
    void sweep() {
        if (sweeping_) return;
        sweeping_ = true;
        sweep_.expires_after(std::chrono::milliseconds(100));
        sweep_.async_wait([this](boost::system::error_code ec) {
            sweeping_ = false;
            if (ec) return;
            auto now = mono_ns();
            for (auto& s : subs_) {
                if (!in_flight(s.st) || now - s.started_ns < setup_.connect_timeout_ns) continue;
                fail(s, s.st == state::connecting ? failure::connect_timeout : failure::response_timeout);
            }
            if (flying_ > 0 || next_ < queue_.size()) sweep();
        });
    }

    const shard_setup& setup_;
    boost::asio::io_context& io_;
    boost::asio::posix::stream_descriptor epoll_;
    boost::asio::steady_timer sweep_;
    std::vector<char> buffer_;
    std::vector<std::string> requests_;
    std::vector<std::string> storm_requests_;
    std::vector<sub> subs_;
    std::vector<std::uint32_t> queue_;  // subscriber indices to connect, in order
    std::size_t next_ = 0;
    std::size_t flying_ = 0;
    std::size_t limit_ = 0;
    bool pumping_ = false;
    bool sweeping_ = false;
    bool storm_active_ = false;
    std::uint64_t storm_first_ = 0;
    std::uint32_t storm_count_ = 0;
    subscriber_stats stats_;
};

}  // namespace bench
