#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ssecast/http/cors.hpp"
#include "ssecast/http/handler_context.hpp"

namespace ssecast {

struct config;

// Who may use an endpoint (see access_control.hpp).
enum class access {
    anyone,
    subscriber,  // everyone for public channels; the handler checks the private ones it names
    publisher,   // as --publish-auth says; the handler checks each channel against the grant
    admin,       // as publisher, with a credential for every channel
    metrics,     // as admin, or anyone with --metrics-access any
};

struct route {
    std::string_view path;
    http::verb method;
    access rule;
    handler handle;
    // The handler answers even on a connection accepted over a limit (--max-connections, or
    // --max-connections-per-ip): /events with a come-back-later, /healthz as always, so that a
    // monitor does not restart a daemon that is only full. The connection is closed after that
    // answer. Every other route then gets 503 (429 past --max-connections-per-ip).
    bool serves_over_capacity = false;
};

// The route table, and what applies to every request: CORS, the connection limits, the access
// rule.
class router {
  public:
    explicit router(const config& settings);

    answer dispatch(handler_context& ctx) const;
    // For a header whose body is still to come (Expect: 100-continue): the answer the header
    // alone already earns (CORS, limits, 404, 405, the access rule), or nothing if the body is
    // worth reading. The handler does not run.
    std::optional<reply> precheck(handler_context& ctx) const;

  private:
    // CORS, the limits, the route and its access rule: the route whose handler answers, or the
    // answer instead. `cors_headers` gets what every answer from here on carries.
    std::variant<const route*, reply> admit(handler_context& ctx, std::string& cors_headers) const;

    std::vector<route> routes_;
    cors cors_;
};

}  // namespace ssecast
