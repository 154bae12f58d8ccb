#pragma once

namespace ssecast {

class credential_checker;
class http_session;
class stream_owner;
struct http_services;
struct worker_metrics;

// What a session needs of the event loop that owns it (a worker). Used on that loop's thread.
class session_owner {
  public:
    virtual http_services& services() = 0;
    virtual worker_metrics& metrics() = 0;
    // Where a session that turns into an event stream hands its socket.
    virtual stream_owner& streams() = 0;
    // This loop's view of the credentials (with its cache of verified tokens).
    virtual credential_checker& credentials() = 0;
    virtual void add(http_session& session) = 0;
    virtual void remove(http_session& session) = 0;

  protected:
    ~session_owner() = default;
};

}  // namespace ssecast
