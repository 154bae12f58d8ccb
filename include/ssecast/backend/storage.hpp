#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "ssecast/core/event.hpp"
#include "ssecast/sse/sse_frame.hpp"

namespace ssecast {

class exposition;

// Why a backend refused a publish or a subscription. Each has one HTTP answer (README, "Errors").
enum class store_errc {
    channel_limit = 1,  // --max-channels: 503, nothing published
    unavailable,        // the backend cannot store now (disk full, database error): 503
    timeout,            // the backend did not answer in time: 503, the event may still be stored
};
const std::error_category& store_category();
std::error_code make_error_code(store_errc e);

// An event the backend has stored, in the order it stored them; what the hub fans out.
struct committed_event {
    std::uint64_t seq = 0;
    frame encoded;  // serialized once, shared by every subscriber and the history
    std::chrono::steady_clock::time_point published;
    const std::vector<std::string>* channels = nullptr;  // distinct; valid during the call only
};

// Where a backend hands what it stored: the local fan-out hub.
class event_sink {
  public:
    // Called in seq order, never twice at once, after the events are stored (per the backend's
    // durability promise). Fills `delivered[i]` with how many subscribers events[i] goes to.
    virtual void on_committed(std::span<const committed_event> events,
                              std::span<std::size_t> delivered) = 0;

  protected:
    ~event_sink() = default;
};

struct publish_result {
    std::error_code error;    // set: nothing of the batch was stored
    std::string detail;       // with an error: what happened, for the answer and the log
    std::vector<publish_receipt> receipts;  // one per event, in batch order
};

// What a new subscriber missed, read in one snapshot of the history.
struct replay_result {
    std::error_code error;  // channel_limit or unavailable: no subscription
    std::string detail;
    std::vector<frame> backlog;  // the resync notice (if any), then the missed events in seq order
    bool resync = false;
    std::size_t replayed = 0;  // events in the backlog
    // The newest seq stored when the snapshot was read: every event up to it on the channels is
    // in the backlog or was before the resume point; every later one reaches the sink.
    std::uint64_t head = 0;
    std::string position;  // head as an event id: where a client that has seen nothing resumes
};

struct channel_info {
    std::string name;
    std::size_t subscribers = 0;
    std::size_t buffered = 0;
    std::optional<std::string> last_id;
};

struct storage_stats {
    std::size_t channels = 0;
    std::uint64_t published = 0;
    std::uint64_t replayed = 0;
    std::uint64_t resyncs = 0;
    std::uint64_t evicted = 0;
    std::uint64_t channels_dropped = 0;
    std::uint64_t channel_limit_hits = 0;
};

// A backend: stores, orders and reads back events; knows nothing of subscribers' sockets (the hub
// does) nor of HTTP. Completions run on the executor passed in, or inline when the result is
// there at once (the memory backend always is); the contract is in docs/design/backend.md.
class storage {
  public:
    using publish_handler = std::function<void(publish_result)>;
    using replay_handler = std::function<void(replay_result)>;

    virtual ~storage() = default;

    // Stores the events in order and hands them to the sink. All or nothing.
    virtual void publish(std::vector<new_event> batch, const boost::asio::any_io_executor& ex,
                         publish_handler done) = 0;
    // Creates the channels that do not exist (all or nothing under the channel limit), counts a
    // watcher on each, and reads what came after `last_event_id`. The caller must already be
    // registered with the hub, so that every event after the snapshot's head reaches it.
    virtual void subscribe(const std::vector<std::string>& channels,
                           std::optional<std::string_view> last_event_id,
                           const boost::asio::any_io_executor& ex, replay_handler done) = 0;
    // Undoes subscribe()'s watcher counts.
    virtual void unwatch(const std::vector<std::string>& channels) = 0;
    // Periodic housekeeping: evicts events past their max age, drops channels that have been
    // empty (no watcher, no event) for the grace period.
    virtual void maintain(std::chrono::steady_clock::time_point now) = 0;
    virtual storage_stats stats() const = 0;
    virtual std::vector<channel_info> channels() const = 0;  // by name; subscribers left at 0
    // Why it cannot take publishes now; nothing when it can.
    virtual std::optional<std::string> unavailable() const = 0;
    // Before the event loops are gone: finishes the publishes under way (their completions are
    // posted, or dropped with the loops) and takes no more. subscribe() and unwatch() still work.
    virtual void stop() = 0;
    // Its own /metrics families, if it has any.
    virtual void write_metrics(exposition&) const {}
};

}  // namespace ssecast

template <>
struct std::is_error_code_enum<ssecast::store_errc> : std::true_type {};
