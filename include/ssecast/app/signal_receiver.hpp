#pragma once

#include <sys/signalfd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <functional>

namespace ssecast {

// The daemon's signals, SIGINT, SIGTERM and SIGHUP, read from a signalfd on one event loop.
// block() keeps them from every thread from the start, so a signal sent at any moment (before the
// loop waits, while a thread starts, during startup) stays pending in the kernel until it is read:
// none is lost, none kills a half-started daemon, and no thread runs an asynchronous handler.
// (With asio::signal_set and handlers, a signal sent just after the startup line was now and then
// never handled under ThreadSanitizer, which defers handlers: 1 run in 20 of LogFormat.*.)
class signal_receiver {
  public:
    // Blocks the signals in the calling thread and so in every thread it starts afterwards. Call
    // it first in main, before any thread exists (spdlog's writer included).
    static void block();

    // Throws boost::system::system_error when the signalfd cannot be made.
    explicit signal_receiver(boost::asio::io_context& io);

    // Calls `handler` with the number of the next signal, on the loop.
    void async_wait(std::function<void(int)> handler);

  private:
    boost::asio::posix::stream_descriptor fd_;
    signalfd_siginfo received_{};
};

}  // namespace ssecast
