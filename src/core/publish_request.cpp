#include "ssecast/core/publish_request.hpp"

#include <algorithm>
#include <array>
#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/src.hpp>  // Boost.JSON header-only: Debian ships no compiled library for it
#include <optional>

#include "ssecast/core/validation.hpp"

namespace ssecast {

namespace {

namespace json = boost::json;
using boost::system::error_code;

// Deeper JSON is refused: it is of no use in an event, and keeps the data writer's stack small.
constexpr std::size_t max_json_depth = 64;

// Appends `text` as the inside of a JSON string (without the quotes).
void append_escaped(std::string_view text, std::string& out) {
    static constexpr char hex[] = "0123456789abcdef";
    for (char c : text) {
        auto u = static_cast<unsigned char>(c);
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\b':
                out += "\\b";
                break;
            case '\f':
                out += "\\f";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (u < 0x20) {
                    out += "\\u00";
                    out += hex[u >> 4];
                    out += hex[u & 0xF];
                } else {
                    out += c;
                }
        }
    }
}

enum class field { none, channel, channels, event, data, retry };

field field_named(std::string_view key) {
    if (key == "channel") return field::channel;
    if (key == "channels") return field::channels;
    if (key == "event") return field::event;
    if (key == "data") return field::data;
    if (key == "retry") return field::retry;
    return field::none;
}

// What one event object said, gathered while it streams past; judged once it is complete, in a
// fixed order, so the error reported does not depend on the order of the members.
struct event_facts {
    std::optional<std::string> unknown_field;
    std::optional<std::string> repeated_field;
    bool has_channel = false, channel_ok = true;
    bool has_channels = false, channels_ok = true;
    std::size_t channel_count = 0;
    bool has_event = false, event_ok = true;
    bool has_data = false;
    bool has_retry = false, retry_ok = true;
    new_event event;

    void reset() { *this = event_facts{}; }

    std::optional<std::string> judge() {
        if (unknown_field) {
            return "unknown field \"" + *unknown_field +
                   "\" (expected channel, channels, event, data, retry)";
        }
        if (repeated_field) return "field \"" + *repeated_field + "\" is given twice";
        if (has_channel && has_channels)
            return std::string("give either \"channel\" or \"channels\", not both");
        if (!channel_ok) return std::string("\"channel\" must be a string");
        if (!channels_ok || (has_channels && channel_count == 0))
            return std::string("\"channels\" must be a non-empty array of strings");
        if (channel_count > max_channels_per_request) {
            return "\"channels\" may name at most " + std::to_string(max_channels_per_request) +
                   " channels";
        }
        if (!has_channel && !has_channels) event.channels.emplace_back(default_channel);
        for (const auto& name : event.channels) {
            if (auto problem = check_channel_name(name)) return problem;
        }
        if (!event_ok) return std::string("\"event\" must be a string");
        if (has_event) {
            if (auto problem = check_event_type(event.type)) return problem;
        }
        if (!has_data) return std::string("\"data\" is required");
        if (!retry_ok) {
            return "\"retry\" must be an integer from 0 to " + std::to_string(max_retry_ms) +
                   " (milliseconds)";
        }
        return std::nullopt;
    }
};

// Boost.JSON's push parser calls this as it reads the body: events are built directly, without a
// document tree, and a "data" value that is not a string is written back as compact JSON. A
// semantic problem is noted, not raised, so that malformed JSON anywhere in the body wins over it.
class publish_handler {
  public:
    static constexpr std::size_t max_object_size = std::size_t(-1);
    static constexpr std::size_t max_array_size = std::size_t(-1);
    static constexpr std::size_t max_key_size = std::size_t(-1);
    static constexpr std::size_t max_string_size = std::size_t(-1);

    publish_batch batch;
    std::optional<std::string> problem;  // the first one, "event N: " prefixed in a batch
    std::size_t elements = 0;            // of the batch array
    bool body_is_event = false;          // the body was an object

    bool on_document_begin(error_code&) { return true; }
    bool on_document_end(error_code&) { return true; }

    bool on_object_begin(error_code&) {
        if (stack_.empty() || top() == role::batch) {
            if (stack_.empty()) body_is_event = true;
            facts_.reset();
            return push(role::event);
        }
        return push(open_value(true));
    }
    bool on_object_end(std::size_t, error_code&) { return close('}'); }
    bool on_array_begin(error_code&) {
        if (stack_.empty()) {
            batch.is_array = true;
            return push(role::batch);
        }
        return push(open_value(false));
    }
    bool on_array_end(std::size_t, error_code&) { return close(']'); }

