#pragma once

#include <spdlog/common.h>

#include "ssecast/config/config.hpp"

namespace ssecast {

// Logs go to stderr (systemd's journal or the container runtime collects them). When stderr is
// the journal (JOURNAL_STREAM names it), every line starts with a "<N>" syslog priority and text
// lines carry no time, as the journal records both itself.
void setup_logging(spdlog::level::level_enum level, log_format format);
void set_log_level(spdlog::level::level_enum level);
// Writes what is queued and stops the logging thread, before the logger itself goes.
void stop_logging();

}  // namespace ssecast
