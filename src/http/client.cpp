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

client resolve_client(const boost::asio::ip::address& peer, const request& req) {
    client who;
    who.address = peer;
    who.forwarded = req.count("X-Forwarded-For") > 0 || req.count(http::field::forwarded) > 0 ||
                    req.count("X-Real-IP") > 0;
    return who;
}

}  // namespace ssecast
