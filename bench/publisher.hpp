// Publishers: --publishers keep-alive HTTP/1.1 connections (asio, TCP_NODELAY), each with at most
// --pipeline requests outstanding. Paced runs send event k at t0 + k/rate, handed round-robin to
// a connection with a free slot (when none has one the events wait, and how far the publisher fell
// behind is reported); flat-out runs (rate 0) keep every pipeline full. Event k goes to channel
// k mod C and carries "k SENDNS" in its payload. Answers are parsed incrementally: status,
// Content-Length, Connection: close, and from the body the event id and the server's own
// delivery count.
#pragma once

#include <netinet/in.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <nlohmann/json.hpp>

#include "clock.hpp"
#include "histogram.hpp"
#include "payload.hpp"
#include "target.hpp"

namespace bench {

namespace asio = boost::asio;

struct publish_stats {
    std::uint64_t sent = 0;
    std::uint64_t ok = 0;
    std::uint64_t rejected = 0;             // answered with another status
    std::map<int, std::uint64_t> statuses;  // of the rejected ones
    std::uint64_t lost_in_flight = 0;       // requests whose connection failed before the answer
    std::uint64_t connection_errors = 0;
    std::uint64_t reconnects = 0;
    std::uint64_t server_closed = 0;  // "Connection: close" answers
    std::uint64_t max_behind = 0;     // most events that were due but had no free slot
    std::int64_t server_reported = 0; // sum of "delivered" (ssecast) / "subscribers" (nchan)
    std::int64_t first_send_ns = 0;
    std::int64_t last_send_ns = 0;
    std::int64_t last_answer_ns = 0;
    std::vector<std::uint64_t> ok_per_channel;
    histogram latency;  // request write -> complete answer
    std::string first_error;

    nlohmann::json to_json() const {
        nlohmann::json st = nlohmann::json::object();
        for (const auto& [code, n] : statuses) st[std::to_string(code)] = n;
        double span = seconds(last_answer_ns - first_send_ns);
        return {{"sent", sent},
                {"ok", ok},
                {"rejected", rejected},
                {"rejected_statuses", st},
                {"lost_in_flight", lost_in_flight},
                {"connection_errors", connection_errors},
                {"reconnects", reconnects},
                {"server_closed_connection", server_closed},
                {"max_behind_events", max_behind},
                {"server_reported_deliveries", server_reported},
                {"duration_s", span},
                {"requests_per_s", span > 0 ? static_cast<double>(ok) / span : 0.0},
                {"answer_latency_ms", latency.summary_ms()},
                {"first_error", first_error}};
    }
};

struct publisher_setup {
    target_kind target = target_kind::ssecast;
    asio::ip::tcp::endpoint server;
    asio::ip::address_v4 source = asio::ip::make_address_v4("127.0.0.1");
    std::string host_header;
    std::string extra_headers;  // complete lines, sent with every publish (e.g. Authorization)
    std::string channel_prefix;
    std::uint32_t channels = 1;
    std::uint32_t payload = 100;
    std::uint32_t connections = 1;
    std::uint32_t pipeline = 1;
    // After the last request: how long answers still due are waited for before they count as lost.
    std::chrono::milliseconds answer_timeout{10000};
};

class publish_engine {
public:
    publish_engine(asio::io_context& io, publisher_setup setup)
        : io_(io), setup_(std::move(setup)), tick_(io), guard_(io), end_timer_(io) {
        for (std::uint32_t c = 0; c < setup_.channels; ++c)
            templates_.push_back(publish_request(setup_.target, setup_.host_header,
                                                 channel_name(setup_.channel_prefix, c), setup_.payload,
                                                 setup_.extra_headers));
        stats_.ok_per_channel.assign(setup_.channels, 0);
        for (std::uint32_t i = 0; i < setup_.connections; ++i) conns_.push_back(std::make_unique<conn>(io_));
    }

    // Opens the connections; calls done(error text or "") once all are connected or one failed.
    void connect(std::function<void(std::string)> done) {
        connect_done_ = std::move(done);
        pending_connects_ = conns_.size();
        for (auto& c : conns_) open(*c);
    }

