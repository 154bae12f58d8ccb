#pragma once

// Starts the real ssecast binary for a test and stops it: a free loopback port, the log in a file,
// and bounded waits for everything.

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#ifndef SSECAST_BINARY
#error "SSECAST_BINARY must name the ssecast executable"
#endif

namespace test {

using namespace std::chrono_literals;
using clock = std::chrono::steady_clock;

// The daemon under test: the one built with the tests, or SSECAST_TEST_BINARY (another build of
// it, e.g. with ThreadSanitizer, run by the same tests).
inline std::string daemon_binary() {
    const char* other = std::getenv("SSECAST_TEST_BINARY");
    return other != nullptr && *other != '\0' ? other : SSECAST_BINARY;
}

// Polls `condition` every few milliseconds until it holds or `timeout` passes. The sleep is the
// polling interval, not a synchronisation guess: the result is the condition itself.
template <typename F>
bool eventually(F&& condition, std::chrono::milliseconds timeout = 10s) {
    auto deadline = clock::now() + timeout;
    while (true) {
        if (condition()) return true;
        if (clock::now() >= deadline) return false;
        std::this_thread::sleep_for(5ms);
    }
}

inline void raise_fd_limit() {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
    }
}

inline std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

inline std::filesystem::path make_temp_dir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "ssecast-test-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    return pattern;
}

inline std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

// The lines of `text` (a daemon's log) that contain `needle`.
inline std::vector<std::string> lines_with(const std::string& text, const std::string& needle) {
    std::vector<std::string> out;
    for (auto& line : split_lines(text)) {
        if (line.find(needle) != std::string::npos) out.push_back(std::move(line));
    }
    return out;
}

struct exit_status {
    bool exited = false;  // false: still running at the deadline (then killed)
    int code = -1;        // exit code, or 128 + signal
};

// What the child gets beyond arguments and environment, set up between fork and exec as systemd
// does it.
struct launch_options {
    // Become descriptors 3, 4, ... of the child, announced with LISTEN_FDS and LISTEN_PID (the
    // child's own pid): socket activation.
    std::vector<int> listen_fds;
    // JOURNAL_STREAM names the stderr file ("DEVICE:INODE"), as when stderr is the journal.
    bool journal_stream = false;
};

class process {
  public:
    process(std::vector<std::string> args, const std::map<std::string, std::string>& env,
            const std::filesystem::path& out_file, const std::filesystem::path& err_file,
            const launch_options& launch = {}) {
        pid_ = fork();
        if (pid_ < 0) throw std::runtime_error("fork failed");
        if (pid_ == 0) {
            int out = open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            int err = open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            int null = open("/dev/null", O_RDONLY);
            dup2(null, 0);
            dup2(out, 1);
            dup2(err, 2);
            for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
            if (launch.journal_stream) {
                struct stat st {};
                fstat(2, &st);
                auto stream = std::to_string(static_cast<std::uint64_t>(st.st_dev)) + ":" +
                              std::to_string(static_cast<std::uint64_t>(st.st_ino));
                setenv("JOURNAL_STREAM", stream.c_str(), 1);
            }
            if (!launch.listen_fds.empty()) {
                // Out of the way first, so that moving one to 3 + i never overwrites another.
                std::vector<int> high;
                for (int fd : launch.listen_fds) high.push_back(fcntl(fd, F_DUPFD_CLOEXEC, 100));
                for (std::size_t i = 0; i < high.size(); ++i) {
                    dup2(high[i], 3 + static_cast<int>(i));
                    close(high[i]);
                }
                setenv("LISTEN_FDS", std::to_string(high.size()).c_str(), 1);
                setenv("LISTEN_PID", std::to_string(getpid()).c_str(), 1);
            }
            std::vector<char*> argv;
            for (auto& a : args) argv.push_back(a.data());
            argv.push_back(nullptr);
            execv(argv[0], argv.data());
            _exit(127);
        }
    }
    process(const process&) = delete;
    process& operator=(const process&) = delete;
    ~process() {
        if (!reaped_) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
    }

    pid_t pid() const { return pid_; }
    void signal(int signo) const { kill(pid_, signo); }

