#include "ssecast/auth/channel_pattern.hpp"

#include <algorithm>
#include <string>

#include "ssecast/core/validation.hpp"

namespace ssecast {

namespace {

constexpr char wildcard = '*';

}  // namespace

std::variant<channel_pattern, invalid_pattern> channel_pattern::parse(std::string_view text) {
    if (text.empty()) return invalid_pattern{"pattern is empty"};
    if (text.size() > max_channel_name) {
        return invalid_pattern{"pattern is longer than " + std::to_string(max_channel_name) +
                               " characters"};
    }
    std::string canonical;
    canonical.reserve(text.size());
    for (const char c : text) {
        if (c == wildcard) {
            if (canonical.empty() || canonical.back() != wildcard) canonical += c;
        } else if (is_channel_name_char(static_cast<unsigned char>(c))) {
            canonical += c;
        } else {
            return invalid_pattern{"pattern may only contain A-Z a-z 0-9 _ . : / @ - and *"};
        }
    }
    return channel_pattern(std::move(canonical));
}

bool channel_pattern::matches(std::string_view channel) const {
    // Greedy glob matching: on a mismatch, let the last '*' seen swallow one more character and
    // retry from there. Earlier stars never need revisiting, since the last one can absorb
    // anything they could, so the work is bounded by pattern length x channel length.
    const std::string_view pattern = text_;
    std::size_t p = 0;
    std::size_t c = 0;
    std::size_t star = std::string_view::npos;  // position of the last '*' seen in the pattern
    std::size_t resume = 0;                     // channel position that '*' matched up to
    while (c < channel.size()) {
        if (p < pattern.size() && pattern[p] == wildcard) {
            star = p++;
            resume = c;
        } else if (p < pattern.size() && pattern[p] == channel[c]) {
            ++p;
            ++c;
        } else if (star != std::string_view::npos) {
            p = star + 1;
            c = ++resume;
        } else {
            return false;
        }
    }
    // Trailing stars match the empty rest (runs were collapsed at parse, one is enough).
    if (p < pattern.size() && pattern[p] == wildcard) ++p;
    return p == pattern.size();
}

bool channel_patterns::matches(std::string_view channel) const {
    return std::any_of(patterns_.begin(), patterns_.end(),
                       [channel](const channel_pattern& p) { return p.matches(channel); });
}

bool channel_patterns::matches_every_channel() const {
    return std::any_of(patterns_.begin(), patterns_.end(),
                       [](const channel_pattern& p) { return p.text() == "*"; });
}

}  // namespace ssecast
