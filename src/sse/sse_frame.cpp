#include "ssecast/sse/sse_frame.hpp"

#include "ssecast/core/validation.hpp"

namespace ssecast {

std::string encode_event(const sse_event& event) {
    std::string out;
    out.reserve(event.id.size() + event.type.size() + event.data.size() + 32);
    if (!event.id.empty()) out.append("id: ").append(event.id).push_back('\n');
    if (!event.type.empty()) out.append("event: ").append(event.type).push_back('\n');
    if (event.retry_ms)
        out.append("retry: ").append(std::to_string(*event.retry_ms)).push_back('\n');

    std::string_view rest = event.data;
    while (true) {
        auto brk = rest.find_first_of("\r\n");
        out.append("data: ").append(rest.substr(0, brk)).push_back('\n');
        if (brk == std::string_view::npos) break;
        // CRLF is one line break, a lone CR or LF is one too.
        auto skip = (rest[brk] == '\r' && brk + 1 < rest.size() && rest[brk + 1] == '\n') ? 2 : 1;
        rest.remove_prefix(brk + skip);
    }
    out.push_back('\n');
    return out;
}

frame make_event_frame(const sse_event& event) {
    return std::make_shared<const std::string>(encode_event(event));
}

frame make_retry_frame(std::chrono::milliseconds delay) {
    return std::make_shared<const std::string>("retry: " + std::to_string(delay.count()) + "\n\n");
}

frame make_token_expired_frame(std::int64_t exp_seconds) {
    auto data = "{\"exp\":" + std::to_string(exp_seconds) + "}";
    return make_event_frame({{}, token_expired_event_type, data, std::nullopt});
}

const frame& heartbeat_frame() {
    static const frame beat = std::make_shared<const std::string>(":\n");
    return beat;
}

}  // namespace ssecast
