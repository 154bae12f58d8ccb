#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace ssecast {

inline constexpr std::size_t max_channel_name = 128;
inline constexpr std::size_t max_channels_per_request = 32;
inline constexpr std::size_t max_event_type = 128;
inline constexpr std::string_view default_channel = "default";
inline constexpr std::string_view resync_event_type = "resync";
inline constexpr std::string_view token_expired_event_type = "token-expired";

// A-Z a-z 0-9 _ . : / @ -
bool is_channel_name_char(unsigned char c);

// Each returns what is wrong with the input, or nothing when it is acceptable.
std::optional<std::string> check_channel_name(std::string_view name);
std::optional<std::string> check_event_type(std::string_view type);

// The longest start of `text` of at most `max_bytes` bytes that does not end inside a UTF-8
// character (a cut never leaves half a character, which a JSON encoder would turn into U+FFFD).
std::string_view utf8_prefix(std::string_view text, std::size_t max_bytes);

}  // namespace ssecast
