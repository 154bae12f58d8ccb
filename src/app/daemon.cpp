#include "ssecast/app/daemon.hpp"

#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <csignal>

#include <boost/asio/post.hpp>
#include <thread>

#include "ssecast/app/config_check.hpp"
#include "ssecast/app/listener.hpp"
#include "ssecast/app/logging.hpp"
#include "ssecast/app/service_manager.hpp"
#include "ssecast/app/signal_receiver.hpp"
#include "ssecast/backend/durable/durable_storage.hpp"
#include "ssecast/backend/memory/memory_storage.hpp"
#include "ssecast/config/value_parsers.hpp"
#include "ssecast/version.hpp"

namespace ssecast {

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

// Descriptors kept free for the listener, logging and the odd file.
constexpr rlim_t reserved_descriptors = 64;
// Past the limit a connection still gets a clear answer (a retry: for streams, 503 for the rest),
// but only this many at once; beyond that it is closed straight away.
constexpr std::size_t overflow_answers = reserved_descriptors / 2;

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

const char* mode_name(publish_auth mode) {
    switch (mode) {
        case publish_auth::loopback:
            return "loopback";
        case publish_auth::token:
            return "token";
        case publish_auth::loopback_or_token:
            return "loopback-or-token";
    }
    return "?";
}

// --trusted-proxies for the startup line.
std::string trusted_list(const std::vector<ip_network>& proxies) {
    if (proxies.empty()) return "none";
    std::string out;
    for (const auto& network : proxies) {
        if (!out.empty()) out += ',';
        out += network.to_string();
    }
    return out;
}

std::uint64_t run_epoch() {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
}

}  // namespace

daemon::daemon(config cfg, std::function<std::variant<config, config_exit>()> reload)
    : config_(std::move(cfg)), reload_(std::move(reload)) {
    auto threads = config_.threads != 0
                       ? config_.threads
                       : std::max<std::size_t>(1, std::thread::hardware_concurrency());
    for (std::size_t i = 0; i < threads; ++i)
        workers_.push_back(std::make_unique<worker>(*this, i));
    std::vector<asio::any_io_executor> executors;
    for (auto& w : workers_) executors.push_back(w->io().get_executor());
    hub_ = std::make_unique<hub>(std::move(executors));
    auto& io = workers_.front()->io();
    signals_ = std::make_unique<signal_receiver>(io);
    maintenance_timer_ = std::make_unique<asio::steady_timer>(io);
    shutdown_timer_ = std::make_unique<asio::steady_timer>(io);
    drain_timer_ = std::make_unique<asio::steady_timer>(io);
    service_manager_ = std::make_unique<service_manager>(io);
}

daemon::~daemon() {
    // The teardown order, explicit: the objects on worker 0's loop first; then each worker with
    // the connections still pending in its loop, one worker after the other. A connection destroyed
    // with its worker unsubscribes from the broker and gives back its slot; it touches no other
    // worker (torn_down_ keeps the last one from stopping loops that are gone), and the broker,
    // declared before the workers, goes last. The backend finishes its publishes first, while
    // the loops their completions are posted to still exist.
    if (storage_) storage_->stop();
    listener_.reset();
    signals_.reset();
    maintenance_timer_.reset();
    shutdown_timer_.reset();
    drain_timer_.reset();
    service_manager_.reset();
    if (reload_thread_.joinable()) reload_thread_.join();
    torn_down_ = true;
    for (auto& w : workers_) w.reset();
}

