#pragma once

#include <string_view>
#include <vector>

#include "ssecast/http/cors.hpp"
#include "ssecast/http/handler_context.hpp"

namespace ssecast {

struct config;

// Who may use an endpoint.
enum class access {
    anyone,
    subscriber,  // everyone (the handler checks each channel the request names)
    publisher,   // local clients
    admin,       // as publisher
    metrics,     // as admin, or anyone with --metrics-access any
};

struct route {
    std::string_view path;
    http::verb method;
    access rule;
    handler handle;
    // The handler answers even when the connection limit was reached (with a come-back-later);
    // every other route then gets 503 (429 past --max-connections-per-ip).
    bool serves_over_capacity = false;
};

// The route table, and what applies to every request: CORS, the connection limits, the access
// rule.
class router {
  public:
    explicit router(const config& settings);

    answer dispatch(const handler_context& ctx) const;

  private:
    answer route_request(const handler_context& ctx) const;

    std::vector<route> routes_;
    cors cors_;
};

}  // namespace ssecast
