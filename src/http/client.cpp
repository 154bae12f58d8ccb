#include "ssecast/http/client.hpp"

namespace ssecast {

bool is_loopback(const boost::asio::ip::address& address) {
    if (address.is_loopback()) return true;
    if (address.is_v6()) {
        auto v6 = address.to_v6();
        if (v6.is_v4_mapped())
            return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6).is_loopback();
    }
    return false;
}

bool has_proxy_header(const request& req) {
    // Headers that proxies and CDNs add to say who the client was or that they relayed the
    // request. Only a proxy would send them, so any of them makes a request relayed: it then never
    // counts as local, whatever the peer. (Which of them names the client, and when it is believed,
    // is for --trusted-proxies.)
    static constexpr std::string_view names[] = {
        "X-Forwarded-For",  "Forwarded",         "X-Real-IP",        "Via",
        "X-Forwarded-Host", "X-Forwarded-Proto", "CF-Connecting-IP", "True-Client-IP",
        "X-Client-IP",
    };
    for (auto name : names) {
        if (req.count(boost::beast::string_view(name.data(), name.size())) > 0) return true;
    }
    return false;
}

client resolve_client(const boost::asio::ip::address& peer, const request& req) {
    client who;
    who.address = peer;
    who.forwarded = has_proxy_header(req);
    return who;
}

}  // namespace ssecast
