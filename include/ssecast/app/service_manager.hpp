#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/datagram_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <optional>
#include <string>

namespace ssecast {

// A listening socket that systemd passed (socket activation: LISTEN_FDS and LISTEN_PID).
struct passed_socket {
    int fd = -1;
    boost::asio::ip::tcp protocol = boost::asio::ip::tcp::v4();
};

// systemd, when it runs the daemon: the listening socket of ssecast.socket, and the notifications
// of a Type=notify service (NOTIFY_SOCKET) with the watchdog pings (WATCHDOG_USEC). Without those
// variables it does nothing. Lives on worker 0's loop.
// Notifications go out on a socket of its own rather than with sd_notify(), whose send blocks
// while the manager's queue is full: this one is non-blocking and connected, so the loop waits
// for room (the kernel reports a connected datagram socket writable once the peer has room).
class service_manager {
  public:
    explicit service_manager(boost::asio::io_context& io);

    // The socket systemd passed, if any. Throws std::runtime_error naming the problem when systemd
    // passed something ssecast cannot listen on.
    static std::optional<passed_socket> passed_listener();

    void ready(const std::string& status);
    void reloading();
    void stopping(const std::string& status);
    // Pings at half the interval systemd asks for, from the loop, so a stuck loop misses them.
    void start_watchdog();

  private:
    boost::system::error_code connect();
    void notify(std::string message);
    void send_queued();
    void schedule_watchdog();

    std::string address_;  // NOTIFY_SOCKET; empty: not run as a Type=notify service
    boost::asio::local::datagram_protocol::socket socket_;
    // Messages waiting for room in the manager's queue, oldest first; bounded.
    std::deque<std::string> queue_;
    bool waiting_ = false;  // for the socket to become writable
    bool failing_ = false;  // the last send failed (logged once until one succeeds)
    boost::asio::steady_timer watchdog_timer_;
    std::chrono::microseconds watchdog_interval_{0};
};

}  // namespace ssecast
