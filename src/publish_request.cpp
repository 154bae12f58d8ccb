#include "ssecast/publish_request.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "ssecast/validation.hpp"

namespace ssecast {

namespace {

using json = nlohmann::json;

// Deeper JSON is refused: serializing it again would recurse once per level.
constexpr std::size_t max_json_depth = 64;

bool nested_deeper_than(std::string_view text, std::size_t limit) {
    std::size_t depth = 0;
    bool in_string = false;
    bool escaped = false;
    for (char c : text) {
        if (in_string) {
            if (escaped) {
                escaped = false;
            } else if (c == '\\') {
                escaped = true;
            } else if (c == '"') {
                in_string = false;
            }
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > limit) return true;
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
    }
    return false;
}

std::variant<new_event, std::string> parse_event(const json& item) {
    if (!item.is_object()) return std::string("event must be a JSON object");
    new_event event;

    for (const auto& [key, value] : item.items()) {
        if (key != "channel" && key != "channels" && key != "event" && key != "data" &&
            key != "retry") {
            return "unknown field \"" + key + "\" (expected channel, channels, event, data, retry)";
        }
    }

    auto channel = item.find("channel");
    auto channels = item.find("channels");
    if (channel != item.end() && channels != item.end()) {
        return std::string("give either \"channel\" or \"channels\", not both");
    }
    if (channel != item.end()) {
        if (!channel->is_string()) return std::string("\"channel\" must be a string");
        event.channels.push_back(channel->get<std::string>());
    } else if (channels != item.end()) {
        if (!channels->is_array() || channels->empty()) {
            return std::string("\"channels\" must be a non-empty array of strings");
        }
        if (channels->size() > max_channels_per_request) {
            return "\"channels\" may name at most " + std::to_string(max_channels_per_request) +
                   " channels";
        }
        for (const auto& name : *channels) {
            if (!name.is_string())
                return std::string("\"channels\" must be a non-empty array of strings");
            auto text = name.get<std::string>();
            // Listing a channel twice must not append the event to its ring twice.
            if (std::find(event.channels.begin(), event.channels.end(), text) ==
                event.channels.end()) {
                event.channels.push_back(std::move(text));
            }
        }
    } else {
        event.channels.emplace_back(default_channel);
    }
    for (const auto& name : event.channels) {
        if (auto problem = check_channel_name(name)) return *problem;
    }

    if (auto type = item.find("event"); type != item.end()) {
        if (!type->is_string()) return std::string("\"event\" must be a string");
        event.type = type->get<std::string>();
        if (auto problem = check_event_type(event.type)) return *problem;
    }

    auto data = item.find("data");
    if (data == item.end()) return std::string("\"data\" is required");
    event.data = data->is_string() ? data->get<std::string>() : data->dump();

    if (auto retry = item.find("retry"); retry != item.end()) {
        if (!retry->is_number_unsigned() || retry->get<std::uint64_t>() > max_retry_ms) {
            return "\"retry\" must be an integer from 0 to " + std::to_string(max_retry_ms) +
                   " (milliseconds)";
        }
        event.retry_ms = retry->get<std::uint32_t>();
    }
    return event;
}

}  // namespace

std::variant<publish_batch, invalid_request> parse_publish_request(std::string_view body) {
    if (nested_deeper_than(body, max_json_depth)) {
        return invalid_request{"JSON nested deeper than " + std::to_string(max_json_depth) +
                               " levels"};
    }
    auto parsed = json::parse(body, nullptr, false);
    if (parsed.is_discarded()) return invalid_request{"malformed JSON body"};

    publish_batch batch;
    if (!parsed.is_array()) {
        auto event = parse_event(parsed);
        if (auto* problem = std::get_if<std::string>(&event)) return invalid_request{*problem};
        batch.events.push_back(std::get<new_event>(std::move(event)));
        return batch;
    }

    if (parsed.empty()) return invalid_request{"batch is empty"};
    if (parsed.size() > max_batch_events) {
        return invalid_request{"batch has more than " + std::to_string(max_batch_events) +
                               " events"};
    }
    batch.is_array = true;
    batch.events.reserve(parsed.size());
    for (std::size_t i = 0; i < parsed.size(); ++i) {
        auto event = parse_event(parsed[i]);
        if (auto* problem = std::get_if<std::string>(&event)) {
            return invalid_request{"event " + std::to_string(i) + ": " + *problem};
        }
        batch.events.push_back(std::get<new_event>(std::move(event)));
    }
    return batch;
}

}  // namespace ssecast
