#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace ssecast {

// Token buckets, one per key, shared by every worker: each refills at `rate` tokens a second up
// to `burst`, and a request takes one. A full bucket is the same as none, so only buckets that
// are not full are kept (dropped by maintain()), and at most `max_keys` of them: past that the
// least recently used one is forgotten (its key starts again with a full bucket). One short
// lock per request.
class rate_limiter {
  public:
    using clock = std::chrono::steady_clock;

    static constexpr std::size_t default_max_keys = 100'000;

    // `rate`: tokens a second, 0 for no limit (take() always succeeds, nothing is kept).
    rate_limiter(std::size_t rate, std::size_t burst, std::size_t max_keys = default_max_keys);

    // Takes a token from the bucket of `key`: zero when there was one, else how long until there
    // is (nothing is taken then).
    clock::duration take(std::string_view key, clock::time_point now);
    // Forgets buckets that have refilled, oldest first, at most a bounded number per call so that
    // the lock is never held long.
    void maintain(clock::time_point now);
    // Buckets kept.
    std::size_t size() const;
    // Requests refused since the start.
    std::uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }

  private:
    struct bucket {
        double tokens = 0;
        clock::time_point updated;
        std::list<const std::string*>::iterator use;  // its place in lru_
    };
    // Lookups by string_view, without making a string per request.
    struct key_hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view key) const noexcept {
            return std::hash<std::string_view>{}(key);
        }
    };
    // The tokens `b` has at `now`.
    double level(const bucket& b, clock::time_point now) const;

    double rate_;
    double burst_;
    std::size_t max_keys_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, bucket, key_hash, std::equal_to<>> buckets_;
    std::list<const std::string*> lru_;  // the keys of buckets_, least recently used first
    std::atomic<std::uint64_t> refused_{0};
};

}  // namespace ssecast
