#include <gtest/gtest.h>

#include <string>

#include "ssecast/auth/base64url.hpp"

namespace {

using ssecast::base64url_decode;

TEST(Base64url, DecodesEveryLength) {
    EXPECT_EQ(base64url_decode(""), "");
    EXPECT_EQ(base64url_decode("QQ"), "A");
    EXPECT_EQ(base64url_decode("QUI"), "AB");
    EXPECT_EQ(base64url_decode("QUJD"), "ABC");
    EXPECT_EQ(base64url_decode("eyJhbGciOiJIUzI1NiJ9"), R"({"alg":"HS256"})");
}

TEST(Base64url, UsesTheUrlSafeAlphabet) {
    EXPECT_EQ(base64url_decode("-_8"), std::string("\xfb\xff", 2));
    EXPECT_EQ(base64url_decode("+/8"), std::nullopt);
}

TEST(Base64url, RefusesPaddingWhitespaceAndStrayCharacters) {
    EXPECT_EQ(base64url_decode("QQ=="), std::nullopt);
    EXPECT_EQ(base64url_decode("QU I"), std::nullopt);
    EXPECT_EQ(base64url_decode("QUI\n"), std::nullopt);
    EXPECT_EQ(base64url_decode(std::string("QU\0I", 4)), std::nullopt);
    EXPECT_EQ(base64url_decode("QUI."), std::nullopt);
}

TEST(Base64url, RefusesImpossibleAndNonCanonicalText) {
    EXPECT_EQ(base64url_decode("Q"), std::nullopt);      // 6 bits: no whole byte
    EXPECT_EQ(base64url_decode("QUJDR"), std::nullopt);  // likewise after a full group
    EXPECT_EQ(base64url_decode("QR"), std::nullopt);     // "A" with a stray low bit
    EXPECT_EQ(base64url_decode("QUJ"), std::nullopt);    // "AB" with a stray low bit
}

}  // namespace
