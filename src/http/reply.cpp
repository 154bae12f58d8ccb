#include "ssecast/http/reply.hpp"

namespace ssecast {

void append_wire(const reply& r, std::string& out) {
    auto reason = boost::beast::http::obsolete_reason(r.status);
    out += r.version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
    out += std::to_string(static_cast<unsigned>(r.status));
    out += ' ';
    out.append(reason.data(), reason.size());
    out += "\r\nServer: ssecast\r\nContent-Type: ";
    out += r.content_type;
    out += "\r\nCache-Control: ";
    out += r.cache_control;
    out += "\r\n";
    out += r.extra_headers;
    // HTTP/1.1 keeps the connection unless told; HTTP/1.0 closes it unless told.
    if (r.version == 10 && r.keep_alive) out += "Connection: keep-alive\r\n";
    if (r.version != 10 && !r.keep_alive) out += "Connection: close\r\n";
    out += "Content-Length: ";
    out += std::to_string(r.body.size());
    out += "\r\n\r\n";
    out += r.body;
}

}  // namespace ssecast
