#pragma once

#include "ssecast/config/config.hpp"
#include "ssecast/http/address_limit.hpp"
#include "ssecast/http/rate_limiter.hpp"

namespace ssecast {

// The limits that keep one client from taking the daemon for itself, shared by every worker:
// --max-connections-per-ip and --publish-rate. (--request-timeout and --max-body are each
// session's own.)
struct abuse_limits {
    explicit abuse_limits(const config& settings)
        : per_address(settings), publish_rate(settings.publish_rate, settings.publish_burst) {}

    address_limit per_address;
    rate_limiter publish_rate;  // keyed by publisher_key()
};

}  // namespace ssecast
