#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace ssecast {

// The spellings of option values; each answers nullopt for anything it does not accept exactly.

// A whole number and a unit: "500ms", "15s", "2m", "1h", "7d"; a bare number is seconds.
std::optional<std::chrono::milliseconds> parse_duration(const std::string& text);
// The shortest spelling parse_duration reads back as `d`: "500ms", "15s", "2m", "1h", "7d".
std::string format_duration(std::chrono::milliseconds d);
// Bytes, or a whole number and K, M or G, also written KB/KiB, MB/MiB, GB/GiB, in any case
// ("64k", "64KiB", "1mb"): all powers of 1024.
std::optional<std::size_t> parse_size(const std::string& text);
// "64KiB", "1MiB", "1GiB" where exact, else bytes.
std::string format_size(std::size_t bytes);
// "100/s" or "100": requests per second, for --publish-rate.
std::optional<std::size_t> parse_rate(const std::string& text);
// Splits a comma-separated --cors-origins value into `out`; the problem when it is not valid.
std::optional<std::string> parse_origins(const std::string& text, std::vector<std::string>& out);

}  // namespace ssecast
