#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace ssecast {

// One serialized piece of an event stream. Built once per event and shared, immutable, by every
// subscriber queue that sends it.
using frame = std::shared_ptr<const std::string>;

struct sse_event {
    std::string_view id;    // empty: no "id:" field (the client keeps its last event id)
    std::string_view type;  // empty: no "event:" field (the browser dispatches "message")
    std::string_view data;  // split on CRLF, CR and LF into one "data:" line each
    std::optional<std::uint32_t> retry_ms;
};

// Precondition: id and type contain no CR, LF or NUL (validation guarantees it); data may contain
// anything, line breaks never escape their "data:" line.
std::string encode_event(const sse_event& event);
frame make_event_frame(const sse_event& event);

// "retry: N" on its own: tells the client how long to wait before reconnecting.
frame make_retry_frame(std::chrono::milliseconds delay);

// The event that ends a stream whose token expired: type token-expired, data {"exp":UNIX_SECONDS},
// no id (the client resumes from the last event it got, with a fresh token).
frame make_token_expired_frame(std::int64_t exp_seconds);

// The comment sent as a heartbeat; shared by every stream.
const frame& heartbeat_frame();

}  // namespace ssecast
