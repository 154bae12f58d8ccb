// The daemon under systemd, without systemd: the tests play the manager's part. They create the
// notification socket (NOTIFY_SOCKET) and pass listening sockets (LISTEN_FDS, LISTEN_PID) exactly
// as systemd does, and watch what the daemon does with them.

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <fstream>
#include <optional>
#include <utility>

#include "http_client.hpp"
#include "test_server.hpp"

using namespace std::chrono_literals;

namespace {

bool has_line(const std::string& message, const std::string& line) {
    auto lines = test::split_lines(message);
    return std::find(lines.begin(), lines.end(), line) != lines.end();
}

// The value of "NAME=value" in a notification, if there.
std::optional<std::string> field(const std::string& message, const std::string& name) {
    for (const auto& line : test::split_lines(message)) {
        if (line.rfind(name + "=", 0) == 0) return line.substr(name.size() + 1);
    }
    return std::nullopt;
}

// A file descriptor closed with its owner.
class descriptor {
  public:
    explicit descriptor(int fd) : fd_(fd) {
        if (fd_ < 0) throw std::runtime_error("socket call failed: " + std::to_string(errno));
    }
    descriptor(const descriptor&) = delete;
    descriptor& operator=(const descriptor&) = delete;
    descriptor(descriptor&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    ~descriptor() {
        if (fd_ >= 0) ::close(fd_);
    }
    int get() const { return fd_; }

  private:
    int fd_;
};

// What systemd's manager does with NOTIFY_SOCKET: a datagram socket that receives the daemon's
// notifications, one message per datagram. Nothing reads it until the test asks, as a busy
// manager would.
class notify_socket {
  public:
    notify_socket()
        : dir_(test::make_temp_dir()), fd_(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        auto path = (dir_ / "notify").string();
        if (path.size() >= sizeof addr.sun_path) throw std::runtime_error("temp path too long");
        std::copy(path.begin(), path.end(), addr.sun_path);
        if (bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
            throw std::runtime_error("bind " + path + ": " + std::to_string(errno));
        path_ = path;
    }
    ~notify_socket() {
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
    }

    const std::string& path() const { return path_; }
    int fd() const { return fd_.get(); }
    // Every message received so far, in order.
    const std::vector<std::string>& received() const { return received_; }

    // The next message, within `timeout`.
    std::optional<std::string> receive(std::chrono::milliseconds timeout) {
        pollfd p{fd_.get(), POLLIN, 0};
        if (poll(&p, 1, static_cast<int>(timeout.count())) != 1) return std::nullopt;
        char buffer[4096];
        auto n = recv(fd_.get(), buffer, sizeof buffer, MSG_DONTWAIT);
        if (n < 0) return std::nullopt;
        received_.emplace_back(buffer, static_cast<std::size_t>(n));
        return received_.back();
    }

    // Receives until a message has the line `line` (such as "READY=1"); returns that message.
    std::optional<std::string> wait_for(const std::string& line,
                                        std::chrono::milliseconds timeout = 20s) {
        auto deadline = test::clock::now() + timeout;
        for (int i = 0; i < 100'000; ++i) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline -
                                                                              test::clock::now());
            if (left.count() <= 0) return std::nullopt;
            auto message = receive(left);
            if (message && has_line(*message, line)) return message;
        }
        return std::nullopt;
    }

