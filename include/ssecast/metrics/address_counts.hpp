#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <unordered_map>

namespace ssecast {

// Whom --max-connections-per-ip counts a connection against: an IPv4 address, or the /64 of an
// IPv6 address (one subscriber line usually gets a whole /64, so counting single IPv6 addresses
// would limit nothing).
struct address_key {
    std::array<std::uint8_t, 8> bytes{};  // IPv4: the first 4; IPv6: the /64
    bool v6 = false;

    bool operator==(const address_key&) const = default;
};

struct address_key_hash {
    std::size_t operator()(const address_key& key) const noexcept;
};

// Open connections per address, shared by every worker. An address is in the map only while it
// has a connection, so the map is never larger than the open connections. One short lock per
// change, never held for anything else.
class address_counts {
  public:
    // Counts one more connection from `key`; how many it has now, this one included.
    std::size_t add(const address_key& key);
    void remove(const address_key& key);
    // Addresses with at least one connection.
    std::size_t size() const;

  private:
    mutable std::mutex mutex_;
    std::unordered_map<address_key, std::size_t, address_key_hash> counts_;
};

}  // namespace ssecast
