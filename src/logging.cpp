#include "ssecast/logging.hpp"

#include <spdlog/async.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace ssecast {

void setup_logging(spdlog::level::level_enum level) {
    // Lines are written by spdlog's own thread so a slow log reader never blocks the event loop;
    // the queue is bounded and drops the oldest lines rather than block when it is full.
    spdlog::init_thread_pool(8192, 1);
    auto logger = spdlog::create_async_nb<spdlog::sinks::stderr_sink_mt>("ssecast");
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %l %v");
    spdlog::set_default_logger(logger);
    set_log_level(level);
}

void set_log_level(spdlog::level::level_enum level) {
    spdlog::set_level(level);
}

}  // namespace ssecast
