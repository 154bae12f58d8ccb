#include "ssecast/core/event_id.hpp"

#include <charconv>

namespace ssecast {

std::string to_string(const event_id& id) {
    return std::to_string(id.epoch) + '-' + std::to_string(id.seq);
}

namespace {

std::optional<std::uint64_t> parse_number(std::string_view text) {
    // from_chars accepts neither sign nor space, but it does accept leading zeros: reject those so
    // every id has exactly one spelling.
    if (text.empty() || text.size() > 20 || (text.size() > 1 && text.front() == '0')) {
        return std::nullopt;
    }
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return value;
}

}  // namespace

std::optional<event_id> parse_event_id(std::string_view text) {
    auto dash = text.find('-');
    if (dash == std::string_view::npos) return std::nullopt;
    auto epoch = parse_number(text.substr(0, dash));
    auto seq = parse_number(text.substr(dash + 1));
    if (!epoch || !seq) return std::nullopt;
    return event_id{*epoch, *seq};
}

}  // namespace ssecast
