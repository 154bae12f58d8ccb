// Log-linear latency histogram (the HdrHistogram idea, cut down): values below 64 are exact, above
// that every power of two is split into 64 linear sub-buckets, so any recorded value is known to
// within 1/64 (1.6 %). Fixed size, no allocation on record(), mergeable across threads and
// processes (serialised sparsely to JSON).
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <limits>

#include <nlohmann/json.hpp>

namespace bench {

class histogram {
public:
    static constexpr int sub_bits = 6;
    static constexpr std::uint64_t sub_count = std::uint64_t{1} << sub_bits;  // 64
    static constexpr int max_msb = 62;
    static constexpr std::size_t bucket_count =
        sub_count + static_cast<std::size_t>(max_msb - sub_bits + 1) * sub_count;

    void record(std::int64_t value) {
        auto v = value < 0 ? std::uint64_t{0} : static_cast<std::uint64_t>(value);
        ++counts_[index_of(v)];
        ++count_;
        sum_ += static_cast<double>(v);
        max_ = std::max(max_, v);
        min_ = std::min(min_, v);
    }

    void merge(const histogram& other) {
        for (std::size_t i = 0; i < bucket_count; ++i) counts_[i] += other.counts_[i];
        count_ += other.count_;
        sum_ += other.sum_;
        max_ = std::max(max_, other.max_);
        min_ = std::min(min_, other.min_);
    }

    void reset() { *this = histogram{}; }

    std::uint64_t count() const { return count_; }
    std::uint64_t max() const { return count_ ? max_ : 0; }
    std::uint64_t min() const { return count_ ? min_ : 0; }
    double mean() const { return count_ ? sum_ / static_cast<double>(count_) : 0.0; }

    // The value at quantile q (0..1): the middle of the bucket holding the ceil(q*count)-th
    // smallest value, never above the exact maximum.
    std::uint64_t quantile(double q) const {
        if (count_ == 0) return 0;
        auto rank = static_cast<std::uint64_t>(q * static_cast<double>(count_) + 0.999999);
        rank = std::clamp<std::uint64_t>(rank, 1, count_);
        std::uint64_t seen = 0;
        for (std::size_t i = 0; i < bucket_count; ++i) {
            seen += counts_[i];
            if (seen >= rank) return std::min(middle_of(i), max_);
        }
        return max_;
    }

    // Sparse form: {"n":count,"sum":..,"min":..,"max":..,"b":[[index,count],...]}.
    nlohmann::json to_json() const {
        nlohmann::json buckets = nlohmann::json::array();
        for (std::size_t i = 0; i < bucket_count; ++i)
            if (counts_[i] != 0) buckets.push_back({i, counts_[i]});
        return {{"n", count_}, {"sum", sum_}, {"min", min()}, {"max", max()}, {"b", buckets}};
    }

    static histogram from_json(const nlohmann::json& j) {
        histogram h;
        h.count_ = j.value("n", std::uint64_t{0});
        h.sum_ = j.value("sum", 0.0);
        h.max_ = j.value("max", std::uint64_t{0});
        h.min_ = h.count_ ? j.value("min", std::uint64_t{0}) : std::numeric_limits<std::uint64_t>::max();
        for (const auto& b : j.at("b")) {
            auto i = b.at(0).get<std::size_t>();
            if (i < bucket_count) h.counts_[i] += b.at(1).get<std::uint64_t>();
        }
        return h;
    }

    // Summary in milliseconds for values recorded in nanoseconds.
    nlohmann::json summary_ms() const {
        auto ms = [](std::uint64_t ns) { return static_cast<double>(ns) / 1e6; };
        return {{"count", count_},     {"p50", ms(quantile(0.50))},  {"p90", ms(quantile(0.90))},
                {"p99", ms(quantile(0.99))}, {"p999", ms(quantile(0.999))}, {"max", ms(max())},
                {"min", ms(min())},    {"mean", mean() / 1e6}};
    }

private:
    static std::size_t index_of(std::uint64_t v) {
        if (v < sub_count) return static_cast<std::size_t>(v);
        int msb = 63 - std::countl_zero(v);
        if (msb > max_msb) return bucket_count - 1;
        auto top = v >> (msb - sub_bits);  // in [64, 128)
        return static_cast<std::size_t>(sub_count +
                                        static_cast<std::uint64_t>(msb - sub_bits) * sub_count +
                                        (top - sub_count));
    }

    static std::uint64_t middle_of(std::size_t i) {
        if (i < sub_count) return i;
        auto block = (i - sub_count) / sub_count;  // msb - sub_bits
        auto sub = (i - sub_count) % sub_count;
        auto shift = static_cast<int>(block);
        std::uint64_t low = (sub_count + sub) << shift;
        std::uint64_t width = std::uint64_t{1} << shift;
        return low + width / 2;
    }

    std::array<std::uint64_t, bucket_count> counts_{};
    std::uint64_t count_ = 0;
    double sum_ = 0;
    std::uint64_t max_ = 0;
    std::uint64_t min_ = std::numeric_limits<std::uint64_t>::max();
};

}  // namespace bench
