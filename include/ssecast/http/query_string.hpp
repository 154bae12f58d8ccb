#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ssecast {

// Splits "a=1&b=x%20y" into decoded (name, value) pairs, keeping order and repeats ('+' is a
// space). Returns nothing if a percent escape is malformed.
std::optional<std::vector<std::pair<std::string, std::string>>> parse_query(std::string_view query);

// Splits a request target into its path and query (without the '?').
std::pair<std::string_view, std::string_view> split_target(std::string_view target);

}  // namespace ssecast
