#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "ssecast/sse/sse_frame.hpp"

namespace ssecast {

struct stored_event {
    std::uint64_t seq = 0;
    std::chrono::steady_clock::time_point published;
    frame data;
};

// A channel's recent events, oldest first, at most `capacity` of them. Sequence numbers are
// strictly increasing, so finding where a resume point falls is a binary search. Storage grows
// with use up to the capacity, so a quiet channel does not pay for a full ring.
class ring_buffer {
  public:
    explicit ring_buffer(std::size_t capacity);

    // Appends; when full, the oldest event is evicted first. Precondition: seq above every stored.
    void push(stored_event event);

    // Evicts events published before `cutoff`; returns how many.
    std::size_t evict_published_before(std::chrono::steady_clock::time_point cutoff);

    std::size_t size() const { return count_; }
    std::size_t capacity() const { return capacity_; }
    bool empty() const { return count_ == 0; }

    // i-th oldest retained event, 0 <= i < size().
    const stored_event& at(std::size_t i) const { return slots_[(head_ + i) % slots_.size()]; }
    const stored_event& oldest() const { return at(0); }
    const stored_event& newest() const { return at(count_ - 1); }

    // Index of the first retained event with seq > `seq` (size() if none).
    std::size_t first_after(std::uint64_t seq) const;

    // Highest seq this ring ever evicted (0 if none): a client resuming after X missed events
    // exactly when this is above X.
    std::uint64_t max_evicted_seq() const { return max_evicted_seq_; }

  private:
    void pop_oldest();
    void grow();

    std::vector<stored_event> slots_;
    std::size_t capacity_;
    std::size_t head_ = 0;
    std::size_t count_ = 0;
    std::uint64_t max_evicted_seq_ = 0;
};

}  // namespace ssecast
