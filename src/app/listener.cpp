#include "ssecast/app/listener.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/socket_base.hpp>

#include "ssecast/app/daemon.hpp"

namespace ssecast {

namespace asio = boost::asio;

listener::listener(daemon& owner, asio::io_context& io, asio::ip::tcp::endpoint endpoint)
    : daemon_(owner), acceptor_(io), backoff_(io) {
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    if (endpoint.address().is_v6()) acceptor_.set_option(asio::ip::v6_only(false));
    acceptor_.bind(endpoint);
    acceptor_.listen(asio::socket_base::max_listen_connections);
}

listener::listener(daemon& owner, asio::io_context& io, asio::ip::tcp protocol, int listening_fd)
    : daemon_(owner), acceptor_(io, protocol, listening_fd), backoff_(io), adopted_(true) {}

void listener::stop() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    backoff_.cancel();
}

void listener::accept() {
    auto& target = daemon_.next_worker();
    acceptor_.async_accept(
        target.io(), [this, &target](boost::system::error_code ec, asio::ip::tcp::socket socket) {
            if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
            if (ec) {
                spdlog::error("accept failed: {}; pausing accepts for 100ms", ec.message());
                backoff_.expires_after(std::chrono::milliseconds(100));
                backoff_.async_wait([this](boost::system::error_code wait_ec) {
                    if (!wait_ec && acceptor_.is_open()) accept();
                });
                return;
            }
            daemon_.dispatch(target, std::move(socket));
            accept();
        });
}

}  // namespace ssecast
