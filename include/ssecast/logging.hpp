#pragma once

#include <spdlog/common.h>

namespace ssecast {

// Logs go to stderr (systemd's journal or the container runtime collects them).
void setup_logging(spdlog::level::level_enum level);
void set_log_level(spdlog::level::level_enum level);

}  // namespace ssecast
