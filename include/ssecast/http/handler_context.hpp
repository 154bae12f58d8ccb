#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "ssecast/http/client.hpp"
#include "ssecast/http/reply.hpp"
#include "ssecast/http/request.hpp"

namespace ssecast {

class broker;
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
};

// What a handler answers: a plain reply, or an event stream to start.
using answer = std::variant<reply, stream_request>;

// What a handler gets: the request, who sent it, and the few parts of the daemon handlers use.
struct handler_context {
    const request& req;
    const client& who;
    broker& store;
    const config& settings;
    const server_state& state;
    const server_counters& counters;
    worker_metrics& metrics;     // of the worker serving the request
    bool over_capacity = false;  // the connection limit was reached when this one was accepted
    // --- abuse limits ---
    abuse_limits& limits;  // shared by every worker
    // The client's address has more connections than --max-connections-per-ip: refuse (come
    // back later on /events, 429 elsewhere) and close.
    bool over_address_limit = false;
};

using handler = answer (*)(const handler_context& ctx);

}  // namespace ssecast
