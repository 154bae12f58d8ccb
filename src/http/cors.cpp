#include "ssecast/http/cors.hpp"

#include <algorithm>

namespace ssecast {

cors::cors(const config& cfg)
    : origins_(cfg.cors_origins),
      any_(cfg.cors_origins == std::vector<std::string>{"*"}),
      credentials_(cfg.cors_credentials) {}

cors::verdict cors::check(std::string_view origin, std::string_view host) const {
    if (origin.empty()) return {};
    // Same origin: the browser needs no permission (the scheme is not known behind a proxy, so
    // the host and port decide).
    auto scheme_end = origin.find("://");
    if (scheme_end != std::string_view::npos && !host.empty() &&
        origin.substr(scheme_end + 3) == host)
        return {};
    if (any_ && !credentials_) return {true, "Access-Control-Allow-Origin: *\r\n"};
    if (!any_ && std::find(origins_.begin(), origins_.end(), origin) == origins_.end())
        return {false, {}};
    // The answer names the origin, so caches must keep one copy per origin.
    std::string headers = "Access-Control-Allow-Origin: ";
    headers += origin;
    headers += "\r\nVary: Origin\r\n";
    if (credentials_) headers += "Access-Control-Allow-Credentials: true\r\n";
    return {true, std::move(headers)};
}

cors::verdict cors::preflight(std::string_view origin, std::string_view host) const {
    auto v = check(origin, host);
    if (!v.allowed) return v;
    // Authorization for bearer tokens, Content-Type for JSON publishes; Last-Event-ID and
    // Cache-Control for EventSource polyfills.
    v.headers +=
        "Access-Control-Allow-Methods: GET, POST, OPTIONS\r\n"
        "Access-Control-Allow-Headers: Authorization, Content-Type, Last-Event-ID, "
        "Cache-Control\r\n"
        "Access-Control-Max-Age: 600\r\n";
    return v;
}

}  // namespace ssecast
