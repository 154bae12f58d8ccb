#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <variant>

#include "ssecast/auth/credential_file.hpp"
#include "ssecast/auth/static_tokens.hpp"
#include "temp_dir.hpp"

namespace {

using ssecast::load_error;
using ssecast::static_tokens;

const std::string key_a = "aaaaaaaaaaaaaaaa1";  // 17 characters
const std::string key_b = "B-._~+/0123456789==";

using test::temp_dir;

static_tokens parsed(const std::string& text) {
    auto result = static_tokens::parse(text, "tokens.txt");
    if (auto* error = std::get_if<load_error>(&result)) {
        ADD_FAILURE() << error->message;
        return std::get<static_tokens>(static_tokens::parse("", "empty"));
    }
    return std::get<static_tokens>(std::move(result));
}

std::string error_of(const std::string& text) {
    auto result = static_tokens::parse(text, "tokens.txt");
    auto* error = std::get_if<load_error>(&result);
    return error ? error->message : "(accepted)";
}

std::string load_error_of(const std::string& path) {
    auto result = static_tokens::load(path);
    auto* error = std::get_if<load_error>(&result);
    return error ? error->message : "(accepted)";
}

TEST(StaticTokens, ParsesKeysWithPatterns) {
    const auto tokens = parsed(key_a + " news user:*\n" + key_b + "\tnews\t\talerts:*  \n");
    ASSERT_EQ(tokens.size(), 2u);
    const auto* a = tokens.find(key_a);
    ASSERT_NE(a, nullptr);
    EXPECT_TRUE(a->publish.matches("news"));
    EXPECT_TRUE(a->publish.matches("user:1"));
    EXPECT_FALSE(a->publish.matches("alerts:1"));
    EXPECT_FALSE(a->publish.matches_every_channel());
    const auto* b = tokens.find(key_b);
    ASSERT_NE(b, nullptr);
    EXPECT_TRUE(b->publish.matches("alerts:fire"));
    EXPECT_FALSE(b->publish.matches("user:1"));
}

TEST(StaticTokens, NoPatternMeansEveryChannel) {
    const auto tokens = parsed(key_a + "\n");
    const auto* a = tokens.find(key_a);
    ASSERT_NE(a, nullptr);
    EXPECT_TRUE(a->publish.matches_every_channel());
    EXPECT_TRUE(a->publish.matches("anything:at/all"));
}

TEST(StaticTokens, CommentsAndBlankLinesAreIgnored) {
    const auto tokens =
        parsed("# API keys\n\n   \t\n" + key_a + " news # the newsroom\r\n  # " + key_b + " x\n");
    ASSERT_EQ(tokens.size(), 1u);
    const auto* a = tokens.find(key_a);
    ASSERT_NE(a, nullptr);
    EXPECT_TRUE(a->publish.matches("news"));
    EXPECT_FALSE(a->publish.matches("the"));
    EXPECT_EQ(tokens.find(key_b), nullptr);
}

TEST(StaticTokens, UnknownKeysAreNotFound) {
    const auto tokens = parsed(key_a + "\n" + key_b + "\n");
    EXPECT_EQ(tokens.find(""), nullptr);
    EXPECT_EQ(tokens.find(key_a + "x"), nullptr);
    EXPECT_EQ(tokens.find(key_a.substr(1)), nullptr);
    EXPECT_EQ(tokens.find("aaaaaaaaaaaaaaaa2"), nullptr);
}

TEST(StaticTokens, IdentityIsADigestPrefixNotTheToken) {
    const auto tokens = parsed(key_a + "\n" + key_b + "\n");
    const auto* a = tokens.find(key_a);
    const auto* b = tokens.find(key_b);
    ASSERT_TRUE(a && b);
    EXPECT_NE(a->identity, b->identity);
    EXPECT_EQ(a->identity.find(key_a), std::string::npos);
    // Stable: the same key has the same identity wherever it is in the file.
    EXPECT_EQ(parsed("\n\n" + key_a + " x\n").find(key_a)->identity, a->identity);
    // python3 -c 'import hashlib; print(hashlib.sha256(b"aaaaaaaaaaaaaaaa1").hexdigest()[:8])'
    EXPECT_EQ(a->identity, "static:8b61d50c");
}

TEST(StaticTokens, FindsTheRightEntryAmongMany) {
    std::string text;
    for (int i = 0; i < 1000; ++i) {
        text += "key-number-" + std::to_string(100000 + i) + " channel-" + std::to_string(i) + "\n";
    }
    const auto tokens = parsed(text);
    ASSERT_EQ(tokens.size(), 1000u);
    for (int i : {0, 1, 499, 998, 999}) {
        const auto* entry = tokens.find("key-number-" + std::to_string(100000 + i));
        ASSERT_NE(entry, nullptr) << i;
        EXPECT_TRUE(entry->publish.matches("channel-" + std::to_string(i))) << i;
        EXPECT_FALSE(entry->publish.matches("channel-" + std::to_string(i + 1))) << i;
    }
    EXPECT_EQ(tokens.find("key-number-101000"), nullptr);
}

TEST(StaticTokens, RefusesMoreThan1000Tokens) {
    std::string text;
    for (int i = 0; i < 1001; ++i) text += "key-number-" + std::to_string(100000 + i) + "\n";
    EXPECT_EQ(error_of(text), "tokens.txt:1001: more than 1000 tokens");
}

TEST(StaticTokens, RefusesDuplicateTokens) {
    EXPECT_EQ(error_of("# keys\n" + key_a + " a\n" + key_b + "\n" + key_a + " b\n"),
              "tokens.txt:4: the same token as on line 2");
}

TEST(StaticTokens, RefusesShortTokens) {
    EXPECT_EQ(error_of(key_a + "\n" + "abcdefghijklmno\n"),
              "tokens.txt:2: token is shorter than 16 characters");
    EXPECT_EQ(error_of("abcdefghijklmnop\n"), "(accepted)");
}

TEST(StaticTokens, RefusesTokensOutsideB64tokenSyntax) {
    const std::string message =
        " of the token is not one of A-Z a-z 0-9 - . _ ~ + / (nor a trailing =)";
    EXPECT_EQ(error_of("abcdefgh=ijklmnop\n"), "tokens.txt:1: character 9" + message);
    EXPECT_EQ(error_of("abcdefgh\"ijklmnop\n"), "tokens.txt:1: character 9" + message);
    EXPECT_EQ(error_of("abcdefghijklmnop\xc3\xa9\n"), "tokens.txt:1: character 17" + message);
    EXPECT_EQ(error_of("abcdefgh#ijklmnop\n"), "tokens.txt:1: character 9" + message);
    EXPECT_EQ(error_of("================\n"), "tokens.txt:1: token is only '=' characters");
    EXPECT_EQ(error_of("abcdefghijklmnop==\n"), "(accepted)");
    // Messages never repeat the token.
    EXPECT_EQ(error_of("secret-secret\"secret").find("secret-secret"), std::string::npos);
}

TEST(StaticTokens, RefusesTokensThatLookLikeJwts) {
    EXPECT_EQ(error_of("abcdefgh.ijklmn.op\n"),
              "tokens.txt:1: token has exactly two '.' and would be taken for a JWT");
    EXPECT_EQ(error_of("abcdefgh.ijklmnop\n"), "(accepted)");
    EXPECT_EQ(error_of("abc.defgh.ijkl.mnop\n"), "(accepted)");
}

TEST(StaticTokens, RefusesBadPatternsNamingTheLine) {
    EXPECT_EQ(
        error_of(key_a + " news\n\n" + key_b + " ok bad?pattern\n"),
        "tokens.txt:3: \"bad?pattern\": pattern may only contain A-Z a-z 0-9 _ . : / @ - and *");
    EXPECT_EQ(
        error_of(key_a + " " + std::string(129, 'c') + "\n"),
        "tokens.txt:1: \"" + std::string(129, 'c') + "\": pattern is longer than 128 characters");
}

TEST(StaticTokens, EmptyFileHasNoTokens) {
    EXPECT_EQ(parsed("").size(), 0u);
    EXPECT_EQ(parsed("# nothing yet\n").find(key_a), nullptr);
}

TEST(StaticTokens, LoadsAPrivateFile) {
    const temp_dir dir;
    const auto path = dir.write("tokens", key_a + " news\n", 0640);
    auto result = static_tokens::load(path);
    ASSERT_TRUE(std::holds_alternative<static_tokens>(result))
        << std::get<load_error>(result).message;
    EXPECT_NE(std::get<static_tokens>(result).find(key_a), nullptr);
}

TEST(StaticTokens, LoadErrorsNameTheFile) {
    const temp_dir dir;
    const auto path = dir.write("tokens", "# keys\n" + key_a + " bad?\n");
    EXPECT_EQ(load_error_of(path),
              path + ":2: \"bad?\": pattern may only contain A-Z a-z 0-9 _ . : / @ - and *");
}

TEST(StaticTokens, RefusesAWorldReadableFile) {
    const temp_dir dir;
    const auto path = dir.write("tokens", key_a + "\n", 0644);
    EXPECT_EQ(load_error_of(path),
              path + " is readable by every user (mode 0644): chmod o-r " + path);
    ::chmod(path.c_str(), 0604);
    EXPECT_EQ(load_error_of(path),
              path + " is readable by every user (mode 0604): chmod o-r " + path);
}

TEST(StaticTokens, RefusesWhatIsNotARegularFile) {
    const temp_dir dir;
    EXPECT_EQ(load_error_of(dir.path("")), dir.path("") + " is not a regular file");
    // A FIFO would block a plain open() until someone writes to it.
    const auto fifo = dir.path("fifo");
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    EXPECT_EQ(load_error_of(fifo), fifo + " is not a regular file");
}

TEST(StaticTokens, RefusesAMissingFile) {
    const temp_dir dir;
    EXPECT_EQ(load_error_of(dir.path("absent")),
              dir.path("absent") + ": No such file or directory");
}

TEST(StaticTokens, RefusesAFileLargerThan1MiB) {
    const temp_dir dir;
    const auto big = dir.write("big", std::string(ssecast::max_credential_file_size + 1, '#'));
    EXPECT_EQ(load_error_of(big), big + " is larger than 1024 KiB");
    const auto limit = dir.write("limit", std::string(ssecast::max_credential_file_size, '#'));
    EXPECT_EQ(load_error_of(limit), "(accepted)");
}

}  // namespace
