// Any accepted event, encoded as the daemon encodes it and read by a WHATWG-conformant parser
// (tests/common/sse_parser.hpp), gives back exactly that event: never an extra event, field or id.
// Input: one byte choosing where the stream is cut in two (in 256ths of its length, so the parser
// also sees a frame arrive in two reads), then the rest, used twice: as a POST /notify body, and as
// raw event data (any bytes, line breaks included).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "fuzz_check.hpp"
#include "sse_parser.hpp"
#include "ssecast/core/publish_request.hpp"
#include "ssecast/sse/sse_frame.hpp"

namespace {

constexpr std::string_view epoch = "1763712000000";
constexpr std::uint64_t stream_retry_ms = 3000;
// What the daemon sends a new subscriber first: a comment, the reconnection delay and the id of
// the stream's position.
const std::string prelude =
    ":ok\nretry: " + std::to_string(stream_retry_ms) + "\nid: " + std::string(epoch) + "-0\n\n";

// What an EventSource makes of the data's line breaks: CRLF, CR and LF each become LF.
std::string with_lf_line_breaks(std::string_view data) {
    std::string out;
    for (std::size_t i = 0; i < data.size(); ++i) {
        if (data[i] != '\r') {
            out.push_back(data[i]);
            continue;
        }
        out.push_back('\n');
        if (i + 1 < data.size() && data[i + 1] == '\n') ++i;
    }
    return out;
}

void check_round_trip(const ssecast::sse_event& sent, std::uint8_t cut) {
    std::string stream = prelude + *ssecast::make_event_frame(sent);
    auto at = stream.size() * cut / 256;
    sse_test::parser parser;
    parser.feed(std::string_view(stream).substr(0, at));
    parser.feed(std::string_view(stream).substr(at));

    auto events = parser.take_events();
    FUZZ_CHECK(events.size() == 1);
    const auto& got = events.front();
    FUZZ_CHECK(got.type == (sent.type.empty() ? "message" : sent.type));
    FUZZ_CHECK(got.data == with_lf_line_breaks(sent.data));
    FUZZ_CHECK(got.last_event_id == sent.id && parser.last_event_id() == sent.id);
    FUZZ_CHECK(parser.retry() == (sent.retry_ms ? *sent.retry_ms : stream_retry_ms));
    FUZZ_CHECK(parser.comments() == std::vector<std::string>{"ok"});
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
    if (size == 0) return 0;
    auto cut = bytes[0];
    auto rest = ssecast_fuzz::as_text(bytes + 1, size - 1);

    auto result = ssecast::parse_publish_request(rest);
    if (auto* batch = std::get_if<ssecast::publish_batch>(&result)) {
        for (std::size_t i = 0; i < batch->events.size(); ++i) {
            const auto& e = batch->events[i];
            auto id = std::string(epoch) + '-' + std::to_string(i + 1);
            check_round_trip({id, e.type, e.data, e.retry_ms}, cut);
        }
    }

    auto id = std::string(epoch) + "-1";
    check_round_trip({id, "update", rest, std::nullopt}, cut);
    return 0;
}
