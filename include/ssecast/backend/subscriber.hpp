#pragma once

#include <chrono>

#include "ssecast/sse/sse_frame.hpp"

namespace ssecast {

// Where a broker hands the events of a subscription: an event stream to one client.
class subscriber {
  public:
    // Queues `f` for sending. Called on the subscriber's own thread, possibly with the broker's
    // lock held, so it must be quick and must not call back into the broker. A subscriber that
    // cannot take more (it is closing, or just overflowed its queue) drops the frame.
    // `published`: when the broker took the event, for measuring how long it took to go out.
    virtual void deliver(const frame& f, std::chrono::steady_clock::time_point published) = 0;
    // Called after a run of deliver() calls: send what was queued.
    virtual void flush() = 0;

  protected:
    ~subscriber() = default;
};

}  // namespace ssecast
