#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

namespace ssecast {

class daemon;

// Accepts connections on one loop, each straight into the loop of the worker that will serve it.
class listener {
  public:
    // Binds `endpoint` and listens on it.
    listener(daemon& owner, boost::asio::io_context& io, boost::asio::ip::tcp::endpoint endpoint);
    // Takes over `listening_fd`, a socket that already listens (passed by systemd).
    listener(daemon& owner, boost::asio::io_context& io, boost::asio::ip::tcp protocol,
             int listening_fd);

    boost::asio::ip::tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }
    bool adopted() const { return adopted_; }
    void start() { accept(); }
    void stop();

  private:
    void accept();

    daemon& daemon_;
    boost::asio::ip::tcp::acceptor acceptor_;
    // Out of file descriptors: wait a moment instead of spinning on accept errors.
    boost::asio::steady_timer backoff_;
    bool adopted_ = false;
};

}  // namespace ssecast
