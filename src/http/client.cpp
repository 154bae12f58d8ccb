#include "ssecast/http/client.hpp"

#include <algorithm>
#include <boost/beast/core/string.hpp>
#include <charconv>

namespace ssecast {

namespace ip = boost::asio::ip;

bool is_loopback(const ip::address& address) {
    return unmapped(address).is_loopback();
}

bool has_proxy_header(const request& req) {
    // Headers that proxies and CDNs add to say who the client was or that they relayed the
    // request. Only a proxy would send them, so any of them makes a request relayed: it then never
    // counts as local, whatever the peer. Only X-Forwarded-For from a trusted proxy names the
    // client (resolve_client); the others are never believed.
    static constexpr std::string_view names[] = {
        "X-Forwarded-For",  "Forwarded",         "X-Real-IP",        "Via",
        "X-Forwarded-Host", "X-Forwarded-Proto", "CF-Connecting-IP", "True-Client-IP",
        "X-Client-IP",
    };
    // One pass over the request's few fields, not a lookup per name.
    for (const auto& field : req) {
        auto have = field.name_string();
        for (auto name : names) {
            if (boost::beast::iequals(have, boost::beast::string_view(name.data(), name.size())))
                return true;
        }
    }
    return false;
}

namespace {

constexpr std::string_view forwarded_for = "X-Forwarded-For";

bool valid_port(std::string_view digits) {
    unsigned port = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    return !digits.empty() && digits.size() <= 5 && ec == std::errc{} &&
           end == digits.data() + digits.size() && port <= 65535;
}

// One X-Forwarded-For entry: IPv4, IPv6, [IPv6], [IPv6]:port or IPv4:port.
std::optional<ip::address> parse_entry(std::string_view entry) {
    boost::system::error_code ec;
    if (entry.find('%') != std::string_view::npos) return std::nullopt;  // a zone: not a client
    if (entry.front() == '[') {
        auto close = entry.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        auto rest = entry.substr(close + 1);
        if (!rest.empty() && (rest.front() != ':' || !valid_port(rest.substr(1))))
            return std::nullopt;
        auto v6 = ip::make_address_v6(std::string(entry.substr(1, close - 1)), ec);
        if (ec) return std::nullopt;
        return ip::address(v6);
    }
    if (std::count(entry.begin(), entry.end(), ':') == 1) {
        auto colon = entry.find(':');
        if (!valid_port(entry.substr(colon + 1))) return std::nullopt;
        auto v4 = ip::make_address_v4(std::string(entry.substr(0, colon)), ec);
        if (ec) return std::nullopt;
        return ip::address(v4);
    }
    auto address = ip::make_address(std::string(entry), ec);
    if (ec) return std::nullopt;
    return address;
}

// The entries of every X-Forwarded-For field, in order, without the empty ones (RFC 9110 §5.6.1).
std::vector<std::string_view> forwarded_entries(const request& req) {
    std::vector<std::string_view> entries;
    auto [first, last] =
        req.equal_range(boost::beast::string_view(forwarded_for.data(), forwarded_for.size()));
    for (auto field = first; field != last; ++field) {
        std::string_view rest(field->value().data(), field->value().size());
        while (true) {
            auto comma = rest.find(',');
            auto item = rest.substr(0, comma);
            while (!item.empty() && (item.front() == ' ' || item.front() == '\t'))
                item.remove_prefix(1);
            while (!item.empty() && (item.back() == ' ' || item.back() == '\t'))
                item.remove_suffix(1);
            if (!item.empty()) entries.push_back(item);
            if (comma == std::string_view::npos) break;
            rest.remove_prefix(comma + 1);
        }
    }
    return entries;
}

// An entry as an error message may quote it: short, printable ASCII only.
std::string quoted(std::string_view text) {
    std::string out(text.substr(0, 64));
    for (auto& c : out) {
        if (c < 0x20 || c > 0x7e) c = '?';
    }
    return "\"" + out + (text.size() > 64 ? "...\"" : "\"");
}

}  // namespace

client resolve_client(const ip::address& peer, const request& req,
                      const std::vector<ip_network>& trusted_proxies) {
    auto who = client::direct(peer);
    who.trusted_peer = in_networks(trusted_proxies, peer);
    who.forwarded = has_proxy_header(req);
    if (!who.trusted_peer || !who.forwarded) return who;
    auto entries = forwarded_entries(req);
    // From the right: each proxy appended the address it received the request from, so the first
    // one that is not a trusted proxy is the client. Entries left of it are the client's own say.
    std::optional<ip::address> named;
    for (auto entry = entries.rbegin(); entry != entries.rend(); ++entry) {
        named = parse_entry(*entry);
        if (!named) {
            who.problem = "X-Forwarded-For entry " + quoted(*entry) +
                          " is not an IP address (from a trusted proxy, --trusted-proxies)";
            return who;
        }
        if (!in_networks(trusted_proxies, *named)) break;
    }
    // Named by a proxy we trust: the client is known, whatever other proxy headers say.
    if (named) {
        who.address = *named;
        who.named_by_proxy = true;
        who.forwarded = false;
    }
    return who;
}

std::string log_label(const client& who, std::optional<std::uint16_t> port) {
    auto with_port = [&](const ip::address& address) {
        return port ? address.to_string() + ":" + std::to_string(*port) : address.to_string();
    };
    if (!who.named_by_proxy) return with_port(who.peer);
    return who.address.to_string() + " proxy=" + with_port(who.peer);
}

}  // namespace ssecast
