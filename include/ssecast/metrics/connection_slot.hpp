#pragma once

#include <utility>

namespace ssecast {

// Keeps the count of open connections and streams (the daemon does).
class connection_tracker {
  public:
    virtual void opened() = 0;
    virtual void became_stream() = 0;
    virtual void closed(bool stream) = 0;

  protected:
    ~connection_tracker() = default;
};

// One open client connection, counted once from its accept to its close, whoever holds it: the
// listener's hand-over, the HTTP session, then perhaps the event stream it becomes. Moving it
// moves the count, so a connection is never counted twice (nor a stream refused below the limit).
class connection_slot {
  public:
    connection_slot() = default;
    explicit connection_slot(connection_tracker& tracker) : tracker_(&tracker) { tracker.opened(); }
    connection_slot(connection_slot&& other) noexcept
        : tracker_(std::exchange(other.tracker_, nullptr)), stream_(other.stream_) {}
    connection_slot& operator=(connection_slot&& other) noexcept {
        if (this != &other) {
            release();
            tracker_ = std::exchange(other.tracker_, nullptr);
            stream_ = other.stream_;
        }
        return *this;
    }
    connection_slot(const connection_slot&) = delete;
    connection_slot& operator=(const connection_slot&) = delete;
    ~connection_slot() { release(); }

    void become_stream() {
        if (tracker_ == nullptr || stream_) return;
        stream_ = true;
        tracker_->became_stream();
    }

  private:
    void release() {
        if (tracker_ != nullptr) std::exchange(tracker_, nullptr)->closed(stream_);
    }

    connection_tracker* tracker_ = nullptr;
    bool stream_ = false;
};

}  // namespace ssecast