    // Publishes until `end_ns` (0: no time limit) or `count` events (0: no count limit), at `rate`
    // events/s (0: flat out), then waits for the outstanding answers and calls done().
    void run(double rate, std::int64_t end_ns, std::uint64_t count, std::function<void()> done) {
        rate_ = rate;
        end_ns_ = end_ns;
        count_limit_ = count ? sent_ + count : 0;
        done_ = std::move(done);
        running_ = true;
        finished_ = false;
        t0_ = mono_ns();
        base_seq_ = sent_;
        if (stats_.first_send_ns == 0) stats_.first_send_ns = t0_;
        for (auto& c : conns_)
            if (!c->up && !c->opening) {
                c->retry.cancel();
                open(*c);
            }
        if (end_ns_) {
            // Also stops a flat-out run whose answers have stopped coming.
            end_timer_.expires_at(std::chrono::steady_clock::time_point(std::chrono::nanoseconds(end_ns_)));
            end_timer_.async_wait([this](boost::system::error_code ec) {
                if (!ec) stop_sending();
            });
        }
        if (rate_ > 0) {
            on_tick();
        } else {
            for (auto& c : conns_) fill(*c);
        }
        check_finished();
    }

    // The id of the most recent answered event (for the reconnect storm's Last-Event-ID).
    const std::string& last_id() const { return last_id_; }
    std::uint64_t next_seq() const { return sent_; }
    const publish_stats& stats() const { return stats_; }

private:
    struct conn {
        explicit conn(asio::io_context& io) : socket(io), retry(io) {}
        asio::ip::tcp::socket socket;
        asio::steady_timer retry;
        bool up = false;
        bool opening = false;
        bool writing = false;
        std::string out;      // requests waiting to be written
        std::string writing_buf;
        std::vector<char> in = std::vector<char>(65536);
        std::size_t in_begin = 0, in_end = 0;
        struct pending {
            std::int64_t send_ns;
            std::uint32_t channel;
        };
        std::deque<pending> inflight;
    };

    void open(conn& c) {
        c.opening = true;
        boost::system::error_code ec;
        c.socket.open(asio::ip::tcp::v4(), ec);
        if (!ec) c.socket.bind({setup_.source, 0}, ec);
        if (ec) return connect_failed(c, ec);
        c.socket.async_connect(setup_.server, [this, &c](boost::system::error_code ec2) {
            c.opening = false;
            if (ec2) return connect_failed(c, ec2);
            boost::system::error_code ignored;
            c.socket.set_option(asio::ip::tcp::no_delay(true), ignored);
            c.up = true;
            c.in_begin = c.in_end = 0;
            read(c);
            if (pending_connects_ > 0 && --pending_connects_ == 0 && connect_done_) {
                auto done = std::move(connect_done_);
                connect_done_ = nullptr;
                done("");
            }
            if (running_) {
                if (rate_ > 0) send_due();
                else fill(c);
            }
        });
    }

    void connect_failed(conn& c, boost::system::error_code ec) {
        c.opening = false;
        ++stats_.connection_errors;
        if (stats_.first_error.empty()) stats_.first_error = "connect: " + ec.message();
        if (connect_done_) {
            auto done = std::move(connect_done_);
            connect_done_ = nullptr;
            done("publisher connect failed: " + ec.message());
            return;
        }
        schedule_reconnect(c);
    }

    void schedule_reconnect(conn& c) {
        boost::system::error_code ignored;
        c.socket.close(ignored);
        c.up = false;
        c.writing = false;
        c.out.clear();
        stats_.lost_in_flight += c.inflight.size();
        c.inflight.clear();
        check_finished();
        if (!running_) return;
        c.retry.expires_after(std::chrono::milliseconds(50));
        c.retry.async_wait([this, &c](boost::system::error_code ec) {
            if (ec || !running_ || c.up || c.opening) return;
            ++stats_.reconnects;
            c.socket = asio::ip::tcp::socket(io_);
            open(c);
        });
    }

    bool may_send() const {
        if (!running_) return false;
        if (count_limit_ && sent_ >= count_limit_) return false;
        return true;
    }

    void fill(conn& c) {
        while (c.up && c.inflight.size() < setup_.pipeline && may_send()) {
            if (end_ns_ && mono_ns() >= end_ns_) {
                stop_sending();
                return;
            }
            enqueue(c);
        }
        flush(c);
        if (running_ && count_limit_ && sent_ >= count_limit_) stop_sending();
    }

    void stop_sending() {
        if (!running_) return;
        running_ = false;
        tick_.cancel();
        end_timer_.cancel();
        check_finished();
    }

    // Paced: events due by now, handed to connections with free slots.
    void on_tick() {
        if (!running_) return;
        auto now = mono_ns();
        if (end_ns_ && now >= end_ns_) return stop_sending();
        send_due();
        if (!running_) return;
        auto next_index = static_cast<double>(sent_ - base_seq_);
        auto next_at = t0_ + static_cast<std::int64_t>(next_index * 1e9 / rate_);
        if (next_at < now) next_at = now + 1'000'000;  // behind: retry when a slot frees or in 1 ms
        tick_.expires_at(std::chrono::steady_clock::time_point(std::chrono::nanoseconds(next_at)));
        tick_.async_wait([this](boost::system::error_code ec) {
            if (!ec) on_tick();
        });
    }

