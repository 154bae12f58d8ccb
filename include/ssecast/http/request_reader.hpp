#pragma once

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <cstddef>
#include <optional>
#include <string>

#include "ssecast/http/request.hpp"

namespace ssecast {

// Why a request cannot be taken: the answer it gets, after which the connection is closed
// (its framing, and so the start of the next request, cannot be trusted).
struct request_refusal {
    http::status status = http::status::bad_request;
    std::string message;
};

// Turns the bytes of one connection into requests as RFC 9112 frames them: Beast's parser plus
// the framing rules it leaves to us (Transfer-Encoding, Content-Length, Host). Holds no socket, so
// the session and the fuzzer run the same code: bytes go into buffer(), parse() says what came of
// them.
class request_reader {
  public:
    static constexpr std::size_t max_header_bytes = 16 * 1024;

    explicit request_reader(std::size_t max_body) : max_body_(max_body) {}

    // expects_continue: the header asks for a go-ahead before its body (Expect: 100-continue,
    // RFC 9110 §10.1.1); header() has it. Said once per request; parse() goes on after it.
    enum class outcome { need_more, complete, refused, expects_continue };

    // Begins the next request; bytes already buffered (a pipelined request) are kept.
    void start();
    // Where the connection's bytes go (prepare, then commit).
    boost::beast::flat_buffer& buffer() { return buffer_; }
    // Parses what is buffered.
    outcome parse();
    // The peer closed its side: a request begun and not finished is refused.
    outcome end_of_input();

    bool started() const { return parser_ && parser_->got_some(); }
    bool header_done() const { return parser_ && parser_->is_header_done(); }
    // After expects_continue: the request so far (the header; its body is still to come).
    const request& header() const { return parser_->get(); }
    // After complete.
    request take() { return parser_->release(); }
    // After refused.
    const request_refusal& refusal() const { return refusal_; }
    // What is known of the request so far, for the log of a refusal ("" if nothing).
    std::string method() const;
    std::string target() const;

  private:
    outcome refuse(boost::beast::error_code ec);
    outcome refuse(request_refusal why);

    std::size_t max_body_;
    boost::beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    std::size_t consumed_ = 0;  // bytes of this request the parser has taken
    bool header_checked_ = false;
    request_refusal refusal_;
};

// The framing rules of RFC 9112 that Beast's parser does not enforce, checked once the header is
// complete: a Transfer-Encoding other than a final "chunked" (§6.1, §6.3), Transfer-Encoding in an
// HTTP/1.0 request or together with Content-Length (§6.1), several Content-Length values (§6.3),
// and no or several Host fields, or an invalid one (§3.2); and an expectation other than
// 100-continue (RFC 9110 §10.1.1: 417). Nothing when the header is fine.
std::optional<request_refusal> check_framing(const http::request_header<>& header);

}  // namespace ssecast
