#include "ssecast/hub.hpp"

#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include "ssecast/event_stream.hpp"
#include "ssecast/http_session.hpp"
#include "ssecast/listener.hpp"
#include "ssecast/logging.hpp"
#include "ssecast/memory_broker.hpp"
#include "ssecast/version.hpp"

namespace ssecast {

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

// Descriptors kept free for the listener, logging and the odd file.
constexpr rlim_t reserved_descriptors = 64;

// Raises the soft open-files limit to the hard one and returns how many connections fit.
std::size_t connection_capacity(std::size_t wanted) {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return wanted;
    if (limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
        getrlimit(RLIMIT_NOFILE, &limit);
    }
    if (limit.rlim_cur == RLIM_INFINITY) return wanted;
    auto fit = limit.rlim_cur > reserved_descriptors ? limit.rlim_cur - reserved_descriptors : 1;
    return std::min<std::size_t>(wanted, fit);
}

std::uint64_t run_epoch() {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
}

}  // namespace

hub::hub(config cfg, std::function<std::variant<config, config_exit>()> reload)
    : config_(std::move(cfg)), reload_(std::move(reload)) {
    memory_broker_options options;
    options.history = config_.history;
    options.max_age = config_.history_max_age;
    options.max_channels = config_.max_channels;
    options.channel_grace = config_.channel_grace;
    options.epoch = run_epoch();
    broker_ = std::make_unique<memory_broker>(options);
}

hub::~hub() = default;

int hub::run() {
    connection_limit_ = connection_capacity(config_.max_connections);
    asio::ip::tcp::endpoint endpoint{asio::ip::make_address(config_.listen_host),
                                     config_.listen_port};
    try {
        listener_ = std::make_unique<listener>(*this, endpoint);
    } catch (const boost::system::system_error& e) {
        spdlog::critical("cannot listen on {}:{}: {}", config_.listen_host, config_.listen_port,
                         e.code().message());
        return 1;
    }
    auto bound = listener_->local_endpoint();
    if (connection_limit_ < config_.max_connections) {
        spdlog::warn("open-files limit allows only {} connections (--max-connections is {})",
                     connection_limit_, config_.max_connections);
    }
    spdlog::info(
        "ssecast {} listening on {}:{} heartbeat={} history={} history_max_age={} max_body={} "
        "max_queue={} "
        "max_connections={} max_channels={} reconnect_delay={}{}",
        version, bound.address().to_string(), bound.port(), format_duration(config_.heartbeat),
        config_.history,
        config_.history_max_age ? format_duration(*config_.history_max_age) : "off",
        config_.max_body, config_.max_queue, connection_limit_, config_.max_channels,
        format_duration(config_.reconnect_delay),
        config_.config_file ? " config=" + *config_.config_file : "");

    signals_.add(SIGINT);
    signals_.add(SIGTERM);
    signals_.add(SIGHUP);
    signals_.async_wait([this](boost::system::error_code ec, int signo) {
        if (!ec) on_signal(signo);
    });
    listener_->start();
    schedule_heartbeat();
    schedule_maintenance();
    io_.run();
    spdlog::info("ssecast stopped");
    return 0;
}

void hub::accept(asio::ip::tcp::socket socket) {
    ++counters_.connections_accepted;
    bool over = connections() >= connection_limit_;
    // Past the limit a connection still gets a clear answer (a retry: for streams, 503 for the
    // rest), but only so many of those at once: beyond that it is closed straight away.
    if (over && connections() >=
                    connection_limit_ + std::min<std::size_t>(1024, reserved_descriptors / 2)) {
        ++counters_.connections_refused;
        spdlog::warn("connection limit {} reached: closed a new connection without answering",
                     connection_limit_);
        return;
    }
    if (over) ++counters_.connections_refused;
    std::make_shared<http_session>(std::move(socket), *this, over)->run();
}

void hub::remove(http_session& session) {
    sessions_.erase(&session);
    maybe_finish_shutdown();
}

void hub::remove(event_stream& stream) {
    streams_.erase(&stream);
    maybe_finish_shutdown();
}

std::chrono::milliseconds hub::jittered_retry() {
    auto base = std::max<std::chrono::milliseconds>(config_.reconnect_delay, 1s);
    std::uniform_int_distribution<std::int64_t> spread(0, base.count());
    return base + std::chrono::milliseconds(spread(random_));
}

void hub::on_signal(int signo) {
    if (signo == SIGHUP) {
        reload_config();
    } else if (!shutting_down_) {
        spdlog::info("received {}, shutting down: {} streams, {} other connections",
                     signo == SIGTERM ? "SIGTERM" : "SIGINT", streams_.size(), sessions_.size());
        begin_shutdown();
    } else {
        spdlog::warn("second signal during shutdown: stopping now");
        io_.stop();
        return;
    }
    signals_.async_wait([this](boost::system::error_code ec, int next) {
        if (!ec) on_signal(next);
    });
}

void hub::begin_shutdown() {
    shutting_down_ = true;
    listener_->stop();
    heartbeat_timer_.cancel();
    maintenance_timer_.cancel();
    // finish() and shutdown() may close connections at once, which removes them from the sets.
    std::vector<event_stream*> streams(streams_.begin(), streams_.end());
    for (auto* stream : streams) stream->finish(jittered_retry(), "shutting down");
    std::vector<http_session*> sessions(sessions_.begin(), sessions_.end());
    for (auto* session : sessions) session->shutdown();
    shutdown_timer_.expires_after(config_.shutdown_timeout);
    shutdown_timer_.async_wait([this](boost::system::error_code ec) {
        if (ec) return;
        spdlog::warn("shutdown timeout: closing {} connections that are still open", connections());
        io_.stop();
    });
    maybe_finish_shutdown();
}

void hub::maybe_finish_shutdown() {
    // Also reached from connections destroyed along with a stopped loop: stop only once.
    if (!shutting_down_ || connections() != 0 || io_.stopped()) return;
    io_.stop();
}

void hub::reload_config() {
    auto next = reload_();
    if (auto* failed = std::get_if<config_exit>(&next)) {
        spdlog::error("SIGHUP: configuration not reloaded, keeping the running one: {}",
                      failed->output);
        return;
    }
    const auto& fresh = std::get<config>(next);
    config_.log_level = fresh.log_level;
    set_log_level(fresh.log_level);
    spdlog::info(
        "SIGHUP: configuration reloaded; log level is {} (other options take effect at restart)",
        spdlog::level::to_string_view(fresh.log_level));
}

void hub::schedule_heartbeat() {
    heartbeat_timer_.expires_after(config_.heartbeat);
    heartbeat_timer_.async_wait([this](boost::system::error_code ec) {
        if (ec) return;
        for (auto* stream : streams_) stream->heartbeat();
        schedule_heartbeat();
    });
}

void hub::schedule_maintenance() {
    maintenance_timer_.expires_after(1s);
    maintenance_timer_.async_wait([this](boost::system::error_code ec) {
        if (ec) return;
        broker_->maintain(std::chrono::steady_clock::now());
        schedule_maintenance();
    });
}

}  // namespace ssecast
