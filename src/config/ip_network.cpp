#include "ssecast/config/ip_network.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <span>
#include <variant>

#include "ssecast/config/comma_list.hpp"

namespace ssecast {

namespace ip = boost::asio::ip;

namespace {

// The address as bytes, network order: 4 for IPv4, 16 for IPv6.
std::span<const unsigned char> bytes_of(const ip::address& address,
                                        std::array<unsigned char, 16>& storage) {
    if (address.is_v4()) {
        auto v4 = address.to_v4().to_bytes();
        std::copy(v4.begin(), v4.end(), storage.begin());
        return {storage.data(), v4.size()};
    }
    storage = address.to_v6().to_bytes();
    return {storage.data(), storage.size()};
}

// The first `prefix` bits of a and b are equal (both of the same family).
bool same_prefix(std::span<const unsigned char> a, std::span<const unsigned char> b,
                 unsigned prefix) {
    std::size_t whole = prefix / 8;
    for (std::size_t i = 0; i < whole; ++i) {
        if (a[i] != b[i]) return false;
    }
    unsigned rest = prefix % 8;
    if (rest == 0) return true;
    auto mask = static_cast<unsigned char>(0xff << (8 - rest));
    return (a[whole] & mask) == (b[whole] & mask);
}

// "10.0.0.0/8", "fd00::/8", or an address alone ("127.0.0.1", "::1": /32, /128); what is wrong
// with it otherwise.
std::variant<ip_network, std::string> parse_network(std::string_view text) {
    const std::string expected =
        "is not an IP address or network: expected entries such as 127.0.0.1, 10.0.0.0/8, ::1 or "
        "fd00::/8";
    auto slash = text.find('/');
    auto address_text = std::string(text.substr(0, slash));
    // A zone ("fe80::1%eth0") names an interface of this host, not a network.
    if (address_text.find('%') != std::string::npos) return expected;
    boost::system::error_code ec;
    auto address = ip::make_address(address_text, ec);
    if (ec) return expected;
    unsigned width = address.is_v4() ? 32 : 128;
    unsigned prefix = width;
    if (slash != std::string_view::npos) {
        auto digits = text.substr(slash + 1);
        auto [end, parse_ec] =
            std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
        if (digits.empty() || digits.size() > 3 || parse_ec != std::errc{} ||
            end != digits.data() + digits.size() || prefix > width)
            return expected;
    }
    // ::ffff:10.0.0.0/104 is 10.0.0.0/8: mapped peers are compared as IPv4.
    if (address.is_v6() && address.to_v6().is_v4_mapped() && prefix >= 96) {
        address = unmapped(address);
        prefix -= 96;
    }
    // Bits set below the prefix ("10.1.2.3/8") are refused rather than cleared: the network
    // would not be what was written, often a typo.
    std::array<unsigned char, 16> storage{};
    auto bytes = bytes_of(address, storage);
    bool host_bits = false;
    for (unsigned bit = prefix; bit < bytes.size() * 8; ++bit) {
        auto mask = static_cast<unsigned char>(1u << (7 - bit % 8));
        host_bits = host_bits || (storage[bit / 8] & mask) != 0;
        storage[bit / 8] &= static_cast<unsigned char>(~mask);
    }
    if (host_bits) {
        auto network = address.is_v4() ? ip::address(ip::address_v4(ip::address_v4::bytes_type{
                                             storage[0], storage[1], storage[2], storage[3]}))
                                       : ip::address(ip::address_v6(storage));
        return "has bits set below its /" + std::to_string(prefix) + " prefix: did you mean " +
               ip_network{network, prefix}.to_string() + "?";
    }
    return ip_network{address, prefix};
}

}  // namespace

ip::address unmapped(const ip::address& address) {
    if (address.is_v6() && address.to_v6().is_v4_mapped())
        return ip::make_address_v4(ip::v4_mapped, address.to_v6());
    return address;
}

bool ip_network::contains(const ip::address& address) const {
    auto candidate = unmapped(address);
    if (candidate.is_v4() != base.is_v4()) return false;
    std::array<unsigned char, 16> a{};
    std::array<unsigned char, 16> b{};
    return same_prefix(bytes_of(candidate, a), bytes_of(base, b), prefix);
}

std::string ip_network::to_string() const {
    return base.to_string() + "/" + std::to_string(prefix);
}

std::optional<std::string> parse_networks(const std::string& text, std::vector<ip_network>& out) {
    out.clear();
    for (const auto& item : split_comma_list(text)) {
        auto network = parse_network(item);
        if (auto* problem = std::get_if<std::string>(&network))
            return "\"" + item + "\" " + *problem;
        out.push_back(std::get<ip_network>(network));
    }
    return std::nullopt;
}

bool in_networks(const std::vector<ip_network>& networks, const ip::address& address) {
    for (const auto& network : networks) {
        if (network.contains(address)) return true;
    }
    return false;
}

}  // namespace ssecast
