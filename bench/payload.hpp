// The event payload: "SEQ SENDNS " then 'x' padding up to the requested size. SEQ numbers the
// published events of a run from 0; SENDNS is the publisher's CLOCK_MONOTONIC reading (ns) taken
// just before the request is written. Only ASCII digits, spaces and 'x', so it needs no escaping in
// JSON and is one SSE data line.
#pragma once

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace bench {

// Longest header: two 20-digit numbers and two spaces.
constexpr std::size_t payload_header_max = 42;

// Writes the payload into out (room for max(size, payload_header_max) bytes); returns its length.
inline std::size_t write_payload(char* out, std::size_t size, std::uint64_t seq, std::int64_t send_ns) {
    char* p = out;
    p = std::to_chars(p, out + payload_header_max, seq).ptr;
    *p++ = ' ';
    p = std::to_chars(p, out + payload_header_max, send_ns).ptr;
    *p++ = ' ';
    auto used = static_cast<std::size_t>(p - out);
    if (used < size) {
        std::memset(p, 'x', size - used);
        used = size;
    }
    return used;
}

// Parses the start of a data value; false when it is not one of our payloads.
inline bool read_payload(const char* p, std::size_t n, std::uint64_t& seq, std::int64_t& send_ns) {
    const char* end = p + n;
    auto r = std::from_chars(p, end, seq);
    if (r.ec != std::errc{} || r.ptr == end || *r.ptr != ' ') return false;
    auto r2 = std::from_chars(r.ptr + 1, end, send_ns);
    return r2.ec == std::errc{} && r2.ptr != r.ptr + 1;
}

}  // namespace bench
