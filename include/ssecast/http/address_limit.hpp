#pragma once

#include <atomic>
#include <boost/asio/ip/address.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "ssecast/http/client.hpp"
#include "ssecast/metrics/address_counts.hpp"

namespace ssecast {

struct config;

// The key --max-connections-per-ip counts `address` under: the IPv4 address (IPv4-mapped ones
// too), or the /64 of an IPv6 address.
address_key key_of(const boost::asio::ip::address& address);
// The key as text: "203.0.113.7", or "2001:db8:1:2::/64".
std::string to_string(const address_key& key);

// --max-connections-per-ip, shared by every worker: where connections are counted by address,
// and what becomes of one past the limit. A direct client counts under its own address from the
// accept on; a trusted proxy is not limited, but each request it relays counts under the client
// it names.
class address_limit {
  public:
    // Past the limit a connection still gets its answer (come back later, or 429), but only this
    // many at once per address; beyond that it is closed unanswered, as with --max-connections.
    static constexpr std::size_t overflow_answers = 32;

    enum class verdict { within, refuse, drop };

    explicit address_limit(const config& settings);

    // Where connection slots count by address; null when there is no limit (nothing is counted).
    address_counts* counts() { return limit_ > 0 ? &counts_ : nullptr; }
    // Addresses with open connections (the size of the map).
    std::size_t tracked() const { return counts_.size(); }
    // Connections and requests refused since the start.
    std::uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }

    // What a connection from `peer` counts under from its accept on: none for a trusted proxy.
    std::optional<address_key> accept_key(const boost::asio::ip::address& peer) const;
    // What a connection from a trusted proxy counts under while it carries this request: the
    // client the proxy named, or none when it named nobody (the proxy itself is not limited).
    static std::optional<address_key> request_key(const client& who);

    // A connection now counted `count` times (itself included) under the key of `who`: within the
    // limit, or refused (counted, logged). `drop` only when it may be closed unanswered.
    verdict judge(std::size_t count, const boost::asio::ip::address& who, bool may_drop);

  private:
    // At most one line a second for the whole daemon, however many are refused.
    void warn(const boost::asio::ip::address& who);

    std::size_t limit_;
    const config& settings_;
    address_counts counts_;
    std::atomic<std::uint64_t> refused_{0};
    std::atomic<std::int64_t> last_warning_{INT64_MIN};  // steady clock, nanoseconds
    std::atomic<std::uint64_t> unreported_{0};           // refused since the last warning
};

}  // namespace ssecast
