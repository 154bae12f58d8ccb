#include "ssecast/http/address_limit.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "ssecast/config/config.hpp"

namespace ssecast {

address_key key_of(const boost::asio::ip::address& address) {
    auto plain = unmapped(address);
    address_key key;
    if (plain.is_v4()) {
        auto bytes = plain.to_v4().to_bytes();
        std::copy(bytes.begin(), bytes.end(), key.bytes.begin());
        return key;
    }
    auto bytes = plain.to_v6().to_bytes();
    std::copy(bytes.begin(), bytes.begin() + key.bytes.size(), key.bytes.begin());
    key.v6 = true;
    return key;
}

std::string to_string(const address_key& key) {
    if (!key.v6) {
        boost::asio::ip::address_v4::bytes_type bytes{};
        std::copy(key.bytes.begin(), key.bytes.begin() + bytes.size(), bytes.begin());
        return boost::asio::ip::address_v4(bytes).to_string();
    }
    boost::asio::ip::address_v6::bytes_type bytes{};
    std::copy(key.bytes.begin(), key.bytes.end(), bytes.begin());
    return boost::asio::ip::address_v6(bytes).to_string() + "/64";
}

address_limit::address_limit(const config& settings)
    : limit_(settings.max_connections_per_ip), settings_(settings) {}

std::optional<address_key> address_limit::accept_key(const boost::asio::ip::address& peer) const {
    if (limit_ == 0 || in_networks(settings_.trusted_proxies, peer)) return std::nullopt;
    return key_of(peer);
}

std::optional<address_key> address_limit::request_key(const client& who) {
    if (!who.named_by_proxy) return std::nullopt;
    return key_of(who.address);
}

address_limit::verdict address_limit::judge(std::size_t count, const boost::asio::ip::address& who,
                                            bool may_drop) {
    if (limit_ == 0 || count <= limit_) return verdict::within;
    refused_.fetch_add(1, std::memory_order_relaxed);
    warn(who);
    return may_drop && count > limit_ + overflow_answers ? verdict::drop : verdict::refuse;
}

void address_limit::warn(const boost::asio::ip::address& who) {
    unreported_.fetch_add(1, std::memory_order_relaxed);
    auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                   std::chrono::steady_clock::now().time_since_epoch())
                   .count();
    auto last = last_warning_.load(std::memory_order_relaxed);
    constexpr std::int64_t second = 1'000'000'000;
    if (last != INT64_MIN && now - last < second) return;
    // One thread wins the second; the others' refusals are in the count it reports.
    if (!last_warning_.compare_exchange_strong(last, now, std::memory_order_relaxed)) return;
    auto refused = unreported_.exchange(0, std::memory_order_relaxed);
    auto plain = unmapped(who);
    spdlog::warn(
        "connection limit per address reached (--max-connections-per-ip {}): refused a "
        "connection from {}{}; {} refused since the last such warning{}",
        limit_, plain.to_string(), plain.is_v6() ? " (counted per /64)" : "", refused,
        is_loopback(plain)
            ? "; this is a loopback address: if a proxy on this host relays the clients, list it "
              "in --trusted-proxies so that each client is counted by its X-Forwarded-For"
            : "");
}

}  // namespace ssecast
