#include "ssecast/auth/credential_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <system_error>

namespace ssecast {

namespace {

std::string system_error_text(int error) {
    return std::error_code(error, std::generic_category()).message();
}

load_error too_large(const std::string& path) {
    return load_error{path + " is larger than " + std::to_string(max_credential_file_size / 1024) +
                      " KiB"};
}

std::string octal_mode(mode_t mode) {
    char text[8];
    std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
    return text;
}

// Closes the descriptor on every return path.
class file_descriptor {
  public:
    explicit file_descriptor(int fd) : fd_(fd) {}
    file_descriptor(const file_descriptor&) = delete;
    file_descriptor& operator=(const file_descriptor&) = delete;
    ~file_descriptor() {
        if (fd_ >= 0) ::close(fd_);
    }
    int get() const { return fd_; }

  private:
    int fd_;
};

}  // namespace

std::variant<std::string, load_error> read_credential_file(const std::string& path,
                                                           world_readable rule) {
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer. The checks are made
    // on the open descriptor, so the file read is the file checked.
    const file_descriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
    if (fd.get() < 0) return load_error{path + ": " + system_error_text(errno)};
    struct stat info {};
    if (::fstat(fd.get(), &info) != 0) return load_error{path + ": " + system_error_text(errno)};
    if (!S_ISREG(info.st_mode)) return load_error{path + " is not a regular file"};
    if (rule == world_readable::refused && (info.st_mode & S_IROTH) != 0) {
        return load_error{path + " is readable by every user (mode " + octal_mode(info.st_mode) +
                          "): chmod o-r " + path};
    }
    if (static_cast<std::size_t>(info.st_size) > max_credential_file_size) {
        return too_large(path);
    }

    // Read until end of file rather than trusting st_size: the file may change meanwhile.
    std::string content;
    char buffer[16 * 1024];
    for (;;) {
        const ssize_t got = ::read(fd.get(), buffer, sizeof buffer);
        if (got < 0) {
            if (errno == EINTR) continue;
            return load_error{path + ": " + system_error_text(errno)};
        }
        if (got == 0) break;
        content.append(buffer, static_cast<std::size_t>(got));
        if (content.size() > max_credential_file_size) return too_large(path);
    }
    return content;
}

}  // namespace ssecast
