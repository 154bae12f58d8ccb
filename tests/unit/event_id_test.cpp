#include "ssecast/core/event_id.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

namespace {

using ssecast::event_id;
using ssecast::parse_event_id;

TEST(EventId, ToStringJoinsEpochAndSeqWithDash) {
    EXPECT_EQ(ssecast::to_string(event_id{1700000000000, 42}), "1700000000000-42");
    EXPECT_EQ(ssecast::to_string(event_id{0, 0}), "0-0");
}

TEST(EventId, RoundTripsThroughToStringAndParse) {
    constexpr auto max = std::numeric_limits<std::uint64_t>::max();
    const event_id samples[] = {{0, 0},   {0, 1},     {1, 0},           {1700000000000, 1},
                                {7, 123}, {max, max}, {max - 1, 99999}, {1234567890123, max}};
    for (const auto& id : samples) {
        auto text = ssecast::to_string(id);
        auto back = parse_event_id(text);
        ASSERT_TRUE(back.has_value()) << text;
        EXPECT_EQ(*back, id) << text;
        EXPECT_EQ(ssecast::to_string(*back), text);
    }
}

TEST(EventId, ParsesWellFormedIds) {
    auto id = parse_event_id("1700000000000-17");
    ASSERT_TRUE(id.has_value());
    EXPECT_EQ(id->epoch, 1700000000000u);
    EXPECT_EQ(id->seq, 17u);

    auto largest = parse_event_id("18446744073709551615-18446744073709551615");
    ASSERT_TRUE(largest.has_value());
    EXPECT_EQ(largest->epoch, std::numeric_limits<std::uint64_t>::max());
    EXPECT_EQ(largest->seq, std::numeric_limits<std::uint64_t>::max());
}

class EventIdRejects : public ::testing::TestWithParam<std::string> {};

TEST_P(EventIdRejects, Malformed) {
    EXPECT_FALSE(parse_event_id(GetParam()).has_value()) << '"' << GetParam() << '"';
}

INSTANTIATE_TEST_SUITE_P(
    BadIds, EventIdRejects,
    ::testing::Values(std::string(""), std::string("1"), std::string("-1"), std::string("1-"),
                      std::string("-"), std::string("a-1"), std::string("1-a"), std::string("01-2"),
                      std::string("1-02"), std::string("00-1"), std::string("1--2"),
                      std::string("1-2-3"), std::string(" 1-2"), std::string("1-2 "),
                      std::string("1 -2"), std::string("1- 2"), std::string("+1-2"),
                      std::string("1-+2"), std::string("1:2"), std::string("1_2"),
                      std::string("0x1-2"), std::string("1.0-2"),
                      // 2^64 does not fit, nor do 21 digits.
                      std::string("18446744073709551616-1"), std::string("1-18446744073709551616"),
                      std::string("123456789012345678901-1"),
                      std::string("1-123456789012345678901"),
                      std::string("1-000000000000000000001"), std::string("1-2\n"),
                      std::string("1\0-2", 4), std::string("1-2\0", 4)));

}  // namespace
