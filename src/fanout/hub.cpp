#include "ssecast/fanout/hub.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>

namespace ssecast {

struct hub::subscription {
    struct slot {
        channel* ch = nullptr;
        std::size_t index = 0;         // in ch->subscribers (under the hub's lock)
        std::size_t worker_index = 0;  // in its worker's list for ch (on the worker's thread)
    };
    struct held_event {
        frame encoded;
        std::uint64_t seq = 0;
        std::chrono::steady_clock::time_point published;
    };

    std::uint64_t id = 0;
    subscriber* sink = nullptr;
    std::size_t worker = 0;
    // Highest seq handed over (or held), on its worker's thread: an event on several of its
    // channels goes out once, and nothing already in its backlog goes out again.
    std::uint64_t last_seq = 0;
    // Stamp of the last event that counted it, under the hub's lock: a subscriber of several of
    // an event's channels counts once in `delivered`.
    std::uint64_t counted_seq = 0;
    std::uint64_t flush_round = 0;  // worker thread: the round that last queued to it
    // Worker thread: until go_live(), events wait in `held` (the backlog is still being read).
    bool live = false;
    bool overflowed = false;
    std::size_t held_limit = 0;
    std::size_t held_bytes = 0;
    std::vector<held_event> held;
    std::vector<slot> slots;
};

struct hub::channel {
    std::uint64_t id = 0;  // never reused, unlike names: a delivery names channels by id
    std::string name;
    std::vector<subscription*> subscribers;
    std::vector<std::uint32_t> worker_subscribers;  // how many of them each worker owns
};

struct hub::worker {
    // Events waiting for the worker's loop, in seq order. A queue of our own rather than one
    // posted handler per event: Asio may run a handler posted from the loop's own thread before
    // one posted earlier from another thread, and the order must be the seq order.
    std::mutex mutex;
    std::vector<delivery> pending;
    bool drain_posted = false;
    // Touched only on the worker's thread: channel id -> its subscribers there.
    std::unordered_map<std::uint64_t, std::vector<subscription*>> subscribers;
    std::vector<subscriber*> touched;  // scratch space of deliver(), kept to reuse its memory
    std::uint64_t rounds = 0;          // deliver() calls so far
};

hub::hub(std::vector<boost::asio::any_io_executor> workers)
    : executors_(std::move(workers)), workers_(std::max<std::size_t>(1, executors_.size())) {
    for (auto& w : workers_) w = std::make_unique<worker>();
}

hub::~hub() = default;

void hub::on_committed(std::span<const committed_event> events,
                       std::span<std::size_t> delivered) {
    std::lock_guard lock(mutex_);
    // What each worker must deliver, handed over once per worker for the whole batch.
    std::vector<std::vector<delivery>> outgoing(workers_.size());
    std::vector<bool> needed(workers_.size());
    for (std::size_t i = 0; i < events.size(); ++i) {
        const auto& event = events[i];
        delivery d{event.encoded, event.seq, event.published, {}};
        std::size_t count = 0;
        std::fill(needed.begin(), needed.end(), false);
        for (const auto& name : *event.channels) {
            auto it = channels_.find(name);
            if (it == channels_.end()) continue;
            auto& ch = *it->second;
            d.channels.push_back(ch.id);
            if (event.channels->size() == 1) {
                count = ch.subscribers.size();
            } else {
                for (auto* sub : ch.subscribers) {
                    if (sub->counted_seq == event.seq) continue;  // on several of its channels
                    sub->counted_seq = event.seq;
                    ++count;
                }
            }
            for (std::size_t k = 0; k < workers_.size(); ++k) {
                if (ch.worker_subscribers[k] > 0) needed[k] = true;
            }
        }
        delivered[i] = count;
        deliveries_ += count;
        if (d.channels.empty()) continue;
        for (std::size_t k = 0; k < workers_.size(); ++k) {
            if (needed[k]) outgoing[k].push_back(d);
        }
    }
    // Still under the lock, so every worker queue gets events in seq order.
    for (std::size_t k = 0; k < workers_.size(); ++k) {
        if (outgoing[k].empty()) continue;
        if (executors_.empty()) {
            deliver(k, outgoing[k]);
            continue;
        }
        auto& w = *workers_[k];
        std::lock_guard queue_lock(w.mutex);
        w.pending.insert(w.pending.end(), std::make_move_iterator(outgoing[k].begin()),
                         std::make_move_iterator(outgoing[k].end()));
        if (!w.drain_posted) {
            w.drain_posted = true;
            boost::asio::post(executors_[k], [this, k] { drain(k); });
        }
    }
}

void hub::drain(std::size_t index) {
    std::vector<delivery> work;
    {
        auto& w = *workers_[index];
        std::lock_guard queue_lock(w.mutex);
        work.swap(w.pending);
        w.drain_posted = false;
    }
    deliver(index, work);
}

void hub::deliver(std::size_t index, const std::vector<delivery>& work) {
    auto& w = *workers_[index];
    // Every subscriber that got something is flushed once, after the whole batch.
    auto& touched = w.touched;
    touched.clear();
    auto round = ++w.rounds;
    for (const auto& d : work) {
        for (auto channel_id : d.channels) {
            auto it = w.subscribers.find(channel_id);
            if (it == w.subscribers.end()) continue;
            for (auto* sub : it->second) {
                if (sub->overflowed) continue;  // the hand-over was given up: nothing more goes out
                if (sub->last_seq >= d.seq) continue;  // in its backlog, or sent via another channel
                sub->last_seq = d.seq;
                if (!sub->live) {
                    hand_over(*sub, d.encoded, d.seq, d.published);
                    continue;
                }
                if (sub->flush_round != round) {
                    sub->flush_round = round;
                    touched.push_back(sub->sink);
                }
                sub->sink->deliver(d.encoded, d.published);
            }
        }
    }
    for (auto* sink : touched) sink->flush();
}

void hub::hand_over(subscription& sub, const frame& f, std::uint64_t seq,
                    std::chrono::steady_clock::time_point published) {
    if (sub.overflowed) return;
    if (sub.held_bytes + f->size() > sub.held_limit) {
        // The backlog read is slower than the channel: rather than hold without bound, give up on
        // the hand-over; the subscriber starts again from the last event it got.
        sub.overflowed = true;
        sub.held.clear();
        sub.held.shrink_to_fit();
        return;
    }
    sub.held_bytes += f->size();
    sub.held.push_back({f, seq, published});
}

std::uint64_t hub::add(const std::vector<std::string>& channel_names, subscriber& sink,
                       std::size_t worker_index, std::size_t held_limit) {
    subscription* sub = nullptr;
    {
        std::lock_guard lock(mutex_);
        auto owned = std::make_unique<subscription>();
        sub = owned.get();
        sub->id = next_subscription_++;
        sub->sink = &sink;
        sub->worker = worker_index;
        sub->held_limit = held_limit;
        for (const auto& name : channel_names) {
            auto it = channels_.find(name);
            if (it == channels_.end()) {
                auto ch = std::make_unique<channel>();
                ch->id = next_channel_++;
                ch->name = name;
                ch->worker_subscribers.assign(workers_.size(), 0);
                it = channels_.emplace(name, std::move(ch)).first;
            }
            auto& ch = *it->second;
            sub->slots.push_back({&ch, ch.subscribers.size(), 0});
            ch.subscribers.push_back(sub);
            ++ch.worker_subscribers[worker_index];
        }
        subscriptions_.emplace(sub->id, std::move(owned));
    }
    // This runs on the worker's thread, so no delivery for it runs before this registration, and
    // a delivery queued after the counts above changed will find the subscription.
    auto& local = workers_[worker_index]->subscribers;
    for (auto& slot : sub->slots) {
        auto& list = local[slot.ch->id];
        slot.worker_index = list.size();
        list.push_back(sub);
    }
    return sub->id;
}

bool hub::is_registered(std::uint64_t id) const {
    std::lock_guard lock(mutex_);
    return subscriptions_.count(id) > 0;
}

hub::handoff hub::go_live(std::uint64_t id, std::uint64_t head) {
    subscription* sub = nullptr;
    {
        std::lock_guard lock(mutex_);
        auto it = subscriptions_.find(id);
        if (it == subscriptions_.end()) return handoff::gone;
        sub = it->second.get();
    }
    // The rest is the worker thread's own state.
    sub->live = true;
    auto held = std::move(sub->held);
    sub->held_bytes = 0;
    if (sub->overflowed) return handoff::overflowed;
    bool any = false;
    for (const auto& e : held) {
        if (e.seq <= head) continue;  // in the backlog already
        sub->sink->deliver(e.encoded, e.published);
        any = true;
    }
    sub->last_seq = std::max(sub->last_seq, head);
    if (any) sub->sink->flush();
    return handoff::live;
}

hub::removed hub::remove(std::uint64_t id) {
    removed out;
    std::lock_guard lock(mutex_);
    auto it = subscriptions_.find(id);
    if (it == subscriptions_.end()) return out;
    auto& sub = *it->second;
    out.found = true;
    out.was_live = sub.live;
    // Called on the subscriber's worker thread: its worker-local lists are ours to change.
    auto& local = workers_[sub.worker]->subscribers;
    for (const auto& slot : sub.slots) {
        auto* ch = slot.ch;
        out.channels.push_back(ch->name);
        auto entry = local.find(ch->id);
        auto& list = entry->second;
        auto* moved = list.back();
        list[slot.worker_index] = moved;
        list.pop_back();
        if (moved != &sub) {
            for (auto& other : moved->slots) {
                if (other.ch == ch) other.worker_index = slot.worker_index;
            }
        }
        if (list.empty()) local.erase(entry);

        auto& subs = ch->subscribers;
        moved = subs.back();
        subs[slot.index] = moved;
        subs.pop_back();
        if (moved != &sub) {
            for (auto& other : moved->slots) {
                if (other.ch == ch) other.index = slot.index;
            }
        }
        --ch->worker_subscribers[sub.worker];
        if (subs.empty()) channels_.erase(out.channels.back());
    }
    subscriptions_.erase(it);
    return out;
}

std::size_t hub::subscriptions() const {
    std::lock_guard lock(mutex_);
    return subscriptions_.size();
}

std::uint64_t hub::deliveries() const {
    std::lock_guard lock(mutex_);
    return deliveries_;
}

void hub::count_subscribers(std::vector<channel_info>& infos) const {
    std::lock_guard lock(mutex_);
    for (auto& info : infos) {
        auto it = channels_.find(info.name);
        info.subscribers = it == channels_.end() ? 0 : it->second->subscribers.size();
    }
}

hub::spread hub::census(std::span<const std::size_t> bounds, std::size_t busiest) const {
    spread out;
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
    for (const auto& [name, ch] : channels_) {
        auto n = ch->subscribers.size();
        ++out.channels;
        out.subscriptions += n;
        // Counted at the first bound that holds n; made cumulative below.
        auto first = std::lower_bound(bounds.begin(), bounds.end(), n);
        if (first != bounds.end()) ++out.at_most[static_cast<std::size_t>(first - bounds.begin())];
        if (busiest == 0) continue;
        entry e{n, ch.get()};
        if (heap.size() < busiest) {
            heap.push_back(e);
            std::push_heap(heap.begin(), heap.end(), busier);
        } else if (busier(e, heap.front())) {
            std::pop_heap(heap.begin(), heap.end(), busier);
            heap.back() = e;
            std::push_heap(heap.begin(), heap.end(), busier);
        }
    }
    for (std::size_t i = 1; i < out.at_most.size(); ++i) out.at_most[i] += out.at_most[i - 1];
    std::sort_heap(heap.begin(), heap.end(), busier);
    out.busiest.reserve(heap.size());
    for (const auto& [n, ch] : heap) out.busiest.emplace_back(ch->name, n);
    return out;
}

}  // namespace ssecast
