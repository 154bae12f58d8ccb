#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "ssecast/app/config_check.hpp"
#include "ssecast/app/daemon.hpp"
#include "ssecast/app/logging.hpp"
#include "ssecast/app/signal_receiver.hpp"
#include "ssecast/config/config.hpp"

int main(int argc, char** argv) {
    ssecast::signal_receiver::block();  // before any thread: see signal_receiver.hpp
    std::vector<std::string> args(argv, argv + argc);
    auto env = [](const std::string& name) -> std::optional<std::string> {
        const char* value = std::getenv(name.c_str());
        if (value == nullptr) return std::nullopt;
        return std::string(value);
    };
    auto load = [args, env] { return ssecast::parse_config(args, env); };

    auto loaded = load();
    if (auto* done = std::get_if<ssecast::config_exit>(&loaded)) {
        (done->exit_code == 0 ? std::cout : std::cerr) << done->output;
        return done->exit_code;
    }
    auto& cfg = std::get<ssecast::config>(loaded);
    if (cfg.check_only) return ssecast::check_config(cfg, std::cout, std::cerr);
    ssecast::setup_logging(cfg.log_level, cfg.log_format);
    int code = ssecast::daemon(cfg, load).run();
    ssecast::stop_logging();
    return code;
}
