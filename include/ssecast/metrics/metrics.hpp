#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ssecast {

// What a histogram holds at one moment, as the exposition format shows it.
struct histogram_snapshot {
    std::vector<double> bounds;             // upper bounds (inclusive), increasing, +Inf left out
    std::vector<std::uint64_t> cumulative;  // observations <= bounds[i]
    std::uint64_t count = 0;                // every observation: the +Inf bucket
    double sum = 0;

    // Adds the observations of `other`, which has the same bounds.
    void merge(const histogram_snapshot& other);
};

// A histogram with fixed buckets, updated with relaxed atomics: no lock and no allocation per
// observation, safe from any thread. A scrape while it is updated may see an observation in its
// bucket but not yet in the sum; the count is the sum of the buckets, so those always agree.
class histogram {
  public:
    static constexpr std::size_t max_bounds = 16;

    // `bounds`: increasing upper bounds, at most max_bounds of them.
    explicit histogram(std::span<const double> bounds);

    void observe(double value) {
        std::size_t i = 0;
        while (i < size_ && value > bounds_[i]) ++i;
        counts_[i].fetch_add(1, std::memory_order_relaxed);
        sum_.fetch_add(value, std::memory_order_relaxed);
    }
    void observe(std::chrono::steady_clock::duration d) {
        observe(std::chrono::duration<double>(d).count());
    }

    histogram_snapshot snapshot() const;

  private:
    std::array<double, max_bounds> bounds_{};
    std::size_t size_ = 0;
    std::array<std::atomic<std::uint64_t>, max_bounds + 1> counts_{};  // last: above every bound
    std::atomic<double> sum_{0};
};

// Bucket bounds, in seconds.
inline constexpr std::array<double, 15> publish_duration_bounds = {
    0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
    0.005,   0.01,     0.025,   0.05,   0.1,     0.25,   1};
inline constexpr std::array<double, 16> publish_to_write_bounds = {
    0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
    0.01,     0.025,   0.05,   0.1,     0.25,   1,     2.5,    10};
// Subscribers per channel.
inline constexpr std::array<std::size_t, 6> channel_subscriber_bounds = {0,   1,    10,
                                                                         100, 1000, 10000};

// What one worker measures on its own thread; a scrape adds up the workers. Each worker writes
// only its own, so the atomics are never contended.
struct worker_metrics {
    std::atomic<std::uint64_t> bytes_sent{0};      // written to event streams, headers included
    std::atomic<std::uint64_t> events_dropped{0};  // live events a stream refused (see deliver())
    histogram publish_duration{publish_duration_bounds};  // POST /notify, handler only
    histogram publish_to_write{publish_to_write_bounds};  // see event_stream::written()

    void add_bytes_sent(std::uint64_t n) { bytes_sent.fetch_add(n, std::memory_order_relaxed); }
    void add_event_dropped() { events_dropped.fetch_add(1, std::memory_order_relaxed); }
};

// Every worker's metrics added up, as a scrape shows them.
struct worker_totals {
    std::uint64_t bytes_sent = 0;
    std::uint64_t events_dropped = 0;
    std::size_t send_queue = 0;   // streams waiting for a send scheduler
    std::size_t token_cache = 0;  // verified tokens cached
    histogram_snapshot publish_duration;
    histogram_snapshot publish_to_write;
};

// The Prometheus text exposition format, version 0.0.4: each family once, with its HELP and
// TYPE lines, names and label values as given (names must be valid; label values are escaped).
class exposition {
  public:
    static constexpr const char* content_type = "text/plain; version=0.0.4; charset=utf-8";

    void counter(std::string_view name, std::string_view help, std::uint64_t value);
    // A counter that is not a count, such as seconds of CPU time.
    void real_counter(std::string_view name, std::string_view help, double value);
    // One counter family whose samples carry several labels: each sample is its (label, value)
    // pairs and its count.
    using label_set = std::vector<std::pair<std::string_view, std::string_view>>;
    void counters(std::string_view name, std::string_view help,
                  const std::vector<std::pair<label_set, std::uint64_t>>& samples);
    void gauge(std::string_view name, std::string_view help, double value);
    // One sample per (label value, value), all with the label `label`.
    void gauges(std::string_view name, std::string_view help, std::string_view label,
                const std::vector<std::pair<std::string, double>>& samples);
    void histogram(std::string_view name, std::string_view help, const histogram_snapshot& h);

    const std::string& text() const { return out_; }
    std::string take() { return std::move(out_); }

  private:
    void header(std::string_view name, std::string_view help, std::string_view type);
    void sample(std::string_view name, std::string_view suffix, std::string_view label,
                std::string_view label_value, double value);

    std::string out_;
};

// Label values escape backslash, double quote and line feed; HELP text backslash and line feed.
std::string escape_label_value(std::string_view value);
std::string escape_help(std::string_view text);
// A sample value as the format writes it: shortest round-trip decimal, +Inf, -Inf, NaN.
std::string format_sample_value(double value);

}  // namespace ssecast
