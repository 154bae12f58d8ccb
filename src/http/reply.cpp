#include "ssecast/http/reply.hpp"

#include <algorithm>
#include <cstdint>
#include <nlohmann/json.hpp>

#include "ssecast/sse/jitter.hpp"

namespace ssecast {

void append_wire(const reply& r, std::string& out) {
    auto reason = boost::beast::http::obsolete_reason(r.status);
    out += r.version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
    out += std::to_string(static_cast<unsigned>(r.status));
    out += ' ';
    out.append(reason.data(), reason.size());
    out += "\r\nServer: ssecast\r\nContent-Type: ";
    out += r.content_type;
    out += "\r\nCache-Control: ";
    out += r.cache_control;
    out += "\r\n";
    out += r.extra_headers;
    // HTTP/1.1 keeps the connection unless told; HTTP/1.0 closes it unless told.
    if (r.version == 10 && r.keep_alive) out += "Connection: keep-alive\r\n";
    if (r.version != 10 && !r.keep_alive) out += "Connection: close\r\n";
    out += "Content-Length: ";
    out += std::to_string(r.body.size());
    out += "\r\n\r\n";
    out += r.body;
}

reply json_reply(http::status status, std::string body, const request& req) {
    reply r;
    r.status = status;
    r.version = req.version();
    r.keep_alive = req.keep_alive();
    r.body = std::move(body);
    return r;
}

reply error_reply(http::status status, std::string message, unsigned version, bool keep_alive,
                  const char* allow) {
    using json = nlohmann::json;
    reply r;
    r.status = status;
    r.version = version;
    r.keep_alive = keep_alive;
    if (allow != nullptr) r.extra_headers = std::string("Allow: ") + allow + "\r\n";
    r.body = json{{"error", message}}.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
    r.rejection = std::move(message);
    return r;
}

reply error_reply(http::status status, std::string message, const request& req) {
    return error_reply(status, std::move(message), req.version(), req.keep_alive());
}

reply too_many_requests(std::string message, std::chrono::steady_clock::duration retry_after,
                        unsigned version, bool keep_alive) {
    auto seconds = std::chrono::ceil<std::chrono::seconds>(retry_after).count();
    auto r = error_reply(http::status::too_many_requests, std::move(message), version, keep_alive);
    r.extra_headers = "Retry-After: " + std::to_string(std::max<std::int64_t>(seconds, 1)) + "\r\n";
    return r;
}

reply come_back_later(std::chrono::milliseconds reconnect_delay, std::string reason,
                      unsigned version) {
    reply r;
    r.version = version;
    r.keep_alive = false;
    r.content_type = "text/event-stream; charset=utf-8";
    r.cache_control = "no-cache, no-transform";
    r.extra_headers = "X-Accel-Buffering: no\r\n";
    r.body = ": " + reason + "\nretry: " + std::to_string(jittered_retry(reconnect_delay).count()) +
             "\n\n";
    r.rejection = std::move(reason);
    return r;
}

}  // namespace ssecast
