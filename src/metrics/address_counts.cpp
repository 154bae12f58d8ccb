#include "ssecast/metrics/address_counts.hpp"

#include <cstring>
#include <random>

namespace ssecast {

namespace {

// Clients choose their addresses: a seed drawn at start keeps them from picking addresses that
// all land in one bucket of the map.
const std::uint64_t hash_seed = std::random_device{}() * 0x9e3779b97f4a7c15ULL + 1;

}  // namespace

std::size_t address_key_hash::operator()(const address_key& key) const noexcept {
    std::uint64_t x = 0;
    std::memcpy(&x, key.bytes.data(), sizeof x);
    // splitmix64's finaliser: every bit of the key moves every bit of the hash.
    x ^= hash_seed + (key.v6 ? 1 : 0);
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return static_cast<std::size_t>(x ^ (x >> 31));
}

std::size_t address_counts::add(const address_key& key) {
    std::lock_guard lock(mutex_);
    return ++counts_[key];
}

void address_counts::remove(const address_key& key) {
    std::lock_guard lock(mutex_);
    auto it = counts_.find(key);
    if (it == counts_.end()) return;
    if (--it->second == 0) counts_.erase(it);
}

std::size_t address_counts::size() const {
    std::lock_guard lock(mutex_);
    return counts_.size();
}

}  // namespace ssecast
