#include "ssecast/backend/memory/ring_buffer.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using ssecast::ring_buffer;
using ssecast::stored_event;
using clock_type = std::chrono::steady_clock;

const clock_type::time_point t0{};  // a fixed, arbitrary origin: no clock reads, no sleeping

stored_event make_event(std::uint64_t seq, clock_type::time_point published = t0) {
    return {seq, published, std::make_shared<const std::string>("event " + std::to_string(seq))};
}

std::vector<std::uint64_t> seqs(const ring_buffer& ring) {
    std::vector<std::uint64_t> out;
    for (std::size_t i = 0; i < ring.size(); ++i) out.push_back(ring.at(i).seq);
    return out;
}

// Checks size, order, oldest/newest and that each slot still holds its own frame.
void expect_contents(const ring_buffer& ring, const std::vector<std::uint64_t>& expected) {
    ASSERT_EQ(ring.size(), expected.size());
    EXPECT_EQ(ring.empty(), expected.empty());
    EXPECT_EQ(seqs(ring), expected);
    for (std::size_t i = 0; i < expected.size(); ++i) {
        ASSERT_NE(ring.at(i).data, nullptr);
        EXPECT_EQ(*ring.at(i).data, "event " + std::to_string(expected[i]));
    }
    if (!expected.empty()) {
        EXPECT_EQ(ring.oldest().seq, expected.front());
        EXPECT_EQ(ring.newest().seq, expected.back());
    }
}

TEST(RingBuffer, StartsEmpty) {
    ring_buffer ring(10);
    EXPECT_TRUE(ring.empty());
    EXPECT_EQ(ring.size(), 0u);
    EXPECT_EQ(ring.capacity(), 10u);
    EXPECT_EQ(ring.max_evicted_seq(), 0u);
    EXPECT_EQ(ring.first_after(0), 0u);
    EXPECT_EQ(ring.first_after(12345), 0u);
    EXPECT_EQ(ring.evict_published_before(t0 + 1h), 0u);
    EXPECT_EQ(ring.max_evicted_seq(), 0u);
}

TEST(RingBuffer, PushBelowCapacityKeepsEverythingInOrder) {
    ring_buffer ring(10);
    for (std::uint64_t s = 1; s <= 5; ++s) ring.push(make_event(s));
    expect_contents(ring, {1, 2, 3, 4, 5});
    EXPECT_EQ(ring.max_evicted_seq(), 0u);
    EXPECT_EQ(ring.capacity(), 10u);
}

TEST(RingBuffer, FillsExactlyToCapacityWithoutEvicting) {
    ring_buffer ring(8);
    for (std::uint64_t s = 1; s <= 8; ++s) ring.push(make_event(s));
    expect_contents(ring, {1, 2, 3, 4, 5, 6, 7, 8});
    EXPECT_EQ(ring.max_evicted_seq(), 0u);
}

TEST(RingBuffer, WrapsAroundKeepingTheNewest) {
    for (std::size_t capacity : {1u, 2u, 5u, 8u, 9u, 16u, 100u}) {
        SCOPED_TRACE("capacity " + std::to_string(capacity));
        ring_buffer ring(capacity);
        for (std::uint64_t n = 1; n <= capacity * 3; ++n) {
            ring.push(make_event(n));
            std::vector<std::uint64_t> expected;
            auto first = n > capacity ? n - capacity + 1 : 1;
            for (auto s = first; s <= n; ++s) expected.push_back(s);
            expect_contents(ring, expected);
            EXPECT_EQ(ring.max_evicted_seq(), n > capacity ? n - capacity : 0u);
            EXPECT_LE(ring.size(), ring.capacity());
        }
    }
}

TEST(RingBuffer, FirstAfterWithGapsInSequence) {
    ring_buffer ring(10);
    for (std::uint64_t s : {3u, 7u, 9u}) ring.push(make_event(s));
    EXPECT_EQ(ring.first_after(0), 0u);  // before the oldest
    EXPECT_EQ(ring.first_after(2), 0u);
    EXPECT_EQ(ring.first_after(3), 1u);  // equal to an element
    EXPECT_EQ(ring.first_after(4), 1u);  // between elements
    EXPECT_EQ(ring.first_after(6), 1u);
    EXPECT_EQ(ring.first_after(7), 2u);
    EXPECT_EQ(ring.first_after(8), 2u);
    EXPECT_EQ(ring.first_after(9), 3u);   // the newest: nothing after
    EXPECT_EQ(ring.first_after(10), 3u);  // after the newest
    EXPECT_EQ(ring.first_after(UINT64_MAX), 3u);
}

