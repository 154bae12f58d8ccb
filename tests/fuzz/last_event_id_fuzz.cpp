// Last-Event-ID values: parse_event_id accepts exactly the one spelling to_string gives an id,
// and every id survives to_string and back.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "fuzz_check.hpp"
#include "ssecast/core/event_id.hpp"

namespace {

// Decimal digits, no sign or space, no leading zero, at most 2^64-1: compared as text so that the
// reference shares no arithmetic with the parser.
bool canonical_number(std::string_view text) {
    constexpr std::string_view max = "18446744073709551615";
    if (text.empty() || text.find_first_not_of("0123456789") != std::string_view::npos)
        return false;
    if (text.size() > 1 && text.front() == '0') return false;
    return text.size() < max.size() || (text.size() == max.size() && text <= max);
}

bool canonical_id(std::string_view text) {
    auto dash = text.find('-');
    return dash != std::string_view::npos && canonical_number(text.substr(0, dash)) &&
           canonical_number(text.substr(dash + 1));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
    auto text = ssecast_fuzz::as_text(bytes, size);
    auto id = ssecast::parse_event_id(text);
    FUZZ_CHECK(id.has_value() == canonical_id(text));
    if (id) FUZZ_CHECK(ssecast::to_string(*id) == text);

    // The other way round: any two numbers make an id that reads back as itself.
    if (size >= 2 * sizeof(std::uint64_t)) {
        ssecast::event_id made;
        std::memcpy(&made.epoch, bytes, sizeof made.epoch);
        std::memcpy(&made.seq, bytes + sizeof made.epoch, sizeof made.seq);
        auto spelled = ssecast::to_string(made);
        FUZZ_CHECK(canonical_id(spelled));
        FUZZ_CHECK(ssecast::parse_event_id(spelled) == made);
    }
    return 0;
}
