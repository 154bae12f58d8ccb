#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ssecast/backend/memory/ring_buffer.hpp"
#include "ssecast/backend/subscriber.hpp"

namespace ssecast {

struct channel;

// One client's subscription as the in-memory store sees it.
struct subscription {
    struct slot {
        channel* ch = nullptr;
        std::size_t index = 0;        // in ch->subscribers (under the broker's lock)
        std::size_t shard_index = 0;  // in its shard's list for ch (on the shard's thread)
    };

    std::uint64_t id = 0;
    subscriber* sink = nullptr;
    std::size_t shard = 0;  // the thread that owns `sink`; events reach it there
    // Highest seq handed to `sink`, touched only on its shard's thread: an event published to
    // several of its channels goes out once, and nothing already in its replay goes out again.
    std::uint64_t last_seq = 0;
    // Stamp of the last publish that counted it, under the broker's lock: a subscriber of several
    // of an event's channels counts once in `delivered`.
    std::uint64_t counted_seq = 0;
    // Shard thread only: the delivery round that last queued something for it (one flush each).
    std::uint64_t flush_round = 0;
    std::vector<slot> slots;
};

struct channel {
    channel(std::uint64_t channel_id, std::string channel_name, std::size_t history,
            std::size_t shards)
        : id(channel_id),
          name(std::move(channel_name)),
          ring(history),
          shard_subscribers(shards, 0) {}

    std::uint64_t id;  // never reused, unlike names: a delivery names channels by id
    std::string name;
    ring_buffer ring;
    std::vector<subscription*> subscribers;
    std::vector<std::uint32_t> shard_subscribers;  // how many of `subscribers` each shard owns
    std::optional<std::chrono::steady_clock::time_point> empty_since;
    // Evictions of earlier channels of the same name are remembered in the registry's floor.
    std::uint64_t evicted_floor = 0;

    std::uint64_t max_evicted_seq() const {
        return std::max(ring.max_evicted_seq(), evicted_floor);
    }
};

// The bounded set of live channels, by name.
class channel_registry {
  public:
    channel_registry(std::size_t max_channels, std::size_t history, std::size_t shards);

    channel* find(std::string_view name);
    // nullptr when the channel does not exist and the limit is reached.
    channel* find_or_create(std::string_view name);

    static void attach(channel& ch, subscription& sub);
    static void detach(subscription& sub);

    struct sweep_result {
        std::size_t evicted = 0;
        std::size_t dropped = 0;
    };
    // Evicts events published before `oldest_allowed` (if given) and drops channels empty for at
    // least `grace`.
    sweep_result sweep(std::chrono::steady_clock::time_point now,
                       std::optional<std::chrono::steady_clock::time_point> oldest_allowed,
                       std::chrono::steady_clock::duration grace);

    std::size_t size() const { return channels_.size(); }
    // How many more channels may be created.
    std::size_t room() const { return max_channels_ - std::min(max_channels_, channels_.size()); }

    template <typename F>
    void for_each(F&& f) const {
        for (const auto& [name, ch] : channels_) f(*ch);
    }

  private:
    struct name_hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const {
            return std::hash<std::string_view>{}(s);
        }
    };

    std::unordered_map<std::string, std::unique_ptr<channel>, name_hash, std::equal_to<>> channels_;
    std::size_t max_channels_;
    std::size_t history_;
    std::size_t shards_;
    std::uint64_t next_id_ = 1;
    // Highest seq evicted by any channel dropped so far. A dropped channel forgets its history,
    // so a channel created later starts from this floor: a client resuming from before it is told
    // it may have missed events (never silently loses them).
    std::uint64_t dropped_evicted_floor_ = 0;
};

}  // namespace ssecast
