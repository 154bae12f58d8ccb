// Request targets as GET /events receives them: split_target, parse_query, and check_channel_name
// on every name and value, against a reference written independently here.

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fuzz_check.hpp"
#include "ssecast/core/validation.hpp"
#include "ssecast/http/query_string.hpp"

namespace {

using pairs = std::vector<std::pair<std::string, std::string>>;

// '+' is a space, %XX the byte XX (either case); anything else after a '%' is malformed.
std::optional<std::string> reference_decode(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') {
            out.push_back(text[i] == '+' ? ' ' : text[i]);
            continue;
        }
        const char* first = text.data() + i + 1;
        const char* last = text.data() + std::min(text.size(), i + 3);
        unsigned byte = 0;
        auto [end, ec] = std::from_chars(first, last, byte, 16);
        if (ec != std::errc{} || end != first + 2) return std::nullopt;
        out.push_back(static_cast<char>(byte));
        i += 2;
    }
    return out;
}

// The '&'-separated parts, empty ones skipped, each "name=value" or just "name".
std::optional<pairs> reference_query(std::string_view query, std::size_t& parts) {
    pairs out;
    parts = 1;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= query.size(); ++i) {
        if (i < query.size() && query[i] != '&') continue;
        if (i < query.size()) ++parts;
        auto part = query.substr(start, i - start);
        start = i + 1;
        if (part.empty()) continue;
        auto eq = part.find('=');
        auto name = reference_decode(part.substr(0, eq));
        auto value = reference_decode(eq == std::string_view::npos ? "" : part.substr(eq + 1));
        if (!name || !value) return std::nullopt;
        out.emplace_back(std::move(*name), std::move(*value));
    }
    return out;
}

void check_channel_rule(std::string_view name) {
    constexpr std::string_view allowed =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:/@-";
    bool well_formed = !name.empty() && name.size() <= ssecast::max_channel_name &&
                       name.find_first_not_of(allowed) == std::string_view::npos;
    FUZZ_CHECK(!ssecast::check_channel_name(name) == well_formed);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
    auto target = ssecast_fuzz::as_text(bytes, size);
    check_channel_rule(target);

    // Views into the target: the path up to the first '?', the query after it.
    auto [path, query] = ssecast::split_target(target);
    FUZZ_CHECK(path.data() == target.data() && path.find('?') == std::string_view::npos);
    if (path.size() == target.size()) {
        FUZZ_CHECK(query.empty());
    } else {
        FUZZ_CHECK(target[path.size()] == '?' && query.data() == path.data() + path.size() + 1 &&
                   query.size() == target.size() - path.size() - 1);
    }

    std::size_t parts = 0;
    auto expected = reference_query(query, parts);
    auto decoded = ssecast::parse_query(query);
    FUZZ_CHECK(decoded.has_value() == expected.has_value());
    if (!decoded) return 0;
    FUZZ_CHECK(decoded->size() <= parts);
    FUZZ_CHECK(*decoded == *expected);
    for (const auto& [name, value] : *decoded) {
        check_channel_rule(name);
        check_channel_rule(value);
    }
    return 0;
}
