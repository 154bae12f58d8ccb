#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "ssecast/app/signal_receiver.hpp"
#include "ssecast/app/worker.hpp"
#include "ssecast/auth/authenticator.hpp"
#include "ssecast/fanout/broker.hpp"
#include "ssecast/config/config.hpp"
#include "ssecast/http/abuse_limits.hpp"
#include "ssecast/http/router.hpp"
#include "ssecast/http/server_state.hpp"
#include "ssecast/http/services.hpp"
#include "ssecast/metrics/connection_slot.hpp"
#include "ssecast/metrics/server_counters.hpp"

namespace ssecast {

class listener;
class service_manager;

// The daemon: the workers (one event loop per thread, each owning the connections it serves),
// the listener that spreads connections over them, the broker, signals and housekeeping.
class daemon final : public server_state, public connection_tracker {
  public:
    // `reload` re-reads the configuration on SIGHUP.
    daemon(config cfg, std::function<std::variant<config, config_exit>()> reload);
    ~daemon();

    // Listens and serves until SIGTERM or SIGINT. Returns the process exit code.
    int run();

    broker& store() { return *broker_; }
    const config& settings() const { return config_; }
    server_counters& counters() { return counters_; }
    http_services& services() { return *services_; }
    const authenticator& credentials() const { return credentials_; }

    // server_state
    bool shutting_down() const override { return shutting_down_.load(std::memory_order_relaxed); }
    bool draining() const override { return draining_.load(std::memory_order_relaxed); }
    std::size_t connections() const override {
        return connections_.load(std::memory_order_relaxed);
    }
    std::size_t streams() const override { return streams_.load(std::memory_order_relaxed); }
    std::chrono::steady_clock::duration uptime() const override {
        return std::chrono::steady_clock::now() - started_;
    }
    std::chrono::system_clock::time_point start_time() const override { return started_wall_; }
    worker_totals workers_total() const override;

    // The worker that gets the next connection (round robin), and handing it over.
    worker& next_worker();
    void dispatch(worker& target, boost::asio::ip::tcp::socket socket);

    // connection_tracker
    void opened() override;
    void became_stream() override;
    void closed(bool stream) override;

  private:
    // The backend --data-dir asks for; false (logged) when it cannot be used.
    bool open_storage();
    bool open_listener();
    void on_signal(int signo);
    void begin_shutdown();
    void stop_all();
    void reload_config();
    // On worker 0's loop, with what the reload thread read.
    void reloaded(const std::variant<config, config_exit>& next,
                  const std::optional<std::string>& credentials_problem);
    void schedule_maintenance();

    config config_;
    std::function<std::variant<config, config_exit>()> reload_;
    server_counters counters_;
    abuse_limits limits_{config_};
    std::atomic<std::size_t> connections_{0};
    std::atomic<std::size_t> streams_{0};
    std::atomic<bool> shutting_down_{false};
    std::atomic<bool> draining_{false};  // from SIGTERM on when --drain-delay is not 0
    // The loops have stopped and the connections are being destroyed with them: closing one must
    // no longer stop the loops (some are gone already).
    bool torn_down_ = false;
    std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
    std::chrono::system_clock::time_point started_wall_ = std::chrono::system_clock::now();
    std::size_t connection_limit_ = 0;
    std::size_t next_worker_ = 0;
    // Declared before the workers: connections destroyed with a worker's loop unsubscribe.
    std::unique_ptr<hub> hub_;
    std::unique_ptr<storage> storage_;  // opened by run(): --data-dir may be refused
    std::unique_ptr<broker> broker_;
    // Before the workers: each has a checker that reads it.
    authenticator credentials_;
    router routes_{config_};
    std::optional<http_services> services_;  // made with the broker
    // Fixed from construction on: safe to read from any worker.
    std::vector<std::unique_ptr<worker>> workers_;
    // The rest lives on worker 0's loop.
    std::unique_ptr<listener> listener_;
    std::string listening_on_;  // "IP:PORT"
    std::unique_ptr<service_manager> service_manager_;
    std::unique_ptr<signal_receiver> signals_;
    std::unique_ptr<boost::asio::steady_timer> maintenance_timer_;
    std::unique_ptr<boost::asio::steady_timer> shutdown_timer_;
    // Runs --drain-delay after SIGTERM, before the shutdown.
    std::unique_ptr<boost::asio::steady_timer> drain_timer_;
    std::thread reload_thread_;  // reads the files on SIGHUP
    bool reloading_ = false;     // worker 0's loop only
    bool reload_again_ = false;
};

}  // namespace ssecast
