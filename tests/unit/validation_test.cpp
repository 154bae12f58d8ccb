#include "ssecast/core/validation.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using namespace std::string_literals;
using ssecast::check_channel_name;
using ssecast::check_event_type;

TEST(ChannelName, AcceptsEveryAllowedCharacterClass) {
    for (const char* name : {"ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz",
                             "0123456789", "_", ".", ":", "/", "@", "-", "user@example.com",
                             "room:42/chat", "a.b_c-d", "default", "..", "/", "-leading"}) {
        EXPECT_FALSE(check_channel_name(name).has_value()) << '"' << name << '"';
    }
}

TEST(ChannelName, AcceptsEachAllowedByteAndRejectsEveryOther) {
    const std::string allowed =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:/@-";
    for (int b = 0; b < 256; ++b) {
        std::string name = "ok" + std::string(1, static_cast<char>(b)) + "ok";
        bool expected = allowed.find(static_cast<char>(b)) != std::string::npos && b != 0;
        auto problem = check_channel_name(name);
        EXPECT_EQ(!problem.has_value(), expected) << "byte " << b;
        if (problem) {
            EXPECT_NE(problem->find("may only contain"), std::string::npos) << *problem;
        }
    }
}

TEST(ChannelName, LengthLimitIs128) {
    EXPECT_FALSE(check_channel_name(std::string(128, 'a')).has_value());
    EXPECT_FALSE(check_channel_name("a").has_value());
    auto too_long = check_channel_name(std::string(129, 'a'));
    ASSERT_TRUE(too_long.has_value());
    EXPECT_NE(too_long->find("128"), std::string::npos) << *too_long;
}

TEST(ChannelName, RejectsEmptyAndForeignCharacters) {
    auto empty = check_channel_name("");
    ASSERT_TRUE(empty.has_value());
    EXPECT_NE(empty->find("empty"), std::string::npos);
    for (const std::string& name :
         {"a b"s, " "s, "caf\xC3\xA9"s, "a%2Fb"s, "a+b"s, "a\tb"s, "a\nb"s, "a\0b"s, "a?b"s, "a&b"s,
          "a=b"s, "a#b"s, "a\\b"s, "\xF0\x9F\x98\x80"s, "a,b"s, "a*b"s, "~"s}) {
        EXPECT_TRUE(check_channel_name(name).has_value()) << testing::PrintToString(name);
    }
}

TEST(EventType, AcceptsOrdinaryTypes) {
    const std::string longest(128, 'x');
    for (const std::string& type : {"message"s, "update"s, "a"s, "with space"s, "caf\xC3\xA9"s,
                                    "RESYNC"s, "resync2"s, longest}) {
        EXPECT_FALSE(check_event_type(type).has_value()) << type;
    }
}

TEST(EventType, RejectsWhatCannotBeFramedOrIsReserved) {
    EXPECT_TRUE(check_event_type("").has_value());
    EXPECT_TRUE(check_event_type(std::string(129, 'x')).has_value());
    EXPECT_TRUE(check_event_type("a\rb").has_value());
    EXPECT_TRUE(check_event_type("a\nb").has_value());
    EXPECT_TRUE(check_event_type("a\0b"s).has_value());
    EXPECT_TRUE(check_event_type("\0"s).has_value());
    auto reserved = check_event_type("resync");
    ASSERT_TRUE(reserved.has_value());
    EXPECT_NE(reserved->find("reserved"), std::string::npos);
}

TEST(EventType, LengthLimitIsInBytes) {
    EXPECT_FALSE(check_event_type(std::string(128, 'a')).has_value());
    // 64 two-byte characters are 128 bytes: fine; one more is too long, though only 65 characters.
    std::string two_byte;
    for (int i = 0; i < 64; ++i) two_byte += "\xC3\xA9";
    EXPECT_FALSE(check_event_type(two_byte).has_value());
    auto problem = check_event_type(two_byte + "\xC3\xA9");
    ASSERT_TRUE(problem.has_value());
    EXPECT_NE(problem->find("128 bytes"), std::string::npos) << *problem;
}

TEST(Utf8Prefix, CutsOnlyBetweenCharacters) {
    using ssecast::utf8_prefix;
    EXPECT_EQ(utf8_prefix("hello", 10), "hello");
    EXPECT_EQ(utf8_prefix("hello", 3), "hel");
    EXPECT_EQ(utf8_prefix("", 0), "");
    // "aé" is 61 C3 A9: a cut after 2 bytes would split é.
    EXPECT_EQ(utf8_prefix("a\xC3\xA9", 2), "a");
    EXPECT_EQ(utf8_prefix("a\xC3\xA9", 3), "a\xC3\xA9");
    // A four-byte character (U+1F600) is dropped whole at every cut inside it.
    std::string smile = "x\xF0\x9F\x98\x80y";
    for (std::size_t cut = 1; cut <= 4; ++cut) EXPECT_EQ(utf8_prefix(smile, cut), "x") << cut;
    EXPECT_EQ(utf8_prefix(smile, 5), "x\xF0\x9F\x98\x80");
    // Bytes that are not UTF-8 are not the cut's business: the prefix is still at most max bytes.
    EXPECT_EQ(utf8_prefix("\x80\x80\x80", 2), "");
    EXPECT_EQ(utf8_prefix("\xFF\xFE", 1), "\xFF");
}

}  // namespace
