#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <unordered_set>

#include "ssecast/broker.hpp"
#include "ssecast/config.hpp"

namespace ssecast {

class event_stream;
class http_session;
class listener;

// Counters kept by the HTTP side (the broker keeps its own).
struct hub_counters {
    std::uint64_t connections_accepted = 0;
    std::uint64_t connections_refused = 0;  // over --max-connections
    std::uint64_t requests_rejected = 0;    // answered 4xx/5xx
    std::uint64_t slow_consumer_disconnects = 0;
    std::uint64_t streams_started = 0;
};

// The daemon: one event loop, the listener, the broker, every open connection, the heartbeat and
// housekeeping timers and the signals. Connections reach shared state through it.
class hub {
  public:
    // `reload` re-reads the configuration on SIGHUP.
    hub(config cfg, std::function<std::variant<config, config_exit>()> reload);
    ~hub();

    // Listens and serves until SIGTERM or SIGINT. Returns the process exit code.
    int run();

    boost::asio::io_context& io() { return io_; }
    broker& store() { return *broker_; }
    const config& settings() const { return config_; }
    hub_counters& counters() { return counters_; }
    bool shutting_down() const { return shutting_down_; }
    std::chrono::steady_clock::duration uptime() const {
        return std::chrono::steady_clock::now() - started_;
    }
    std::size_t connections() const { return sessions_.size() + streams_.size(); }
    std::size_t streams() const { return streams_.size(); }
    std::size_t connection_limit() const { return connection_limit_; }

    // A reconnection delay with random spread, so that clients told to come back later do not all
    // come back in the same millisecond.
    std::chrono::milliseconds jittered_retry();

    void accept(boost::asio::ip::tcp::socket socket);
    void add(http_session& session) { sessions_.insert(&session); }
    void remove(http_session& session);
    void add(event_stream& stream) { streams_.insert(&stream); }
    void remove(event_stream& stream);

  private:
    void on_signal(int signo);
    void begin_shutdown();
    void maybe_finish_shutdown();
    void reload_config();
    void schedule_heartbeat();
    void schedule_maintenance();

    config config_;
    std::function<std::variant<config, config_exit>()> reload_;
    std::unique_ptr<broker> broker_;
    hub_counters counters_;
    std::unordered_set<http_session*> sessions_;
    std::unordered_set<event_stream*> streams_;
    std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
    std::minstd_rand random_{std::random_device{}()};
    std::size_t connection_limit_ = 0;
    bool shutting_down_ = false;

    // Declared after the state above: connections still pending when the loop stops are destroyed
    // with io_, and they deregister from that state as they go.
    boost::asio::io_context io_{1};
    std::unique_ptr<listener> listener_;
    boost::asio::signal_set signals_{io_};
    boost::asio::steady_timer heartbeat_timer_{io_};
    boost::asio::steady_timer maintenance_timer_{io_};
    boost::asio::steady_timer shutdown_timer_{io_};
};

}  // namespace ssecast
