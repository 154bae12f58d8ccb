#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "ssecast/auth/auth_result.hpp"

namespace ssecast {

inline constexpr std::size_t default_token_cache_capacity = 4096;

// Remembers JWTs that verified, so a client presenting the same token again costs a hash lookup
// instead of a signature check. Bounded: at most `capacity` entries, the least recently used
// evicted first (capacity 0 caches nothing). Holds whole tokens, so at most
// capacity x max_jwt_size bytes of keys.
//
// An entry is returned only until its `valid_until` (a JWT's exp plus leeway; never for tokens
// without exp) and only for the key generation it was verified under: a lookup or insertion
// with another generation empties the cache first, so a reload of the keys takes effect at once.
// Only successes go in; a refused token is verified again each time.
//
// Not thread-safe, on purpose: each event-loop thread has its own, so lookups take no lock.
class token_cache {
  public:
    explicit token_cache(std::size_t capacity = default_token_cache_capacity);

    std::optional<authenticated> find(std::string_view token, std::uint64_t generation,
                                      std::chrono::system_clock::time_point now);
    void insert(std::string_view token, authenticated value,
                std::optional<std::chrono::system_clock::time_point> valid_until,
                std::uint64_t generation);

    std::size_t size() const { return entries_.size(); }
    std::uint64_t hits() const { return hits_; }
    std::uint64_t misses() const { return misses_; }

  private:
    struct entry {
        std::string token;
        authenticated value;
        std::optional<std::chrono::system_clock::time_point> valid_until;
    };
    using entry_list = std::list<entry>;

    void switch_generation(std::uint64_t generation);
    void erase(entry_list::iterator position);

    std::size_t capacity_;
    std::uint64_t generation_ = 0;
    entry_list entries_;  // most recently used first; nodes never move, so keys below stay valid
    std::unordered_map<std::string_view, entry_list::iterator> index_;  // views of entry::token
    std::uint64_t hits_ = 0;
    std::uint64_t misses_ = 0;
};

}  // namespace ssecast
