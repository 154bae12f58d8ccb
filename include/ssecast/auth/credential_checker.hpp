#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "ssecast/auth/auth_result.hpp"
#include "ssecast/auth/authenticator.hpp"
#include "ssecast/auth/token_cache.hpp"

namespace ssecast {

// One event-loop thread's view of an authenticator: checks presented bearer tokens against the
// current credential set, with a cache of verified JWTs. Not thread-safe, on purpose: make one
// per event-loop thread. The authenticator must outlive it.
class credential_checker {
  public:
    explicit credential_checker(const authenticator& source,
                                std::size_t cache_capacity = default_token_cache_capacity);

    // A token with exactly two '.' is checked as a JWT, anything else as a static API key.
    auth_result check(std::string_view bearer_token, std::chrono::system_clock::time_point now);

    // Of the current set (not const: they pick up a reload first); see credential_set.
    bool configured();
    bool accepts_jwt();

    // For tests (hits and misses: a miss is a full verification). Its thread only.
    const token_cache& cache() const { return cache_; }
    // The cache's size, readable from any thread (for metrics).
    std::size_t cached() const { return cached_.load(std::memory_order_relaxed); }

  private:
    const credential_set& refresh();
    auth_result check_jwt(const jwt_verifier& verifier, std::string_view token,
                          std::chrono::system_clock::time_point now);

    const authenticator& source_;
    authenticator::snapshot current_;
    token_cache cache_;
    std::atomic<std::size_t> cached_{0};
};

}  // namespace ssecast
