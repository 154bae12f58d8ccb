#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ssecast {

// An event id is "EPOCH-SEQ": EPOCH identifies one run of the daemon (its start time in
// milliseconds), SEQ counts events daemon-wide from 1. Digits and '-' only, so browsers never need
// a CORS preflight to send it back as Last-Event-ID, and one id orders events across all channels.
struct event_id {
    std::uint64_t epoch = 0;
    std::uint64_t seq = 0;

    friend bool operator==(const event_id&, const event_id&) = default;
};

std::string to_string(const event_id& id);

// Returns nothing for anything that is not exactly two decimal numbers joined by '-'.
std::optional<event_id> parse_event_id(std::string_view text);

}  // namespace ssecast