    exit_status wait(std::chrono::milliseconds timeout) {
        if (reaped_) return status_;
        int raw = 0;
        bool done = eventually([&] { return waitpid(pid_, &raw, WNOHANG) == pid_; }, timeout);
        if (!done) {
            kill(pid_, SIGKILL);
            waitpid(pid_, &raw, 0);
            reaped_ = true;
            status_ = {false, -1};
            return status_;
        }
        reaped_ = true;
        status_ = {true, WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw)};
        return status_;
    }
    bool running() {
        if (reaped_) return false;
        int raw = 0;
        if (waitpid(pid_, &raw, WNOHANG) == pid_) {
            reaped_ = true;
            status_ = {true, WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw)};
            return false;
        }
        return true;
    }

  private:
    pid_t pid_ = -1;
    bool reaped_ = false;
    exit_status status_;
};

// Runs ssecast to completion (for --help, --version and configuration errors).
struct run_result {
    exit_status status;
    std::string out;
    std::string err;
};

inline run_result run_ssecast(std::vector<std::string> args,
                              const std::map<std::string, std::string>& env = {},
                              std::chrono::milliseconds timeout = 10s) {
    auto dir = make_temp_dir();
    args.insert(args.begin(), daemon_binary());
    run_result result;
    {
        process p(args, env, dir / "out", dir / "err");
        result.status = p.wait(timeout);
    }
    result.out = read_file(dir / "out");
    result.err = read_file(dir / "err");
    std::filesystem::remove_all(dir);
    return result;
}

// The port in the startup line "... listening on ADDRESS:PORT ...", 0 if not there yet.
inline std::uint16_t listening_port(const std::string& log) {
    auto at = log.find("listening on ");
    if (at == std::string::npos) return 0;
    auto end = log.find(' ', at + 13);
    if (end == std::string::npos) return 0;
    auto colon = log.rfind(':', end);
    if (colon == std::string::npos || colon < at) return 0;
    return static_cast<std::uint16_t>(std::stoi(log.substr(colon + 1, end - colon - 1)));
}

// A running daemon on a free loopback port (unless the test gives --listen itself).
class server {
  public:
    explicit server(std::vector<std::string> args = {},
                    const std::map<std::string, std::string>& env = {},
                    const launch_options& launch = {})
        : dir_(make_temp_dir()) {
        raise_fd_limit();
        bool has_listen = false;
        for (const auto& a : args) has_listen = has_listen || a.rfind("--listen", 0) == 0;
        if (!has_listen) {
            args.insert(args.begin(), "127.0.0.1:0");
            args.insert(args.begin(), "--listen");
        }
        args.insert(args.begin(), daemon_binary());
        proc_ =
            std::make_unique<process>(args, env, dir_ / "stdout.log", dir_ / "stderr.log", launch);
        bool up = eventually(
            [&] {
                port_ = listening_port(log());
                return port_ != 0 || !proc_->running();
            },
            20s);
        if (!up || port_ == 0) {
            throw std::runtime_error("ssecast did not start listening; log:\n" + log());
        }
    }
    server(const server&) = delete;
    server& operator=(const server&) = delete;
    ~server() {
        proc_.reset();
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
    }

    std::uint16_t port() const { return port_; }
    pid_t pid() const { return proc_->pid(); }
    std::string log() const { return read_file(dir_ / "stderr.log"); }
    bool wait_for_log(const std::string& needle, std::chrono::milliseconds timeout = 10s) const {
        return eventually([&] { return log().find(needle) != std::string::npos; }, timeout);
    }
    void signal(int signo) const { proc_->signal(signo); }
    bool running() { return proc_->running(); }
    // SIGTERM, then waits for the exit.
    exit_status stop(std::chrono::milliseconds timeout = 15s) {
        proc_->signal(SIGTERM);
        return proc_->wait(timeout);
    }
    exit_status wait_exit(std::chrono::milliseconds timeout) { return proc_->wait(timeout); }
    const std::filesystem::path& dir() const { return dir_; }

  private:
    std::filesystem::path dir_;
    std::unique_ptr<process> proc_;
    std::uint16_t port_ = 0;
};

}  // namespace test
