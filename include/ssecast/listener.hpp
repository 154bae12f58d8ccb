#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

namespace ssecast {

class hub;

// Accepts connections and hands them to the hub.
class listener {
  public:
    listener(hub& owner, boost::asio::ip::tcp::endpoint endpoint);

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
