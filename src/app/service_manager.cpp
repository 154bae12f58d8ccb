#include "ssecast/app/service_manager.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace ssecast {

namespace asio = boost::asio;
using asio::local::datagram_protocol;

namespace {

// READY, RELOADING, STOPPING and one watchdog ping fit many times over; past this the manager is
// not reading at all, and newer messages are dropped.
constexpr std::size_t max_queued = 16;
constexpr std::string_view watchdog_ping = "WATCHDOG=1";

std::uint64_t monotonic_usec() {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    return static_cast<std::uint64_t>(now.tv_sec) * 1'000'000 +
           static_cast<std::uint64_t>(now.tv_nsec) / 1000;
}

}  // namespace

service_manager::service_manager(asio::io_context& io) : socket_(io), watchdog_timer_(io) {
    const char* address = std::getenv("NOTIFY_SOCKET");
    if (address == nullptr || *address == '\0') return;
    address_ = address;
    if (address_.front() != '/' && address_.front() != '@') {
        spdlog::warn("NOTIFY_SOCKET={}: not a socket path or abstract name; not notifying systemd",
                     address_);
        address_.clear();
        return;
    }
    if (auto ec = connect()) {
        spdlog::warn("NOTIFY_SOCKET={}: {}; not notifying systemd", address_, ec.message());
        address_.clear();
    }
}

std::optional<passed_socket> service_manager::passed_listener() {
    // The variables stay in the environment: unsetenv() would race with the logging thread's
    // reads of it, and ssecast starts no other programs that could take them for their own.
    int count = sd_listen_fds(0);
    if (count < 0) throw std::runtime_error(std::string("LISTEN_FDS: ") + std::strerror(-count));
    if (count == 0) return std::nullopt;
    if (count > 1) {
        throw std::runtime_error("systemd passed " + std::to_string(count) +
                                 " sockets; ssecast listens on exactly one (one ListenStream= "
                                 "line in ssecast.socket)");
    }
    int fd = SD_LISTEN_FDS_START;
    if (sd_is_socket_inet(fd, AF_INET, SOCK_STREAM, 1, 0) > 0)
        return passed_socket{fd, asio::ip::tcp::v4()};
    if (sd_is_socket_inet(fd, AF_INET6, SOCK_STREAM, 1, 0) > 0)
        return passed_socket{fd, asio::ip::tcp::v6()};
    throw std::runtime_error(
        "it is not a listening TCP socket (ssecast.socket needs ListenStream=PORT or ADDRESS:PORT "
        "and Accept=no)");
}

boost::system::error_code service_manager::connect() {
    // An abstract socket name starts with '@' in the variable and with NUL on the wire.
    auto path = address_;
    if (path.front() == '@') path.front() = '\0';
    boost::system::error_code ec;
    socket_.close(ec);
    socket_.open(datagram_protocol(), ec);
    if (!ec) socket_.non_blocking(true, ec);
    if (!ec) socket_.connect(datagram_protocol::endpoint(path), ec);
    if (ec) {
        boost::system::error_code ignored;
        socket_.close(ignored);
    }
    return ec;
}

void service_manager::ready(const std::string& status) {
    notify("READY=1\nSTATUS=" + status);
}

void service_manager::reloading() {
    // MONOTONIC_USEC is what systemd 253 and later want with RELOADING=1 (Type=notify-reload).
    notify("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(monotonic_usec()) +
           "\nSTATUS=reloading the configuration");
}

void service_manager::stopping(const std::string& status) {
    notify("STOPPING=1\nSTATUS=" + status);
}

void service_manager::start_watchdog() {
    std::uint64_t usec = 0;
    if (address_.empty() || sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return;
    watchdog_interval_ = std::chrono::microseconds(usec / 2);
    spdlog::info("systemd watchdog: {}ms, pinging every {}ms", usec / 1000, usec / 2000);
    schedule_watchdog();
}

void service_manager::schedule_watchdog() {
    watchdog_timer_.expires_after(watchdog_interval_);
    watchdog_timer_.async_wait([this](boost::system::error_code ec) {
        if (ec) return;
        notify(std::string(watchdog_ping));
        schedule_watchdog();
    });
}

void service_manager::notify(std::string message) {
    if (address_.empty()) return;
    // A ping still queued tells the manager the same as a new one.
    if (message == watchdog_ping && !queue_.empty() && queue_.back() == watchdog_ping) return;
    if (queue_.size() >= max_queued) {
        spdlog::warn("systemd does not read notifications: dropped \"{}\"",
                     message.substr(0, message.find('\n')));
        return;
    }
    queue_.push_back(std::move(message));
    send_queued();
}

void service_manager::send_queued() {
    bool reconnected = false;
    while (!queue_.empty() && !waiting_) {
        boost::system::error_code ec;
        socket_.send(asio::buffer(queue_.front()), 0, ec);
        if (ec == asio::error::would_block || ec == asio::error::try_again) {
            waiting_ = true;
            socket_.async_wait(datagram_protocol::socket::wait_write,
                               [this](boost::system::error_code wait_ec) {
                                   waiting_ = false;
                                   if (!wait_ec) send_queued();
                               });
            return;
        }
        if (ec && !reconnected) {
            // The manager's socket may be a new one (systemd re-executed): connect again and
            // retry this message once.
            reconnected = true;
            ec = connect();
            if (!ec) continue;
        }
        if (ec && !failing_)
            spdlog::warn("cannot notify systemd at {}: {}", address_, ec.message());
        failing_ = static_cast<bool>(ec);
        reconnected = false;
        queue_.pop_front();
    }
}

}  // namespace ssecast
