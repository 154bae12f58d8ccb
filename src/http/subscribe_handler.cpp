#include <algorithm>

#include "ssecast/config/config.hpp"
#include "ssecast/core/validation.hpp"
#include "ssecast/http/access_control.hpp"
#include "ssecast/http/handlers.hpp"
#include "ssecast/http/query_string.hpp"
#include "ssecast/http/server_state.hpp"

namespace ssecast {

answer subscribe(const handler_context& ctx) {
    const auto& req = ctx.req;
    auto bad = [&](std::string message) {
        return error_reply(http::status::bad_request, std::move(message), req);
    };
    auto params = parse_query(split_target(req.target()).second);
    if (!params) return bad("malformed percent-encoding in the query string");

    stream_request stream;
    for (auto& [name, value] : *params) {
        if (name == "channel") {
            if (auto problem = check_channel_name(value)) return bad(*problem);
            if (std::find(stream.channels.begin(), stream.channels.end(), value) ==
                stream.channels.end()) {
                stream.channels.push_back(std::move(value));
            }
            if (stream.channels.size() > max_channels_per_request) {
                return bad("at most " + std::to_string(max_channels_per_request) +
                           " channels per connection");
            }
        } else if (name == "lastEventId") {
            if (!value.empty()) stream.last_event_id = std::move(value);
        }  // "token" is the bearer token (bearer_token.hpp); others are ignored
    }
    if (stream.channels.empty()) stream.channels.emplace_back(default_channel);
    // The header is what EventSource sends when it reconnects by itself; it wins over the query
    // parameter, which carries the resume point of the very first connection.
    if (auto header = req["Last-Event-ID"]; !header.empty())
        stream.last_event_id = std::string(header);

    if (ctx.over_capacity)
        return come_back_later(ctx.settings.reconnect_delay, "connection limit reached",
                               req.version());
    if (ctx.over_address_limit) {
        return come_back_later(ctx.settings.reconnect_delay, "connection limit per address reached",
                               req.version());
    }
    if (ctx.state.shutting_down())
        return come_back_later(ctx.settings.reconnect_delay, "shutting down", req.version());
    auto granted = authorize_subscriber(ctx, stream.channels);
    if (auto* refusal = std::get_if<reply>(&granted)) return std::move(*refusal);
    stream.token_expires = std::get<subscriber_grant>(granted);
    return stream;
}

}  // namespace ssecast
