#include "ssecast/config/value_parsers.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <string_view>

#include "ssecast/config/comma_list.hpp"

namespace ssecast {

namespace {

using std::chrono::milliseconds;

std::optional<std::uint64_t> parse_uint(std::string_view digits) {
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size())
        return std::nullopt;
    return value;
}

std::pair<std::string_view, std::string_view> split_number(std::string_view text) {
    auto end = text.find_first_not_of("0123456789");
    if (end == std::string_view::npos) end = text.size();
    return {text.substr(0, end), text.substr(end)};
}

struct duration_unit {
    std::string_view name;
    std::int64_t ms;
};
// Largest first: format_duration takes the first that divides.
constexpr duration_unit duration_units[] = {
    {"d", 86'400'000}, {"h", 3'600'000}, {"m", 60'000}, {"s", 1000}, {"ms", 1}};

}  // namespace

std::optional<milliseconds> parse_duration(const std::string& text) {
    auto [digits, unit] = split_number(text);
    auto n = parse_uint(digits);
    // Bounded so that no unit can overflow (10^10 days is far beyond any option's range).
    if (!n || *n > 10'000'000'000ULL) return std::nullopt;
    if (unit.empty()) unit = "s";
    for (const auto& u : duration_units) {
        if (unit == u.name) return milliseconds(static_cast<std::int64_t>(*n) * u.ms);
    }
    return std::nullopt;
}

std::string format_duration(milliseconds d) {
    auto ms = d.count();
    if (ms == 0) return "0s";
    for (const auto& u : duration_units) {
        if (ms % u.ms == 0) return std::to_string(ms / u.ms) + std::string(u.name);
    }
    return std::to_string(ms) + "ms";
}

std::optional<std::size_t> parse_size(const std::string& text) {
    auto [digits, unit_text] = split_number(text);
    auto n = parse_uint(digits);
    if (!n) return std::nullopt;
    std::string unit(unit_text);
    std::transform(unit.begin(), unit.end(), unit.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    int shift = -1;
    if (unit.empty() || unit == "b") shift = 0;
    for (auto [letter, bits] : {std::pair{'k', 10}, {'m', 20}, {'g', 30}}) {
        auto one = std::string(1, letter);
        if (unit == one || unit == one + "b" || unit == one + "ib") shift = bits;
    }
    // Checked before shifting, so that no value wraps around into an acceptable one.
    constexpr std::uint64_t limit = 1ULL << 40;
    if (shift < 0 || *n > (limit >> shift)) return std::nullopt;
    return *n << shift;
}

std::string format_size(std::size_t bytes) {
    for (auto [name, bits] : {std::pair{"GiB", 30}, {"MiB", 20}, {"KiB", 10}}) {
        std::size_t unit = std::size_t{1} << bits;
        if (bytes != 0 && bytes % unit == 0) return std::to_string(bytes / unit) + name;
    }
    return std::to_string(bytes);
}

std::optional<std::size_t> parse_rate(const std::string& text) {
    auto [digits, unit] = split_number(text);
    if (!unit.empty() && unit != "/s") return std::nullopt;
    return parse_uint(digits);
}

std::optional<std::string> parse_origins(const std::string& text, std::vector<std::string>& out) {
    out.clear();
    for (auto& item : split_comma_list(text)) {
        if (item == "*") {
            out.push_back(item);
            continue;
        }
        // An origin is exactly what browsers send in the Origin header: scheme, host, port.
        auto scheme_end = item.find("://");
        auto scheme = scheme_end == std::string::npos ? std::string() : item.substr(0, scheme_end);
        auto host = scheme_end == std::string::npos ? std::string() : item.substr(scheme_end + 3);
        bool host_ok = !host.empty() && host.find_first_of("/?#@ ") == std::string::npos;
        if ((scheme != "http" && scheme != "https") || !host_ok)
            return "\"" + item + "\" is not an origin";
        out.push_back(item);
    }
    if (out.size() > 1 && std::find(out.begin(), out.end(), "*") != out.end())
        return std::string("\"*\" cannot be combined with other origins");
    return std::nullopt;
}

}  // namespace ssecast
