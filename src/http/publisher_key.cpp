#include "ssecast/http/publisher_key.hpp"

#include "ssecast/http/address_limit.hpp"

namespace ssecast {

std::string publisher_key(const handler_context& ctx) {
    // The credential it showed; without one (a local client under --publish-auth loopback), its
    // address, grouped as --max-connections-per-ip groups it (an IPv6 client has a whole /64 to
    // pick from).
    if (!ctx.grant.identity.empty()) return ctx.grant.identity;
    return to_string(key_of(ctx.who.address));
}

}  // namespace ssecast
