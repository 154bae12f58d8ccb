#include "ssecast/metrics/metrics.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cmath>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "prometheus_text.hpp"
#include "ssecast/metrics/process_metrics.hpp"

namespace {

using namespace std::chrono_literals;
using ssecast::exposition;
using ssecast::histogram;
using ssecast::histogram_snapshot;

constexpr std::array<double, 3> bounds = {0.5, 1, 2};

TEST(Histogram, ObservationsLandInTheFirstBucketThatHoldsThem) {
    histogram h(bounds);
    for (double v : {0.0, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 100.0}) h.observe(v);
    auto s = h.snapshot();
    EXPECT_EQ(s.bounds, std::vector<double>(bounds.begin(), bounds.end()));
    // A bound is inclusive (le): 0.5 is in the first bucket, 2.0 in the last finite one.
    EXPECT_EQ(s.cumulative, (std::vector<std::uint64_t>{2, 4, 6}));
    EXPECT_EQ(s.count, 8u);
    EXPECT_DOUBLE_EQ(s.sum, 108.25);
}

TEST(Histogram, EmptyAndDurations) {
    histogram h(bounds);
    auto empty = h.snapshot();
    EXPECT_EQ(empty.cumulative, (std::vector<std::uint64_t>{0, 0, 0}));
    EXPECT_EQ(empty.count, 0u);
    EXPECT_EQ(empty.sum, 0);
    h.observe(std::chrono::steady_clock::duration(1500ms));
    auto s = h.snapshot();
    EXPECT_EQ(s.cumulative, (std::vector<std::uint64_t>{0, 0, 1}));
    EXPECT_DOUBLE_EQ(s.sum, 1.5);
}

TEST(Histogram, RefusesUnsortedOrTooManyBounds) {
    std::array<double, 2> unsorted = {2, 1};
    EXPECT_THROW(histogram{unsorted}, std::invalid_argument);
    std::array<double, histogram::max_bounds + 1> many{};
    for (std::size_t i = 0; i < many.size(); ++i) many[i] = static_cast<double>(i);
    EXPECT_THROW(histogram{many}, std::invalid_argument);
}

// Several threads observing at once lose nothing.
TEST(Histogram, ConcurrentObserversLoseNothing) {
    histogram h(bounds);
    constexpr int threads = 4;
    constexpr int each = 20000;
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&h, t] {
            for (int i = 0; i < each; ++i) h.observe(t % 2 == 0 ? 0.25 : 1.5);
        });
    }
    for (auto& t : pool) t.join();
    auto s = h.snapshot();
    EXPECT_EQ(s.count, static_cast<std::uint64_t>(threads * each));
    EXPECT_EQ(s.cumulative[0], static_cast<std::uint64_t>(threads / 2 * each));
    EXPECT_EQ(s.cumulative[2], s.count);
    EXPECT_DOUBLE_EQ(s.sum, (threads / 2) * each * (0.25 + 1.5));
}

TEST(Histogram, SnapshotsMerge) {
    histogram a(bounds);
    histogram b(bounds);
    a.observe(0.1);
    b.observe(1.0);
    b.observe(3.0);
    histogram_snapshot total;
    total.merge(a.snapshot());
    total.merge(b.snapshot());
    EXPECT_EQ(total.bounds, std::vector<double>(bounds.begin(), bounds.end()));
    EXPECT_EQ(total.cumulative, (std::vector<std::uint64_t>{1, 2, 2}));
    EXPECT_EQ(total.count, 3u);
    EXPECT_DOUBLE_EQ(total.sum, 4.1);
}

