#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace ssecast {

// The labels of ssecast_auth_failures_total.
enum class auth_endpoint { publish, subscribe, admin };
enum class auth_refusal { missing, invalid, expired, forbidden };
inline constexpr std::array<const char*, 3> auth_endpoint_names = {"publish", "subscribe", "admin"};
inline constexpr std::array<const char*, 4> auth_refusal_names = {"missing", "invalid", "expired",
                                                                  "forbidden"};

// What the connections, requests and streams did since the start (the broker counts its own);
// updated from every worker with relaxed atomics.
struct server_counters {
    std::atomic<std::uint64_t> connections_accepted{0};
    std::atomic<std::uint64_t> connections_refused{0};  // over --max-connections
    std::atomic<std::uint64_t> requests_rejected{0};    // answered 4xx/5xx
    std::atomic<std::uint64_t> slow_consumer_disconnects{0};
    std::atomic<std::uint64_t> streams_started{0};
    // Requests refused for their credential, by endpoint and reason.
    std::array<std::array<std::atomic<std::uint64_t>, 4>, 3> auth_failures{};

    void count_auth_failure(auth_endpoint endpoint, auth_refusal reason) {
        auth_failures[static_cast<std::size_t>(endpoint)][static_cast<std::size_t>(reason)]
            .fetch_add(1, std::memory_order_relaxed);
    }
};

}  // namespace ssecast
