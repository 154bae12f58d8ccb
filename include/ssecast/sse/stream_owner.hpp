#pragma once

#include <cstddef>

namespace ssecast {

class broker;
class event_stream;
class send_scheduler;
struct config;
struct server_counters;
struct worker_metrics;

// What an event stream needs of the event loop that owns it (a worker): the broker it subscribes
// to, the settings, its loop's send scheduler and metrics, and the set of streams it belongs to
// (for heartbeats, sweeps and shutdown). All of it is used on that loop's thread only.
class stream_owner {
  public:
    virtual broker& store() = 0;
    virtual const config& settings() const = 0;
    virtual send_scheduler& sends() = 0;
    virtual worker_metrics& metrics() = 0;
    virtual server_counters& counters() = 0;
    // The broker's shard this loop is: where the stream's live events are handed over.
    virtual std::size_t shard() const = 0;
    virtual void add(event_stream& stream) = 0;
    virtual void remove(event_stream& stream) = 0;

  protected:
    ~stream_owner() = default;
};

}  // namespace ssecast