bool daemon::open_storage() {
    memory_storage_options options;
    options.history = config_.history;
    options.max_age = config_.history_max_age;
    options.max_channels = config_.max_channels;
    options.channel_grace = config_.channel_grace;
    options.epoch = run_epoch();
    if (!config_.data_dir) {
        storage_ = std::make_unique<memory_storage>(std::move(options), *hub_);
    } else {
        durable_options durable{std::move(options), {}};
        durable.journal.dir = *config_.data_dir;
        auto policy = config_.fsync == fsync_mode::always  ? fsync_policy::always
                      : config_.fsync == fsync_mode::batch ? fsync_policy::batch
                                                           : fsync_policy::off;
        durable.journal.fsync = policy;
        durable.journal.fsync_interval = config_.fsync_interval;
        durable.journal.new_epoch = durable.memory.epoch;
        try {
            auto started = std::chrono::steady_clock::now();
            auto opened = std::make_unique<durable_storage>(std::move(durable), *hub_);
            spdlog::info("history: {} events read back from {}/ssecast.db in {:.3f}s, epoch {}, "
                         "fsync={}",
                         opened->restored(), *config_.data_dir,
                         std::chrono::duration<double>(std::chrono::steady_clock::now() - started)
                             .count(),
                         opened->epoch(), to_string(policy));
            storage_ = std::move(opened);
        } catch (const journal_error& e) {
            spdlog::critical("cannot use --data-dir {}: {}", *config_.data_dir, e.what());
            return false;
        }
    }
    broker_ = std::make_unique<broker>(*storage_, *hub_);
    services_.emplace(config_, *broker_, counters_, *this, routes_, limits_);
    return true;
}

bool daemon::open_listener() {
    auto& io = workers_.front()->io();
    try {
        if (auto passed = service_manager::passed_listener()) {
            listener_ = std::make_unique<listener>(*this, io, passed->protocol, passed->fd);
            return true;
        }
    } catch (const std::exception& e) {
        spdlog::critical("cannot use the socket passed by systemd: {}", e.what());
        return false;
    }
    asio::ip::tcp::endpoint endpoint{asio::ip::make_address(config_.listen_host),
                                     config_.listen_port};
    try {
        listener_ = std::make_unique<listener>(*this, io, endpoint);
    } catch (const boost::system::system_error& e) {
        spdlog::critical("cannot listen on {}:{}: {}", config_.listen_host, config_.listen_port,
                         e.code().message());
        return false;
    }
    return true;
}

int daemon::run() {
    // Read before listening: a credential file that cannot be used is a configuration error.
    if (auto problem = credentials_.reload(credential_sources_of(config_))) {
        spdlog::critical("invalid configuration: {}", *problem);
        return 2;
    }
    if (!open_storage()) return 3;
    connection_limit_ = connection_capacity(config_.max_connections);
    if (!open_listener()) return 1;
    auto bound = listener_->local_endpoint();
    listening_on_ = bound.address().to_string() + ":" + std::to_string(bound.port());
    signals_->async_wait([this](int signo) { on_signal(signo); });
    if (connection_limit_ < config_.max_connections) {
        spdlog::warn("open-files limit allows only {} connections (--max-connections is {})",
                     connection_limit_, config_.max_connections);
    }
    spdlog::info(
        "ssecast {} listening on {}{} threads={} heartbeat={} history={} history_max_age={} "
        "max_body={} max_queue={} max_connections={} max_channels={} reconnect_delay={} "
        "publish_auth={} private_channels={} max_connections_per_ip={} publish_rate={} "
        "trusted_proxies={}{}",
        version, listening_on_, listener_->adopted() ? " (socket from systemd)" : "",
        workers_.size(), format_duration(config_.heartbeat), config_.history,
        config_.history_max_age ? format_duration(*config_.history_max_age) : "off",
        config_.max_body, config_.max_queue, connection_limit_, config_.max_channels,
        format_duration(config_.reconnect_delay), mode_name(config_.publish_auth),
        config_.private_channels.list().size(),
        config_.max_connections_per_ip ? std::to_string(config_.max_connections_per_ip) : "off",
        config_.publish_rate
            ? fmt::format("{}/s,burst={}", config_.publish_rate, config_.publish_burst)
            : "off",
        trusted_list(config_.trusted_proxies),
        config_.config_file ? " config=" + *config_.config_file : "");

    listener_->start();
    schedule_maintenance();
    for (auto& w : workers_) w->start_timers();
    // The acceptor listens: connections made from now on wait in its backlog for the loops.
    service_manager_->ready("listening on " + listening_on_);
    service_manager_->start_watchdog();

    // Worker 0 runs on this thread, the others on their own.
    std::vector<std::thread> threads;
    for (std::size_t i = 1; i < workers_.size(); ++i) {
        threads.emplace_back([w = workers_[i].get()] { w->io().run(); });
    }
    workers_.front()->io().run();
    stop_all();
    for (auto& t : threads) t.join();
    torn_down_ = true;
    spdlog::info("ssecast stopped");
    return 0;
}

