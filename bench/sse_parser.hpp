// Incremental parser of one subscriber's HTTP response: status line, headers, then the
// text/event-stream body (optionally de-chunked), fed with whatever a read returned.
//
// It keeps a fixed amount of state per connection and never allocates: a line is kept only up to
// line_capacity bytes (enough for "id: ..." and for the "SEQ SENDNS " head of our payload; the
// padding after it is skipped), lines end at CRLF, LF or a lone CR (WHATWG), a line starting with
// ':' is a comment, "field: value" strips one space after the colon. An event is dispatched at the
// blank line if it had a data line, as a browser would; only the id, the event type "resync" and
// the payload head of the first data line are extracted.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "payload.hpp"

namespace bench {

struct sse_event {
    std::string_view id;      // the last event id (persists across events, as in a browser)
    bool has_payload = false;  // the first data line was "SEQ SENDNS ..."
    std::uint64_t seq = 0;
    std::int64_t send_ns = 0;
    bool resync = false;  // "event: resync" (ssecast's history-gap notice)
};

class sse_parser {
public:
    enum class phase : std::uint8_t { status_line, headers, body, done, failed };
    static constexpr std::size_t line_capacity = 80;
    static constexpr std::size_t id_capacity = 64;

    void reset() { *this = sse_parser{}; }

    phase state() const { return phase_; }
    int status() const { return status_; }
    bool headers_done() const { return phase_ == phase::body || phase_ == phase::done; }
    // ssecast answers "/events" past its connection limit with 200, ": connection limit reached"
    // and a retry:, then closes: remembered so the close is reported as a server limit.
    bool saw_limit_comment() const { return limit_comment_; }
    std::string_view last_id() const { return {id_, id_len_}; }

    // Feeds bytes; calls on_event(const sse_event&) for each dispatched event.
    template <class OnEvent>
    void feed(const char* p, std::size_t n, OnEvent&& on_event) {
        const char* end = p + n;
        while (p < end) {
            switch (phase_) {
                case phase::status_line:
                case phase::headers:
                    p = feed_head(p, end);
                    break;
                case phase::body:
                    if (!chunked_) {
                        feed_lines(p, end, on_event);
                        p = end;
                    } else {
                        p = feed_chunked(p, end, on_event);
                    }
                    break;
                case phase::done:
                case phase::failed:
                    return;
            }
        }
    }

private:
    // ---- line assembly -------------------------------------------------------------------
    // Appends [p, q) to the current line (only the first line_capacity bytes are kept).
    void keep(const char* p, const char* q) {
        auto room = line_capacity - line_len_;
        auto n = std::min<std::size_t>(room, static_cast<std::size_t>(q - p));
        std::memcpy(line_ + line_len_, p, n);
        line_len_ = static_cast<std::uint8_t>(line_len_ + n);
    }

    // Splits [p, end) into lines; calls end_line for each complete one.
    template <class EndLine>
    void split_lines(const char* p, const char* end, EndLine&& end_line) {
        while (p < end) {
            if (skip_lf_) {
                skip_lf_ = false;
                if (*p == '\n') {
                    ++p;
                    continue;
                }
            }
            auto* lf = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
            const char* stop = lf ? lf : end;
            // A CR before the LF (CRLF or a lone CR) ends the line there.
            auto* cr = static_cast<const char*>(std::memchr(p, '\r', static_cast<std::size_t>(stop - p)));
            if (cr) stop = cr;
            keep(p, stop);
            if (stop == end) return;
            if (*stop == '\r') skip_lf_ = true;
            end_line(std::string_view(line_, line_len_));
            line_len_ = 0;
            p = stop + 1;
        }
    }

    // ---- HTTP head -------------------------------------------------------------------------
    const char* feed_head(const char* p, const char* end) {
        // Head lines end with CRLF; consume exactly up to the end of the blank line so the body
        // starts at the right byte.
        while (p < end && (phase_ == phase::status_line || phase_ == phase::headers)) {
            const char* q = p;
            while (q < end && *q != '\n') ++q;
            const char* content_end = q;
            keep(p, content_end);
            if (q == end) return end;
            std::string_view line(line_, line_len_);
            if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
            head_line(line);
            line_len_ = 0;
            p = q + 1;
        }
        return p;
    }

    static bool starts_with_nocase(std::string_view s, std::string_view prefix) {
        if (s.size() < prefix.size()) return false;
        for (std::size_t i = 0; i < prefix.size(); ++i) {
            char c = s[i];
            if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
            if (c != prefix[i]) return false;
        }
        return true;
    }

