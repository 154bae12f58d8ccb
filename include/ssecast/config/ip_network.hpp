#pragma once

#include <boost/asio/ip/address.hpp>
#include <optional>
#include <string>
#include <vector>

namespace ssecast {

// An IPv4-mapped IPv6 address (::ffff:a.b.c.d) as the IPv4 address it stands for; any other
// address as it is. A dual-stack listener sees IPv4 clients that way: they must compare as IPv4.
boost::asio::ip::address unmapped(const boost::asio::ip::address& address);

// An IPv4 or IPv6 network, as --trusted-proxies lists them: an address and a prefix length.
struct ip_network {
    boost::asio::ip::address base;  // host bits zero; IPv4 for an IPv4-mapped network
    unsigned prefix = 0;            // 0 to 32 (IPv4) or 128 (IPv6)

    bool contains(const boost::asio::ip::address& address) const;
    std::string to_string() const;  // "10.0.0.0/8"
    bool operator==(const ip_network&) const = default;
};

// Splits a comma-separated list of networks into `out`: "10.0.0.0/8", "fd00::/8", or an address
// alone ("127.0.0.1", "::1": /32, /128). The problem, naming the entry, when one is not valid.
std::optional<std::string> parse_networks(const std::string& text, std::vector<ip_network>& out);

bool in_networks(const std::vector<ip_network>& networks, const boost::asio::ip::address& address);

}  // namespace ssecast
