#pragma once

#include <atomic>
#include <cstdint>

namespace ssecast {

// What the connections, requests and streams did since the start (the broker counts its own);
// updated from every worker with relaxed atomics.
struct server_counters {
    std::atomic<std::uint64_t> connections_accepted{0};
    std::atomic<std::uint64_t> connections_refused{0};  // over --max-connections
    std::atomic<std::uint64_t> requests_rejected{0};    // answered 4xx/5xx
    std::atomic<std::uint64_t> slow_consumer_disconnects{0};
    std::atomic<std::uint64_t> streams_started{0};
};

}  // namespace ssecast
