#include "ssecast/http/bearer_token.hpp"

#include <boost/beast/core/string.hpp>

#include "ssecast/http/query_string.hpp"

namespace ssecast {

namespace {

// RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
bool is_b64token(std::string_view text) {
    auto end = text.find_last_not_of('=');
    if (end == std::string_view::npos) return false;
    for (char c : text.substr(0, end + 1)) {
        auto u = static_cast<unsigned char>(c);
        bool ok = (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') ||
                  c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
        if (!ok) return false;
    }
    return true;
}

void from_header(const request& req, bearer_token& out) {
    auto count = req.count(http::field::authorization);
    if (count == 0) return;
    if (count > 1) {
        out.problem = "several Authorization header fields";
        return;
    }
    auto value = req[http::field::authorization];
    std::string_view text(value.data(), value.size());
    auto space = text.find(' ');
    auto scheme = text.substr(0, space);
    if (!boost::beast::iequals(scheme, "Bearer")) {
        out.other_scheme = std::string(scheme.substr(0, 32));
        return;
    }
    auto credentials = space == std::string_view::npos ? std::string_view() : text.substr(space);
    while (!credentials.empty() && credentials.front() == ' ') credentials.remove_prefix(1);
    if (!is_b64token(credentials)) {
        out.problem = "the Authorization header must be \"Bearer\" and a token (RFC 6750)";
        return;
    }
    out.from = bearer_token::source::header;
    out.token = std::string(credentials);
}

void from_query(const request& req, bearer_token& out) {
    auto params = parse_query(split_target(req.target()).second);
    if (!params) return;  // the handler refuses the query itself
    bool seen = false;
    for (auto& [name, value] : *params) {
        if (name != token_parameter) continue;
        if (seen) {
            out.problem = "the token query parameter is given twice";
            return;
        }
        seen = true;
        if (out.from == bearer_token::source::header) {
            out.problem = "the token is given both in the Authorization header and in the query";
            return;
        }
        if (!is_b64token(value)) {
            out.problem = "the token query parameter is not a token (RFC 6750)";
            return;
        }
        out.from = bearer_token::source::query;
        out.token = std::move(value);
    }
}

void from_cookie(const request& req, std::string_view cookie_name, bearer_token& out) {
    // Cookie: a=1; b=2 (RFC 6265 §4.2.1); a proxy speaking HTTP/2 may send several fields.
    auto [first, last] = req.equal_range(http::field::cookie);
    for (auto it = first; it != last; ++it) {
        std::string_view rest(it->value().data(), it->value().size());
        while (!rest.empty()) {
            auto semicolon = rest.find(';');
            auto pair = rest.substr(0, semicolon);
            rest = semicolon == std::string_view::npos ? std::string_view()
                                                       : rest.substr(semicolon + 1);
            while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
            auto eq = pair.find('=');
            if (eq == std::string_view::npos || pair.substr(0, eq) != cookie_name) continue;
            auto value = pair.substr(eq + 1);
            if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
                value = value.substr(1, value.size() - 2);
            // The first one counts: a browser sends the most specific cookie first.
            if (!is_b64token(value)) {
                out.problem = "the " + std::string(cookie_name) + " cookie is not a token";
                return;
            }
            out.from = bearer_token::source::cookie;
            out.token = std::string(value);
            return;
        }
    }
}

}  // namespace

bearer_token find_bearer_token(const request& req, std::string_view cookie_name) {
    bearer_token out;
    from_header(req, out);
    if (out.problem) return out;
    from_query(req, out);
    if (out.problem || out.presented()) return out;
    from_cookie(req, cookie_name, out);
    return out;
}

std::string redact_token(std::string_view target) {
    auto [path, query] = split_target(target);
    if (query.empty()) return std::string(target);
    std::string out(path);
    out += '?';
    bool first = true;
    while (true) {
        auto amp = query.find('&');
        auto part = query.substr(0, amp);
        if (!first) out += '&';
        first = false;
        auto eq = part.find('=');
        // The name as the parser decodes it: "%74oken" is the token parameter too.
        auto name = parse_query(part.substr(0, eq));
        bool secret = name && name->size() == 1 && name->front().first == token_parameter;
        if (secret) {
            out.append(part.substr(0, eq));
            out += "=REDACTED";
        } else {
            out.append(part);
        }
        if (amp == std::string_view::npos) break;
        query.remove_prefix(amp + 1);
    }
    return out;
}

}  // namespace ssecast
