#include "ssecast/backend/memory/channel_registry.hpp"

#include <algorithm>

namespace ssecast {

channel_registry::channel_registry(std::size_t max_channels, std::size_t history)
    : max_channels_(max_channels), history_(history) {}

channel* channel_registry::find(std::string_view name) {
    auto it = channels_.find(name);
    return it == channels_.end() ? nullptr : it->second.get();
}

channel* channel_registry::find_or_create(std::string_view name, bool beyond_limit) {
    if (auto* ch = find(name)) return ch;
    if (channels_.size() >= max_channels_ && !beyond_limit) return nullptr;
    auto ch = std::make_unique<channel>(std::string(name), history_);
    ch->evicted_floor = dropped_evicted_floor_;
    auto* raw = ch.get();
    channels_.emplace(raw->name, std::move(ch));
    return raw;
}

channel_registry::sweep_result channel_registry::sweep(
    std::chrono::steady_clock::time_point now,
    std::optional<std::chrono::steady_clock::time_point> oldest_allowed,
    std::chrono::steady_clock::duration grace, history_observer* observer) {
    sweep_result result;
    for (auto it = channels_.begin(); it != channels_.end();) {
        auto& ch = *it->second;
        if (oldest_allowed) {
            auto evicted = ch.ring.evict_published_before(*oldest_allowed);
            result.evicted += evicted;
            if (evicted > 0 && observer != nullptr)
                observer->evicted(ch.name, ch.ring.max_evicted_seq());
        }
        if (ch.watchers > 0 || ch.pending > 0 || !ch.ring.empty()) {
            ch.empty_since.reset();
        } else if (!ch.empty_since) {
            ch.empty_since = now;
        } else if (now - *ch.empty_since >= grace) {
            dropped_evicted_floor_ = std::max(dropped_evicted_floor_, ch.max_evicted_seq());
            if (observer != nullptr) observer->dropped(ch.name, dropped_evicted_floor_);
            it = channels_.erase(it);
            ++result.dropped;
            continue;
        }
        ++it;
    }
    return result;
}

}  // namespace ssecast
