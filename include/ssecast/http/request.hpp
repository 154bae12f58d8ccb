#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

namespace ssecast {

namespace http = boost::beast::http;
// A request as the session reads it: headers and the whole body (bounded by --max-body).
using request = http::request<http::string_body>;

}  // namespace ssecast
