#include "ssecast/http/publisher_key.hpp"

#include "ssecast/http/address_limit.hpp"

namespace ssecast {

std::string publisher_key(const handler_context& ctx) {
    // The client's address, grouped as --max-connections-per-ip groups it (an IPv6 client has a
    // whole /64 to pick from). Once publishers have credentials, their identity goes here.
    return to_string(key_of(ctx.who.address));
}

}  // namespace ssecast
