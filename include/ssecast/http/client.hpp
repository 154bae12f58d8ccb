#pragma once

#include <boost/asio/ip/address.hpp>

#include "ssecast/http/request.hpp"

namespace ssecast {

bool is_loopback(const boost::asio::ip::address& address);

// Who sent a request, worked out once per request for the access rules, the logs and the limits.
struct client {
    boost::asio::ip::address address;
    // The request carries a header only proxies add (see has_proxy_header): a proxy relayed it
    // from someone else, so the address is the proxy's, not the client's.
    bool forwarded = false;

    // A process on this machine talking to us directly. Behind a same-host Nginx every request
    // comes from 127.0.0.1, hence the forwarding header test.
    bool local() const { return is_loopback(address) && !forwarded; }
};

// X-Forwarded-For, Forwarded, X-Real-IP, Via, X-Forwarded-Host, X-Forwarded-Proto,
// CF-Connecting-IP, True-Client-IP or X-Client-IP.
bool has_proxy_header(const request& req);

// The client of `req`, received from `peer`.
client resolve_client(const boost::asio::ip::address& peer, const request& req);

}  // namespace ssecast