TEST(RingBuffer, FirstAfterOnAWrappedRing) {
    ring_buffer ring(4);
    for (std::uint64_t s = 10; s <= 100; s += 10) ring.push(make_event(s));
    expect_contents(ring, {70, 80, 90, 100});
    EXPECT_EQ(ring.first_after(5), 0u);
    EXPECT_EQ(ring.first_after(60), 0u);
    EXPECT_EQ(ring.first_after(69), 0u);
    EXPECT_EQ(ring.first_after(70), 1u);
    EXPECT_EQ(ring.first_after(75), 1u);
    EXPECT_EQ(ring.first_after(89), 2u);
    EXPECT_EQ(ring.first_after(90), 3u);
    EXPECT_EQ(ring.first_after(99), 3u);
    EXPECT_EQ(ring.first_after(100), 4u);
    EXPECT_EQ(ring.first_after(1000), 4u);
}

TEST(RingBuffer, FirstAfterMatchesLinearSearchForEveryPosition) {
    ring_buffer ring(13);
    std::vector<std::uint64_t> pushed;
    std::uint64_t s = 0;
    for (int i = 0; i < 40; ++i) {
        s += 1 + (i * 7) % 5;  // strictly increasing, irregular steps
        ring.push(make_event(s));
        pushed.push_back(s);
        auto kept = seqs(ring);
        for (std::uint64_t probe = 0; probe <= s + 2; ++probe) {
            std::size_t linear = 0;
            while (linear < kept.size() && kept[linear] <= probe) ++linear;
            ASSERT_EQ(ring.first_after(probe), linear) << "probe " << probe << " after push " << s;
        }
    }
}

TEST(RingBuffer, MaxEvictedSeqAfterCapacityEviction) {
    ring_buffer ring(3);
    for (std::uint64_t s : {2u, 4u, 6u}) ring.push(make_event(s));
    EXPECT_EQ(ring.max_evicted_seq(), 0u);
    ring.push(make_event(8));
    EXPECT_EQ(ring.max_evicted_seq(), 2u);
    ring.push(make_event(11));
    EXPECT_EQ(ring.max_evicted_seq(), 4u);
    EXPECT_EQ(ring.oldest().seq, 6u);
}

TEST(RingBuffer, EvictPublishedBeforeRemovesOnlyOlderEvents) {
    ring_buffer ring(10);
    for (std::uint64_t s = 1; s <= 6; ++s) ring.push(make_event(s, t0 + std::chrono::seconds(s)));
    EXPECT_EQ(ring.evict_published_before(t0), 0u);
    EXPECT_EQ(ring.evict_published_before(t0 + 1s), 0u);  // strictly before the cutoff only
    EXPECT_EQ(ring.max_evicted_seq(), 0u);

    EXPECT_EQ(ring.evict_published_before(t0 + 3s), 2u);
    expect_contents(ring, {3, 4, 5, 6});
    EXPECT_EQ(ring.max_evicted_seq(), 2u);

    EXPECT_EQ(ring.evict_published_before(t0 + 3s), 0u);  // idempotent
    EXPECT_EQ(ring.evict_published_before(t0 + 100s), 4u);
    EXPECT_TRUE(ring.empty());
    EXPECT_EQ(ring.max_evicted_seq(), 6u);
    EXPECT_EQ(ring.first_after(0), 0u);

    // Still usable after being emptied.
    ring.push(make_event(7, t0 + 200s));
    expect_contents(ring, {7});
    EXPECT_EQ(ring.max_evicted_seq(), 6u);
}

TEST(RingBuffer, AgeEvictionThenCapacityEvictionKeepsMaxEvictedRising) {
    ring_buffer ring(3);
    for (std::uint64_t s = 1; s <= 3; ++s) ring.push(make_event(s, t0 + std::chrono::seconds(s)));
    EXPECT_EQ(ring.evict_published_before(t0 + 2s), 1u);
    EXPECT_EQ(ring.max_evicted_seq(), 1u);
    ring.push(make_event(4, t0 + 4s));
    EXPECT_EQ(ring.max_evicted_seq(), 1u);  // room was made by the age eviction
    ring.push(make_event(5, t0 + 5s));
    EXPECT_EQ(ring.max_evicted_seq(), 2u);
    expect_contents(ring, {3, 4, 5});
}

TEST(RingBuffer, EvictedFramesAreReleased) {
    ring_buffer ring(2);
    auto first = make_event(1, t0 + 1s);
    std::weak_ptr<const std::string> first_frame = first.data;
    auto second = make_event(2, t0 + 2s);
    std::weak_ptr<const std::string> second_frame = second.data;
    ring.push(std::move(first));
    ring.push(std::move(second));
    ring.push(make_event(3, t0 + 3s));
    EXPECT_TRUE(first_frame.expired()) << "capacity eviction kept the frame alive";
    EXPECT_EQ(ring.evict_published_before(t0 + 2500ms), 1u);
    EXPECT_TRUE(second_frame.expired()) << "age eviction kept the frame alive";
}