worker_totals daemon::workers_total() const {
    worker_totals totals;
    for (const auto& w : workers_) {
        const auto& m = w->metrics();
        totals.bytes_sent += m.bytes_sent.load(std::memory_order_relaxed);
        totals.events_dropped += m.events_dropped.load(std::memory_order_relaxed);
        totals.send_queue += w->scheduler().waiting();
        totals.token_cache += w->credentials().cached();
        totals.publish_duration.merge(m.publish_duration.snapshot());
        totals.publish_to_write.merge(m.publish_to_write.snapshot());
    }
    return totals;
}

worker& daemon::next_worker() {
    // Only the listener calls this, on worker 0's thread.
    auto& w = *workers_[next_worker_];
    next_worker_ = (next_worker_ + 1) % workers_.size();
    return w;
}

void daemon::dispatch(worker& target, asio::ip::tcp::socket socket) {
    ++counters_.connections_accepted;
    auto open = connections();
    bool over = open >= connection_limit_;
    if (over) ++counters_.connections_refused;
    if (over && open >= connection_limit_ + overflow_answers) {
        spdlog::warn("connection limit {} reached: closed a new connection without answering",
                     connection_limit_);
        return;
    }
    // Counted now, so that a burst of accepts sees the connections its predecessors opened.
    connection_slot slot(*this, limits_.per_address.counts());
    // --- --max-connections-per-ip: a direct client counts under its address from now on ---
    auto& per_address = limits_.per_address;
    bool over_address = false;
    boost::system::error_code ec;
    auto peer = per_address.counts() != nullptr ? socket.remote_endpoint(ec).address()
                                                : asio::ip::address();
    if (auto count = ec ? std::nullopt : slot.count_under(per_address.accept_key(peer))) {
        auto verdict = per_address.judge(*count, peer, true);
        if (verdict == address_limit::verdict::drop) return;
        over_address = verdict == address_limit::verdict::refuse;
    }
    asio::post(target.io(), [&target, over, over_address, slot = std::move(slot),
                             s = std::move(socket)]() mutable {
        target.accept(std::move(s), std::move(slot), over, over_address);
    });
}

void daemon::opened() {
    connections_.fetch_add(1, std::memory_order_relaxed);
}

void daemon::became_stream() {
    streams_.fetch_add(1, std::memory_order_relaxed);
}

void daemon::closed(bool stream) {
    if (stream) streams_.fetch_sub(1, std::memory_order_relaxed);
    if (connections_.fetch_sub(1, std::memory_order_acq_rel) == 1 && shutting_down() && !torn_down_)
        stop_all();
}

