#pragma once

// A WHATWG-compliant event stream parser (HTML standard, "Server-sent events", section
// "Interpreting an event stream"), used by the tests to read ssecast's output exactly as a
// browser's EventSource would.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sse_test {

struct event {
    std::string type;  // "message" when the stream gave no event type
    std::string data;
    std::string last_event_id;  // the EventSource's last event ID when it was dispatched
};

class parser {
  public:
    void feed(std::string_view bytes) {
        for (char c : bytes) {
            if (at_start_) {
                at_start_ = false;
                // One leading U+FEFF (EF BB BF) is dropped; matched byte by byte.
                bom_.push_back(c);
                if (std::string_view("\xEF\xBB\xBF").starts_with(bom_)) {
                    if (bom_.size() < 3)
                        at_start_ = true;
                    else
                        bom_.clear();
                    continue;
                }
                auto pending = bom_;
                bom_.clear();
                for (char p : pending) consume(p);
                continue;
            }
            consume(c);
        }
    }

    std::vector<event> take_events() {
        std::vector<event> out;
        out.swap(events_);
        return out;
    }
    std::optional<std::uint64_t> retry() const { return retry_; }
    const std::vector<std::string>& comments() const { return comments_; }
    const std::string& last_event_id() const { return last_event_id_; }

  private:
    void consume(char c) {
        if (after_cr_ && c == '\n') {  // CRLF: the CR already ended the line
            after_cr_ = false;
            return;
        }
        after_cr_ = false;
        if (c == '\r' || c == '\n') {
            after_cr_ = c == '\r';
            process_line(line_);
            line_.clear();
            return;
        }
        line_.push_back(c);
    }

    void process_line(std::string_view line) {
        if (line.empty()) return dispatch();
        if (line.front() == ':') {
            comments_.emplace_back(line.substr(1));
            return;
        }
        auto colon = line.find(':');
        std::string_view field = line.substr(0, colon);
        std::string_view value;
        if (colon != std::string_view::npos) {
            value = line.substr(colon + 1);
            if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        }
        if (field == "event") {
            event_type_ = value;
        } else if (field == "data") {
            data_.append(value).push_back('\n');
        } else if (field == "id") {
            if (value.find('\0') == std::string_view::npos) id_buffer_ = value;
        } else if (field == "retry") {
            if (!value.empty() && value.find_first_not_of("0123456789") == std::string_view::npos) {
                // Saturates instead of throwing on absurdly long values.
                retry_ = value.size() > 19 ? UINT64_MAX : std::stoull(std::string(value));
            }
        }
    }

    void dispatch() {
        last_event_id_ = id_buffer_;
        if (data_.empty()) {
            event_type_.clear();
            return;
        }
        data_.pop_back();  // the trailing LF
        events_.push_back({event_type_.empty() ? "message" : event_type_, data_, last_event_id_});
        data_.clear();
        event_type_.clear();
    }

    bool at_start_ = true;
    std::string bom_;
    bool after_cr_ = false;
    std::string line_;
    std::string event_type_;
    std::string data_;
    std::string id_buffer_;
    std::string last_event_id_;
    std::optional<std::uint64_t> retry_;
    std::vector<std::string> comments_;
    std::vector<event> events_;
};

}  // namespace sse_test
