#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "ssecast/http/client.hpp"
#include "ssecast/http/handler_context.hpp"
#include "ssecast/http/reply.hpp"
#include "ssecast/http/request.hpp"
#include "ssecast/http/request_reader.hpp"
#include "ssecast/metrics/connection_slot.hpp"

namespace ssecast {

class session_owner;
struct http_services;

// One client connection while it speaks plain HTTP/1.1: reads requests (keep-alive), answers
// them, or hands its socket to an event_stream for GET /events.
class http_session : public std::enable_shared_from_this<http_session> {
  public:
    // `over_address_limit`: its peer is past --max-connections-per-ip.
    http_session(boost::asio::ip::tcp::socket socket, session_owner& owner, connection_slot slot,
                 bool over_capacity, bool over_address_limit);
    ~http_session();

    using clock = std::chrono::steady_clock;

    void run() { read_request(); }
    // Called by the worker's sweep: a request (or answer) that has run past its time is dropped.
    void check_deadline(clock::time_point now);
    // Shutdown: finish the answer being written, then close instead of waiting for another request.
    void shutdown();

  private:
    void read_request();
    void wait_readable();
    void read_available();
    void parse_buffered();
    // What became of the bytes read: a request to answer, or a refusal.
    void on_parsed(request_reader::outcome outcome);
    // Expect: 100-continue (RFC 9110 §10.1.1): the final answer at once when the header alone
    // earns a refusal (401, 403, 404, 413, ...), else 100 Continue and the body is read.
    void answer_expectation();
    // Routes a request: the answer of its handler; with `header_only`, the refusal its header
    // already earns, or nothing (then the handler has not run).
    std::optional<answer> route(const request& req, bool header_only);
    // The connection failed or was closed before a request began.
    void on_read_error(boost::beast::error_code ec);
    void send(reply r, const std::string& method, const std::string& target);
    // The access log line of an answer that is out, at info level.
    void log_request(std::string_view method, std::string_view target, http::status status) const;
    // The answer is out: next request, close, or linger.
    void answered();
    void linger();
    void discard_input();
    void close();
    // The read or write being started must be done within `timeout` (see check_deadline).
    void expires_after(std::chrono::milliseconds timeout);
    // A request relayed by a trusted proxy: the connection counts under the client it names.
    void count_under_client();

    boost::asio::ip::tcp::socket socket_;
    connection_slot slot_;  // handed on to the event stream, if the session becomes one
    // One deadline per session, checked by the worker's sweep: no timer operation per request.
    clock::time_point deadline_ = clock::time_point::max();
    clock::time_point request_read_;  // when the request being answered was fully read
    session_owner& owner_;
    http_services& services_;
    request_reader reader_;
    boost::asio::ip::tcp::endpoint peer_;
    bool over_capacity_;
    bool over_address_limit_;
    client who_;  // of the request being answered; the TCP peer's when it could not be parsed
    bool reading_ = false;
    std::string out_;  // the answer being written
    bool keep_alive_ = true;
    // The last request was refused for its framing, or before its body was read: answer, then
    // close.
    bool close_after_answer_ = false;
};

}  // namespace ssecast
