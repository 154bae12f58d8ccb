#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

namespace ssecast {

class hub;

// Accepts connections on one loop, each straight into the loop of the worker that will serve it.
class listener {
  public:
    listener(hub& owner, boost::asio::io_context& io, boost::asio::ip::tcp::endpoint endpoint);

    boost::asio::ip::tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }
    void start() { accept(); }
    void stop();

  private:
    void accept();

    hub& hub_;
    boost::asio::ip::tcp::acceptor acceptor_;
    // Out of file descriptors: wait a moment instead of spinning on accept errors.
    boost::asio::steady_timer backoff_;
};

}  // namespace ssecast
