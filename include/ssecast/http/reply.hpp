#pragma once

#include <boost/beast/http/status.hpp>
#include <ostream>  // Boost 1.81's status.hpp uses std::ostream without including it
#include <string>

namespace ssecast {

// A plain (non-stream) HTTP answer, written out by hand: every answer has the same few headers,
// and formatting them into one string is much cheaper than a Beast message and its serializer,
// which shows on the publish path (one answer per POST /notify).
struct reply {
    boost::beast::http::status status = boost::beast::http::status::ok;
    unsigned version = 11;  // the request's: 10 or 11
    bool keep_alive = true;
    const char* content_type = "application/json";
    const char* cache_control = "no-store";
    std::string extra_headers;  // complete lines, each ending in \r\n
    std::string body;
    std::string rejection;  // why the request was refused (empty: it was not), for the log
};

// Appends the answer as it goes on the wire (status line, headers, body) to `out`.
void append_wire(const reply& r, std::string& out);

}  // namespace ssecast
