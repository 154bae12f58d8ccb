#include "ssecast/core/validation.hpp"

#include <algorithm>

namespace ssecast {

bool is_channel_name_char(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == ':' || c == '/' || c == '@' || c == '-';
}

std::optional<std::string> check_channel_name(std::string_view name) {
    if (name.empty()) return "channel name is empty";
    if (name.size() > max_channel_name) {
        return "channel name is longer than " + std::to_string(max_channel_name) + " characters";
    }
    if (!std::all_of(name.begin(), name.end(),
                     [](char c) { return is_channel_name_char(static_cast<unsigned char>(c)); })) {
        return "channel name may only contain A-Z a-z 0-9 _ . : / @ -";
    }
    return std::nullopt;
}

std::optional<std::string> check_event_type(std::string_view type) {
    if (type.empty()) return "event type is empty";
    if (type.size() > max_event_type) {
        return "event type is longer than " + std::to_string(max_event_type) + " bytes";
    }
    if (type.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos) {
        return "event type may not contain CR, LF or NUL";
    }
    if (type == resync_event_type || type == token_expired_event_type)
        return "event type \"" + std::string(type) + "\" is reserved";
    return std::nullopt;
}

std::string_view utf8_prefix(std::string_view text, std::size_t max_bytes) {
    if (text.size() <= max_bytes) return text;
    auto cut = max_bytes;
    // Back over continuation bytes (10xxxxxx) to the lead byte of the character cut in two.
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    return text.substr(0, cut);
}

}  // namespace ssecast
