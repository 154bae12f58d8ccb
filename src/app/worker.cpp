#include "ssecast/app/worker.hpp"

#include "ssecast/app/daemon.hpp"
#include "ssecast/http/http_session.hpp"
#include "ssecast/sse/event_stream.hpp"
#include "ssecast/sse/jitter.hpp"

namespace ssecast {

worker::worker(daemon& owner, std::size_t index)
    : daemon_(owner), index_(index), credentials_(owner.credentials()) {}

worker::~worker() = default;

http_services& worker::services() {
    return daemon_.services();
}

broker& worker::store() {
    return daemon_.store();
}

const config& worker::settings() const {
    return daemon_.settings();
}

server_counters& worker::counters() {
    return daemon_.counters();
}

void worker::accept(boost::asio::ip::tcp::socket socket, connection_slot slot, bool over_capacity,
                    bool over_address_limit) {
    std::make_shared<http_session>(std::move(socket), *this, std::move(slot), over_capacity,
                                   over_address_limit)
        ->run();
}

void worker::start_timers() {
    schedule_heartbeat();
    schedule_sweep();
}

void worker::schedule_sweep() {
    // Fine enough for --request-timeout (1 s at least), and one timer for all the sessions.
    sweep_timer_.expires_after(std::chrono::milliseconds(250));
    sweep_timer_.async_wait([this](boost::system::error_code ec) {
        if (ec) return;
        auto now = http_session::clock::now();
        for (auto* session : sessions_) session->check_deadline(now);
        // Only streams of private channels have tokens that expire.
        const auto& settings = daemon_.settings();
        if (settings.max_stream_duration || !settings.private_channels.empty()) {
            // Collected first: ending a stream may close it, which removes it from the set.
            std::vector<event_stream*> due;
            for (auto* stream : streams_) {
                if (stream->due(now)) due.push_back(stream);
            }
            for (auto* stream : due) stream->end_due(now);
        }
        // While shutting down, answers being written keep their deadline until the last is gone.
        if (daemon_.shutting_down() && sessions_.empty()) return;
        schedule_sweep();
    });
}

void worker::schedule_heartbeat() {
    heartbeat_timer_.expires_after(daemon_.settings().heartbeat);
    heartbeat_timer_.async_wait([this](boost::system::error_code ec) {
        if (ec) return;
        for (auto* stream : streams_) stream->heartbeat();
        schedule_heartbeat();
    });
}

void worker::begin_shutdown() {
    heartbeat_timer_.cancel();
    // finish() and shutdown() may close connections at once, which removes them from the sets.
    std::vector<event_stream*> streams(streams_.begin(), streams_.end());
    for (auto* stream : streams)
        stream->finish(jittered_retry(daemon_.settings().reconnect_delay), "shutting down");
    std::vector<http_session*> sessions(sessions_.begin(), sessions_.end());
    for (auto* session : sessions) session->shutdown();
}

void worker::add(http_session& session) {
    sessions_.insert(&session);
}

void worker::remove(http_session& session) {
    sessions_.erase(&session);
}

void worker::add(event_stream& stream) {
    streams_.insert(&stream);
}

void worker::remove(event_stream& stream) {
    sends_.cancel(stream);
    streams_.erase(&stream);
}

}  // namespace ssecast
