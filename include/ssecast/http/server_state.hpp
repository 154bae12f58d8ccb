#pragma once

#include <chrono>
#include <cstddef>

#include "ssecast/metrics/metrics.hpp"

namespace ssecast {

// What the HTTP side may know of the running daemon, for health, readiness and metrics.
// Implemented by the daemon; safe to call from any worker.
class server_state {
  public:
    virtual bool shutting_down() const = 0;
    // SIGTERM arrived and --drain-delay runs: everything is served, but /readyz says not ready.
    virtual bool draining() const = 0;
    virtual std::size_t connections() const = 0;  // open client connections, streams included
    virtual std::size_t streams() const = 0;
    virtual std::chrono::steady_clock::duration uptime() const = 0;
    virtual std::chrono::system_clock::time_point start_time() const = 0;
    virtual worker_totals workers_total() const = 0;

  protected:
    ~server_state() = default;
};

}  // namespace ssecast
