#include "ssecast/backend/memory/channel_registry.hpp"

#include <algorithm>

namespace ssecast {

channel_registry::channel_registry(std::size_t max_channels, std::size_t history,
                                   std::size_t shards)
    : max_channels_(max_channels), history_(history), shards_(shards) {}

channel* channel_registry::find(std::string_view name) {
    auto it = channels_.find(name);
    return it == channels_.end() ? nullptr : it->second.get();
}

channel* channel_registry::find_or_create(std::string_view name) {
    if (auto* ch = find(name)) return ch;
    if (channels_.size() >= max_channels_) return nullptr;
    auto ch = std::make_unique<channel>(next_id_++, std::string(name), history_, shards_);
    ch->evicted_floor = dropped_evicted_floor_;
    auto* raw = ch.get();
    channels_.emplace(raw->name, std::move(ch));
    return raw;
}

void channel_registry::attach(channel& ch, subscription& sub) {
    sub.slots.push_back({&ch, ch.subscribers.size(), 0});
    ch.subscribers.push_back(&sub);
    ++ch.shard_subscribers[sub.shard];
    ch.empty_since.reset();
}

void channel_registry::detach(subscription& sub) {
    for (const auto& slot : sub.slots) {
        auto* ch = slot.ch;
        auto& list = ch->subscribers;
        auto* moved = list.back();
        list[slot.index] = moved;
        list.pop_back();
        --ch->shard_subscribers[sub.shard];
        if (moved != &sub) {
            for (auto& other : moved->slots) {
                if (other.ch == ch) other.index = slot.index;
            }
        }
    }
    sub.slots.clear();
}

channel_registry::sweep_result channel_registry::sweep(
    std::chrono::steady_clock::time_point now,
    std::optional<std::chrono::steady_clock::time_point> oldest_allowed,
    std::chrono::steady_clock::duration grace) {
    sweep_result result;
    for (auto it = channels_.begin(); it != channels_.end();) {
        auto& ch = *it->second;
        if (oldest_allowed) result.evicted += ch.ring.evict_published_before(*oldest_allowed);
        if (!ch.subscribers.empty() || !ch.ring.empty()) {
            ch.empty_since.reset();
        } else if (!ch.empty_since) {
            ch.empty_since = now;
        } else if (now - *ch.empty_since >= grace) {
            dropped_evicted_floor_ = std::max(dropped_evicted_floor_, ch.max_evicted_seq());
            it = channels_.erase(it);
            ++result.dropped;
            continue;
        }
        ++it;
    }
    return result;
}

}  // namespace ssecast
