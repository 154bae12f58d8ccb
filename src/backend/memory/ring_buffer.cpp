#include "ssecast/backend/memory/ring_buffer.hpp"

#include <algorithm>
#include <utility>

namespace ssecast {

ring_buffer::ring_buffer(std::size_t capacity) : capacity_(capacity) {}

void ring_buffer::push(stored_event event) {
    if (capacity_ == 0) {
        max_evicted_seq_ = event.seq;
        return;
    }
    if (count_ == capacity_) pop_oldest();
    if (count_ == slots_.size()) grow();
    slots_[(head_ + count_) % slots_.size()] = std::move(event);
    ++count_;
}

std::size_t ring_buffer::evict_published_before(std::chrono::steady_clock::time_point cutoff) {
    std::size_t evicted = 0;
    while (count_ > 0 && oldest().published < cutoff) {
        pop_oldest();
        ++evicted;
    }
    return evicted;
}

std::size_t ring_buffer::first_after(std::uint64_t seq) const {
    std::size_t lo = 0;
    std::size_t hi = count_;
    while (lo < hi) {
        auto mid = lo + (hi - lo) / 2;
        if (at(mid).seq <= seq) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

void ring_buffer::pop_oldest() {
    auto& slot = slots_[head_];
    max_evicted_seq_ = slot.seq;
    slot.data.reset();
    head_ = (head_ + 1) % slots_.size();
    --count_;
}

void ring_buffer::grow() {
    auto new_size = std::min(capacity_, std::max<std::size_t>(8, slots_.size() * 2));
    std::vector<stored_event> bigger(new_size);
    for (std::size_t i = 0; i < count_; ++i)
        bigger[i] = std::move(slots_[(head_ + i) % slots_.size()]);
    slots_ = std::move(bigger);
    head_ = 0;
}

}  // namespace ssecast
