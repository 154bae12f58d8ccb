#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ssecast {

// Decodes base64url as JWTs use it (RFC 7515 §2): the URL-safe alphabet, no padding, no
// whitespace, and canonical only (the unused low bits of the last character are zero), so that
// one byte string has exactly one text. Returns nothing for anything else.
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace ssecast