    // Takes whatever is waiting without blocking; returns how many messages that was.
    std::size_t drain() {
        std::size_t n = 0;
        while (n < 100'000 && receive(0ms)) ++n;
        return n;
    }

  private:
    std::filesystem::path dir_;
    descriptor fd_;
    std::string path_;
    std::vector<std::string> received_;
};

// A TCP socket on 127.0.0.1 with a free port, listening or not.
descriptor tcp_socket(bool listening, int type = SOCK_STREAM) {
    descriptor fd(socket(AF_INET, type | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
        throw std::runtime_error("bind failed");
    if (listening && listen(fd.get(), 128) != 0) throw std::runtime_error("listen failed");
    return fd;
}

std::uint16_t port_of(const descriptor& fd) {
    sockaddr_in addr{};
    socklen_t size = sizeof addr;
    getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &size);
    return ntohs(addr.sin_port);
}

// The port in "listening on 127.0.0.1:PORT...".
std::uint16_t port_in_status(const std::string& status) {
    return test::listening_port(status + " ");
}

// Runs the daemon to its exit, for the configurations it refuses.
test::run_result run_launched(std::vector<std::string> args, const test::launch_options& launch) {
    auto dir = test::make_temp_dir();
    args.insert(args.begin(), test::daemon_binary());
    test::run_result result;
    {
        test::process p(args, {}, dir / "out", dir / "err", launch);
        result.status = p.wait(20s);
    }
    result.err = test::read_file(dir / "err");
    std::filesystem::remove_all(dir);
    return result;
}

// --- notifications ------------------------------------------------------------------------------

TEST(SystemdNotify, ReadyOnceListeningThenReloadingAndStopping) {
    notify_socket manager;
    auto dir = test::make_temp_dir();
    // Started directly rather than through test::server, so that READY=1 is the first thing the
    // test waits for and it connects the moment READY=1 arrives.
    test::process daemon({test::daemon_binary(), "--listen", "127.0.0.1:0"},
                         {{"NOTIFY_SOCKET", manager.path()}}, dir / "out", dir / "err");
    auto ready = manager.wait_for("READY=1");
    ASSERT_TRUE(ready.has_value()) << test::read_file(dir / "err");
    // The daemon must have bound the port to name it, and accepts on it already.
    auto status = field(*ready, "STATUS");
    ASSERT_TRUE(status.has_value()) << *ready;
    auto port = port_in_status(*status);
    ASSERT_NE(port, 0) << *status;
    test::connection early(port);
    EXPECT_EQ(test::request(port, "GET", "/healthz").status, 200);
    EXPECT_EQ(manager.received().size(), 1u) << "something came before READY=1";

    daemon.signal(SIGHUP);
    auto reloading = manager.wait_for("RELOADING=1");
    ASSERT_TRUE(reloading.has_value());
    // systemd 253+ wants the monotonic time of the reload with it (Type=notify-reload).
    auto usec = field(*reloading, "MONOTONIC_USEC");
    ASSERT_TRUE(usec.has_value()) << *reloading;
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    auto now_usec = static_cast<std::uint64_t>(now.tv_sec) * 1'000'000 +
                    static_cast<std::uint64_t>(now.tv_nsec) / 1000;
    EXPECT_LE(std::stoull(*usec), now_usec);
    EXPECT_GT(std::stoull(*usec) + 60'000'000, now_usec);
    auto reloaded = manager.wait_for("READY=1");
    ASSERT_TRUE(reloaded.has_value());
    EXPECT_NE(field(*reloaded, "STATUS").value_or("").find("configuration reloaded"),
              std::string::npos)
        << *reloaded;

    daemon.signal(SIGTERM);
    auto stopping = manager.wait_for("STOPPING=1");
    ASSERT_TRUE(stopping.has_value());
    auto exit = daemon.wait(15s);
    EXPECT_TRUE(exit.exited);
    EXPECT_EQ(exit.code, 0) << test::read_file(dir / "err");
    // No WATCHDOG_USEC: no pings.
    manager.drain();
    for (const auto& message : manager.received()) EXPECT_FALSE(has_line(message, "WATCHDOG=1"));
    std::filesystem::remove_all(dir);
}

TEST(SystemdNotify, ReloadThatFailsStillEndsWithReady) {
    notify_socket manager;
    auto dir = test::make_temp_dir();
    auto file = dir / "ssecast.toml";
    std::ofstream(file) << "log-level = \"info\"\n";
    test::server s({"--config", file.string()}, {{"NOTIFY_SOCKET", manager.path()}});
    ASSERT_TRUE(manager.wait_for("READY=1").has_value());
    std::ofstream(file) << "log-level = \"loud\"\n";
    s.signal(SIGHUP);
    ASSERT_TRUE(manager.wait_for("RELOADING=1").has_value());
    auto ready = manager.wait_for("READY=1");
    ASSERT_TRUE(ready.has_value()) << s.log();
    EXPECT_NE(field(*ready, "STATUS").value_or("").find("not reloaded"), std::string::npos)
        << *ready;
    EXPECT_EQ(s.stop().code, 0);
    std::filesystem::remove_all(dir);
}

TEST(SystemdNotify, WatchdogPingsWhenAsked) {
    notify_socket manager;
    // 200 ms: pings every 100 ms. Only their arrival is checked, not their timing.
    test::server s({}, {{"NOTIFY_SOCKET", manager.path()}, {"WATCHDOG_USEC", "200000"}});
    ASSERT_TRUE(manager.wait_for("READY=1").has_value());
    ASSERT_TRUE(manager.wait_for("WATCHDOG=1", 10s).has_value()) << s.log();
    ASSERT_TRUE(manager.wait_for("WATCHDOG=1", 10s).has_value()) << s.log();
    EXPECT_TRUE(s.wait_for_log("systemd watchdog: 200ms"));
    EXPECT_EQ(s.stop().code, 0);
}

TEST(SystemdNotify, WatchdogMeantForAnotherProcessIsIgnored) {
    notify_socket manager;
    test::server s(
        {},
        {{"NOTIFY_SOCKET", manager.path()}, {"WATCHDOG_USEC", "200000"}, {"WATCHDOG_PID", "1"}});
    ASSERT_TRUE(manager.wait_for("READY=1").has_value());
    s.signal(SIGTERM);
    ASSERT_TRUE(manager.wait_for("STOPPING=1").has_value());
    EXPECT_EQ(s.wait_exit(15s).code, 0);
    manager.drain();
    for (const auto& message : manager.received()) EXPECT_FALSE(has_line(message, "WATCHDOG=1"));
    EXPECT_EQ(s.log().find("systemd watchdog"), std::string::npos) << s.log();
}

// A manager that does not read its socket fills the socket's queue; sd_notify() would then block
// the event loop in sendmsg(). The daemon keeps serving and delivers once there is room.
TEST(SystemdNotify, ManagerThatDoesNotReadNeverStallsTheLoop) {
    notify_socket manager;
    // One thread: the loop that pings the watchdog also answers the requests. Pings every 5 ms.
    test::server s({"--threads", "1"},
                   {{"NOTIFY_SOCKET", manager.path()}, {"WATCHDOG_USEC", "10000"}});
    ASSERT_TRUE(manager.wait_for("READY=1").has_value());
    // Fill the manager's queue to the brim ourselves: from now on each ping finds no room.
    descriptor filler(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::copy(manager.path().begin(), manager.path().end(), addr.sun_path);
    ASSERT_EQ(connect(filler.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    int sent = 0;
    while (sent < 100'000 && send(filler.get(), "X=1", 3, MSG_DONTWAIT) == 3) ++sent;
    ASSERT_EQ(errno, EAGAIN);

    // Requests keep being answered while pings (one every 5 ms) find the queue full.
    auto full_since = test::clock::now();
    int answered = 0;
    EXPECT_TRUE(test::eventually(
        [&] {
            if (test::request(s.port(), "GET", "/healthz", "", {}, 2s).status == 200) ++answered;
            return answered >= 20 && test::clock::now() - full_since > 200ms;
        },
        30s));
    EXPECT_GE(answered, 20);

    // Once the manager reads again, the waiting ping arrives.
    auto drained = manager.drain();
    EXPECT_GE(drained, static_cast<std::size_t>(sent));
    ASSERT_TRUE(manager.wait_for("WATCHDOG=1", 10s).has_value()) << s.log();
    EXPECT_EQ(s.log().find("cannot notify"), std::string::npos) << s.log();
    EXPECT_EQ(s.stop().code, 0);
}

TEST(SystemdNotify, AbstractNotifySocketName) {
    // "@name" names a socket in the abstract namespace, as systemd's user managers may use.
    descriptor fd(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    auto name = "ssecast-test-" + std::to_string(getpid());
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::copy(name.begin(), name.end(), addr.sun_path + 1);
    auto size = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
    ASSERT_EQ(bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), size), 0);
    test::server s({}, {{"NOTIFY_SOCKET", "@" + name}});
    pollfd p{fd.get(), POLLIN, 0};
    ASSERT_EQ(poll(&p, 1, 20'000), 1);
    char buffer[512];
    auto n = recv(fd.get(), buffer, sizeof buffer, 0);
    ASSERT_GT(n, 0);
    EXPECT_TRUE(has_line(std::string(buffer, static_cast<std::size_t>(n)), "READY=1"));
    EXPECT_EQ(s.stop().code, 0);
}

// --- socket activation --------------------------------------------------------------------------

TEST(SystemdSocket, ServesOnThePassedSocketAndDoesNotBindListen) {
    auto passed = tcp_socket(true);
    // --listen names a port that is taken: binding it would fail, so serving proves it was not.
    auto taken = tcp_socket(true);
    test::launch_options launch;
    launch.listen_fds = {passed.get()};
    test::server s({"--listen", "127.0.0.1:" + std::to_string(port_of(taken))}, {}, launch);
    EXPECT_EQ(s.port(), port_of(passed));
    EXPECT_NE(s.log().find("listening on 127.0.0.1:" + std::to_string(port_of(passed)) +
                           " (socket from systemd)"),
              std::string::npos)
        << s.log();

    EXPECT_EQ(test::request(s.port(), "GET", "/healthz").status, 200);
    test::sse_client sub(s.port(), "/events?channel=activated");
    ASSERT_EQ(sub.status(), 200);
    EXPECT_EQ(test::publish(s.port(), R"({"channel":"activated","data":"hello"})").status, 200);
    ASSERT_TRUE(sub.wait_events(1));
    EXPECT_EQ(sub.events()[0].data, "hello");
    EXPECT_EQ(s.stop().code, 0);
}

TEST(SystemdSocket, SocketsForAnotherProcessAreIgnored) {
    // LISTEN_PID names someone else: the variables were inherited, not meant for this process.
    test::server s({}, {{"LISTEN_FDS", "1"}, {"LISTEN_PID", "1"}});
    EXPECT_EQ(s.log().find("socket from systemd"), std::string::npos) << s.log();
    EXPECT_EQ(test::request(s.port(), "GET", "/healthz").status, 200);
}

TEST(SystemdSocket, MoreThanOneSocketIsRefused) {
    auto a = tcp_socket(true);
    auto b = tcp_socket(true);
    test::launch_options launch;
    launch.listen_fds = {a.get(), b.get()};
    auto r = run_launched({"--listen", "127.0.0.1:0"}, launch);
    EXPECT_TRUE(r.status.exited);
    EXPECT_EQ(r.status.code, 1) << r.err;
    EXPECT_NE(r.err.find("cannot use the socket passed by systemd: systemd passed 2 sockets"),
              std::string::npos)
        << r.err;
    EXPECT_EQ(r.err.find("listening on"), std::string::npos) << r.err;
}

TEST(SystemdSocket, SocketThatIsNotListeningTcpIsRefused) {
    descriptor unix_listener(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    auto name = "ssecast-test-stream-" + std::to_string(getpid());
    std::copy(name.begin(), name.end(), addr.sun_path + 1);
    ASSERT_EQ(bind(unix_listener.get(), reinterpret_cast<sockaddr*>(&addr),
                   static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size())),
              0);
    ASSERT_EQ(listen(unix_listener.get(), 8), 0);
    auto not_listening = tcp_socket(false);
    auto udp = tcp_socket(false, SOCK_DGRAM);
    int pipe_fds[2];
    ASSERT_EQ(pipe2(pipe_fds, O_CLOEXEC), 0);
    descriptor pipe_read(pipe_fds[0]);
    descriptor pipe_write(pipe_fds[1]);

    for (int fd : {not_listening.get(), udp.get(), unix_listener.get(), pipe_read.get()}) {
        test::launch_options launch;
        launch.listen_fds = {fd};
        auto r = run_launched({"--listen", "127.0.0.1:0"}, launch);
        EXPECT_EQ(r.status.code, 1) << r.err;
        EXPECT_NE(r.err.find("cannot use the socket passed by systemd: it is not a listening TCP "
                             "socket"),
                  std::string::npos)
            << r.err;
    }
}

}  // namespace