    bool on_key_part(json::string_view s, std::size_t, error_code&) {
        key_.append(s.data(), s.size());
        return true;
    }
    bool on_key(json::string_view s, std::size_t, error_code&) {
        key_.append(s.data(), s.size());
        if (top() == role::data) {
            separate();
            auto& out = facts_.event.data;
            out += '"';
            append_escaped(key_, out);
            out += "\":";
            after_key_ = true;
        } else if (top() == role::event) {
            select_field();
        }
        key_.clear();
        return true;
    }

    bool on_string_part(json::string_view s, std::size_t, error_code&) {
        text_.append(s.data(), s.size());
        return true;
    }
    bool on_string(json::string_view s, std::size_t, error_code&) {
        text_.append(s.data(), s.size());
        take_string();
        text_.clear();
        return true;
    }

    bool on_number_part(json::string_view s, error_code&) {
        text_.append(s.data(), s.size());
        return true;
    }
    bool on_int64(std::int64_t v, json::string_view s, error_code&) {
        std::optional<std::uint64_t> u;
        if (v >= 0) u = static_cast<std::uint64_t>(v);
        return on_number(u, s);
    }
    bool on_uint64(std::uint64_t v, json::string_view s, error_code&) { return on_number(v, s); }
    bool on_double(double, json::string_view s, error_code&) { return on_number(std::nullopt, s); }
    bool on_bool(bool b, error_code&) { return take_scalar(std::nullopt, b ? "true" : "false"); }
    bool on_null(error_code&) { return take_scalar(std::nullopt, "null"); }
    bool on_comment_part(json::string_view, error_code&) { return true; }
    bool on_comment(json::string_view, error_code&) { return true; }

  private:
    // What an open object or array is to us.
    enum class role { batch, event, channels, data, ignored };

    role top() const { return stack_.back().what; }
    bool push(role r) {
        stack_.push_back({r, false});
        return true;
    }

    bool close(char bracket) {
        auto r = top();
        stack_.pop_back();
        if (r == role::data) {
            facts_.event.data += bracket;
        } else if (r == role::event) {
            end_event();
        }
        if (r != role::batch && r != role::event) value_done();
        return true;
    }

    // An object or array opens where a value is expected: what it is to us.
    role open_value(bool object) {
        switch (top()) {
            case role::data:
                separate();
                facts_.event.data += object ? '{' : '[';
                return role::data;
            case role::event:
                if (field_ == field::channels && !object) return role::channels;
                if (field_ == field::data) {
                    facts_.event.data = object ? "{" : "[";
                    return role::data;
                }
                wrong_kind();
                return role::ignored;
            case role::channels:
                facts_.channels_ok = false;
                return role::ignored;
            case role::batch:  // an array in a batch (objects are events)
                ++elements;
                note_event_problem("event must be a JSON object");
                return role::ignored;
            case role::ignored:
                return role::ignored;
        }
        return role::ignored;
    }

    // A value of the kind the current field does not take.
    void wrong_kind() {
        switch (field_) {
            case field::channel:
                facts_.channel_ok = false;
                break;
            case field::channels:
                facts_.channels_ok = false;
                break;
            case field::event:
                facts_.event_ok = false;
                break;
            case field::retry:
                facts_.retry_ok = false;
                break;
            case field::data:
            case field::none:
                break;
        }
    }

    // A complete value of the current container has been read.
    void value_done() {
        if (!stack_.empty() && top() == role::event) field_ = field::none;
    }

    // Inside "data": the comma before a value or key, unless it directly follows its key.
    void separate() {
        auto& frame = stack_.back();
        if (after_key_) {
            after_key_ = false;
        } else if (frame.need_comma) {
            facts_.event.data += ',';
        }
        frame.need_comma = true;
    }

