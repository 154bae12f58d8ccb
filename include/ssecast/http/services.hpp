#pragma once

namespace ssecast {

class broker;
struct abuse_limits;
class router;
class server_state;
struct config;
struct server_counters;

// What the HTTP side uses of the daemon: one for the daemon's life, shared by every worker.
struct http_services {
    const config& settings;
    broker& store;
    server_counters& counters;
    const server_state& state;
    const router& routes;
    abuse_limits& limits;
};

}  // namespace ssecast