void daemon::on_signal(int signo) {
    if (signo == SIGHUP) {
        reload_config();
    } else if (!shutting_down() && !draining()) {
        const char* name = signo == SIGTERM ? "SIGTERM" : "SIGINT";
        service_manager_->stopping("shutting down: " + std::to_string(connections()) +
                                   " connections open");
        if (config_.drain_delay.count() == 0) {
            spdlog::info("received {}, shutting down: {} streams, {} other connections", name,
                         streams(), connections() - streams());
            begin_shutdown();
        } else {
            spdlog::info(
                "received {}, draining for {} (--drain-delay): /readyz answers 503, everything "
                "else is served as before; {} streams, {} other connections",
                name, format_duration(config_.drain_delay), streams(), connections() - streams());
            draining_ = true;
            drain_timer_->expires_after(config_.drain_delay);
            drain_timer_->async_wait([this](boost::system::error_code ec) {
                if (ec) return;
                spdlog::info("drain delay over, shutting down: {} streams, {} other connections",
                             streams(), connections() - streams());
                begin_shutdown();
            });
        }
    } else {
        spdlog::warn("second signal during shutdown: stopping now");
        stop_all();
        return;
    }
    signals_->async_wait([this](int next) { on_signal(next); });
}

void daemon::begin_shutdown() {
    shutting_down_ = true;
    listener_->stop();
    maintenance_timer_->cancel();
    shutdown_timer_->expires_after(config_.shutdown_timeout);
    shutdown_timer_->async_wait([this](boost::system::error_code ec) {
        if (ec) return;
        spdlog::warn("shutdown timeout: closing {} connections that are still open", connections());
        stop_all();
    });
    if (connections() == 0) return stop_all();
    for (auto& w : workers_) asio::post(w->io(), [w = w.get()] { w->begin_shutdown(); });
}

void daemon::stop_all() {
    for (auto& w : workers_) w->io().stop();
}

void daemon::reload_config() {
    // One reload at a time; a SIGHUP meanwhile asks for another once it is done.
    if (reloading_) {
        reload_again_ = true;
        return;
    }
    reloading_ = true;
    service_manager_->reloading();
    if (reload_thread_.joinable()) reload_thread_.join();
    // The files are read on a thread of their own: the event loop never waits for the disk.
    reload_thread_ = std::thread([this] {
        auto next = reload_();
        std::optional<std::string> credentials_problem;
        // The credential files of the running configuration are read again (key rotation);
        // other paths take effect at the next start, like every option but the log level.
        if (std::holds_alternative<config>(next))
            credentials_problem = credentials_.reload(credential_sources_of(config_));
        asio::post(workers_.front()->io(),
                   [this, next = std::move(next), problem = std::move(credentials_problem)] {
                       reloaded(next, problem);
                   });
    });
}

void daemon::reloaded(const std::variant<config, config_exit>& next,
                      const std::optional<std::string>& credentials_problem) {
    reloading_ = false;
    if (auto* failed = std::get_if<config_exit>(&next)) {
        spdlog::error("SIGHUP: configuration not reloaded, keeping the running one: {}",
                      failed->output);
        service_manager_->ready("listening on " + listening_on_ +
                                "; configuration not reloaded (see the log)");
    } else {
        const auto& fresh = std::get<config>(next);
        // Only the log level changes at run time; spdlog's level is safe to set from any thread.
        set_log_level(fresh.log_level);
        if (credentials_problem) {
            spdlog::error("SIGHUP: credentials not reloaded, keeping the running ones: {}",
                          *credentials_problem);
        }
        spdlog::info(
            "SIGHUP: configuration reloaded; log level is {}{} (other options take effect at "
            "restart)",
            spdlog::level::to_string_view(fresh.log_level),
            credentials_problem ? "" : "; credentials re-read");
        service_manager_->ready("listening on " + listening_on_ +
                                (credentials_problem ? "; credentials not reloaded (see the log)"
                                                     : "; configuration reloaded"));
    }
    if (std::exchange(reload_again_, false)) reload_config();
}

void daemon::schedule_maintenance() {
    maintenance_timer_->expires_after(1s);
    maintenance_timer_->async_wait([this](boost::system::error_code ec) {
        if (ec) return;
        auto now = std::chrono::steady_clock::now();
        broker_->maintain(now);
        limits_.publish_rate.maintain(now);
        schedule_maintenance();
    });
}

}  // namespace ssecast
