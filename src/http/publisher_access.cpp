#include "ssecast/http/publisher_access.hpp"

namespace ssecast {

bool is_loopback(const boost::asio::ip::address& peer) {
    if (peer.is_loopback()) return true;
    if (peer.is_v6()) {
        auto v6 = peer.to_v6();
        if (v6.is_v4_mapped())
            return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6).is_loopback();
    }
    return false;
}

bool may_publish(const boost::asio::ip::address& peer, bool has_forwarding_header) {
    return is_loopback(peer) && !has_forwarding_header;
}

}  // namespace ssecast
