#pragma once

// Blocking HTTP/1.1 and event-stream clients for tests, with a deadline on every wait.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sse_parser.hpp"
#include "test_server.hpp"

namespace test {

struct iless {
    bool operator()(const std::string& a, const std::string& b) const {
        return std::lexicographical_compare(
            a.begin(), a.end(), b.begin(), b.end(),
            [](char x, char y) { return std::tolower(x) < std::tolower(y); });
    }
};
using header_map = std::map<std::string, std::string, iless>;

struct http_response {
    int status = 0;  // 0: no complete response before the deadline or the connection ended
    header_map headers;
    std::string body;
};

// One TCP connection to the daemon, from `source` (another loopback address such as 127.0.0.2,
// to be another client) when given.
class connection {
  public:
    explicit connection(std::uint16_t port, const char* address = "127.0.0.1",
                        const char* source = nullptr) {
        fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd_ < 0) throw std::runtime_error("socket() failed");
        if (source != nullptr) {
            sockaddr_in local{};
            local.sin_family = AF_INET;
            inet_pton(AF_INET, source, &local.sin_addr);
            if (::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
                ::close(fd_);
                throw std::runtime_error("bind() failed: " + std::to_string(errno));
            }
        }
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        inet_pton(AF_INET, address, &addr.sin_addr);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
            ::close(fd_);
            throw std::runtime_error("connect() failed: " + std::to_string(errno));
        }
    }
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;
    connection(connection&& other) noexcept
        : fd_(std::exchange(other.fd_, -1)), buffer_(std::move(other.buffer_)) {}
    ~connection() {
        if (fd_ >= 0) ::close(fd_);
    }

    int fd() const { return fd_; }

    void send(std::string_view bytes) {
        while (!bytes.empty()) {
            auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EINTR) continue;
                throw std::runtime_error("send() failed: " + std::to_string(errno));
            }
            bytes.remove_prefix(static_cast<std::size_t>(n));
        }
    }

    // Sets a small receive buffer, so that a client that does not read fills up quickly.
    void shrink_receive_buffer(int bytes) {
        setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
    }

    // Waits up to `timeout` for bytes; appends them to the buffer. Returns false when the peer
    // closed (or reset) the connection, true otherwise (also on timeout).
    bool fill(std::chrono::milliseconds timeout) {
        if (eof_) return false;
        pollfd p{fd_, POLLIN, 0};
        int ready = ::poll(&p, 1, static_cast<int>(timeout.count()));
        if (ready <= 0) return true;
        char chunk[65536];
        auto n = ::recv(fd_, chunk, sizeof chunk, 0);
        if (n <= 0) {
            eof_ = true;
            return false;
        }
        buffer_.append(chunk, static_cast<std::size_t>(n));
        return true;
    }

    // Reads until `done(buffer)` says so, the peer closes, or the deadline passes.
    template <typename F>
    bool read_until(F&& done, std::chrono::milliseconds timeout) {
        auto deadline = clock::now() + timeout;
        while (!done(buffer_)) {
            auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
            if (left.count() <= 0) return false;
            if (!fill(std::min<std::chrono::milliseconds>(left, 100ms)) && !done(buffer_))
                return false;
        }
        return true;
    }

    // Waits for the peer to close the connection; data that arrives meanwhile is kept.
    bool wait_closed(std::chrono::milliseconds timeout) {
        auto deadline = clock::now() + timeout;
        while (!eof_) {
            if (clock::now() >= deadline) return false;
            fill(100ms);
        }
        return true;
    }
    bool closed() const { return eof_; }

    std::string& buffer() { return buffer_; }

    // Reads one whole response (Content-Length, or until close). Consumes it from the buffer.
    http_response read_response(std::chrono::milliseconds timeout = 10s) {
        http_response res;
        std::size_t header_end = std::string::npos;
        read_until(
            [&](const std::string& b) {
                return (header_end = b.find("\r\n\r\n")) != std::string::npos;
            },
            timeout);
        if (header_end == std::string::npos) return res;
        auto head = buffer_.substr(0, header_end);
        auto status_line_end = head.find("\r\n");
        auto status_line = head.substr(0, status_line_end);
        if (status_line.size() < 12) return res;
        int status = std::stoi(status_line.substr(9, 3));
        std::size_t pos = status_line_end == std::string::npos ? head.size() : status_line_end + 2;
        while (pos < head.size()) {
            auto eol = head.find("\r\n", pos);
            if (eol == std::string::npos) eol = head.size();
            auto line = head.substr(pos, eol - pos);
            auto colon = line.find(':');
            if (colon != std::string::npos) {
                auto value = line.substr(colon + 1);
                value.erase(0, value.find_first_not_of(' '));
                res.headers[line.substr(0, colon)] = value;
            }
            pos = eol + 2;
        }
        auto body_start = header_end + 4;
        if (auto it = res.headers.find("Content-Length"); it != res.headers.end()) {
            auto length = std::stoul(it->second);
            if (!read_until([&](const std::string& b) { return b.size() >= body_start + length; },
                            timeout))
                return res;
            res.body = buffer_.substr(body_start, length);
            buffer_.erase(0, body_start + length);
        } else {
            wait_closed(timeout);
            res.body = buffer_.substr(body_start);
            buffer_.clear();
        }
        res.status = status;
        return res;
    }

  private:
    int fd_ = -1;
    std::string buffer_;
    bool eof_ = false;
};

inline std::string format_request(const std::string& method, const std::string& target,
                                  const std::string& body, const header_map& headers,
                                  bool keep_alive) {
    std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
    if (!body.empty() || method == "POST")
        req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    if (!keep_alive) req += "Connection: close\r\n";
    return req + "\r\n" + body;
}

