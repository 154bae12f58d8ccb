#pragma once

#include <cstdint>
#include <string>

namespace ssecast {

// Told what the in-memory history forgets, so that a copy of it elsewhere (backend/durable)
// forgets the same: one eviction rule, the rings'.
class history_observer {
  public:
    // The channel no longer holds events with seq <= up_to.
    virtual void evicted(const std::string& channel, std::uint64_t up_to) = 0;
    // The channel is gone; channels created later start from `floor` (see channel_registry).
    virtual void dropped(const std::string& channel, std::uint64_t floor) = 0;

  protected:
    ~history_observer() = default;
};

}  // namespace ssecast
