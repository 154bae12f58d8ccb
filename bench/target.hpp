// What the two servers under test expect on the wire.
//
//   ssecast: GET /events?channel=C            POST /notify  {"channel":"C","data":"PAYLOAD"}
//            answer {"delivered":N,"id":"EPOCH-SEQ"}
//   nchan:   GET /sub/C (Accept: text/event-stream)   POST /pub/C  with the raw payload
//            answer (Accept: text/json) {"messages":..,"subscribers":N,"last_message_id":"T:I"}
//
// Publish requests are prebuilt per channel as head + payload + tail, so sending an event is two
// memcpy and writing the payload in place: the payload has a fixed size, so Content-Length does too.
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace bench {

enum class target_kind { ssecast, nchan };

inline target_kind parse_target(const std::string& name) {
    if (name == "ssecast") return target_kind::ssecast;
    if (name == "nchan") return target_kind::nchan;
    throw std::invalid_argument("unknown target " + name);
}

inline const char* target_name(target_kind t) { return t == target_kind::ssecast ? "ssecast" : "nchan"; }

inline std::string channel_name(const std::string& prefix, std::uint32_t index) {
    return prefix + std::to_string(index);
}

inline std::string subscribe_request(target_kind t, const std::string& host_header,
                                     const std::string& channel, std::string_view last_event_id) {
    std::string req = "GET ";
    req += t == target_kind::ssecast ? "/events?channel=" + channel : "/sub/" + channel;
    req += " HTTP/1.1\r\nHost: " + host_header + "\r\nAccept: text/event-stream\r\n";
    if (!last_event_id.empty()) {
        req += "Last-Event-ID: ";
        req += last_event_id;
        req += "\r\n";
    }
    req += "\r\n";
    return req;
}

// One channel's publish request with a hole of payload_size bytes between head and tail.
struct publish_template {
    std::string head;
    std::string tail;
};

// `extra_headers`: complete lines each ending in CRLF (e.g. an Authorization header), or empty.
inline publish_template publish_request(target_kind t, const std::string& host_header,
                                        const std::string& channel, std::size_t payload_size,
                                        const std::string& extra_headers = "") {
    publish_template r;
    if (t == target_kind::ssecast) {
        std::string body_head = "{\"channel\":\"" + channel + "\",\"data\":\"";
        std::string body_tail = "\"}";
        r.head = "POST /notify HTTP/1.1\r\nHost: " + host_header + "\r\n" + extra_headers +
                 "Content-Type: application/json\r\nContent-Length: " +
                 std::to_string(body_head.size() + payload_size + body_tail.size()) + "\r\n\r\n" +
                 body_head;
        r.tail = body_tail;
    } else {
        r.head = "POST /pub/" + channel + " HTTP/1.1\r\nHost: " + host_header + "\r\n" +
                 extra_headers + "Accept: text/json\r\nContent-Type: text/plain\r\nContent-Length: " +
                 std::to_string(payload_size) + "\r\n\r\n";
    }
    return r;
}

// A string value of a JSON key in a small flat answer, e.g. "id" -> "1763712000000-1".
inline std::optional<std::string_view> json_string_field(std::string_view body, std::string_view key) {
    std::string quoted = "\"" + std::string(key) + "\"";
    auto at = body.find(quoted);
    if (at == std::string_view::npos) return std::nullopt;
    auto open = body.find('"', body.find(':', at + quoted.size()) + 1);
    if (open == std::string_view::npos) return std::nullopt;
    auto close = body.find('"', open + 1);
    if (close == std::string_view::npos) return std::nullopt;
    return body.substr(open + 1, close - open - 1);
}

inline std::optional<std::int64_t> json_number_field(std::string_view body, std::string_view key) {
    std::string quoted = "\"" + std::string(key) + "\"";
    auto at = body.find(quoted);
    if (at == std::string_view::npos) return std::nullopt;
    auto p = body.find(':', at + quoted.size());
    if (p == std::string_view::npos) return std::nullopt;
    ++p;
    while (p < body.size() && body[p] == ' ') ++p;
    std::int64_t v = 0;
    auto r = std::from_chars(body.data() + p, body.data() + body.size(), v);
    if (r.ec != std::errc{}) return std::nullopt;
    return v;
}

// The event id the server gave a published event.
inline std::optional<std::string_view> published_id(target_kind t, std::string_view body) {
    return json_string_field(body, t == target_kind::ssecast ? "id" : "last_message_id");
}

// How many subscribers the server says the event went to (-1 if it does not say).
inline std::int64_t published_to(target_kind t, std::string_view body) {
    return json_number_field(body, t == target_kind::ssecast ? "delivered" : "subscribers").value_or(-1);
}

// Success status of a publish: ssecast answers 200; nchan 201 (subscribers present) or 202.
inline bool publish_ok(int status) { return status == 200 || status == 201 || status == 202; }

}  // namespace bench
