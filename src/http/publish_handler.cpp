#include <boost/beast/core/string.hpp>
#include <chrono>

#include "ssecast/auth/channel_pattern.hpp"
#include "ssecast/fanout/broker.hpp"
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

// The answer to a stored batch, or to one the backend refused (README, "Errors").
reply answer_stored(const publish_result& stored, bool is_array, unsigned version,
                    bool keep_alive) {
    if (stored.error == store_errc::channel_limit) {
        return error_reply(http::status::service_unavailable,
                           "channel limit reached (--max-channels); nothing was published",
                           version, keep_alive);
    }
    if (stored.error == store_errc::timeout) {
        return error_reply(http::status::service_unavailable,
                           "storage did not answer in time (" + stored.detail +
                               "); the events may or may not have been stored",
                           version, keep_alive);
    }
    if (stored.error) {
        return error_reply(http::status::service_unavailable,
                           "storage unavailable (" + stored.detail + "); nothing was published",
                           version, keep_alive);
    }
    reply r;
    r.version = version;
    r.keep_alive = keep_alive;
    auto& body = r.body;
    if (is_array) {
        body += '[';
        for (const auto& receipt : stored.receipts) {
            if (body.size() > 1) body += ',';
            append_receipt(receipt, body);
        }
        body += ']';
    } else {
        append_receipt(stored.receipts.front(), body);
    }
    body += '\n';
    return r;
}

answer handle(const handler_context& ctx, std::chrono::steady_clock::time_point started) {
    const auto& req = ctx.req;
    if (!is_json_content_type(req)) {
        return error_reply(http::status::unsupported_media_type,
                           "Content-Type must be application/json", req);
    }
    auto parsed = parse_publish_request(req.body());
    if (auto* invalid = std::get_if<invalid_request>(&parsed))
        return error_reply(http::status::bad_request, invalid->error, req);
    auto& batch = std::get<publish_batch>(parsed);
    // The batch is authorized as a whole: one channel outside the grant refuses all of it.
    if (ctx.grant.publish != nullptr) {
        for (const auto& event : batch.events) {
            for (const auto& channel : event.channels) {
                if (!ctx.grant.publish->matches(channel)) return refuse_channel(ctx, channel);
            }
        }
    }
    // Answered once the backend has stored it (the memory backend: at once).
    return deferred{[&store = ctx.store, &metrics = ctx.metrics, ex = ctx.executor,
                     events = std::move(batch.events), is_array = batch.is_array,
                     version = req.version(), keep_alive = req.keep_alive(),
                     started](responder respond) mutable {
        store.publish(std::move(events), ex,
                      [respond = std::move(respond), &metrics, is_array, version, keep_alive,
                       started](publish_result stored) {
                          auto r = answer_stored(stored, is_array, version, keep_alive);
                          metrics.publish_duration.observe(std::chrono::steady_clock::now() -
                                                           started);
                          respond(std::move(r));
                      });
    }, {}, false};
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
    auto r = handle(ctx, started);
    // A refusal is answered now; a stored batch's time is measured when it is answered.
    if (std::holds_alternative<reply>(r))
        ctx.metrics.publish_duration.observe(std::chrono::steady_clock::now() - started);
    return r;
}

}  // namespace ssecast
