#pragma once

#include <optional>
#include <utility>

#include "ssecast/metrics/address_counts.hpp"

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
// It may also count under a client address (--max-connections-per-ip), which moves with it.
class connection_slot {
  public:
    connection_slot() = default;
    // `per_address`: where connections are counted by address; null when they are not.
    explicit connection_slot(connection_tracker& tracker, address_counts* per_address = nullptr)
        : tracker_(&tracker), per_address_(per_address) {
        tracker.opened();
    }
    connection_slot(connection_slot&& other) noexcept
        : tracker_(std::exchange(other.tracker_, nullptr)),
          per_address_(other.per_address_),
          key_(std::exchange(other.key_, std::nullopt)),
          stream_(other.stream_) {}
    connection_slot& operator=(connection_slot&& other) noexcept {
        if (this != &other) {
            release();
            tracker_ = std::exchange(other.tracker_, nullptr);
            per_address_ = other.per_address_;
            key_ = std::exchange(other.key_, std::nullopt);
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

    // Counts the connection under `key` from now on (none: under no address), no longer under the
    // one before. The connections `key` then has, this one included; nothing when the key is the
    // same as before, when it is none, or when connections are not counted by address.
    std::optional<std::size_t> count_under(const std::optional<address_key>& key) {
        if (per_address_ == nullptr || tracker_ == nullptr || key == key_) return std::nullopt;
        if (key_) per_address_->remove(*key_);
        key_ = key;
        if (!key_) return std::nullopt;
        return per_address_->add(*key_);
    }

  private:
    void release() {
        if (tracker_ == nullptr) return;
        if (key_) per_address_->remove(*std::exchange(key_, std::nullopt));
        std::exchange(tracker_, nullptr)->closed(stream_);
    }

    connection_tracker* tracker_ = nullptr;
    address_counts* per_address_ = nullptr;
    std::optional<address_key> key_;
    bool stream_ = false;
};

}  // namespace ssecast
