#pragma once

#include <boost/asio/ip/address.hpp>
#include <boost/beast/http.hpp>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "ssecast/http/reply.hpp"

namespace ssecast {

class daemon;
struct worker_metrics;

namespace http = boost::beast::http;
using request = http::request<http::string_body>;

// GET /events with valid parameters: the session turns into an event stream.
struct stream_request {
    std::vector<std::string> channels;
    std::optional<std::string> last_event_id;
    std::string extra_headers;  // for the response header, e.g. CORS; complete lines
};

struct request_context {
    daemon& owner;
    worker_metrics& metrics;  // of the worker serving the request
    boost::asio::ip::address peer;
    bool over_capacity = false;  // the connection limit was reached when this one was accepted
};

// Decides what a request gets: every endpoint but the event stream is answered here.
std::variant<reply, stream_request> route(const request& req, const request_context& ctx);

// {"error": message} with `status`; `allow` fills the Allow header of a 405.
reply error_reply(http::status status, std::string message, unsigned version, bool keep_alive,
                  const char* allow = nullptr);

// 200 with a jittered retry: and no events: tells EventSource to come back later. Any other
// status would make it give up for good.
reply come_back_later(daemon& owner, std::string reason, unsigned version);

}  // namespace ssecast
