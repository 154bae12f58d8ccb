#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace ssecast {

struct invalid_pattern {
    std::string message;
};

// Which channels a credential may use: an exact channel name ("news"), or a glob in which each
// '*' stands for any run of characters, possibly empty ("user:*", "*:log", "a*b*c", "*"). Only
// '*' is special. 1 to max_channel_name characters, each a channel-name character or '*'.
class channel_pattern {
  public:
    static std::variant<channel_pattern, invalid_pattern> parse(std::string_view text);

    // O(pattern length x channel length) at worst, with no exponential backtracking however many
    // stars the pattern has.
    bool matches(std::string_view channel) const;

    // Runs of '*' are kept as one ("a**b" is "a*b"): they match the same channels.
    const std::string& text() const { return text_; }

    friend bool operator==(const channel_pattern&, const channel_pattern&) = default;

  private:
    explicit channel_pattern(std::string text) : text_(std::move(text)) {}

    std::string text_;
};

// The patterns a credential holds for one right (publish or subscribe). Empty: no channel.
class channel_patterns {
  public:
    channel_patterns() = default;
    explicit channel_patterns(std::vector<channel_pattern> patterns)
        : patterns_(std::move(patterns)) {}

    // True if any of the patterns matches.
    bool matches(std::string_view channel) const;
    // True if one of the patterns is "*", so the right covers channels that do not exist yet
    // (e.g. listing every channel).
    bool matches_every_channel() const;

    bool empty() const { return patterns_.empty(); }
    const std::vector<channel_pattern>& list() const { return patterns_; }

    friend bool operator==(const channel_patterns&, const channel_patterns&) = default;

  private:
    std::vector<channel_pattern> patterns_;
};

}  // namespace ssecast
