#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "ssecast/http/handler_context.hpp"
#include "ssecast/metrics/server_counters.hpp"

namespace ssecast {

class channel_patterns;

// Decides who may do what, from the client (its address after trusted proxies) and its verified
// credential, as --publish-auth and --private-channels say; SECURITY.md has the whole design.
// Every refusal is answered as RFC 6750 §3 asks and counted in ssecast_auth_failures_total.

// POST /notify (endpoint publish), /channels and /metrics (admin; `every_channel`: the credential
// must cover every channel, since the answer may name any). The grant, or the refusal.
std::variant<access_grant, reply> authorize_publisher(const handler_context& ctx,
                                                      auth_endpoint endpoint, bool every_channel);

// GET /events for `channels`: when some are private, the JWT must allow them all. When it is
// needed, its exp (the stream ends then); nothing when the channels are all public.
using subscriber_grant = std::optional<std::chrono::system_clock::time_point>;
std::variant<subscriber_grant, reply> authorize_subscriber(
    const handler_context& ctx, const std::vector<std::string>& channels);

// The refusal of a publish naming a channel outside the grant (403, insufficient_scope).
reply refuse_channel(const handler_context& ctx, const std::string& channel);

}  // namespace ssecast
