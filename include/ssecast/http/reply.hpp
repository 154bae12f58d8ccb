#pragma once

#include <boost/beast/http/status.hpp>
#include <chrono>
#include <ostream>  // Boost 1.81's status.hpp uses std::ostream without including it
#include <string>

#include "ssecast/http/request.hpp"

namespace ssecast {

// A plain (non-stream) HTTP answer, written out by hand: every answer has the same few headers,
// and formatting them into one string is much cheaper than a Beast message and its serializer,
// which shows on the publish path (one answer per POST /notify).
struct reply {
    boost::beast::http::status status = boost::beast::http::status::ok;
    unsigned version = 11;  // the request's: 10 or 11
    bool keep_alive = true;
    const char* content_type = "application/json";
    const char* cache_control = "no-store";
    std::string extra_headers;  // complete lines, each ending in \r\n
    std::string body;
    std::string rejection;  // why the request was refused (empty: it was not), for the log
};

// Appends the answer as it goes on the wire (status line, headers, body) to `out`.
void append_wire(const reply& r, std::string& out);

// `body` (JSON) with `status`, in the request's version and keep-alive.
reply json_reply(http::status status, std::string body, const request& req);

// {"error": message} with `status`; `allow` fills the Allow header of a 405.
reply error_reply(http::status status, std::string message, unsigned version, bool keep_alive,
                  const char* allow = nullptr);
reply error_reply(http::status status, std::string message, const request& req);

// 429 with {"error": message} and Retry-After: `retry_after` in whole seconds, rounded up, at
// least 1.
reply too_many_requests(std::string message, std::chrono::steady_clock::duration retry_after,
                        unsigned version, bool keep_alive);

// 200 with a jittered retry: and no events: tells EventSource to come back later. Any other
// status would make it give up for good. `reconnect_delay` is the base of the jitter.
reply come_back_later(std::chrono::milliseconds reconnect_delay, std::string reason,
                      unsigned version);

}  // namespace ssecast
