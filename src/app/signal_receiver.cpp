#include "ssecast/app/signal_receiver.hpp"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>
#include <csignal>
#include <initializer_list>

namespace ssecast {

namespace {

sigset_t received_signals() {
    sigset_t set;
    sigemptyset(&set);
    for (int signo : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&set, signo);
    return set;
}

int open_signalfd() {
    const sigset_t set = received_signals();
    int fd = ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0)
        throw boost::system::system_error(errno, boost::system::system_category(), "signalfd");
    return fd;
}

}  // namespace

void signal_receiver::block() {
    const sigset_t set = received_signals();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

signal_receiver::signal_receiver(boost::asio::io_context& io) : fd_(io, open_signalfd()) {}

void signal_receiver::async_wait(std::function<void(int)> handler) {
    // A signalfd reads whole signalfd_siginfo records, one per pending signal.
    fd_.async_read_some(boost::asio::buffer(&received_, sizeof received_),
                        [this, handler = std::move(handler)](boost::system::error_code ec,
                                                             std::size_t n) {
                            if (!ec && n == sizeof received_)
                                return handler(static_cast<int>(received_.ssi_signo));
                            // Cancelled at teardown; anything else would leave the daemon deaf.
                            if (ec != boost::asio::error::operation_aborted)
                                spdlog::error("reading signals failed, SIGTERM and SIGHUP are no "
                                              "longer handled: {}",
                                              ec ? ec.message() : "short read");
                        });
}

}  // namespace ssecast
