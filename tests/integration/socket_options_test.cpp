// The options the daemon sets on the sockets of its connections, read off the daemon's own
// descriptors (pidfd_getfd: a copy of the daemon's socket, in this process).

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <string>

#include "http_client.hpp"
#include "test_server.hpp"

using namespace std::chrono_literals;

namespace {

std::uint16_t local_port(int fd) {
    sockaddr_in addr{};
    socklen_t len = sizeof addr;
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    return ntohs(addr.sin_port);
}

// TCP_NODELAY of the daemon's end of the connection whose client side is on `client_port`;
// nothing if the daemon has no such socket.
std::optional<bool> daemon_no_delay(pid_t daemon, std::uint16_t client_port) {
    int pidfd = static_cast<int>(syscall(SYS_pidfd_open, daemon, 0));
    if (pidfd < 0) throw std::runtime_error("pidfd_open: " + std::to_string(errno));
    std::optional<bool> found;
    for (const auto& entry :
         std::filesystem::directory_iterator("/proc/" + std::to_string(daemon) + "/fd")) {
        std::error_code ec;
        auto target = std::filesystem::read_symlink(entry.path(), ec).string();
        if (ec || target.rfind("socket:", 0) != 0) continue;
        int theirs = std::stoi(entry.path().filename().string());
        int fd = static_cast<int>(syscall(SYS_pidfd_getfd, pidfd, theirs, 0));
        if (fd < 0) throw std::runtime_error("pidfd_getfd: " + std::to_string(errno));
        sockaddr_in peer{};
        socklen_t len = sizeof peer;
        if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) == 0 &&
            peer.sin_family == AF_INET && ntohs(peer.sin_port) == client_port) {
            int value = 0;
            socklen_t size = sizeof value;
            getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &value, &size);
            found = value != 0;
        }
        close(fd);
        if (found) break;
    }
    close(pidfd);
    return found;
}

}  // namespace

// Without TCP_NODELAY a pipelined second answer waited ~40 ms for the client's delayed ACK.
TEST(SocketOptions, EveryConnectionHasNoDelay) {
    test::server s;
    test::connection plain(s.port());
    plain.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_EQ(plain.read_response(10s).status, 200);
    auto no_delay = daemon_no_delay(s.pid(), local_port(plain.fd()));
    ASSERT_TRUE(no_delay.has_value()) << "the daemon's socket of the connection was not found";
    EXPECT_TRUE(*no_delay) << "a plain HTTP connection without TCP_NODELAY";

    test::sse_client stream(s.port(), "/events?channel=x");
    no_delay = daemon_no_delay(s.pid(), local_port(stream.conn().fd()));
    ASSERT_TRUE(no_delay.has_value());
    EXPECT_TRUE(*no_delay) << "an event stream without TCP_NODELAY";
}
