#pragma once

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ssecast/core/event.hpp"

namespace ssecast {

// Upper bound for the "retry" field of a published event (one day), so no client is told to wait
// for ever.
inline constexpr std::uint32_t max_retry_ms = 86'400'000;
// Upper bound for the events in one batch.
inline constexpr std::size_t max_batch_events = 1000;

struct invalid_request {
    std::string error;
};

struct publish_batch {
    std::vector<new_event> events;
    bool is_array = false;  // the body was an array: the answer is an array too
};

// Parses and validates a POST /notify body: one event object, or an array of them (a batch).
// Any bad element rejects the whole batch, naming its index.
std::variant<publish_batch, invalid_request> parse_publish_request(std::string_view body);

}  // namespace ssecast
