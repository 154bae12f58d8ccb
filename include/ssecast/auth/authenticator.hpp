#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "ssecast/auth/credential_set.hpp"

namespace ssecast {

// Holds the daemon's current credential_set and replaces it as a whole on reload. Several
// event-loop threads read it, each through its own credential_checker; one thread reloads.
//
// Each set gets a generation number. A checker keeps its own copy of the set and, per request,
// only compares its generation with the atomic current one: the mutex is taken (to copy the
// shared_ptr) only after a reload, so the usual path takes no lock.
class authenticator {
  public:
    // Accepts nothing until the first successful reload().
    authenticator();
    authenticator(const authenticator&) = delete;
    authenticator& operator=(const authenticator&) = delete;

    // Loads a new set from the files and swaps it in if everything loaded. On failure the
    // current set stays, and the message says what is wrong.
    std::optional<std::string> reload(const credential_sources& sources);

    // Of the current set; see credential_set.
    bool configured() const;
    bool accepts_jwt() const;

  private:
    friend class credential_checker;

    struct snapshot {
        std::shared_ptr<const credential_set> set;
        std::uint64_t generation = 0;
    };

    snapshot current() const;
    std::uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

    mutable std::mutex mutex_;
    snapshot current_;  // guarded by mutex_
    std::atomic<std::uint64_t> generation_{0};
};

}  // namespace ssecast