    void head_line(std::string_view line) {
        if (phase_ == phase::status_line) {
            // "HTTP/1.1 200 OK"
            if (line.size() < 12 || line.substr(0, 5) != "HTTP/") {
                phase_ = phase::failed;
                return;
            }
            auto sp = line.find(' ');
            int code = 0;
            for (std::size_t i = sp + 1; i < line.size() && i < sp + 4; ++i) {
                if (line[i] < '0' || line[i] > '9') break;
                code = code * 10 + (line[i] - '0');
            }
            status_ = static_cast<std::uint16_t>(code);
            phase_ = phase::headers;
            return;
        }
        if (line.empty()) {
            phase_ = phase::body;
            return;
        }
        if (starts_with_nocase(line, "transfer-encoding:") &&
            line.find("chunked") != std::string_view::npos)
            chunked_ = true;
    }

    // ---- chunked transfer coding ---------------------------------------------------------
    template <class OnEvent>
    const char* feed_chunked(const char* p, const char* end, OnEvent& on_event) {
        while (p < end) {
            switch (chunk_state_) {
                case chunk::size:
                    if (*p == '\n') {
                        chunk_state_ = chunk_left_ ? chunk::data : chunk::last;
                        if (chunk_state_ == chunk::last) {
                            phase_ = phase::done;
                            return end;
                        }
                    } else if (*p == ';') {
                        chunk_state_ = chunk::extension;
                    } else if (*p != '\r') {
                        int digit = hex_value(*p);
                        if (digit < 0) {
                            phase_ = phase::failed;
                            return end;
                        }
                        chunk_left_ = chunk_left_ * 16 + static_cast<std::uint64_t>(digit);
                    }
                    ++p;
                    break;
                case chunk::extension:
                    if (*p == '\n') chunk_state_ = chunk_left_ ? chunk::data : chunk::last;
                    if (chunk_state_ == chunk::last) {
                        phase_ = phase::done;
                        return end;
                    }
                    ++p;
                    break;
                case chunk::data: {
                    auto n = std::min<std::uint64_t>(chunk_left_, static_cast<std::uint64_t>(end - p));
                    feed_lines(p, p + n, on_event);
                    p += n;
                    chunk_left_ -= n;
                    if (chunk_left_ == 0) chunk_state_ = chunk::data_end;
                    break;
                }
                case chunk::data_end:  // CRLF after the chunk data
                    if (*p == '\n') chunk_state_ = chunk::size;
                    ++p;
                    break;
                case chunk::last:
                    return end;
            }
        }
        return p;
    }

    static int hex_value(char c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    }

    // ---- event stream ----------------------------------------------------------------------
    template <class OnEvent>
    void feed_lines(const char* p, const char* end, OnEvent& on_event) {
        split_lines(p, end, [&](std::string_view line) { stream_line(line, on_event); });
    }

    template <class OnEvent>
    void stream_line(std::string_view line, OnEvent& on_event) {
        if (line.empty()) {
            if (has_data_) {
                sse_event ev;
                ev.id = last_id();
                ev.has_payload = payload_ok_;
                ev.seq = seq_;
                ev.send_ns = send_ns_;
                ev.resync = resync_;
                on_event(ev);
            }
            has_data_ = payload_ok_ = resync_ = false;
            return;
        }
        if (line.front() == ':') {
            if (line.find("connection limit") != std::string_view::npos) limit_comment_ = true;
            return;
        }
        auto colon = line.find(':');
        std::string_view name = line.substr(0, colon);
        std::string_view value;
        if (colon != std::string_view::npos) {
            value = line.substr(colon + 1);
            if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        }
        if (name == "data") {
            if (!has_data_) {
                has_data_ = true;
                payload_ok_ = read_payload(value.data(), value.size(), seq_, send_ns_);
            }
        } else if (name == "id") {
            id_len_ = static_cast<std::uint8_t>(std::min(value.size(), id_capacity));
            std::memcpy(id_, value.data(), id_len_);
        } else if (name == "event") {
            resync_ = value == "resync";
        }
    }

    enum class chunk : std::uint8_t { size, extension, data, data_end, last };

    char line_[line_capacity];
    char id_[id_capacity];
    std::uint64_t chunk_left_ = 0;
    std::uint64_t seq_ = 0;
    std::int64_t send_ns_ = 0;
    std::uint16_t status_ = 0;
    std::uint8_t line_len_ = 0;
    std::uint8_t id_len_ = 0;
    phase phase_ = phase::status_line;
    chunk chunk_state_ = chunk::size;
    bool chunked_ = false;
    bool skip_lf_ = false;
    bool has_data_ = false;
    bool payload_ok_ = false;
    bool resync_ = false;
    bool limit_comment_ = false;
};

}  // namespace bench
