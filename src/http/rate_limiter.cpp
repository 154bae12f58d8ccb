#include "ssecast/http/rate_limiter.hpp"

#include <algorithm>

namespace ssecast {

namespace {

// Buckets maintain() drops per call at most: about a millisecond under the lock.
constexpr std::size_t max_drops_per_pass = 10'000;

}  // namespace

rate_limiter::rate_limiter(std::size_t rate, std::size_t burst, std::size_t max_keys)
    : rate_(static_cast<double>(rate)),
      burst_(static_cast<double>(std::max<std::size_t>(burst, 1))),
      max_keys_(std::max<std::size_t>(max_keys, 1)) {}

double rate_limiter::level(const bucket& b, clock::time_point now) const {
    auto elapsed = std::max(0.0, std::chrono::duration<double>(now - b.updated).count());
    return std::min(burst_, b.tokens + elapsed * rate_);
}

rate_limiter::clock::duration rate_limiter::take(std::string_view key, clock::time_point now) {
    if (rate_ == 0) return clock::duration::zero();
    std::lock_guard lock(mutex_);
    auto it = buckets_.find(key);
    if (it == buckets_.end()) {
        if (buckets_.size() >= max_keys_) {
            buckets_.erase(buckets_.find(*lru_.front()));
            lru_.pop_front();
        }
        it = buckets_.emplace(std::string(key), bucket{burst_, now, {}}).first;
        it->second.use = lru_.insert(lru_.end(), &it->first);
    } else {
        lru_.splice(lru_.end(), lru_, it->second.use);
    }
    auto& b = it->second;
    b.tokens = level(b, now);
    b.updated = now;
    if (b.tokens >= 1) {
        b.tokens -= 1;
        return clock::duration::zero();
    }
    refused_.fetch_add(1, std::memory_order_relaxed);
    return std::chrono::duration_cast<clock::duration>(
        std::chrono::duration<double>((1 - b.tokens) / rate_));
}

void rate_limiter::maintain(clock::time_point now) {
    std::lock_guard lock(mutex_);
    // Least recently used first, which is also least recently updated: the first bucket that has
    // not refilled ends the pass (any full ones after it go in a later pass, or by eviction).
    for (std::size_t dropped = 0; !lru_.empty() && dropped < max_drops_per_pass; ++dropped) {
        auto it = buckets_.find(*lru_.front());
        if (level(it->second, now) < burst_) break;
        buckets_.erase(it);
        lru_.pop_front();
    }
}

std::size_t rate_limiter::size() const {
    std::lock_guard lock(mutex_);
    return buckets_.size();
}

}  // namespace ssecast
