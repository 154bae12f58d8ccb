#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ssecast {

// The items of a comma-separated option value (--cors-origins, --trusted-proxies,
// --private-channels), spaces around each trimmed, empty ones left out.
std::vector<std::string> split_comma_list(std::string_view text);

}  // namespace ssecast
