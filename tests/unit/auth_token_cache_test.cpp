#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "ssecast/auth/token_cache.hpp"

namespace {

using ssecast::authenticated;
using ssecast::credential_kind;
using ssecast::token_cache;
using std::chrono::seconds;
using std::chrono::system_clock;

const system_clock::time_point t0{seconds(1'796'205'600)};

authenticated holder(const std::string& name) {
    return authenticated{credential_kind::jwt, "jwt:" + name, {}, std::nullopt};
}

std::string identity_found(token_cache& cache, const std::string& token,
                           std::uint64_t generation = 1, system_clock::time_point now = t0) {
    const auto found = cache.find(token, generation, now);
    return found ? found->identity : "(miss)";
}

TEST(TokenCache, HitAfterInsert) {
    token_cache cache;
    EXPECT_EQ(identity_found(cache, "t1"), "(miss)");
    cache.insert("t1", holder("alice"), std::nullopt, 1);
    EXPECT_EQ(identity_found(cache, "t1"), "jwt:alice");
    EXPECT_EQ(identity_found(cache, "t1"), "jwt:alice");
    EXPECT_EQ(identity_found(cache, "t2"), "(miss)");
    EXPECT_EQ(cache.hits(), 2u);
    EXPECT_EQ(cache.misses(), 2u);
    EXPECT_EQ(cache.size(), 1u);
}

TEST(TokenCache, EntryEndsAtValidUntil) {
    token_cache cache;
    cache.insert("t1", holder("alice"), t0 + seconds(10), 1);
    EXPECT_EQ(identity_found(cache, "t1", 1, t0 + seconds(9)), "jwt:alice");
    EXPECT_EQ(identity_found(cache, "t1", 1, t0 + seconds(10)), "(miss)");
    EXPECT_EQ(cache.size(), 0u);  // dropped, not kept as garbage
    // No end: kept however late it is asked for.
    cache.insert("t2", holder("bob"), std::nullopt, 1);
    EXPECT_EQ(identity_found(cache, "t2", 1, t0 + std::chrono::hours(24 * 365)), "jwt:bob");
}

TEST(TokenCache, AnotherGenerationMissesAndClears) {
    token_cache cache;
    cache.insert("t1", holder("alice"), std::nullopt, 1);
    cache.insert("t2", holder("bob"), std::nullopt, 1);
    EXPECT_EQ(identity_found(cache, "t1", 2), "(miss)");
    EXPECT_EQ(cache.size(), 0u);
    EXPECT_EQ(identity_found(cache, "t2", 1), "(miss)");  // and back again is no way round it
    cache.insert("t1", holder("alice"), std::nullopt, 3);
    EXPECT_EQ(identity_found(cache, "t1", 3), "jwt:alice");
    cache.insert("t2", holder("bob"), std::nullopt, 4);  // an insert of another generation too
    EXPECT_EQ(cache.size(), 1u);
    EXPECT_EQ(identity_found(cache, "t1", 4), "(miss)");
}

TEST(TokenCache, CapacityEvictsLeastRecentlyUsed) {
    token_cache cache(3);
    cache.insert("t1", holder("1"), std::nullopt, 1);
    cache.insert("t2", holder("2"), std::nullopt, 1);
    cache.insert("t3", holder("3"), std::nullopt, 1);
    EXPECT_EQ(identity_found(cache, "t1"), "jwt:1");  // t2 is now the least recently used
    cache.insert("t4", holder("4"), std::nullopt, 1);
    EXPECT_EQ(cache.size(), 3u);
    EXPECT_EQ(identity_found(cache, "t2"), "(miss)");
    EXPECT_EQ(identity_found(cache, "t1"), "jwt:1");
    EXPECT_EQ(identity_found(cache, "t3"), "jwt:3");
    EXPECT_EQ(identity_found(cache, "t4"), "jwt:4");
    for (int i = 0; i < 100; ++i)
        cache.insert("many" + std::to_string(i), holder("m"), std::nullopt, 1);
    EXPECT_EQ(cache.size(), 3u);
    EXPECT_EQ(identity_found(cache, "many99"), "jwt:m");
    EXPECT_EQ(identity_found(cache, "many96"), "(miss)");
}

TEST(TokenCache, InsertingAgainReplaces) {
    token_cache cache(2);
    cache.insert("t1", holder("old"), std::nullopt, 1);
    cache.insert("t1", holder("new"), std::nullopt, 1);
    EXPECT_EQ(cache.size(), 1u);
    EXPECT_EQ(identity_found(cache, "t1"), "jwt:new");
}

TEST(TokenCache, CapacityZeroCachesNothing) {
    token_cache cache(0);
    cache.insert("t1", holder("alice"), std::nullopt, 1);
    EXPECT_EQ(cache.size(), 0u);
    EXPECT_EQ(identity_found(cache, "t1"), "(miss)");
}

TEST(TokenCache, KeysAreWholeTokens) {
    token_cache cache;
    const std::string long_token(8192, 'x');
    cache.insert(long_token, holder("long"), std::nullopt, 1);
    EXPECT_EQ(identity_found(cache, long_token), "jwt:long");
    EXPECT_EQ(identity_found(cache, long_token.substr(1)), "(miss)");
    EXPECT_EQ(identity_found(cache, long_token + "x"), "(miss)");
}

}  // namespace
