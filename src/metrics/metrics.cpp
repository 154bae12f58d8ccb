#include "ssecast/metrics/metrics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace ssecast {

void histogram_snapshot::merge(const histogram_snapshot& other) {
    if (bounds.empty() && cumulative.empty()) {
        *this = other;
        return;
    }
    for (std::size_t i = 0; i < cumulative.size() && i < other.cumulative.size(); ++i)
        cumulative[i] += other.cumulative[i];
    count += other.count;
    sum += other.sum;
}

histogram::histogram(std::span<const double> bounds) {
    if (bounds.size() > max_bounds || !std::is_sorted(bounds.begin(), bounds.end()))
        throw std::invalid_argument("histogram bounds: at most 16, increasing");
    std::copy(bounds.begin(), bounds.end(), bounds_.begin());
    size_ = bounds.size();
}

histogram_snapshot histogram::snapshot() const {
    histogram_snapshot s;
    s.bounds.assign(bounds_.begin(), bounds_.begin() + static_cast<std::ptrdiff_t>(size_));
    s.cumulative.reserve(size_);
    std::uint64_t running = 0;
    for (std::size_t i = 0; i < size_; ++i) {
        running += counts_[i].load(std::memory_order_relaxed);
        s.cumulative.push_back(running);
    }
    s.count = running + counts_[size_].load(std::memory_order_relaxed);
    s.sum = sum_.load(std::memory_order_relaxed);
    return s;
}

namespace {

// Backslash and line feed always; the double quote only inside label values.
std::string escape(std::string_view text, bool quote) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '"' && quote) {
            out += "\\\"";
        } else {
            out += c;
        }
    }
    return out;
}

}  // namespace

std::string escape_label_value(std::string_view value) {
    return escape(value, true);
}

std::string escape_help(std::string_view text) {
    return escape(text, false);
}

std::string format_sample_value(double value) {
    if (std::isnan(value)) return "NaN";
    if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
    return fmt::format("{}", value);
}

void exposition::header(std::string_view name, std::string_view help, std::string_view type) {
    fmt::format_to(std::back_inserter(out_), "# HELP {} {}\n# TYPE {} {}\n", name,
                   escape_help(help), name, type);
}

void exposition::sample(std::string_view name, std::string_view suffix, std::string_view label,
                        std::string_view label_value, double value) {
    out_.append(name).append(suffix);
    if (!label.empty()) {
        out_.append("{").append(label).append("=\"");
        out_.append(escape_label_value(label_value)).append("\"}");
    }
    out_.append(" ").append(format_sample_value(value)).append("\n");
}

void exposition::counter(std::string_view name, std::string_view help, std::uint64_t value) {
    header(name, help, "counter");
    // Written as an integer: a double would round counts past 2^53.
    fmt::format_to(std::back_inserter(out_), "{} {}\n", name, value);
}

void exposition::real_counter(std::string_view name, std::string_view help, double value) {
    header(name, help, "counter");
    sample(name, "", "", "", value);
}

void exposition::counters(std::string_view name, std::string_view help,
                          const std::vector<std::pair<label_set, std::uint64_t>>& samples) {
    header(name, help, "counter");
    for (const auto& [labels, value] : samples) {
        out_.append(name).append("{");
        for (std::size_t i = 0; i < labels.size(); ++i) {
            if (i > 0) out_.append(",");
            out_.append(labels[i].first).append("=\"");
            out_.append(escape_label_value(labels[i].second)).append("\"");
        }
        fmt::format_to(std::back_inserter(out_), "}} {}\n", value);
    }
}

void exposition::gauge(std::string_view name, std::string_view help, double value) {
    header(name, help, "gauge");
    sample(name, "", "", "", value);
}

void exposition::gauges(std::string_view name, std::string_view help, std::string_view label,
                        const std::vector<std::pair<std::string, double>>& samples) {
    header(name, help, "gauge");
    for (const auto& [label_value, value] : samples) sample(name, "", label, label_value, value);
}

void exposition::histogram(std::string_view name, std::string_view help,
                           const histogram_snapshot& h) {
    header(name, help, "histogram");
    for (std::size_t i = 0; i < h.bounds.size() && i < h.cumulative.size(); ++i) {
        sample(name, "_bucket", "le", format_sample_value(h.bounds[i]),
               static_cast<double>(h.cumulative[i]));
    }
    sample(name, "_bucket", "le", "+Inf", static_cast<double>(h.count));
    sample(name, "_sum", "", "", h.sum);
    sample(name, "_count", "", "", static_cast<double>(h.count));
}

}  // namespace ssecast
