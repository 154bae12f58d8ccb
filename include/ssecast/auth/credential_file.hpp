#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <variant>

#include "ssecast/auth/load_error.hpp"

namespace ssecast {

// Credential files are small: anything bigger is a mistake (a wrong path), not a key file.
inline constexpr std::size_t max_credential_file_size = 1024 * 1024;

// Whether a file may be readable by every user: a secret may not (any local account could read
// it), a public key may.
enum class world_readable { refused, allowed };

// Reads a whole credential file: it must be a regular file (a FIFO or device is refused without
// blocking on it), readable, at most max_credential_file_size bytes and, for secrets, not
// readable by others (then the message says how to fix it).
std::variant<std::string, load_error> read_credential_file(const std::string& path,
                                                           world_readable rule);

// Reads a credential file and hands its content to T::parse(content, path).
template <typename T>
std::variant<T, load_error> load_credential_file(const std::string& path, world_readable rule) {
    auto content = read_credential_file(path, rule);
    if (auto* error = std::get_if<load_error>(&content)) return std::move(*error);
    return T::parse(std::get<std::string>(content), path);
}

}  // namespace ssecast
