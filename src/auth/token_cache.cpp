#include "ssecast/auth/token_cache.hpp"

#include <iterator>
#include <utility>

namespace ssecast {

token_cache::token_cache(std::size_t capacity) : capacity_(capacity) {}

std::optional<authenticated> token_cache::find(std::string_view token, std::uint64_t generation,
                                               std::chrono::system_clock::time_point now) {
    switch_generation(generation);
    const auto found = index_.find(token);
    if (found == index_.end()) {
        ++misses_;
        return std::nullopt;
    }
    const entry_list::iterator position = found->second;
    if (position->valid_until && now >= *position->valid_until) {
        erase(position);
        ++misses_;
        return std::nullopt;
    }
    entries_.splice(entries_.begin(), entries_, position);
    ++hits_;
    return position->value;
}

void token_cache::insert(std::string_view token, authenticated value,
                         std::optional<std::chrono::system_clock::time_point> valid_until,
                         std::uint64_t generation) {
    if (capacity_ == 0) return;
    switch_generation(generation);
    if (const auto found = index_.find(token); found != index_.end()) erase(found->second);
    if (entries_.size() == capacity_) erase(std::prev(entries_.end()));
    entries_.push_front({std::string(token), std::move(value), valid_until});
    index_.emplace(entries_.front().token, entries_.begin());
}

void token_cache::switch_generation(std::uint64_t generation) {
    if (generation == generation_) return;
    index_.clear();
    entries_.clear();
    generation_ = generation;
}

void token_cache::erase(entry_list::iterator position) {
    index_.erase(position->token);
    entries_.erase(position);
}

}  // namespace ssecast
