#include "ssecast/backend/memory/memory_storage.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <unordered_set>

#include "ssecast/core/event_id.hpp"
#include "ssecast/core/validation.hpp"

namespace ssecast {

namespace {

// A resume point is echoed back in the resync notice; garbage can be long, keep the echo short.
constexpr std::size_t max_echoed_id = 128;

}  // namespace

memory_storage::memory_storage(memory_storage_options options, event_sink& sink,
                               history_observer* observer)
    : options_(std::move(options)),
      sink_(sink),
      observer_(observer),
      registry_(options_.max_channels, options_.history) {}

std::optional<std::vector<std::vector<channel*>>> memory_storage::resolve(
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

void memory_storage::publish(std::vector<new_event> batch, const boost::asio::any_io_executor&,
                             publish_handler done) {
    // In memory, stored is committed: the answer is ready at once, on the caller's thread. One
    // lock for both steps: another thread's batch must not take a seq in between and be handed
    // to the hub first (the hub's order is the seq order).
    publish_result result;
    {
        std::lock_guard lock(mutex_);
        auto ready = prepare_locked(batch);
        if (!ready) {
            result.error = store_errc::channel_limit;
        } else {
            result.receipts = commit_locked(std::move(*ready));
        }
    }
    done(std::move(result));
}

std::optional<memory_storage::prepared> memory_storage::prepare(
    const std::vector<new_event>& batch) {
    std::lock_guard lock(mutex_);
    return prepare_locked(batch);
}

std::vector<publish_receipt> memory_storage::commit(prepared batch) {
    std::lock_guard lock(mutex_);
    return commit_locked(std::move(batch));
}

std::optional<memory_storage::prepared> memory_storage::prepare_locked(
    const std::vector<new_event>& batch) {
    std::vector<const std::vector<std::string>*> lists;
    lists.reserve(batch.size());
    for (const auto& event : batch) lists.push_back(&event.channels);
    auto resolved = resolve(lists);
    if (!resolved) return std::nullopt;

    auto now = std::chrono::steady_clock::now();
    prepared out;
    out.events.reserve(batch.size());
    for (std::size_t i = 0; i < batch.size(); ++i) {
        const auto& event = batch[i];
        auto& e = out.events.emplace_back();
        e.seq = ++last_seq_;
        e.id = to_string(event_id{options_.epoch, e.seq});
        e.encoded = make_event_frame({e.id, event.type, event.data, event.retry_ms});
        e.published = now;
        e.targets = std::move((*resolved)[i]);
        for (auto* ch : e.targets) {
            ++ch->pending;
            e.names.push_back(ch->name);
        }
    }
    return out;
}

void memory_storage::push(channel& ch, std::uint64_t seq,
                          std::chrono::steady_clock::time_point published, const frame& encoded) {
    auto evicted_before = ch.ring.max_evicted_seq();
    ch.ring.push({seq, published, encoded});
    if (observer_ != nullptr && ch.ring.max_evicted_seq() != evicted_before)
        observer_->evicted(ch.name, ch.ring.max_evicted_seq());
}

std::vector<publish_receipt> memory_storage::commit_locked(prepared batch) {
    std::vector<committed_event> events;
    events.reserve(batch.events.size());
    for (auto& e : batch.events) {
        for (auto* ch : e.targets) {
            push(*ch, e.seq, e.published, e.encoded);
            --ch->pending;
        }
        committed_seq_ = e.seq;
        events.push_back({e.seq, e.encoded, e.published, &e.names});
    }
    stats_.published += events.size();
    std::vector<std::size_t> delivered(events.size());
    // Under the lock: the sink gets events in seq order, and a subscription's snapshot (also under
    // it) either holds an event or comes before the sink got it.
    sink_.on_committed(events, delivered);
    std::vector<publish_receipt> receipts;
    receipts.reserve(events.size());
    for (std::size_t i = 0; i < events.size(); ++i)
        receipts.push_back({std::move(batch.events[i].id), delivered[i]});
    return receipts;
}

void memory_storage::abandon(const prepared& batch) {
    std::lock_guard lock(mutex_);
    for (const auto& e : batch.events) {
        for (auto* ch : e.targets) --ch->pending;
    }
}

void memory_storage::restore(const std::vector<restored_event>& events,
                             const std::vector<std::pair<std::string, std::uint64_t>>& evicted,
                             std::uint64_t floor, std::uint64_t last_seq) {
    std::lock_guard lock(mutex_);
    registry_.restore_floor(floor);
    for (const auto& [name, seq] : evicted) {
        auto* ch = registry_.find_or_create(name, true);
        ch->evicted_floor = std::max(ch->evicted_floor, seq);
    }
    // Pushed in seq order: a ring smaller than what was stored (--history lowered) evicts the
    // oldest, and the observer deletes them from the store too.
    for (const auto& e : events) {
        for (const auto& name : e.channels) push(*registry_.find_or_create(name, true), e.seq,
                                                 e.published, e.encoded);
    }
    last_seq_ = committed_seq_ = last_seq;
}

void memory_storage::subscribe(const std::vector<std::string>& channel_names,
                               std::optional<std::string_view> last_event_id,
                               const boost::asio::any_io_executor&, replay_handler done) {
    replay_result start;
    {
        std::lock_guard lock(mutex_);
        auto resolved = resolve({&channel_names});
        if (!resolved) {
            start.error = store_errc::channel_limit;
        } else {
            const auto& chans = resolved->front();
            if (last_event_id) {
                auto resume = parse_event_id(*last_event_id);
                // An id is only meaningful in this epoch, and up to what is stored.
                bool known =
                    resume && resume->epoch == options_.epoch && resume->seq <= committed_seq_;
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
                // Several channels: merge in seq order; an event on two of them is sent once.
                std::sort(missed.begin(), missed.end(),
                          [](const stored_event* a, const stored_event* b) {
                              return a->seq < b->seq;
                          });
                missed.erase(std::unique(missed.begin(), missed.end(),
                                         [](const stored_event* a, const stored_event* b) {
                                             return a->seq == b->seq;
                                         }),
                             missed.end());

                if (gap) {
                    auto position = missed.empty() ? committed_seq_ : missed.front()->seq - 1;
                    start.backlog.push_back(resync_notice(*last_event_id, position, oldest));
                    start.resync = true;
                    ++stats_.resyncs;
                }
                for (const auto* event : missed) start.backlog.push_back(event->data);
                start.replayed = missed.size();
                stats_.replayed += missed.size();
            }
            for (auto* ch : chans) {
                ++ch->watchers;
                ch->empty_since.reset();
            }
            start.head = committed_seq_;
            start.position = to_string(event_id{options_.epoch, committed_seq_});
        }
    }
    done(std::move(start));
}

frame memory_storage::resync_notice(std::string_view last_event_id, std::uint64_t position_seq,
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

void memory_storage::unwatch(const std::vector<std::string>& channel_names) {
    std::lock_guard lock(mutex_);
    for (const auto& name : channel_names) {
        if (auto* ch = registry_.find(name); ch != nullptr && ch->watchers > 0) --ch->watchers;
    }
}

void memory_storage::maintain(std::chrono::steady_clock::time_point now) {
    std::lock_guard lock(mutex_);
    std::optional<std::chrono::steady_clock::time_point> oldest_allowed;
    if (options_.max_age) oldest_allowed = now - *options_.max_age;
    auto swept = registry_.sweep(now, oldest_allowed, options_.channel_grace, observer_);
    stats_.evicted += swept.evicted;
    stats_.channels_dropped += swept.dropped;
}

storage_stats memory_storage::stats() const {
    std::lock_guard lock(mutex_);
    auto s = stats_;
    s.channels = registry_.size();
    return s;
}

std::vector<channel_info> memory_storage::channels() const {
    std::lock_guard lock(mutex_);
    std::vector<channel_info> out;
    out.reserve(registry_.size());
    registry_.for_each([&](const channel& ch) {
        channel_info info{ch.name, 0, ch.ring.size(), std::nullopt};
        if (!ch.ring.empty())
            info.last_id = to_string(event_id{options_.epoch, ch.ring.newest().seq});
        out.push_back(std::move(info));
    });
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    return out;
}

}  // namespace ssecast