    void send_due() {
        auto now = mono_ns();
        auto due_total = static_cast<std::uint64_t>(std::floor(seconds(now - t0_) * rate_)) + 1;
        if (count_limit_) due_total = std::min(due_total, count_limit_ - base_seq_);
        std::uint64_t done_count = sent_ - base_seq_;
        if (due_total <= done_count) return;
        std::uint64_t due = due_total - done_count;
        std::size_t tried = 0;
        while (due > 0 && tried < conns_.size() && may_send()) {
            auto& c = *conns_[rr_ % conns_.size()];
            ++rr_;
            if (!c.up || c.inflight.size() >= setup_.pipeline) {
                ++tried;
                continue;
            }
            tried = 0;
            enqueue(c);
            --due;
        }
        stats_.max_behind = std::max(stats_.max_behind, due);
        for (auto& c : conns_) flush(*c);
        if (count_limit_ && sent_ >= count_limit_) stop_sending();
    }

    void enqueue(conn& c) {
        std::uint64_t seq = sent_++;
        auto channel = static_cast<std::uint32_t>(seq % setup_.channels);
        const auto& t = templates_[channel];
        auto now = mono_ns();
        std::size_t at = c.out.size();
        c.out.resize(at + t.head.size() + std::max<std::size_t>(setup_.payload, payload_header_max) + t.tail.size());
        std::memcpy(c.out.data() + at, t.head.data(), t.head.size());
        at += t.head.size();
        at += write_payload(c.out.data() + at, setup_.payload, seq, now);
        std::memcpy(c.out.data() + at, t.tail.data(), t.tail.size());
        at += t.tail.size();
        c.out.resize(at);
        c.inflight.push_back({now, channel});
        ++stats_.sent;
        stats_.last_send_ns = now;
    }

    void flush(conn& c) {
        if (c.writing || c.out.empty() || !c.up) return;
        c.writing = true;
        std::swap(c.out, c.writing_buf);
        c.out.clear();
        asio::async_write(c.socket, asio::buffer(c.writing_buf),
                          [this, &c](boost::system::error_code ec, std::size_t) {
                              c.writing = false;
                              if (ec) return broken(c, "write: " + ec.message());
                              flush(c);
                          });
    }

    void read(conn& c) {
        if (c.in_end == c.in.size()) {
            if (c.in_begin > 0) {
                std::memmove(c.in.data(), c.in.data() + c.in_begin, c.in_end - c.in_begin);
                c.in_end -= c.in_begin;
                c.in_begin = 0;
            } else {
                c.in.resize(c.in.size() * 2);
            }
        }
        c.socket.async_read_some(asio::buffer(c.in.data() + c.in_end, c.in.size() - c.in_end),
                                 [this, &c](boost::system::error_code ec, std::size_t n) {
                                     if (ec) {
                                         if (ec == asio::error::operation_aborted) return;
                                         return broken(c, ec == asio::error::eof ? "server closed" : "read: " + ec.message());
                                     }
                                     c.in_end += n;
                                     bool close = false;
                                     while (!close) {
                                         auto r = parse_one(c, close);
                                         if (r < 0) return broken(c, "malformed answer");
                                         if (r == 0) break;
                                     }
                                     if (c.in_begin == c.in_end) c.in_begin = c.in_end = 0;
                                     if (close) {
                                         ++stats_.server_closed;
                                         return broken(c, "");
                                     }
                                     if (running_) {
                                         if (rate_ > 0) send_due();
                                         else fill(c);
                                     }
                                     check_finished();
                                     read(c);
                                 });
    }

