#include "ssecast/http/request_reader.hpp"

#include <boost/beast/core/string.hpp>

namespace ssecast {

namespace beast = boost::beast;

namespace {

bool expects_continue(const http::request_header<>& header) {
    // An HTTP/1.0 client cannot wait for 100 Continue: its Expect is ignored (RFC 9110 §10.1.1).
    return header.version() >= 11 && header.count(http::field::expect) > 0;
}

}  // namespace

void request_reader::start() {
    parser_.emplace();
    parser_->body_limit(max_body_);
    parser_->header_limit(max_header_bytes);
    parser_->eager(true);
    consumed_ = 0;
    header_checked_ = false;
}

request_reader::outcome request_reader::parse() {
    while (buffer_.size() > 0) {
        beast::error_code ec;
        auto used = parser_->put(buffer_.data(), ec);
        buffer_.consume(used);
        consumed_ += used;
        // Before anything of the body counts (the eager parser may have read some already): a
        // request whose framing is in doubt is refused for that, not for what follows.
        if (!header_checked_ && parser_->is_header_done()) {
            header_checked_ = true;
            if (auto why = check_framing(parser_->get())) return refuse(std::move(*why));
            // A body that is already here needs no go-ahead (and one too large is refused below).
            if (!ec && !parser_->is_done() && expects_continue(parser_->get()))
                return outcome::expects_continue;
        }
        if (ec && ec != http::error::need_more) return refuse(ec);
        if (parser_->is_done()) return outcome::complete;
        if (ec == http::error::need_more || used == 0) break;
    }
    return outcome::need_more;
}

request_reader::outcome request_reader::end_of_input() {
    beast::error_code ec;
    parser_->put_eof(ec);
    return refuse(ec ? ec : beast::error_code(http::error::partial_message));
}

request_reader::outcome request_reader::refuse(beast::error_code ec) {
    request_refusal why{http::status::bad_request, "malformed HTTP request: " + ec.message()};
    if (ec == http::error::body_limit) {
        why = {http::status::payload_too_large,
               "request body is larger than " + std::to_string(max_body_) + " bytes (--max-body)"};
    } else if (ec == http::error::header_limit) {
        // Beast takes the request line as soon as it is whole: if it took nothing, the request
        // line itself is what does not fit.
        auto received =
            std::string_view(static_cast<const char*>(buffer_.data().data()), buffer_.size());
        if (consumed_ == 0 && received.find("\r\n") == std::string_view::npos) {
            why = {http::status::uri_too_long,
                   "request line is longer than " + std::to_string(max_header_bytes) + " bytes"};
        } else {
            why = {
                http::status::request_header_fields_too_large,
                "request headers are larger than " + std::to_string(max_header_bytes) + " bytes"};
        }
    }
    return refuse(std::move(why));
}

request_reader::outcome request_reader::refuse(request_refusal why) {
    refusal_ = std::move(why);
    return outcome::refused;
}

std::string request_reader::method() const {
    return parser_ ? std::string(parser_->get().method_string()) : std::string();
}

std::string request_reader::target() const {
    return parser_ ? std::string(parser_->get().target()) : std::string();
}

namespace {

// uri-host [ ":" port ] (RFC 3986): a reg-name, an IPv4 address or a bracketed IP literal.
bool valid_host(std::string_view host) {
    for (char c : host) {
        auto u = static_cast<unsigned char>(c);
        bool ok = (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') ||
                  std::string_view("-._~!$&'()*+,;=%:[]").find(c) != std::string_view::npos;
        if (!ok) return false;
    }
    return true;
}

// RFC 9110 §5.6.2: 1*tchar.
bool is_token(std::string_view text) {
    for (char c : text) {
        auto u = static_cast<unsigned char>(c);
        bool ok = (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') ||
                  std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
        if (!ok) return false;
    }
    return true;
}

std::optional<request_refusal> check_transfer_encoding(const http::request_header<>& header) {
    std::string codings;
    // Several fields are one list (RFC 9110 §5.3).
    auto [first, last_field] = header.equal_range(http::field::transfer_encoding);
    for (auto it = first; it != last_field; ++it) {
        if (!codings.empty()) codings += ',';
        codings.append(it->value().data(), it->value().size());
    }
    auto bad = [](std::string message) {
        return request_refusal{http::status::bad_request, std::move(message)};
    };
    if (header.version() < 11)
        return bad("Transfer-Encoding is not allowed in an HTTP/1.0 request");
    if (header.count(http::field::content_length) > 0)
        return bad("Transfer-Encoding and Content-Length together");
    // A list of tokens (RFC 9110 §5.6.1: empty elements are allowed); a quoted string, a
    // parameter or anything else is not a coding this server can take.
    std::string_view last;
    std::size_t chunked = 0;
    std::optional<std::string_view> other;
    std::string_view rest = codings;
    while (true) {
        auto comma = rest.find(',');
        auto item = rest.substr(0, comma);
        while (!item.empty() && (item.front() == ' ' || item.front() == '\t'))
            item.remove_prefix(1);
        while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
        if (!item.empty()) {
            if (!is_token(item)) {
                return bad("Transfer-Encoding \"" + codings.substr(0, 64) +
                           "\" is not a list of codings");
            }
            last = item;
            if (beast::iequals(item, "chunked")) {
                ++chunked;
            } else if (!other) {
                other = item;
            }
        }
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
    }
    if (last.empty() || !beast::iequals(last, "chunked") || chunked != 1) {
        return bad("Transfer-Encoding \"" + codings.substr(0, 64) +
                   "\" does not end in chunked, applied once: the body length is unknown");
    }
    if (other) {
        return request_refusal{http::status::not_implemented,
                               "transfer coding " + std::string(*other) + " is not supported"};
    }
    return std::nullopt;
}

}  // namespace

std::optional<request_refusal> check_framing(const http::request_header<>& header) {
    auto bad = [](std::string message) {
        return request_refusal{http::status::bad_request, std::move(message)};
    };
    auto hosts = header.count(http::field::host);
    if (hosts > 1) return bad("several Host header fields");
    if (hosts == 0 && header.version() >= 11) return bad("no Host header field");
    if (hosts == 1) {
        auto host = header[http::field::host];
        if (!valid_host({host.data(), host.size()})) return bad("invalid Host header field");
    }
    // Beast takes equal values given twice; a request that repeats its length is refused all the
    // same, as Nginx does, since no client has a reason to.
    if (header.count(http::field::content_length) > 1 ||
        header[http::field::content_length].find(',') != beast::string_view::npos)
        return bad("several Content-Length values");
    if (header.count(http::field::transfer_encoding) > 0) {
        if (auto why = check_transfer_encoding(header)) return why;
    }
    if (expects_continue(header)) {
        auto expect = header[http::field::expect];
        if (header.count(http::field::expect) > 1 || !beast::iequals(expect, "100-continue")) {
            return request_refusal{http::status::expectation_failed,
                                   "expectation \"" +
                                       std::string(expect.substr(0, 64)) +
                                       "\" is not supported (only 100-continue is)"};
        }
    }
    return std::nullopt;
}

}  // namespace ssecast
