#include "ssecast/auth/base64url.hpp"

#include <cstdint>

namespace ssecast {

namespace {

constexpr int invalid = -1;

int sextet(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return invalid;
}

}  // namespace

std::optional<std::string> base64url_decode(std::string_view text) {
    // A lone final character carries only 6 bits: never a whole byte.
    if (text.size() % 4 == 1) return std::nullopt;
    std::string out;
    out.reserve(text.size() / 4 * 3 + 2);
    std::uint32_t bits = 0;
    int pending = 0;  // bits in `bits` not yet written out
    for (char c : text) {
        const int value = sextet(c);
        if (value == invalid) return std::nullopt;
        bits = ((bits << 6) | static_cast<std::uint32_t>(value)) & 0xffff;  // at most 14 live bits
        pending += 6;
        if (pending >= 8) {
            pending -= 8;
            out += static_cast<char>((bits >> pending) & 0xff);
        }
    }
    if ((bits & ((1u << pending) - 1)) != 0) return std::nullopt;
    return out;
}

}  // namespace ssecast
