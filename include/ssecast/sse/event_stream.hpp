#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ssecast/fanout/broker.hpp"
#include "ssecast/fanout/subscriber.hpp"
#include "ssecast/metrics/connection_slot.hpp"
#include "ssecast/sse/send_scheduler.hpp"
#include "ssecast/sse/sse_frame.hpp"

namespace ssecast {

class stream_owner;

// One open GET /events response: the subscriber side of the broker. Queues shared frames and
// writes everything queued in one gathered write when its worker's send scheduler gets to it.
class event_stream final : public subscriber,
                           public sendable,
                           public std::enable_shared_from_this<event_stream> {
  public:
    // `peer`: who the client is, as the log lines show it.
    event_stream(boost::asio::ip::tcp::socket socket, connection_slot slot, stream_owner& owner,
                 std::vector<std::string> channels, std::string peer);
    ~event_stream();

    // Sends the response header (with `extra_headers`, complete lines), subscribes, and queues
    // what the client missed. With `token_expires`, the stream ends then (its JWT's exp).
    void start(std::optional<std::string> last_event_id, const std::string& extra_headers = {},
               std::optional<std::chrono::system_clock::time_point> token_expires = {});
    // For the worker's sweep: a stream past --max-stream-duration is ended with a retry:, and one
    // whose token expired with a token-expired event.
    bool due(std::chrono::steady_clock::time_point now) const {
        return now >= expires_ || now >= token_deadline_;
    }
    void end_due(std::chrono::steady_clock::time_point now);

    void deliver(const frame& f, std::chrono::steady_clock::time_point published) override;
    void flush() override;
    void send_now() override;
    void heartbeat();
    // Tells the client when to come back, then ends the stream once that has been sent.
    void finish(std::chrono::milliseconds retry, const char* reason);

  private:
    // The subscription is made and its backlog read (or refused): the response goes out.
    void started(subscription_start begin, const std::optional<std::string>& last_event_id,
                 const std::string& extra_headers);
    // Queues within the subscriber's byte limit; past it, disconnects the subscriber.
    bool append_bounded(const frame& f);
    bool enqueue(const frame& f);
    // Queues without starting a write, to send several frames in one.
    void append(const frame& f);
    void write_queued();
    // A write is out: how long its oldest live event took since its publish.
    void written(std::chrono::steady_clock::time_point oldest_published);
    void watch_peer();
    void close(std::string reason);
    // close() from the event loop, for callers that may be inside the broker's delivery loop.
    void close_later(std::string reason);

    boost::asio::ip::tcp::socket socket_;
    connection_slot slot_;
    stream_owner& owner_;
    std::vector<std::string> channels_;
    std::string peer_;
    std::vector<frame> queue_;
    std::vector<frame> in_flight_;
    std::vector<boost::asio::const_buffer> buffers_;
    std::size_t pending_bytes_ = 0;  // queued + being written
    std::size_t queue_limit_ = 0;
    std::uint64_t subscription_ = 0;
    std::uint64_t bytes_sent_ = 0;
    std::uint64_t events_queued_ = 0;    // live ones
    std::uint64_t events_replayed_ = 0;  // from the buffer, at the start
    std::chrono::steady_clock::time_point opened_ = std::chrono::steady_clock::now();
    std::chrono::steady_clock::time_point expires_ = std::chrono::steady_clock::time_point::max();
    // When the subscriber's JWT expires (max(): no token), and its exp in Unix seconds.
    std::chrono::steady_clock::time_point token_deadline_ =
        std::chrono::steady_clock::time_point::max();
    std::int64_t token_exp_ = 0;
    // Publish times of the oldest live event queued and of the oldest in the write under way;
    // max(): none.
    std::chrono::steady_clock::time_point queued_published_ =
        std::chrono::steady_clock::time_point::max();
    std::chrono::steady_clock::time_point in_flight_published_ =
        std::chrono::steady_clock::time_point::max();
    bool subscribed_ = false;
    bool responding_ = false;  // the response has begun (the backlog was read)
    bool writing_ = false;
    bool finishing_ = false;  // no more events; close once the queue is written
    bool closed_ = false;
    const char* finish_reason_ = "";
};

}  // namespace ssecast