TEST(Exposition, EscapesLabelValuesAndHelp) {
    EXPECT_EQ(ssecast::escape_label_value("plain a/b:c@d.e-f_g"), "plain a/b:c@d.e-f_g");
    EXPECT_EQ(ssecast::escape_label_value("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
    EXPECT_EQ(ssecast::escape_help("a\\b\"c\nd"), "a\\\\b\"c\\nd");
}

TEST(Exposition, SampleValues) {
    EXPECT_EQ(ssecast::format_sample_value(0), "0");
    EXPECT_EQ(ssecast::format_sample_value(3), "3");
    EXPECT_EQ(ssecast::format_sample_value(0.25), "0.25");
    EXPECT_EQ(ssecast::format_sample_value(-1.5), "-1.5");
    EXPECT_EQ(ssecast::format_sample_value(std::numeric_limits<double>::infinity()), "+Inf");
    EXPECT_EQ(ssecast::format_sample_value(-std::numeric_limits<double>::infinity()), "-Inf");
    EXPECT_EQ(ssecast::format_sample_value(std::nan("")), "NaN");
    // Whatever the spelling, it reads back as the same number.
    for (double v : {1e-05, 0.1, 123456789.0, 1e20, 1795254312.9119444}) {
        auto text = ssecast::format_sample_value(v);
        EXPECT_EQ(prom::parse_value(text), v) << text;
    }
}

TEST(Exposition, WritesEachKindExactly) {
    exposition e;
    e.counter("x_total", "Things\ncounted.", 18446744073709551615ull);
    e.gauge("y", "A gauge.", 2.5);
    e.gauges("z", "Per label.", "channel", {{"a\"b", 1}, {"c", 0}});
    histogram h(bounds);
    h.observe(0.5);
    h.observe(5);
    e.histogram("w_seconds", "A histogram.", h.snapshot());
    EXPECT_EQ(e.text(),
              "# HELP x_total Things\\ncounted.\n"
              "# TYPE x_total counter\n"
              "x_total 18446744073709551615\n"
              "# HELP y A gauge.\n"
              "# TYPE y gauge\n"
              "y 2.5\n"
              "# HELP z Per label.\n"
              "# TYPE z gauge\n"
              "z{channel=\"a\\\"b\"} 1\n"
              "z{channel=\"c\"} 0\n"
              "# HELP w_seconds A histogram.\n"
              "# TYPE w_seconds histogram\n"
              "w_seconds_bucket{le=\"0.5\"} 1\n"
              "w_seconds_bucket{le=\"1\"} 1\n"
              "w_seconds_bucket{le=\"2\"} 1\n"
              "w_seconds_bucket{le=\"+Inf\"} 2\n"
              "w_seconds_sum 5.5\n"
              "w_seconds_count 2\n");
    // And the strict parser takes it.
    auto parsed = prom::parse(e.text());
    EXPECT_EQ(parsed.at("z", {{"channel", "a\"b"}}), 1);
    EXPECT_EQ(parsed.hist("w_seconds").count, 2);
    EXPECT_EQ(parsed.find("x_total")->help, "Things\ncounted.");
}

TEST(Exposition, EmptyFamilyIsValid) {
    exposition e;
    e.gauges("z", "None yet.", "channel", {});
    EXPECT_EQ(e.text(), "# HELP z None yet.\n# TYPE z gauge\n");
    EXPECT_NO_THROW(prom::parse(e.text()));
}

TEST(Exposition, DefaultBucketBoundsAreValid) {
    // Constructing checks them (sorted, few enough).
    EXPECT_NO_THROW(histogram{ssecast::publish_duration_bounds});
    EXPECT_NO_THROW(histogram{ssecast::publish_to_write_bounds});
    EXPECT_TRUE(std::is_sorted(ssecast::channel_subscriber_bounds.begin(),
                               ssecast::channel_subscriber_bounds.end()));
}

// A counter that is not a count (CPU seconds) is written as a real number.
TEST(Exposition, ARealCounter) {
    exposition e;
    e.real_counter("cpu_seconds_total", "CPU.", 1.25);
    EXPECT_EQ(e.text(),
              "# HELP cpu_seconds_total CPU.\n# TYPE cpu_seconds_total counter\n"
              "cpu_seconds_total 1.25\n");
}

// The walk of the descriptor table (kernels before 6.2) and the count stat() gives (6.2 on, 0
// before) agree, and both see descriptors come and go.
TEST(ProcessMetrics, OpenDescriptorsCountedEitherWayAgree) {
    auto walked = ssecast::walk_open_fds();
    ASSERT_TRUE(walked.has_value());
    EXPECT_EQ(ssecast::count_open_fds(), walked);
    std::vector<int> extra;
    for (int i = 0; i < 100; ++i) extra.push_back(open("/dev/null", O_RDONLY));
    EXPECT_EQ(ssecast::walk_open_fds(), *walked + 100);
    EXPECT_EQ(ssecast::count_open_fds(), *walked + 100);
    for (int fd : extra) close(fd);
    EXPECT_EQ(ssecast::walk_open_fds(), walked);
}

}  // namespace
