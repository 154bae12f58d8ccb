// The coordinator and each subscriber process talk over a pair of pipes, one line per message:
// commands go down as text ("start", "drain EXPECTED DEADLINE_NS", "storm ...", "report", "quit"),
// answers come up as one JSON object per line.
#pragma once

#include <unistd.h>

#include <cerrno>
#include <optional>
#include <stdexcept>
#include <string>

namespace bench {

class line_pipe {
public:
    line_pipe() = default;
    line_pipe(int read_fd, int write_fd) : in_(read_fd), out_(write_fd) {}

    void send(const std::string& line) const {
        std::string data = line + "\n";
        const char* p = data.data();
        std::size_t left = data.size();
        while (left > 0) {
            auto n = ::write(out_, p, left);
            if (n < 0) {
                if (errno == EINTR) continue;
                throw std::runtime_error("control pipe write failed");
            }
            p += n;
            left -= static_cast<std::size_t>(n);
        }
    }

    // Blocks for the next line; nullopt at end of file (the other side is gone).
    std::optional<std::string> receive() {
        for (;;) {
            auto nl = buffer_.find('\n');
            if (nl != std::string::npos) {
                std::string line = buffer_.substr(0, nl);
                buffer_.erase(0, nl + 1);
                return line;
            }
            char chunk[65536];
            auto n = ::read(in_, chunk, sizeof chunk);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return std::nullopt;
            buffer_.append(chunk, static_cast<std::size_t>(n));
        }
    }

    void close() {
        if (in_ >= 0) ::close(in_);
        if (out_ >= 0) ::close(out_);
        in_ = out_ = -1;
    }

private:
    int in_ = -1;
    int out_ = -1;
    std::string buffer_;
};

}  // namespace bench
