#include "ssecast/http/query_string.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace {

using namespace std::string_literals;
using ssecast::parse_query;
using ssecast::split_target;
using pairs = std::vector<std::pair<std::string, std::string>>;

pairs parsed(std::string_view query) {
    auto result = parse_query(query);
    EXPECT_TRUE(result.has_value()) << query;
    return result.value_or(pairs{});
}

TEST(ParseQuery, EmptyQuery) {
    EXPECT_EQ(parsed(""), pairs{});
}

TEST(ParseQuery, SimplePairsInOrder) {
    EXPECT_EQ(parsed("a=1&b=2"), (pairs{{"a", "1"}, {"b", "2"}}));
    EXPECT_EQ(parsed("b=2&a=1"), (pairs{{"b", "2"}, {"a", "1"}}));
}

TEST(ParseQuery, RepeatsAreKeptInOrder) {
    EXPECT_EQ(parsed("channel=a&channel=b&x=1&channel=a"),
              (pairs{{"channel", "a"}, {"channel", "b"}, {"x", "1"}, {"channel", "a"}}));
}

TEST(ParseQuery, PercentDecoding) {
    EXPECT_EQ(parsed("channel=room%2F1"), (pairs{{"channel", "room/1"}}));
    EXPECT_EQ(parsed("channel=room%2f1"), (pairs{{"channel", "room/1"}}));
    EXPECT_EQ(parsed("%63hannel=x"), (pairs{{"channel", "x"}}));
    EXPECT_EQ(parsed("v=%41%42%43"), (pairs{{"v", "ABC"}}));
    EXPECT_EQ(parsed("v=%25"), (pairs{{"v", "%"}}));
    EXPECT_EQ(parsed("v=%2525"), (pairs{{"v", "%25"}}));  // decoded once only
    EXPECT_EQ(parsed("v=%26%3D"), (pairs{{"v", "&="}}));  // escaped separators are data
    EXPECT_EQ(parsed("v=%C3%A9"), (pairs{{"v", "\xC3\xA9"}}));
    EXPECT_EQ(parsed("v=%00"), (pairs{{"v", "\0"s}}));
    EXPECT_EQ(parsed("v=%2B"), (pairs{{"v", "+"}}));
}

TEST(ParseQuery, PlusIsASpace) {
    EXPECT_EQ(parsed("q=a+b+%2B"), (pairs{{"q", "a b +"}}));
    EXPECT_EQ(parsed("a+b=c"), (pairs{{"a b", "c"}}));
}

TEST(ParseQuery, EmptyPartsAreSkipped) {
    EXPECT_EQ(parsed("&&a=1&&&b=2&"), (pairs{{"a", "1"}, {"b", "2"}}));
    EXPECT_EQ(parsed("&"), pairs{});
    EXPECT_EQ(parsed("&&&"), pairs{});
}

TEST(ParseQuery, MissingValueOrName) {
    EXPECT_EQ(parsed("flag"), (pairs{{"flag", ""}}));
    EXPECT_EQ(parsed("flag="), (pairs{{"flag", ""}}));
    EXPECT_EQ(parsed("=v"), (pairs{{"", "v"}}));
    EXPECT_EQ(parsed("a=b=c"), (pairs{{"a", "b=c"}}));
    EXPECT_EQ(parsed("lastEventId=&channel=a"), (pairs{{"lastEventId", ""}, {"channel", "a"}}));
}

TEST(ParseQuery, MalformedPercentEscapes) {
    for (std::string_view bad : {"%", "%4", "%zz", "a=%", "a=%4", "a=%zz", "a=%G1", "a=%1G",
                                 "a=1&b=%", "%=1", "a=x%", "a=x%2", "a=% 1", "a=%-1", "a=%+1"}) {
        EXPECT_FALSE(parse_query(bad).has_value()) << bad;
    }
}

TEST(ParseQuery, EscapeRightAtTheEndIsComplete) {
    EXPECT_EQ(parsed("a=%41"), (pairs{{"a", "A"}}));
    EXPECT_EQ(parsed("%41"), (pairs{{"A", ""}}));
    EXPECT_EQ(parsed("a=x%41&b=%42"), (pairs{{"a", "xA"}, {"b", "B"}}));
}

TEST(SplitTarget, PathAndQuery) {
    EXPECT_EQ(split_target("/events?channel=a&x=1"),
              (std::pair<std::string_view, std::string_view>{"/events", "channel=a&x=1"}));
}

TEST(SplitTarget, NoQuery) {
    auto [path, query] = split_target("/events");
    EXPECT_EQ(path, "/events");
    EXPECT_TRUE(query.empty());
}

TEST(SplitTarget, EmptyQuery) {
    auto [path, query] = split_target("/events?");
    EXPECT_EQ(path, "/events");
    EXPECT_TRUE(query.empty());
}

TEST(SplitTarget, OnlyTheFirstQuestionMarkSplits) {
    auto [path, query] = split_target("/a?b=?c?");
    EXPECT_EQ(path, "/a");
    EXPECT_EQ(query, "b=?c?");
}

TEST(SplitTarget, EmptyTargetAndBareQuestionMark) {
    auto [p1, q1] = split_target("");
    EXPECT_TRUE(p1.empty());
    EXPECT_TRUE(q1.empty());
    auto [p2, q2] = split_target("?x=1");
    EXPECT_TRUE(p2.empty());
    EXPECT_EQ(q2, "x=1");
}

}  // namespace
