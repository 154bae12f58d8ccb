#pragma once

#include <optional>

#include "ssecast/auth/auth_result.hpp"
#include "ssecast/http/bearer_token.hpp"

namespace ssecast {

class credential_checker;

// The credential of one request: the bearer token it presents, found once, and verified the
// first time an access rule or a handler asks (a request that needs none costs no verification).
class request_credentials {
  public:
    request_credentials(bearer_token token, credential_checker& checker)
        : token_(std::move(token)), checker_(checker) {}

    const bearer_token& token() const { return token_; }
    // The verification of the presented token; nullptr when none is presented (or the
    // presentation itself is malformed: see token().problem).
    const auth_result* verified();

  private:
    bearer_token token_;
    credential_checker& checker_;
    std::optional<auth_result> result_;
};

}  // namespace ssecast