TEST(RingBuffer, CapacityZeroKeepsNothingButRecordsEvictions) {
    ring_buffer ring(0);
    EXPECT_EQ(ring.capacity(), 0u);
    ring.push(make_event(5));
    EXPECT_TRUE(ring.empty());
    EXPECT_EQ(ring.size(), 0u);
    EXPECT_EQ(ring.max_evicted_seq(), 5u);
    ring.push(make_event(9));
    EXPECT_TRUE(ring.empty());
    EXPECT_EQ(ring.max_evicted_seq(), 9u);
    EXPECT_EQ(ring.first_after(0), 0u);
    EXPECT_EQ(ring.first_after(9), 0u);
    EXPECT_EQ(ring.evict_published_before(t0 + 1h), 0u);
    EXPECT_EQ(ring.max_evicted_seq(), 9u);
}

TEST(RingBuffer, GrowthPreservesOrderWhenHeadHasMoved) {
    // Capacity 100 starts with small storage and grows: move the head by evicting first, so the
    // stored events wrap around the small storage when it has to grow.
    ring_buffer ring(100);
    std::uint64_t next = 1;
    auto push_n = [&](int n) {
        for (int i = 0; i < n; ++i, ++next) {
            ring.push(make_event(next, t0 + std::chrono::seconds(next)));
        }
    };
    push_n(6);
    EXPECT_EQ(ring.evict_published_before(t0 + 5s), 4u);  // keeps 5, 6
    push_n(6);                                            // 5..12: wraps the storage
    std::vector<std::uint64_t> expected;
    for (std::uint64_t s = 5; s <= 12; ++s) expected.push_back(s);
    expect_contents(ring, expected);

    push_n(1);  // 13: forces growth with a wrapped head
    expected.push_back(13);
    expect_contents(ring, expected);

    EXPECT_EQ(ring.evict_published_before(t0 + 10s), 5u);  // keeps 10..13
    push_n(30);                                            // 10..43: grows again, wrapped
    expected.clear();
    for (std::uint64_t s = 10; s <= 43; ++s) expected.push_back(s);
    expect_contents(ring, expected);

    push_n(100);  // 44..143: reaches capacity, then wraps at full size
    expected.clear();
    for (std::uint64_t s = 44; s <= 143; ++s) expected.push_back(s);
    expect_contents(ring, expected);
    EXPECT_EQ(ring.max_evicted_seq(), 43u);
    EXPECT_EQ(ring.first_after(43), 0u);
    EXPECT_EQ(ring.first_after(100), 57u);
}

TEST(RingBuffer, CapacityNotAPowerOfTwoGrowsOnlyToCapacity) {
    ring_buffer ring(11);
    for (std::uint64_t s = 1; s <= 50; ++s) {
        ring.push(make_event(s));
        EXPECT_EQ(ring.size(), std::min<std::size_t>(s, 11));
    }
    std::vector<std::uint64_t> expected;
    for (std::uint64_t s = 40; s <= 50; ++s) expected.push_back(s);
    expect_contents(ring, expected);
    EXPECT_EQ(ring.max_evicted_seq(), 39u);
}

// Random pushes and age evictions, checked against a simple model after every step.
TEST(RingBuffer, MatchesAModelUnderRandomOperations) {
    for (std::size_t capacity : {1u, 2u, 3u, 7u, 8u, 9u, 17u, 64u, 100u}) {
        SCOPED_TRACE("capacity " + std::to_string(capacity));
        std::mt19937 random(static_cast<unsigned>(capacity) * 7919u + 1u);
        ring_buffer ring(capacity);
        std::deque<std::uint64_t> model;
        std::uint64_t model_max_evicted = 0;
        std::uint64_t seq = 0;
        for (int step = 0; step < 2000; ++step) {
            if (random() % 10 < 8) {
                seq += 1 + random() % 3;
                ring.push(make_event(seq, t0 + std::chrono::milliseconds(seq)));
                model.push_back(seq);
                if (model.size() > capacity) {
                    model_max_evicted = model.front();
                    model.pop_front();
                }
            } else {
                auto cutoff = seq > 20 ? seq - random() % 20 : 0;
                std::size_t expected_evicted = 0;
                while (!model.empty() && model.front() < cutoff) {
                    model_max_evicted = model.front();
                    model.pop_front();
                    ++expected_evicted;
                }
                ASSERT_EQ(ring.evict_published_before(t0 + std::chrono::milliseconds(cutoff)),
                          expected_evicted);
            }
            ASSERT_EQ(seqs(ring), std::vector<std::uint64_t>(model.begin(), model.end()))
                << "step " << step;
            ASSERT_EQ(ring.max_evicted_seq(), model_max_evicted) << "step " << step;
            if (!model.empty()) {
                ASSERT_EQ(*ring.newest().data, "event " + std::to_string(model.back()));
                ASSERT_EQ(*ring.oldest().data, "event " + std::to_string(model.front()));
            }
        }
    }
}

}  // namespace
