#pragma once

#include <string>

namespace ssecast {

// Why a credential file (API keys, JWT secret, JWT public key) could not be used. The message
// names the file, and never contains a secret read from it.
struct load_error {
    std::string message;
};

}  // namespace ssecast