    void take_string() {
        if (stack_.empty()) return note_body_not_an_object();
        switch (top()) {
            case role::data: {
                separate();
                auto& out = facts_.event.data;
                out += '"';
                append_escaped(text_, out);
                out += '"';
                return;
            }
            case role::channels: {
                ++facts_.channel_count;
                auto& list = facts_.event.channels;
                // Listing a channel twice must not append the event to its ring twice.
                if (std::find(list.begin(), list.end(), text_) == list.end()) list.push_back(text_);
                return;
            }
            case role::event:
                // A string "data" is the event's text as it is, not JSON.
                if (field_ == field::data)
                    facts_.event.data = text_;
                else if (field_ == field::channel)
                    facts_.event.channels.push_back(text_);
                else if (field_ == field::event)
                    facts_.event.type = text_;
                else
                    wrong_kind();
                field_ = field::none;
                return;
            case role::batch:
                return batch_scalar();
            case role::ignored:
                return;
        }
    }

    bool on_number(std::optional<std::uint64_t> unsigned_value, json::string_view last) {
        text_.append(last.data(), last.size());
        take_scalar(unsigned_value, text_);
        text_.clear();
        return true;
    }

    // A number, true, false or null.
    bool take_scalar(std::optional<std::uint64_t> unsigned_value, std::string_view text) {
        if (stack_.empty()) {
            note_body_not_an_object();
            return true;
        }
        switch (top()) {
            case role::data:
                separate();
                facts_.event.data.append(text);
                break;
            case role::channels:
                facts_.channels_ok = false;
                break;
            case role::event:
                if (field_ == field::data) {
                    facts_.event.data.assign(text);
                } else if (field_ == field::retry && unsigned_value &&
                           *unsigned_value <= max_retry_ms) {
                    facts_.event.retry_ms = static_cast<std::uint32_t>(*unsigned_value);
                } else {
                    wrong_kind();
                }
                field_ = field::none;
                break;
            case role::batch:
                batch_scalar();
                break;
            case role::ignored:
                break;
        }
        return true;
    }

    void batch_scalar() {
        ++elements;
        note_event_problem("event must be a JSON object");
    }

    void note_body_not_an_object() {
        if (!problem) problem = "event must be a JSON object";
    }

    void note_event_problem(const std::string& message) {
        if (problem) return;
        // In a batch, the element being read is the last one counted.
        problem =
            batch.is_array ? "event " + std::to_string(elements - 1) + ": " + message : message;
    }

    void select_field() {
        field_ = field_named(key_);
        if (field_ == field::none) {
            if (!facts_.unknown_field) facts_.unknown_field = key_;
            return;
        }
        bool* seen = nullptr;
        switch (field_) {
            case field::channel:
                seen = &facts_.has_channel;
                break;
            case field::channels:
                seen = &facts_.has_channels;
                break;
            case field::event:
                seen = &facts_.has_event;
                break;
            case field::data:
                seen = &facts_.has_data;
                break;
            case field::retry:
                seen = &facts_.has_retry;
                break;
            case field::none:
                return;
        }
        if (*seen && !facts_.repeated_field) facts_.repeated_field = key_;
        *seen = true;
    }

    void end_event() {
        if (batch.is_array) ++elements;
        if (problem) return;  // refused already; keep the first problem
        if (batch.is_array && elements > max_batch_events) return;  // refused for its size
        if (auto issue = facts_.judge()) return note_event_problem(*issue);
        batch.events.push_back(std::move(facts_.event));
    }

    struct frame {
        role what;
        bool need_comma;  // role::data: a value was written at this level already
    };
    std::vector<frame> stack_;
    field field_ = field::none;  // in an event object: the member whose value comes next
    bool after_key_ = false;     // in "data": a key was just written
    std::string key_, text_;
    event_facts facts_;
};

}  // namespace

std::variant<publish_batch, invalid_request> parse_publish_request(std::string_view body) {
    json::parse_options options;
    options.max_depth = max_json_depth;
    json::basic_parser<publish_handler> parser(options);
    error_code ec;
    auto used = parser.write_some(false, body.data(), body.size(), ec);
    if (ec == json::error::too_deep) {
        return invalid_request{"JSON nested deeper than " + std::to_string(max_json_depth) +
                               " levels"};
    }
    // Stopping short of the end means something follows the value: `{...} x` or `{...}{...}`.
    if (ec || !parser.done() || used != body.size()) return invalid_request{"malformed JSON body"};

    auto& h = parser.handler();
    if (h.batch.is_array) {
        if (h.elements == 0) return invalid_request{"batch is empty"};
        if (h.elements > max_batch_events) {
            return invalid_request{"batch has more than " + std::to_string(max_batch_events) +
                                   " events"};
        }
    }
    if (h.problem) return invalid_request{*h.problem};
    return std::move(h.batch);
}

}  // namespace ssecast
