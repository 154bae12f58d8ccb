#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "ssecast/http/client.hpp"
#include "ssecast/http/reply.hpp"
#include "ssecast/http/request.hpp"

namespace ssecast {

class broker;
class channel_patterns;
class request_credentials;
class server_state;
struct abuse_limits;
struct config;
struct server_counters;
struct worker_metrics;

// GET /events with valid parameters: the session turns into an event stream.
struct stream_request {
    std::vector<std::string> channels;
    std::optional<std::string> last_event_id;
    std::string extra_headers;  // for the response header, e.g. CORS; complete lines
    // The subscriber's JWT expires then: the stream ends with a token-expired event.
    std::optional<std::chrono::system_clock::time_point> token_expires;
};

// What the access rule of the route let a request do (filled by the router).
struct access_grant {
    // The channels it may publish to; nullptr: every channel (a local client, when
    // --publish-auth allows them).
    const channel_patterns* publish = nullptr;
    // Names the credential in logs and rate limits; empty when nothing was presented.
    std::string identity;
};

// Sends the answer to a request that was answered later; called once, on the session's thread.
using responder = std::function<void(reply)>;

// An answer that comes later (the backend stores the events first): the session calls `start`
// with its responder, and reads no further request until the answer is out, so pipelined
// answers keep their order.
struct deferred {
    std::function<void(responder)> start;
    std::string extra_headers;  // for the reply, e.g. CORS; complete lines (set by the router)
    bool close = false;         // close the connection after the reply (set by the router)
};

// What a handler answers: a plain reply, an event stream to start, or a reply to come.
using answer = std::variant<reply, stream_request, deferred>;

// What a handler gets: the request, who sent it, and the few parts of the daemon handlers use.
struct handler_context {
    const request& req;
    const client& who;
    broker& store;
    const config& settings;
    const server_state& state;
    server_counters& counters;
    worker_metrics& metrics;           // of the worker serving the request
    request_credentials& credentials;  // verified on first use
    abuse_limits& limits;              // shared by every worker
    boost::asio::any_io_executor executor;  // the session's: where deferred answers complete
    bool over_capacity = false;  // the connection limit was reached when this one was accepted
    // The client's address has more connections than --max-connections-per-ip: refuse (come
    // back later on /events, 429 elsewhere) and close.
    bool over_address_limit = false;
    access_grant grant{};  // set by the router before the handler runs
};

using handler = answer (*)(const handler_context& ctx);

}  // namespace ssecast
