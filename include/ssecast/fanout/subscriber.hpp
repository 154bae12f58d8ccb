#pragma once

#include <chrono>

#include "ssecast/sse/sse_frame.hpp"

namespace ssecast {

// Where the hub hands the events of a subscription: an event stream to one client.
class subscriber {
  public:
    // Queues `f` for sending. Called on the subscriber's own thread, possibly with the hub's lock
    // held, so it must be quick and must not call back into the hub. A subscriber that cannot
    // take more (it is closing, or just overflowed its queue) drops the frame.
    // `published`: when the backend took the event, for measuring how long it took to go out.
    virtual void deliver(const frame& f, std::chrono::steady_clock::time_point published) = 0;
    // Called after a run of deliver() calls: send what was queued.
    virtual void flush() = 0;

  protected:
    ~subscriber() = default;
};

}  // namespace ssecast
