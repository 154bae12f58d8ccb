#pragma once

#include <boost/asio/ip/address.hpp>
#include <string_view>

namespace ssecast {

// Until real authentication exists, only local processes may publish or list channels. A request
// that passed through a proxy (it carries a forwarding header) counts as remote even from
// loopback, because behind a same-host Nginx every request comes from 127.0.0.1.
bool is_loopback(const boost::asio::ip::address& peer);
bool may_publish(const boost::asio::ip::address& peer, bool has_forwarding_header);

}  // namespace ssecast
