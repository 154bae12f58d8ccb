#include "ssecast/backend/memory/memory_broker.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>
#include <unordered_set>

#include "ssecast/core/event_id.hpp"
#include "ssecast/core/validation.hpp"

namespace ssecast {

namespace {

// A resume point is echoed back in the resync notice; garbage can be long, keep the echo short.
constexpr std::size_t max_echoed_id = 128;

std::size_t shard_count(const memory_broker_options& options) {
    return std::max<std::size_t>(1, options.shards.size());
}

}  // namespace

memory_broker::memory_broker(memory_broker_options options)
    : options_(std::move(options)),
      registry_(options_.max_channels, options_.history, shard_count(options_)),
      shards_(shard_count(options_)) {
    for (auto& sh : shards_) sh = std::make_unique<shard>();
}

std::optional<std::vector<std::vector<channel*>>> memory_broker::resolve(
    const std::vector<const std::vector<std::string>*>& lists) {
    std::unordered_set<std::string_view> missing;
    for (const auto* names : lists) {
        for (const auto& name : *names) {
            if (registry_.find(name) == nullptr) missing.insert(name);
        }
    }
    // All or nothing: a refused request must not leave half of its channels behind.
    if (missing.size() > registry_.room()) {
        ++stats_.channel_limit_hits;
        return std::nullopt;
    }
    std::vector<std::vector<channel*>> resolved;
    resolved.reserve(lists.size());
    for (const auto* names : lists) {
        auto& chans = resolved.emplace_back();
        for (const auto& name : *names) {
            auto* ch = registry_.find_or_create(name);
            // A channel named twice is one subscription slot and one copy in the ring.
            if (std::find(chans.begin(), chans.end(), ch) == chans.end()) chans.push_back(ch);
        }
    }
    return resolved;
}

std::optional<std::vector<publish_receipt>> memory_broker::publish(
    const std::vector<new_event>& batch) {
    std::lock_guard lock(mutex_);
    std::vector<const std::vector<std::string>*> lists;
    lists.reserve(batch.size());
    for (const auto& event : batch) lists.push_back(&event.channels);
    auto resolved = resolve(lists);
    if (!resolved) return std::nullopt;

    auto now = std::chrono::steady_clock::now();
    std::vector<publish_receipt> receipts;
    receipts.reserve(batch.size());
    // What each shard must deliver, handed over once per shard for the whole batch.
    std::vector<std::vector<delivery>> outgoing(shards_.size());
    std::vector<bool> shard_needed(shards_.size());
    for (std::size_t i = 0; i < batch.size(); ++i) {
        const auto& event = batch[i];
        const auto& targets = (*resolved)[i];
        auto seq = ++last_seq_;
        auto id = to_string(event_id{options_.epoch, seq});
        delivery d{make_event_frame({id, event.type, event.data, event.retry_ms}), seq, now, {}};
        std::size_t delivered = 0;
        std::fill(shard_needed.begin(), shard_needed.end(), false);
        for (auto* ch : targets) {
            ch->ring.push({seq, now, d.encoded});
            d.channels.push_back(ch->id);
            if (targets.size() == 1) {
                delivered = ch->subscribers.size();
            } else {
                for (auto* sub : ch->subscribers) {
                    if (sub->counted_seq == seq) continue;  // on several of the event's channels
                    sub->counted_seq = seq;
                    ++delivered;
                }
            }
            for (std::size_t k = 0; k < shards_.size(); ++k) {
                if (ch->shard_subscribers[k] > 0) shard_needed[k] = true;
            }
        }
        for (std::size_t k = 0; k < shards_.size(); ++k) {
            if (shard_needed[k]) outgoing[k].push_back(d);
        }
        ++stats_.published;
        stats_.deliveries += delivered;
        receipts.push_back({std::move(id), delivered});
    }
    // Still under the lock, so every shard queue gets events in publish order.
    for (std::size_t k = 0; k < shards_.size(); ++k) {
        if (outgoing[k].empty()) continue;
        if (options_.shards.empty()) {
            deliver(k, outgoing[k]);
            continue;
        }
        auto& sh = *shards_[k];
        std::lock_guard queue_lock(sh.mutex);
        sh.pending.insert(sh.pending.end(), std::make_move_iterator(outgoing[k].begin()),
                          std::make_move_iterator(outgoing[k].end()));
        if (!sh.drain_posted) {
            sh.drain_posted = true;
            boost::asio::post(options_.shards[k], [this, k] { drain(k); });
        }
    }
    return receipts;
}

void memory_broker::drain(std::size_t index) {
    std::vector<delivery> work;
    {
        auto& sh = *shards_[index];
        std::lock_guard queue_lock(sh.mutex);
        work.swap(sh.pending);
        sh.drain_posted = false;
    }
    deliver(index, work);
}

void memory_broker::deliver(std::size_t index, const std::vector<delivery>& work) {
    auto& sh = *shards_[index];
    // Every subscriber that got something is flushed once, after the whole batch.
    auto& touched = sh.touched;
    touched.clear();
    auto round = ++sh.rounds;
    for (const auto& d : work) {
        for (auto channel_id : d.channels) {
            auto it = sh.subscribers.find(channel_id);
            if (it == sh.subscribers.end()) continue;
            for (auto* sub : it->second) {
                if (sub->last_seq >= d.seq) continue;  // in its replay, or sent via another channel
                if (sub->flush_round != round) {
                    sub->flush_round = round;
                    touched.push_back(sub->sink);
                }
                sub->last_seq = d.seq;
                sub->sink->deliver(d.encoded, d.published);
            }
        }
    }
    for (auto* sink : touched) sink->flush();
}

subscription_start memory_broker::subscribe(const std::vector<std::string>& channel_names,
                                            std::optional<std::string_view> last_event_id,
                                            subscriber& sink, std::size_t shard) {
    std::unique_lock lock(mutex_);
    subscription_start start;
    auto resolved = resolve({&channel_names});
    if (!resolved) return start;
    const auto& chans = resolved->front();

    if (last_event_id) {
        auto resume = parse_event_id(*last_event_id);
        // An id is only meaningful if this run issued it.
        bool known = resume && resume->epoch == options_.epoch && resume->seq <= last_seq_;
        std::uint64_t after = known ? resume->seq : 0;
        bool gap = !known;
        std::vector<const stored_event*> missed;
        std::optional<std::uint64_t> oldest;
        for (auto* ch : chans) {
            gap = gap || ch->max_evicted_seq() > after;
            const auto& ring = ch->ring;
            if (!ring.empty())
                oldest = std::min(oldest.value_or(ring.oldest().seq), ring.oldest().seq);
            for (auto i = ring.first_after(after); i < ring.size(); ++i)
                missed.push_back(&ring.at(i));
        }
        // Several channels: merge in publish order; an event on two of them is sent once.
        std::sort(missed.begin(), missed.end(),
                  [](const stored_event* a, const stored_event* b) { return a->seq < b->seq; });
        missed.erase(std::unique(missed.begin(), missed.end(),
                                 [](const stored_event* a, const stored_event* b) {
                                     return a->seq == b->seq;
                                 }),
                     missed.end());

        if (gap) {
            auto position = missed.empty() ? last_seq_ : missed.front()->seq - 1;
            start.backlog.push_back(resync_notice(*last_event_id, position, oldest));
            start.resync = true;
            ++stats_.resyncs;
        }
        for (const auto* event : missed) start.backlog.push_back(event->data);
        start.replayed = missed.size();
        stats_.replayed += missed.size();
    }

    start.position = to_string(event_id{options_.epoch, last_seq_});
    auto owned = std::make_unique<subscription>();
    auto* sub = owned.get();
    sub->id = next_subscription_++;
    sub->sink = &sink;
    sub->shard = shard;
    sub->last_seq = last_seq_;
    for (auto* ch : chans) channel_registry::attach(*ch, *sub);
    subscriptions_.emplace(sub->id, std::move(owned));
    lock.unlock();

    // This runs on the shard's thread, so no delivery for the shard can run before this
    // registration, and a delivery of an event after last_seq was posted after the counts above
    // changed: it will find the subscription.
    auto& local = shards_[shard]->subscribers;
    for (auto& slot : sub->slots) {
        auto& list = local[slot.ch->id];
        slot.shard_index = list.size();
        list.push_back(sub);
    }
    start.accepted = true;
    start.subscription = sub->id;
    return start;
}

frame memory_broker::resync_notice(std::string_view last_event_id, std::uint64_t position_seq,
                                   std::optional<std::uint64_t> oldest_seq) const {
    nlohmann::json body = {
        {"lastEventId", std::string(utf8_prefix(last_event_id, max_echoed_id))},
        {"oldestId", oldest_seq ? nlohmann::json(to_string(event_id{options_.epoch, *oldest_seq}))
                                : nlohmann::json(nullptr)},
    };
    // The notice carries an id just before the first replayed event (or the newest id when nothing
    // is replayed), so that reconnecting after it resumes from here instead of resyncing again.
    auto id = to_string(event_id{options_.epoch, position_seq});
    auto data = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return make_event_frame({id, "resync", data, std::nullopt});
}

void memory_broker::unsubscribe(std::uint64_t id) {
    std::lock_guard lock(mutex_);
    auto it = subscriptions_.find(id);
    if (it == subscriptions_.end()) return;
    auto& sub = *it->second;
    // Called on the subscriber's shard thread: its shard-local lists are ours to change.
    auto& local = shards_[sub.shard]->subscribers;
    for (const auto& slot : sub.slots) {
        auto entry = local.find(slot.ch->id);
        auto& list = entry->second;
        auto* moved = list.back();
        list[slot.shard_index] = moved;
        list.pop_back();
        if (moved != &sub) {
            for (auto& other : moved->slots) {
                if (other.ch == slot.ch) other.shard_index = slot.shard_index;
            }
        }
        if (list.empty()) local.erase(entry);
    }
    channel_registry::detach(sub);
    subscriptions_.erase(it);
}

void memory_broker::maintain(std::chrono::steady_clock::time_point now) {
    std::lock_guard lock(mutex_);
    std::optional<std::chrono::steady_clock::time_point> oldest_allowed;
    if (options_.max_age) oldest_allowed = now - *options_.max_age;
    auto swept = registry_.sweep(now, oldest_allowed, options_.channel_grace);
    stats_.evicted += swept.evicted;
    stats_.channels_dropped += swept.dropped;
}

broker_stats memory_broker::stats() const {
    std::lock_guard lock(mutex_);
    auto s = stats_;
    s.channels = registry_.size();
    s.subscriptions = subscriptions_.size();
    return s;
}

std::vector<channel_info> memory_broker::channels() const {
    std::lock_guard lock(mutex_);
    std::vector<channel_info> out;
    out.reserve(registry_.size());
    registry_.for_each([&](const channel& ch) {
        channel_info info{ch.name, ch.subscribers.size(), ch.ring.size(), std::nullopt};
        if (!ch.ring.empty())
            info.last_id = to_string(event_id{options_.epoch, ch.ring.newest().seq});
        out.push_back(std::move(info));
    });
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    return out;
}

channel_census memory_broker::census(std::span<const std::size_t> bounds,
                                     std::size_t busiest) const {
    channel_census out;
    out.at_most.assign(bounds.size(), 0);
    // The busiest so far as a min-heap (the least busy of them on top), so that the names copied
    // are only those of the final few.
    using entry = std::pair<std::size_t, const channel*>;
    auto busier = [](const entry& a, const entry& b) {
        return a.first != b.first ? a.first > b.first : a.second->name < b.second->name;
    };
    std::vector<entry> heap;
    heap.reserve(busiest);
    std::lock_guard lock(mutex_);
    registry_.for_each([&](const channel& ch) {
        auto n = ch.subscribers.size();
        ++out.channels;
        out.subscriptions += n;
        // Counted at the first bound that holds n; made cumulative below.
        auto first = std::lower_bound(bounds.begin(), bounds.end(), n);
        if (first != bounds.end()) ++out.at_most[static_cast<std::size_t>(first - bounds.begin())];
        if (busiest == 0) return;
        entry e{n, &ch};
        if (heap.size() < busiest) {
            heap.push_back(e);
            std::push_heap(heap.begin(), heap.end(), busier);
        } else if (busier(e, heap.front())) {
            std::pop_heap(heap.begin(), heap.end(), busier);
            heap.back() = e;
            std::push_heap(heap.begin(), heap.end(), busier);
        }
    });
    for (std::size_t i = 1; i < out.at_most.size(); ++i) out.at_most[i] += out.at_most[i - 1];
    std::sort_heap(heap.begin(), heap.end(), busier);
    out.busiest.reserve(heap.size());
    for (const auto& [n, ch] : heap) out.busiest.emplace_back(ch->name, n);
    return out;
}

}  // namespace ssecast
