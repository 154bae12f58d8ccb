#pragma once

#include <string>

namespace ssecast {

class daemon;

// The whole GET /metrics body for the running daemon.
std::string render_metrics(daemon& owner);

}  // namespace ssecast
