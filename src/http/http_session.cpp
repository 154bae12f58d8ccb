#include "ssecast/http/http_session.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "ssecast/config/config.hpp"
#include "ssecast/core/validation.hpp"
#include "ssecast/http/abuse_limits.hpp"
#include "ssecast/http/bearer_token.hpp"
#include "ssecast/http/client.hpp"
#include "ssecast/http/request_credentials.hpp"
#include "ssecast/http/router.hpp"
#include "ssecast/http/server_state.hpp"
#include "ssecast/http/services.hpp"
#include "ssecast/http/session_owner.hpp"
#include "ssecast/metrics/server_counters.hpp"
#include "ssecast/sse/event_stream.hpp"

namespace ssecast {

namespace beast = boost::beast;
namespace asio = boost::asio;

namespace {

// The request target as log lines show it: token values REDACTED, at most 256 bytes.
std::string log_target(std::string_view target) {
    if (target.empty()) return "-";
    auto shown = redact_token(target);
    return std::string(utf8_prefix(shown, 256));
}

}  // namespace

http_session::http_session(asio::ip::tcp::socket socket, session_owner& owner, connection_slot slot,
                           bool over_capacity, bool over_address_limit)
    : socket_(std::move(socket)),
      slot_(std::move(slot)),
      owner_(owner),
      services_(owner.services()),
      reader_(services_.settings.max_body),
      over_capacity_(over_capacity),
      over_address_limit_(over_address_limit) {
    boost::system::error_code ec;
    peer_ = socket_.remote_endpoint(ec);
    who_ = client::direct(peer_.address());
    // Every answer and event goes out whole in one write, so Nagle's algorithm only delays: with
    // it, a pipelined second answer waited ~40 ms for the client's delayed ACK. (The stream this
    // session may become keeps the option.)
    socket_.set_option(asio::ip::tcp::no_delay(true), ec);
    // Answers are written synchronously when the socket has room (see send()).
    socket_.non_blocking(true, ec);
    owner_.add(*this);
}

http_session::~http_session() {
    owner_.remove(*this);
}

void http_session::read_request() {
    if (services_.state.shutting_down()) return close();
    reader_.start();
    expires_after(services_.settings.request_timeout);
    reading_ = true;
    if (reader_.buffer().size() == 0) return wait_readable();
    // A pipelined request is already here: parse it from the loop, not from inside the answer to
    // the previous one, so that a long pipeline does not recurse.
    asio::post(socket_.get_executor(), [self = shared_from_this()] { self->parse_buffered(); });
}

// The read loop is ours rather than http::async_read: a wait for readability, then a
// non-blocking read and the parser, with no composed operation per request.
void http_session::wait_readable() {
    socket_.async_wait(asio::socket_base::wait_read,
                       [self = shared_from_this()](beast::error_code ec) {
                           if (ec) return self->on_read_error(ec);
                           self->read_available();
                       });
}

void http_session::read_available() {
    // Grow the buffer like Beast does: from 512 bytes, by what is free, 64 KiB at most per read.
    auto& buffer = reader_.buffer();
    auto room = std::clamp<std::size_t>(buffer.capacity() - buffer.size(), 512, 64 * 1024);
    beast::error_code ec;
    auto n = socket_.read_some(buffer.prepare(room), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) return wait_readable();
    if (ec == asio::error::eof) {
        if (!reader_.started()) return on_read_error(ec);
        return on_parsed(reader_.end_of_input());
    }
    if (ec) return on_read_error(ec);
    buffer.commit(n);
    parse_buffered();
}

void http_session::parse_buffered() {
    auto outcome = reader_.parse();
    if (outcome == request_reader::outcome::need_more) return wait_readable();
    if (outcome == request_reader::outcome::expects_continue) return answer_expectation();
    on_parsed(outcome);
}

void http_session::answer_expectation() {
    const auto& header = reader_.header();
    if (auto refused = route(header, true)) {
        // The final answer at once; the body, if the client sends it anyway, cannot be told from
        // a next request: close after it, discarding what comes meanwhile.
        reading_ = false;
        request_read_ = clock::now();
        close_after_answer_ = true;
        return send(std::get<reply>(std::move(*refused)), std::string(header.method_string()),
                    std::string(header.target()));
    }
    static constexpr std::string_view go_ahead = "HTTP/1.1 100 Continue\r\n\r\n";
    beast::error_code ec;
    auto sent = socket_.write_some(asio::buffer(go_ahead), ec);
    if (ec && ec != asio::error::would_block && ec != asio::error::try_again) return close();
    if (sent == go_ahead.size()) return parse_buffered();
    asio::async_write(socket_, asio::buffer(go_ahead.substr(sent)),
                      [self = shared_from_this()](beast::error_code write_ec, std::size_t) {
                          if (write_ec) return self->close();
                          self->parse_buffered();
                      });
}

void http_session::on_read_error(beast::error_code) {
    // Closed, reset, timed out (the sweep cancelled the wait) or failed: nothing to answer.
    reading_ = false;
    close();
}

void http_session::on_parsed(request_reader::outcome outcome) {
    reading_ = false;
    request_read_ = clock::now();
    if (outcome == request_reader::outcome::refused) {
        const auto& why = reader_.refusal();
        close_after_answer_ = true;
        who_ = client::direct(peer_.address());
        return send(error_reply(why.status, why.message, 11, false), reader_.method(),
                    reader_.target());
    }

    auto req = reader_.take();
    auto routed = *route(req, false);
    if (auto* stream = std::get_if<stream_request>(&routed)) {
        deadline_ = clock::time_point::max();
        auto next = std::make_shared<event_stream>(std::move(socket_), std::move(slot_),
                                                   owner_.streams(), std::move(stream->channels),
                                                   log_label(who_, peer_.port()));
        next->start(std::move(stream->last_event_id), stream->extra_headers, stream->token_expires);
        return;
    }
    if (auto* later = std::get_if<deferred>(&routed)) {
        // No deadline while the backend works: nothing is read or written meanwhile, and the
        // backend answers (or fails) within its own limits.
        deadline_ = clock::time_point::max();
        auto start = std::move(later->start);
        start([self = shared_from_this(), headers = std::move(later->extra_headers),
               close = later->close, method = std::string(req.method_string()),
               target = std::string(req.target())](reply r) {
            r.extra_headers += headers;
            if (close) r.keep_alive = false;
            self->send(std::move(r), method, target);
        });
        return;
    }
    send(std::get<reply>(std::move(routed)), std::string(req.method_string()),
         std::string(req.target()));
}

std::optional<answer> http_session::route(const request& req, bool header_only) {
    // Who sent it and with what credential, for the router, the handler and the logs.
    who_ = resolve_client(peer_.address(), req, services_.settings.trusted_proxies);
    count_under_client();
    request_credentials credentials(find_bearer_token(req, services_.settings.jwt_cookie),
                                    owner_.credentials());
    handler_context ctx{req,
                        who_,
                        services_.store,
                        services_.settings,
                        services_.state,
                        services_.counters,
                        owner_.metrics(),
                        credentials,
                        services_.limits,
                        socket_.get_executor(),
                        over_capacity_,
                        over_address_limit_};
    if (!header_only) return services_.routes.dispatch(ctx);
    if (auto refusal = services_.routes.precheck(ctx)) return answer(std::move(*refusal));
    return std::nullopt;
}

void http_session::send(reply r, const std::string& method, const std::string& target) {
    if (!r.rejection.empty()) {
        ++services_.counters.requests_rejected;
        spdlog::warn("rejected peer={} method={} path={} status={} reason={}", log_label(who_),
                     method, log_target(target), static_cast<unsigned>(r.status), r.rejection);
    }
    if (services_.state.shutting_down()) r.keep_alive = false;
    keep_alive_ = r.keep_alive;
    out_.clear();
    append_wire(r, out_);
    // Mostly the socket has room: the answer goes out at once, with no asynchronous operation.
    beast::error_code ec;
    auto sent = socket_.write_some(asio::buffer(out_), ec);
    if (ec && ec != asio::error::would_block && ec != asio::error::try_again) return close();
    if (sent == out_.size()) {
        log_request(method, target, r.status);
        return answered();
    }
    expires_after(services_.settings.request_timeout);
    asio::async_write(socket_, asio::buffer(out_.data() + sent, out_.size() - sent),
                      [self = shared_from_this(), method, target, status = r.status](
                          beast::error_code write_ec, std::size_t) {
                          if (write_ec) return self->close();
                          self->log_request(method, target, status);
                          self->answered();
                      });
}

void http_session::log_request(std::string_view method, std::string_view target,
                               http::status status) const {
    // Checked first: the peer's address and the duration are only worked out when the line is
    // written.
    if (!services_.settings.access_log || !spdlog::should_log(spdlog::level::info)) return;
    auto took = std::chrono::duration<double, std::milli>(clock::now() - request_read_).count();
    spdlog::info("request peer={} method={} path={} status={} bytes={} duration_ms={:.3f}",
                 log_label(who_), method.empty() ? "-" : method, log_target(target),
                 static_cast<unsigned>(status), out_.size(), took);
}

void http_session::answered() {
    // A keep-alive connection keeps its answer buffer for the next one, unless it was a big one.
    if (out_.capacity() > 64 * 1024) std::string().swap(out_);
    if (close_after_answer_) return linger();
    if (!keep_alive_) return close();
    read_request();
}

void http_session::expires_after(std::chrono::milliseconds timeout) {
    deadline_ = clock::now() + timeout;
}

void http_session::count_under_client() {
    // A trusted proxy is not limited, and carries many clients over one connection: each request
    // counts under the client it names, until one names another. (A direct client is counted
    // from the accept on, see daemon::dispatch.) A refusal closes the connection, so the verdict
    // only changes with the key.
    if (!who_.trusted_peer || !who_.problem.empty()) return;
    if (auto count = slot_.count_under(address_limit::request_key(who_))) {
        over_address_limit_ = services_.limits.per_address.judge(*count, who_.address, false) !=
                              address_limit::verdict::within;
    }
}

void http_session::check_deadline(clock::time_point now) {
    // Cancelling the pending read or write makes it finish with an error, which closes the session.
    if (now < deadline_) return;
    deadline_ = clock::time_point::max();
    beast::error_code ignored;
    socket_.cancel(ignored);
}

void http_session::shutdown() {
    // Waiting for a next request that would be refused anyway: close now. A response being written
    // is finished first (send() stops keep-alive once shutting down).
    if (reading_ && !reader_.header_done()) {
        beast::error_code ignored;
        socket_.cancel(ignored);
    }
}

void http_session::linger() {
    // The client may still be sending the request we refused; closing with unread data would reset
    // the connection and could destroy our answer before it reads it. Read and discard for a
    // moment after our side is done, as Nginx's lingering close does.
    beast::error_code ignored;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    expires_after(std::chrono::seconds(2));
    discard_input();
}

void http_session::discard_input() {
    auto& buffer = reader_.buffer();
    buffer.clear();
    socket_.async_read_some(buffer.prepare(4096),
                            [self = shared_from_this()](beast::error_code ec, std::size_t) {
                                if (ec) return self->close();
                                self->discard_input();
                            });
}

void http_session::close() {
    beast::error_code ignored;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    socket_.close(ignored);
}

}  // namespace ssecast
