#include <boost/beast/core/string.hpp>
#include <chrono>

#include "ssecast/auth/channel_pattern.hpp"
#include "ssecast/backend/broker.hpp"
#include "ssecast/core/publish_request.hpp"
#include "ssecast/http/abuse_limits.hpp"
#include "ssecast/http/access_control.hpp"
#include "ssecast/http/handlers.hpp"
#include "ssecast/http/publisher_key.hpp"
#include "ssecast/metrics/metrics.hpp"

namespace ssecast {

namespace {

bool is_json_content_type(const request& req) {
    auto value = req[http::field::content_type];
    auto media = value.substr(0, value.find(';'));
    while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
    return boost::beast::iequals(media, "application/json");
}

// The publish answer is the hot path: ids are digits and a dash, no JSON encoder needed.
void append_receipt(const publish_receipt& r, std::string& out) {
    out += R"({"delivered":)";
    out += std::to_string(r.delivered);
    out += R"(,"id":")";
    out += r.id;
    out += R"("})";
}

reply handle(const handler_context& ctx) {
    const auto& req = ctx.req;
    if (!is_json_content_type(req)) {
        return error_reply(http::status::unsupported_media_type,
                           "Content-Type must be application/json", req);
    }
    auto parsed = parse_publish_request(req.body());
    if (auto* invalid = std::get_if<invalid_request>(&parsed))
        return error_reply(http::status::bad_request, invalid->error, req);
    const auto& batch = std::get<publish_batch>(parsed);
    // The batch is authorized as a whole: one channel outside the grant refuses all of it.
    if (ctx.grant.publish != nullptr) {
        for (const auto& event : batch.events) {
            for (const auto& channel : event.channels) {
                if (!ctx.grant.publish->matches(channel)) return refuse_channel(ctx, channel);
            }
        }
    }
    auto receipts = ctx.store.publish(batch.events);
    if (!receipts) {
        return error_reply(http::status::service_unavailable,
                           "channel limit reached (--max-channels); nothing was published", req);
    }
    std::string body;
    if (batch.is_array) {
        body += '[';
        for (const auto& r : *receipts) {
            if (body.size() > 1) body += ',';
            append_receipt(r, body);
        }
        body += ']';
    } else {
        append_receipt(receipts->front(), body);
    }
    body += '\n';
    return json_reply(http::status::ok, std::move(body), req);
}

}  // namespace

answer publish(const handler_context& ctx) {
    auto started = std::chrono::steady_clock::now();
    // --publish-rate: the access rule has let the request through (the router checks it first);
    // one request is one token, a batch included. Before any parsing, so a refusal costs little.
    if (ctx.settings.publish_rate > 0) {
        auto wait = ctx.limits.publish_rate.take(publisher_key(ctx), started);
        if (wait > std::chrono::steady_clock::duration::zero()) {
            return too_many_requests("publish rate limit reached (--publish-rate " +
                                         std::to_string(ctx.settings.publish_rate) + "/s, burst " +
                                         std::to_string(ctx.settings.publish_burst) + ")",
                                     wait, ctx.req.version(), ctx.req.keep_alive());
        }
    }
    auto r = handle(ctx);
    ctx.metrics.publish_duration.observe(std::chrono::steady_clock::now() - started);
    return r;
}

}  // namespace ssecast
