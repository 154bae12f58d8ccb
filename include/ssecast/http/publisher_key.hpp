#pragma once

#include <string>

#include "ssecast/http/handler_context.hpp"

namespace ssecast {

// Whom --publish-rate counts a POST /notify against. The one place that decides it.
std::string publisher_key(const handler_context& ctx);

}  // namespace ssecast