    // One complete answer at in_begin: 1 if consumed, 0 if incomplete, -1 if malformed.
    int parse_one(conn& c, bool& close) {
        std::string_view buf(c.in.data() + c.in_begin, c.in_end - c.in_begin);
        auto head_end = buf.find("\r\n\r\n");
        if (head_end == std::string_view::npos) return buf.size() > 65536 ? -1 : 0;
        auto head = buf.substr(0, head_end);
        if (head.size() < 12 || head.substr(0, 5) != "HTTP/") return -1;
        int status = 0;
        for (std::size_t i = 9; i < 12; ++i) status = status * 10 + (head[i] - '0');
        std::size_t length = 0;
        bool conn_close = false;
        std::size_t pos = head.find("\r\n");
        while (pos != std::string_view::npos && pos < head.size()) {
            auto next = head.find("\r\n", pos + 2);
            auto line = head.substr(pos + 2, (next == std::string_view::npos ? head.size() : next) - pos - 2);
            auto colon = line.find(':');
            if (colon != std::string_view::npos) {
                auto name = line.substr(0, colon);
                auto value = line.substr(colon + 1);
                while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
                if (iequals(name, "content-length")) {
                    length = static_cast<std::size_t>(std::strtoull(std::string(value).c_str(), nullptr, 10));
                } else if (iequals(name, "connection") && iequals(value, "close")) {
                    conn_close = true;
                } else if (iequals(name, "transfer-encoding")) {
                    return -1;  // not sent by either server for these answers
                }
            }
            pos = next;
        }
        auto total = head_end + 4 + length;
        if (buf.size() < total) return 0;
        answered(c, status, buf.substr(head_end + 4, length));
        c.in_begin += total;
        close = conn_close;
        return 1;
    }

    static bool iequals(std::string_view a, std::string_view b) {
        if (a.size() != b.size()) return false;
        for (std::size_t i = 0; i < a.size(); ++i) {
            char x = a[i], y = b[i];
            if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
            if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
            if (x != y) return false;
        }
        return true;
    }

    void answered(conn& c, int status, std::string_view body) {
        auto now = mono_ns();
        if (c.inflight.empty()) {
            if (stats_.first_error.empty()) stats_.first_error = "answer without a request";
            return;
        }
        auto p = c.inflight.front();
        c.inflight.pop_front();
        stats_.latency.record(now - p.send_ns);
        stats_.last_answer_ns = now;
        if (publish_ok(status)) {
            ++stats_.ok;
            ++stats_.ok_per_channel[p.channel];
            auto to = published_to(setup_.target, body);
            if (to > 0) stats_.server_reported += to;
            if (auto id = published_id(setup_.target, body)) last_id_.assign(id->data(), id->size());
        } else {
            ++stats_.rejected;
            ++stats_.statuses[status];
            if (stats_.first_error.empty())
                stats_.first_error = "HTTP " + std::to_string(status) + ": " + std::string(body.substr(0, 200));
        }
    }

    void broken(conn& c, const std::string& why) {
        if (!why.empty()) {
            ++stats_.connection_errors;
            if (stats_.first_error.empty()) stats_.first_error = why;
        }
        schedule_reconnect(c);
    }

    void check_finished() {
        if (running_ || finished_ || !done_) return;
        for (auto& c : conns_)
            if (!c->inflight.empty()) {
                // Answers still due: wait for them, but not forever.
                if (guard_armed_) return;
                guard_armed_ = true;
                guard_.expires_after(setup_.answer_timeout);
                guard_.async_wait([this](boost::system::error_code ec) {
                    guard_armed_ = false;
                    if (ec || finished_) return;
                    for (auto& cc : conns_) {
                        stats_.lost_in_flight += cc->inflight.size();
                        cc->inflight.clear();
                    }
                    finish();
                });
                return;
            }
        finish();
    }

    void finish() {
        if (finished_) return;
        finished_ = true;
        guard_.cancel();
        guard_armed_ = false;
        auto done = std::move(done_);
        done_ = nullptr;
        if (done) done();
    }

public:
    // Closes every connection (end of run).
    void close() {
        running_ = false;
        for (auto& c : conns_) {
            boost::system::error_code ignored;
            c->retry.cancel();
            c->socket.close(ignored);
        }
        tick_.cancel();
        guard_.cancel();
        end_timer_.cancel();
    }

private:
    asio::io_context& io_;
    publisher_setup setup_;
    std::vector<publish_template> templates_;
    std::vector<std::unique_ptr<conn>> conns_;
    asio::steady_timer tick_;
    asio::steady_timer guard_;
    asio::steady_timer end_timer_;
    std::function<void(std::string)> connect_done_;
    std::function<void()> done_;
    std::size_t pending_connects_ = 0;
    double rate_ = 0;
    std::int64_t t0_ = 0;
    std::int64_t end_ns_ = 0;
    std::uint64_t count_limit_ = 0;
    std::uint64_t base_seq_ = 0;
    std::uint64_t sent_ = 0;
    std::size_t rr_ = 0;
    bool running_ = false;
    bool finished_ = true;
    bool guard_armed_ = false;
    publish_stats stats_;
    std::string last_id_;
};

}  // namespace bench
