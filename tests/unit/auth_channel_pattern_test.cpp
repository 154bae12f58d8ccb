#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <variant>

#include "ssecast/auth/channel_pattern.hpp"

namespace {

using ssecast::channel_pattern;
using ssecast::channel_patterns;
using ssecast::invalid_pattern;

channel_pattern pattern(const std::string& text) {
    auto parsed = channel_pattern::parse(text);
    if (auto* bad = std::get_if<invalid_pattern>(&parsed)) {
        ADD_FAILURE() << text << ": " << bad->message;
        return std::get<channel_pattern>(channel_pattern::parse("x"));
    }
    return std::get<channel_pattern>(parsed);
}

std::string error_of(const std::string& text) {
    auto parsed = channel_pattern::parse(text);
    auto* bad = std::get_if<invalid_pattern>(&parsed);
    return bad ? bad->message : "(accepted)";
}

TEST(ChannelPattern, ExactNameMatchesOnlyItself) {
    const auto p = pattern("news");
    EXPECT_TRUE(p.matches("news"));
    EXPECT_FALSE(p.matches("new"));
    EXPECT_FALSE(p.matches("newsy"));
    EXPECT_FALSE(p.matches("xnews"));
    EXPECT_FALSE(p.matches(""));
}

TEST(ChannelPattern, PrefixSuffixAndMiddleStars) {
    const auto prefix = pattern("user:*");
    EXPECT_TRUE(prefix.matches("user:"));
    EXPECT_TRUE(prefix.matches("user:42"));
    EXPECT_TRUE(prefix.matches("user:42:inbox"));
    EXPECT_FALSE(prefix.matches("user"));
    EXPECT_FALSE(prefix.matches("users:1"));

    const auto suffix = pattern("*:log");
    EXPECT_TRUE(suffix.matches(":log"));
    EXPECT_TRUE(suffix.matches("app:log"));
    EXPECT_TRUE(suffix.matches("a:log:log"));
    EXPECT_FALSE(suffix.matches("app:logs"));

    const auto middle = pattern("room/*/chat");
    EXPECT_TRUE(middle.matches("room//chat"));
    EXPECT_TRUE(middle.matches("room/7/chat"));
    EXPECT_TRUE(middle.matches("room/7/chat/chat"));
    EXPECT_FALSE(middle.matches("room/7/chat/x"));
    EXPECT_FALSE(middle.matches("room/7/cha"));
}

TEST(ChannelPattern, SeveralStars) {
    const auto p = pattern("a*b*c");
    EXPECT_TRUE(p.matches("abc"));
    EXPECT_TRUE(p.matches("aXbYc"));
    EXPECT_TRUE(p.matches("abbbcbc"));
    EXPECT_TRUE(p.matches("acbc"));
    EXPECT_FALSE(p.matches("acb"));
    EXPECT_FALSE(p.matches("bac"));
    EXPECT_FALSE(p.matches("abcx"));

    const auto q = pattern("*a*");
    EXPECT_TRUE(q.matches("a"));
    EXPECT_TRUE(q.matches("bab"));
    EXPECT_FALSE(q.matches("bbb"));
}

TEST(ChannelPattern, LoneStarMatchesEverything) {
    const auto p = pattern("*");
    EXPECT_TRUE(p.matches("x"));
    EXPECT_TRUE(p.matches("user:1/a@b.c-d_e"));
    EXPECT_TRUE(p.matches(std::string(128, 'z')));
}

TEST(ChannelPattern, RunsOfStarsCollapse) {
    EXPECT_EQ(pattern("a**b").text(), "a*b");
    EXPECT_EQ(pattern("***").text(), "*");
    EXPECT_TRUE(pattern("a**b").matches("ab"));
    EXPECT_TRUE(pattern("a**b").matches("axxb"));
}

TEST(ChannelPattern, StarIsTheOnlySpecialCharacter) {
    // '.' and other channel characters are literal, unlike in a regex.
    const auto p = pattern("a.b");
    EXPECT_TRUE(p.matches("a.b"));
    EXPECT_FALSE(p.matches("axb"));
}

TEST(ChannelPattern, RefusesBadText) {
    EXPECT_EQ(error_of(""), "pattern is empty");
    EXPECT_EQ(error_of(std::string(129, 'a')), "pattern is longer than 128 characters");
    EXPECT_EQ(error_of(std::string(128, 'a')), "(accepted)");
    EXPECT_EQ(error_of(std::string(128, '*')), "(accepted)");
    for (const std::string& bad : std::initializer_list<std::string>{
             "a b", "a?b", "a[b]", "é", "a\nb", std::string("a\0b", 3), "a,b", "a#b", "a%b"}) {
        EXPECT_EQ(error_of(bad), "pattern may only contain A-Z a-z 0-9 _ . : / @ - and *") << bad;
    }
    EXPECT_EQ(error_of("Az09_.:/@-*"), "(accepted)");
}

TEST(ChannelPattern, PathologicalPatternIsStillCorrect) {
    // Exponential with naive backtracking: 63 stars against 128 'a's that never end in 'b'.
    std::string text;
    for (int i = 0; i < 63; ++i) text += "a*";
    text += "b";
    const auto p = pattern(text);
    EXPECT_FALSE(p.matches(std::string(128, 'a')));
    EXPECT_TRUE(p.matches(std::string(127, 'a') + "b"));
    EXPECT_FALSE(p.matches(std::string(62, 'a') + "b"));  // needs at least 63 'a's
    EXPECT_TRUE(p.matches(std::string(63, 'a') + "b"));
}

TEST(ChannelPatterns, MatchesIfAnyPatternDoes) {
    const channel_patterns list({pattern("news"), pattern("user:7:*")});
    EXPECT_TRUE(list.matches("news"));
    EXPECT_TRUE(list.matches("user:7:inbox"));
    EXPECT_FALSE(list.matches("user:8:inbox"));
    EXPECT_FALSE(list.matches_every_channel());
    EXPECT_FALSE(channel_patterns().matches("news"));
    EXPECT_TRUE(channel_patterns().empty());
}

TEST(ChannelPatterns, EveryChannelOnlyWithALoneStar) {
    EXPECT_TRUE(channel_patterns({pattern("news"), pattern("*")}).matches_every_channel());
    EXPECT_TRUE(channel_patterns({pattern("**")}).matches_every_channel());
    EXPECT_FALSE(channel_patterns({pattern("*a")}).matches_every_channel());
    EXPECT_FALSE(channel_patterns({pattern("a*")}).matches_every_channel());
    EXPECT_FALSE(channel_patterns().matches_every_channel());
}

}  // namespace
