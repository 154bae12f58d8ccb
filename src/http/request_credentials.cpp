#include "ssecast/http/request_credentials.hpp"

#include <chrono>

#include "ssecast/auth/credential_checker.hpp"

namespace ssecast {

const auth_result* request_credentials::verified() {
    if (!token_.presented() || token_.problem) return nullptr;
    if (!result_) result_ = checker_.check(token_.token, std::chrono::system_clock::now());
    return &*result_;
}

}  // namespace ssecast