// One request on a fresh connection.
inline http_response request(std::uint16_t port, const std::string& method,
                             const std::string& target, const std::string& body = "",
                             const header_map& headers = {},
                             std::chrono::milliseconds timeout = 10s) {
    connection c(port);
    c.send(format_request(method, target, body, headers, false));
    return c.read_response(timeout);
}

inline http_response publish(std::uint16_t port, const std::string& json,
                             const header_map& extra = {}) {
    header_map headers = extra;
    headers.emplace("Content-Type", "application/json");
    return request(port, "POST", "/notify", json, headers);
}

// Publishes with POST /notify, every request on one keep-alive connection.
class publisher {
  public:
    explicit publisher(std::uint16_t port) : conn_(port) {}
    http_response post(const std::string& body) {
        conn_.send(
            format_request("POST", "/notify", body, {{"Content-Type", "application/json"}}, true));
        return conn_.read_response(10s);
    }

  private:
    connection conn_;
};

// A subscriber: sends GET /events and reads the stream through the WHATWG parser.
class sse_client {
  public:
    sse_client(std::uint16_t port, const std::string& target, const header_map& headers = {},
               std::chrono::milliseconds timeout = 10s)
        : conn_(port) {
        conn_.send(format_request("GET", target, "", headers, true));
        std::size_t header_end = std::string::npos;
        conn_.read_until(
            [&](const std::string& b) {
                return (header_end = b.find("\r\n\r\n")) != std::string::npos;
            },
            timeout);
        if (header_end == std::string::npos)
            throw std::runtime_error("no response header from /events");
        auto& b = conn_.buffer();
        head_ = b.substr(0, header_end);
        status_ = std::stoi(head_.substr(9, 3));
        // A proxy (Nginx) may send the stream in chunked encoding, as browsers accept it.
        chunked_ = has_header_line("Transfer-Encoding: chunked");
        b.erase(0, header_end + 4);
        absorb();
    }

    int status() const { return status_; }
    const std::string& head() const { return head_; }
    bool has_header_line(const std::string& line) const {
        return head_.find("\r\n" + line + "\r\n") != std::string::npos ||
               head_.ends_with("\r\n" + line);
    }
    connection& conn() { return conn_; }
    sse_test::parser& parser() { return parser_; }
    const std::vector<sse_test::event>& events() const { return events_; }
    const std::string& raw() const { return raw_; }

    // Waits until at least `n` events have arrived in total; returns whether they did.
    bool wait_events(std::size_t n, std::chrono::milliseconds timeout = 10s) {
        auto deadline = clock::now() + timeout;
        while (events_.size() < n) {
            auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
            if (left.count() <= 0) return false;
            bool open = conn_.fill(std::min<std::chrono::milliseconds>(left, 100ms));
            absorb();
            if (!open && events_.size() < n) return false;
        }
        return true;
    }
    // Waits until the raw stream contains `text`.
    bool wait_raw(const std::string& text, std::chrono::milliseconds timeout = 10s) {
        auto deadline = clock::now() + timeout;
        while (raw_.find(text) == std::string::npos) {
            auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
            if (left.count() <= 0) return false;
            bool open = conn_.fill(std::min<std::chrono::milliseconds>(left, 100ms));
            absorb();
            if (!open && raw_.find(text) == std::string::npos) return false;
        }
        return true;
    }
    // Waits for the server to end the stream, parsing whatever arrives before.
    bool wait_closed(std::chrono::milliseconds timeout = 10s) {
        bool closed = conn_.wait_closed(timeout);
        absorb();
        return closed;
    }

  private:
    void absorb() {
        auto& b = conn_.buffer();
        if (b.empty()) return;
        std::string body;
        if (chunked_) {
            chunk_pending_ += b;
            body = dechunk();
        } else {
            body = b;
        }
        b.clear();
        raw_ += body;
        parser_.feed(body);
        for (auto& e : parser_.take_events()) events_.push_back(std::move(e));
    }

    // Takes the payload of the complete parts of chunk_pending_ (chunk sizes and CRLFs removed).
    std::string dechunk() {
        std::string out;
        while (true) {
            if (chunk_left_ > 0) {
                auto n = std::min(chunk_left_, chunk_pending_.size());
                if (n == 0) break;
                out.append(chunk_pending_, 0, n);
                chunk_pending_.erase(0, n);
                chunk_left_ -= n;
                if (chunk_left_ == 0) chunk_crlf_ = true;
                continue;
            }
            if (chunk_crlf_) {
                if (chunk_pending_.size() < 2) break;
                if (chunk_pending_.compare(0, 2, "\r\n") != 0)
                    throw std::runtime_error("bad chunked encoding: no CRLF after a chunk");
                chunk_pending_.erase(0, 2);
                chunk_crlf_ = false;
            }
            auto eol = chunk_pending_.find("\r\n");
            if (eol == std::string::npos) break;
            auto size = std::stoul(chunk_pending_.substr(0, eol), nullptr, 16);
            chunk_pending_.erase(0, eol + 2);
            if (size == 0) break;  // the last chunk: the stream ended
            chunk_left_ = size;
        }
        return out;
    }

    connection conn_;
    std::string head_;
    int status_ = 0;
    std::string raw_;
    bool chunked_ = false;
    std::string chunk_pending_;   // chunked bytes not decoded yet
    std::size_t chunk_left_ = 0;  // payload bytes still due in the current chunk
    bool chunk_crlf_ = false;     // the CRLF that ends a chunk is due
    sse_test::parser parser_;
    std::vector<sse_test::event> events_;
};

}  // namespace test
