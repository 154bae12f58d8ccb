#include "ssecast/config/comma_list.hpp"

namespace ssecast {

std::vector<std::string> split_comma_list(std::string_view text) {
    std::vector<std::string> items;
    while (true) {
        auto comma = text.find(',');
        auto item = text.substr(0, comma);
        while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
        while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
        if (!item.empty()) items.emplace_back(item);
        if (comma == std::string_view::npos) return items;
        text.remove_prefix(comma + 1);
    }
}

}  // namespace ssecast
