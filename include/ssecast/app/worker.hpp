#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstddef>
#include <unordered_set>

#include "ssecast/auth/credential_checker.hpp"
#include "ssecast/http/session_owner.hpp"
#include "ssecast/metrics/connection_slot.hpp"
#include "ssecast/metrics/metrics.hpp"
#include "ssecast/sse/send_scheduler.hpp"
#include "ssecast/sse/stream_owner.hpp"

namespace ssecast {

class daemon;

// One event loop on one thread, and the connections it owns: their sessions, their streams (the
// broker's shard `index()`), the scheduler of their sends, one heartbeat timer for all the streams
// and one timer that checks the request deadlines of all the sessions.
class worker final : public session_owner, public stream_owner {
  public:
    worker(daemon& owner, std::size_t index);
    ~worker();

    boost::asio::io_context& io() { return io_; }
    std::size_t index() const { return index_; }
    const send_scheduler& scheduler() const { return sends_; }
    const worker_metrics& metrics() const { return metrics_; }

    // On this worker's thread.
    void accept(boost::asio::ip::tcp::socket socket, connection_slot slot, bool over_capacity,
                bool over_address_limit);
    // The heartbeat and the sweep of request deadlines.
    void start_timers();
    void begin_shutdown();

    // session_owner
    http_services& services() override;
    worker_metrics& metrics() override { return metrics_; }
    stream_owner& streams() override { return *this; }
    credential_checker& credentials() override { return credentials_; }
    const credential_checker& credentials() const { return credentials_; }
    void add(http_session& session) override;
    void remove(http_session& session) override;

    // stream_owner
    broker& store() override;
    const config& settings() const override;
    send_scheduler& sends() override { return sends_; }
    server_counters& counters() override;
    std::size_t shard() const override { return index_; }
    void add(event_stream& stream) override;
    void remove(event_stream& stream) override;

  private:
    void schedule_heartbeat();
    void schedule_sweep();

    daemon& daemon_;
    std::size_t index_;
    std::unordered_set<http_session*> sessions_;
    std::unordered_set<event_stream*> streams_;
    worker_metrics metrics_;
    credential_checker credentials_;
    // Before io_, which it only keeps a reference to: streams destroyed with io_ cancel here.
    send_scheduler sends_{io_};
    // After the sets: connections still pending when the loop stops are destroyed with io_ and
    // deregister from the sets as they go.
    boost::asio::io_context io_{1};
    boost::asio::steady_timer heartbeat_timer_{io_};
    boost::asio::steady_timer sweep_timer_{io_};  // request deadlines of the sessions
};

}  // namespace ssecast
