#pragma once

#include "ssecast/http/handler_context.hpp"

namespace ssecast {

// The endpoints, one handler each; the route table (router.cpp) says who may call which.
answer subscribe(const handler_context& ctx);      // GET /events
answer publish(const handler_context& ctx);        // POST /notify
answer health(const handler_context& ctx);         // GET /healthz
answer readiness(const handler_context& ctx);      // GET /readyz
answer metrics_page(const handler_context& ctx);   // GET /metrics
answer list_channels(const handler_context& ctx);  // GET /channels
answer demo_page(const handler_context& ctx);      // GET /

}  // namespace ssecast
