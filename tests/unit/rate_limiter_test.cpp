#include "ssecast/http/rate_limiter.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using ssecast::rate_limiter;
using clock_type = rate_limiter::clock;

const clock_type::time_point t0 = clock_type::now();

bool taken(rate_limiter& limiter, const std::string& key, clock_type::time_point at) {
    return limiter.take(key, at) == clock_type::duration::zero();
}

TEST(RateLimiter, ABurstThenTheRate) {
    rate_limiter limiter(10, 3);
    for (int i = 0; i < 3; ++i) EXPECT_TRUE(taken(limiter, "a", t0)) << i;
    auto wait = limiter.take("a", t0);
    EXPECT_GT(wait, 0ms);
    EXPECT_LE(wait, 100ms);  // one token comes back every 100 ms
    EXPECT_EQ(limiter.refused(), 1u);
    EXPECT_FALSE(taken(limiter, "a", t0 + 99ms));
    EXPECT_TRUE(taken(limiter, "a", t0 + 100ms));
    EXPECT_FALSE(taken(limiter, "a", t0 + 150ms));
    // A long pause refills up to the burst, no more.
    auto later = t0 + 1h;
    for (int i = 0; i < 3; ++i) EXPECT_TRUE(taken(limiter, "a", later)) << i;
    EXPECT_FALSE(taken(limiter, "a", later));
}

TEST(RateLimiter, TheWaitIsUntilTheNextToken) {
    rate_limiter limiter(1, 1);
    EXPECT_TRUE(taken(limiter, "a", t0));
    auto wait = limiter.take("a", t0 + 250ms);
    EXPECT_GT(wait, 740ms);
    EXPECT_LE(wait, 750ms);
    // A refusal takes nothing: the token still comes at t0 + 1 s.
    EXPECT_TRUE(taken(limiter, "a", t0 + 1s));
}

TEST(RateLimiter, KeysAreIndependent) {
    rate_limiter limiter(1, 1);
    EXPECT_TRUE(taken(limiter, "a", t0));
    EXPECT_FALSE(taken(limiter, "a", t0));
    EXPECT_TRUE(taken(limiter, "b", t0));
    EXPECT_EQ(limiter.size(), 2u);
}

TEST(RateLimiter, ZeroRateIsNoLimitAndKeepsNothing) {
    rate_limiter limiter(0, 1);
    for (int i = 0; i < 1000; ++i) EXPECT_TRUE(taken(limiter, "a", t0));
    EXPECT_EQ(limiter.size(), 0u);
    EXPECT_EQ(limiter.refused(), 0u);
}

TEST(RateLimiter, MaintainDropsBucketsThatRefilled) {
    rate_limiter limiter(10, 2);
    EXPECT_TRUE(taken(limiter, "old", t0));
    EXPECT_TRUE(taken(limiter, "new", t0 + 1s));
    EXPECT_EQ(limiter.size(), 2u);
    limiter.maintain(t0 + 1s);  // "old" is full again (1 token back after 100 ms), "new" is not
    EXPECT_EQ(limiter.size(), 1u);
    limiter.maintain(t0 + 1s + 99ms);
    EXPECT_EQ(limiter.size(), 1u);
    limiter.maintain(t0 + 1s + 100ms);
    EXPECT_EQ(limiter.size(), 0u);
    // A dropped key starts again with a full bucket: nothing was lost by forgetting it.
    EXPECT_TRUE(taken(limiter, "old", t0 + 2s));
    EXPECT_TRUE(taken(limiter, "old", t0 + 2s));
    EXPECT_FALSE(taken(limiter, "old", t0 + 2s));
}

TEST(RateLimiter, AtMostMaxKeysTheLeastRecentlyUsedGoes) {
    rate_limiter limiter(1, 1, 3);
    EXPECT_TRUE(taken(limiter, "a", t0));
    EXPECT_TRUE(taken(limiter, "b", t0));
    EXPECT_TRUE(taken(limiter, "c", t0));
    EXPECT_FALSE(taken(limiter, "a", t0));  // "a" is now the most recently used
    EXPECT_TRUE(taken(limiter, "d", t0));   // evicts "b"
    EXPECT_EQ(limiter.size(), 3u);
    EXPECT_FALSE(taken(limiter, "a", t0));  // still remembered
    EXPECT_FALSE(taken(limiter, "c", t0));
    EXPECT_TRUE(taken(limiter, "b", t0));  // forgotten, so full again; evicts "d"
    EXPECT_TRUE(taken(limiter, "d", t0));
    EXPECT_EQ(limiter.size(), 3u);
}

TEST(RateLimiter, ManyKeysStayBounded) {
    rate_limiter limiter(1, 1, 1000);
    for (int i = 0; i < 100000; ++i) limiter.take("key-" + std::to_string(i), t0);
    EXPECT_EQ(limiter.size(), 1000u);
    limiter.maintain(t0 + 1s);
    EXPECT_EQ(limiter.size(), 0u);
}

TEST(RateLimiter, SharedByThreads) {
    // 4 threads of 1000 requests on one key with a burst of 100 and no time passing: exactly
    // 100 get through.
    rate_limiter limiter(1, 100);
    std::vector<std::thread> threads;
    std::atomic<int> passed{0};
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 1000; ++i) {
                if (taken(limiter, "shared", t0)) ++passed;
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(passed.load(), 100);
    EXPECT_EQ(limiter.refused(), 3900u);
}

}  // namespace
