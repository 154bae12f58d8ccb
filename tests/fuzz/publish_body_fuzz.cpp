// POST /notify bodies: parse_publish_request either refuses with a message, or returns events that
// are valid by the rules of validation.hpp and say exactly what the body says. What the body says
// is read again by a second, independent JSON parser (nlohmann/json).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "fuzz_check.hpp"
#include "ssecast/core/publish_request.hpp"
#include "ssecast/core/validation.hpp"

namespace {

using nlohmann::json;

// Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF. Subscribers'
// browsers decode the stream as UTF-8, so nothing else may reach it.
bool valid_utf8(std::string_view s) {
    static constexpr std::uint32_t smallest[] = {0, 0x80, 0x800, 0x10000};
    for (std::size_t i = 0; i < s.size();) {
        auto lead = static_cast<unsigned char>(s[i]);
        std::size_t more = 0;
        std::uint32_t cp = 0;
        if (lead < 0x80) {
            ++i;
            continue;
        } else if ((lead & 0xE0) == 0xC0) {
            more = 1;
            cp = lead & 0x1F;
        } else if ((lead & 0xF0) == 0xE0) {
            more = 2;
            cp = lead & 0x0F;
        } else if ((lead & 0xF8) == 0xF0) {
            more = 3;
            cp = lead & 0x07;
        } else {
            return false;
        }
        if (s.size() - i <= more) return false;
        for (std::size_t k = 1; k <= more; ++k) {
            auto c = static_cast<unsigned char>(s[i + k]);
            if ((c & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (c & 0x3F);
        }
        if (cp < smallest[more] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += more + 1;
    }
    return true;
}

// The rules every accepted event follows, whatever the body looked like.
void check_valid(const ssecast::new_event& e) {
    FUZZ_CHECK(!e.channels.empty() && e.channels.size() <= ssecast::max_channels_per_request);
    for (auto it = e.channels.begin(); it != e.channels.end(); ++it) {
        FUZZ_CHECK(!ssecast::check_channel_name(*it));
        FUZZ_CHECK(std::find(e.channels.begin(), it, *it) == it);
    }
    FUZZ_CHECK(e.type.empty() || !ssecast::check_event_type(e.type));
    FUZZ_CHECK(!e.retry_ms || *e.retry_ms <= ssecast::max_retry_ms);
    FUZZ_CHECK(valid_utf8(e.type));
    FUZZ_CHECK(valid_utf8(e.data));
}

// The event is what its object in the body says (`object` as read by nlohmann/json).
void check_matches(const ssecast::new_event& e, const json& object) {
    FUZZ_CHECK(object.is_object() && object.contains("data"));
    for (const auto& [key, value] : object.items()) {
        FUZZ_CHECK(key == "channel" || key == "channels" || key == "event" || key == "data" ||
                   key == "retry");
    }

    std::vector<std::string> channels;
    if (auto it = object.find("channel"); it != object.end()) {
        FUZZ_CHECK(it->is_string() && !object.contains("channels"));
        channels.push_back(it->get<std::string>());
    } else if (auto list = object.find("channels"); list != object.end()) {
        FUZZ_CHECK(list->is_array());
        for (const auto& item : *list) {
            FUZZ_CHECK(item.is_string());
            auto name = item.get<std::string>();
            if (std::find(channels.begin(), channels.end(), name) == channels.end())
                channels.push_back(std::move(name));
        }
    } else {
        channels.emplace_back(ssecast::default_channel);
    }
    FUZZ_CHECK(e.channels == channels);

    if (auto it = object.find("event"); it != object.end()) {
        FUZZ_CHECK(it->is_string() && e.type == it->get<std::string>());
    } else {
        FUZZ_CHECK(e.type.empty());
    }

    if (auto it = object.find("retry"); it != object.end()) {
        FUZZ_CHECK(it->is_number_integer() && e.retry_ms &&
                   it->get<std::int64_t>() == std::int64_t{*e.retry_ms});
    } else {
        FUZZ_CHECK(!e.retry_ms);
    }

    // A string is sent as it is; anything else as the same JSON value, on one line.
    const auto& data = object.at("data");
    if (data.is_string()) {
        FUZZ_CHECK(e.data == data.get<std::string>());
    } else {
        FUZZ_CHECK(e.data.find_first_of("\r\n") == std::string::npos);
        FUZZ_CHECK(json::parse(e.data, nullptr, false) == data);
    }
}

// nlohmann/json refuses numbers beyond a double's range (1e400: error 406), which JSON allows and
// the daemon passes on as written; any other refusal is a body the daemon should have refused.
std::optional<json> read_independently(std::string_view body) {
    try {
        return json::parse(body);
    } catch (const json::exception& e) {
        FUZZ_CHECK(e.id == 406);
        return std::nullopt;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
    auto body = ssecast_fuzz::as_text(bytes, size);
    auto result = ssecast::parse_publish_request(body);
    if (auto* refused = std::get_if<ssecast::invalid_request>(&result)) {
        FUZZ_CHECK(!refused->error.empty());
        return 0;
    }
    const auto& batch = std::get<ssecast::publish_batch>(result);
    FUZZ_CHECK(!batch.events.empty() && batch.events.size() <= ssecast::max_batch_events);
    for (const auto& e : batch.events) check_valid(e);

    auto doc = read_independently(body);
    if (!doc) return 0;
    FUZZ_CHECK(batch.is_array == doc->is_array());
    if (batch.is_array) {
        FUZZ_CHECK(doc->size() == batch.events.size());
        for (std::size_t i = 0; i < doc->size(); ++i) check_matches(batch.events[i], (*doc)[i]);
    } else {
        FUZZ_CHECK(batch.events.size() == 1);
        check_matches(batch.events[0], *doc);
    }
    return 0;
}
