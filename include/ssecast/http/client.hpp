#pragma once

#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ssecast/config/ip_network.hpp"
#include "ssecast/http/request.hpp"

namespace ssecast {

bool is_loopback(const boost::asio::ip::address& address);

// Who sent a request, worked out once per request for the access rules, the logs and the limits.
struct client {
    // The client: the TCP peer, or whom a trusted proxy's X-Forwarded-For names.
    boost::asio::ip::address address;
    boost::asio::ip::address peer;  // the TCP peer: the proxy, when one relayed the request
    bool trusted_peer = false;      // the peer is one of --trusted-proxies
    bool named_by_proxy = false;    // `address` comes from the trusted peer's X-Forwarded-For
    // The request carries a header only proxies add (see has_proxy_header) and no trusted proxy
    // named the client: a proxy relayed it from someone else, so the address is the proxy's.
    bool forwarded = false;
    // Set when a trusted proxy's X-Forwarded-For cannot be read: the request is refused (400)
    // with this rather than attributed to the proxy.
    std::string problem;

    // The TCP peer, before anything of its request is known.
    static client direct(const boost::asio::ip::address& peer) {
        client who;
        who.address = who.peer = peer;
        return who;
    }

    // A process on this machine, talking to us directly or through a trusted proxy on this machine
    // that says so (a loopback client of a proxy elsewhere is on the proxy's machine). Behind a
    // same-host Nginx every request comes from 127.0.0.1, hence the forwarding test.
    bool local() const {
        return is_loopback(address) && !forwarded && (!named_by_proxy || is_loopback(peer));
    }
};

// X-Forwarded-For, Forwarded, X-Real-IP, Via, X-Forwarded-Host, X-Forwarded-Proto,
// CF-Connecting-IP, True-Client-IP or X-Client-IP.
bool has_proxy_header(const request& req);

// The client of `req`, received from `peer`. Only when the peer is one of `trusted_proxies` is
// X-Forwarded-For read: every field of it as one list, walked from the right; the client is the
// first address that is not a trusted proxy (the leftmost when all are).
client resolve_client(const boost::asio::ip::address& peer, const request& req,
                      const std::vector<ip_network>& trusted_proxies = {});

// What the log lines show after "peer=": the client, then " proxy=ADDRESS" when a trusted proxy
// named it. `port`, the TCP peer's, goes after the TCP peer's address (stream lines show it).
std::string log_label(const client& who, std::optional<std::uint16_t> port = std::nullopt);

}  // namespace ssecast
