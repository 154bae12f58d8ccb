#pragma once

#include "ssecast/sse_frame.hpp"

namespace ssecast {

// Where a broker hands the events of a subscription: an event stream to one client.
class subscriber {
  public:
    // Queues `f` for sending. Called with the broker's lock held, so it must be quick and must not
    // call back into the broker. Returns false if the frame was not queued (the subscriber is
    // closing, or it just overflowed its queue and is being disconnected).
    virtual bool deliver(const frame& f) = 0;

  protected:
    ~subscriber() = default;
};

}  // namespace ssecast
