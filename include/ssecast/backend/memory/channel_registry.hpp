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

#include "ssecast/backend/memory/history_observer.hpp"
#include "ssecast/backend/memory/ring_buffer.hpp"

namespace ssecast {

struct channel {
    channel(std::string channel_name, std::size_t history)
        : name(std::move(channel_name)), ring(history) {}

    std::string name;
    ring_buffer ring;
    std::size_t watchers = 0;  // subscriptions on it (the hub knows who they are)
    std::size_t pending = 0;   // events prepared for it and not yet committed
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
    channel_registry(std::size_t max_channels, std::size_t history);

    channel* find(std::string_view name);
    // nullptr when the channel does not exist and the limit is reached (unless `beyond_limit`:
    // history read back at start, written under another limit).
    channel* find_or_create(std::string_view name, bool beyond_limit = false);

    struct sweep_result {
        std::size_t evicted = 0;
        std::size_t dropped = 0;
    };
    // Evicts events published before `oldest_allowed` (if given) and drops channels empty for at
    // least `grace`; tells `observer` (if any) of both.
    sweep_result sweep(std::chrono::steady_clock::time_point now,
                       std::optional<std::chrono::steady_clock::time_point> oldest_allowed,
                       std::chrono::steady_clock::duration grace, history_observer* observer);

    std::uint64_t dropped_floor() const { return dropped_evicted_floor_; }
    // History read back at start: the floor it had.
    void restore_floor(std::uint64_t floor) { dropped_evicted_floor_ = floor; }

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
    // Highest seq evicted by any channel dropped so far. A dropped channel forgets its history,
    // so a channel created later starts from this floor: a client resuming from before it is told
    // it may have missed events (never silently loses them).
    std::uint64_t dropped_evicted_floor_ = 0;
};

}  // namespace ssecast
