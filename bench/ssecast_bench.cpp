// ssecast-bench: load generator for SSE broadcast servers (ssecast and, for comparison, nchan).
//
// The coordinator (this process) forks the subscriber processes first (before any thread exists),
// then runs the publishers on one io_context thread, samples the server's memory and CPU from
// /proc, tells the subscriber processes what to do over pipes, merges what they saw, and writes
// one JSON document (stdout or --json) plus a human summary (stderr).
//
// Modes:
//   fanout          connect, settle, measure idle memory, publish for --duration at --rate,
//                   wait up to --drain for deliveries, report delivery, loss and latency
//   idle            connect, settle, measure memory, exit
//   publish-only    no subscribers; publish flat out (or at --rate) for --duration: requests/s
//   reconnect-storm connect, publish an anchor event and --backlog events, wait until delivered,
//                   then close every stream and reconnect all at once with Last-Event-ID = the
//                   anchor's id; measure the time until every subscriber has the whole backlog
//
// Exit code: 0 when the run completed (whatever it measured), 1 when the run itself broke (a
// subscriber process died, the publishers could not connect), 2 for bad flags.

#include <arpa/inet.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <cstdio>
#include <fstream>
#include <future>
#include <iostream>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <nlohmann/json.hpp>

#include "clock.hpp"
#include "control_channel.hpp"
#include "options.hpp"
#include "proc_stats.hpp"
#include "publisher.hpp"
#include "subscriber_process.hpp"
#include "summary.hpp"

namespace {

using json = nlohmann::json;
using namespace bench;

struct child {
    pid_t pid = -1;
    line_pipe pipe;
    std::uint32_t first = 0, count = 0;
    std::vector<std::uint64_t> per_channel;
};

struct fatal : std::runtime_error {
    using std::runtime_error::runtime_error;
};

json receive_json(child& c, const char* expected_type) {
    auto line = c.pipe.receive();
    if (!line) throw fatal("subscriber process " + std::to_string(c.pid) + " died");
    auto j = json::parse(*line);
    if (j.value("type", "") != expected_type)
        throw fatal(std::string("subscriber process sent ") + j.value("type", "?") + ", expected " + expected_type);
    return j;
}

json process_json(const process_sample& s) {
    return {{"ok", s.ok}, {"processes", s.processes}, {"rss_kb", s.rss_kb}, {"pss_kb", s.pss_kb}, {"cpu_s", s.cpu_s}};
}

std::pair<int, int> local_port_range() {
    std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
    int lo = 32768, hi = 60999;
    in >> lo >> hi;
    return {lo, hi};
}

class coordinator {
public:
    explicit coordinator(options o) : o_(std::move(o)) {}

    int run() {
        ::signal(SIGPIPE, SIG_IGN);
        nofile_ = raise_nofile_limit();
        plan();
        result_["ssecast_bench"] = 1;
        result_["label"] = o_.label;
        result_["target"] = target_name(o_.target);
        result_["mode"] = mode_name(o_.mode);
        result_["machine"] = machine_info();
        result_["limits_hit"] = json::array();

        int rc = 0;
        try {
            execute();
        } catch (const std::exception& e) {
            note_limit(std::string("RUN BROKEN: ") + e.what());
            result_["error"] = e.what();
            rc = 1;
            for (auto& c : children_)
                if (c.pid > 0) ::kill(c.pid, SIGKILL);
        }
        finish_children();
        result_["config"] = config_json();
        write_result();
        return rc;
    }

private:
    // ---- planning ------------------------------------------------------------------------
    void plan() {
        std::uint32_t n = o_.subscribers;
        // Descriptors a subscriber process needs besides its sockets: epoll sets, pipes, stdio.
        const std::int64_t reserve = 64 + 4 * static_cast<std::int64_t>(o_.threads);
        per_process_cap_ = nofile_ > reserve ? nofile_ - reserve : 1;
        processes_ = o_.processes;
        if (n == 0) {
            processes_ = 0;
        } else if (processes_ == 0) {
            processes_ = static_cast<std::uint32_t>((n + per_process_cap_ - 1) / per_process_cap_);
        }
        auto [lo, hi] = local_port_range();
        ports_per_address_ = hi - lo + 1;
        sources_ = o_.source_addresses;
        if (sources_ == 0) {
            // The kernel's search for a free port at connect() gets slower as a source address
            // fills up (seen: 21k connections from one address cost 5 s of CPU, 15k from three
            // 0.6 s), so use one address per 5,000 subscribers, and never more than 3/4 of the
            // port range of one.
            auto usable = std::min(5000, std::max(1000, ports_per_address_ * 3 / 4));
            sources_ = static_cast<std::uint32_t>(
                std::clamp<std::int64_t>((static_cast<std::int64_t>(n) + usable - 1) / usable, 1, 254));
        }
    }

    json config_json() const {
        return {{"host", o_.host},
                {"port", o_.port},
                {"subscribers", o_.subscribers},
                {"channels", o_.channels},
                {"rate", o_.rate},
                {"duration_s", o_.duration},
                {"drain_s", o_.drain},
                {"settle_s", o_.settle},
                {"payload_bytes", o_.payload},
                {"publishers", o_.publishers},
                {"pipeline", o_.pipeline},
                {"backlog", o_.backlog},
                {"threads", o_.threads},
                {"processes", processes_},
                {"subscribers_per_process_cap", per_process_cap_},
                {"source_addresses", sources_},
                {"source_ports_per_address", ports_per_address_},
                {"connect_timeout_s", o_.connect_timeout},
                {"connect_concurrency", o_.connect_concurrency},
                {"read_size", o_.read_size},
                {"delayed_acks", o_.delayed_acks},
                {"tcp_quickack", o_.delayed_acks ? "off after every read (delayed ACKs kept)" : "kernel default"},
                {"rcvbuf", o_.rcvbuf},
                {"nofile_limit", nofile_},
                {"close", "abortive (SO_LINGER 0): no TIME_WAIT left behind"},
                {"server_pids", o_.server.pids},
                {"server_pid_trees", o_.server.trees}};
    }

    void note_limit(const std::string& what) { result_["limits_hit"].push_back(what); }

    // ---- the run ---------------------------------------------------------------------------
    void execute() {
        sockaddr_in server{};
        server.sin_family = AF_INET;
        server.sin_port = htons(o_.port);
        if (::inet_pton(AF_INET, o_.host.c_str(), &server.sin_addr) != 1)
            throw fatal("--host must be an IPv4 address: " + o_.host);

        before_ = sample_processes(o_.server);
        kernel_before_ = sample_kernel();
        std::int64_t t_begin = mono_ns();

        if (processes_ > 0) spawn_children(server);
        if (!children_.empty()) {
            connected();
            result_["connections"]["connect_s"] = seconds(mono_ns() - t_begin);
        }
        auto connect_done = sample_processes(o_.server);
        if (o_.settle > 0 && !children_.empty())
            std::this_thread::sleep_for(std::chrono::duration<double>(o_.settle));
        idle_ = sample_processes(o_.server);
        kernel_idle_ = sample_kernel();
        load_max_ = idle_;
        kernel_load_ = kernel_idle_;

        json server_cpu = {{"connect", connect_done.cpu_s - before_.cpu_s}};
        if (o_.mode != run_mode::idle) {
            start_publishers();
            send_all("start", "started");
            bench_load_start_ = own_cpu();
            machine_load_start_ = sample_machine_cpu();
            auto load_start = sample_processes(o_.server);
            load_start_ns_ = mono_ns();
            if (o_.mode == run_mode::reconnect_storm) storm();
            else load();
            auto load_end = sample_processes(o_.server);
            machine_load_end_ = sample_machine_cpu();
            load_end_ns_ = mono_ns();
            server_cpu["load"] = load_end.cpu_s - load_start.cpu_s;
            after_ = load_end;
        } else {
            after_ = idle_;
        }
        kernel_after_ = sample_kernel();
        collect_reports();
        server_json(server_cpu);
        kernel_json();
    }

    void spawn_children(const sockaddr_in& server) {
        shard_setup setup;
        setup.target = o_.target;
        setup.server = server;
        setup.host_header = o_.host + ":" + std::to_string(o_.port);
        setup.channel_prefix = o_.channel_prefix;
        setup.channels = o_.channels;
        for (std::uint32_t k = 0; k < sources_; ++k) {
            in_addr a{};
            a.s_addr = htonl((127u << 24) | (k + 1));
            setup.sources.push_back(a);
        }
        setup.connect_timeout_ns = static_cast<std::int64_t>(o_.connect_timeout * 1e9);
        setup.connect_concurrency = o_.connect_concurrency;
        setup.read_size = o_.read_size;
        setup.delayed_acks = o_.delayed_acks;
        setup.rcvbuf = static_cast<int>(o_.rcvbuf);

        std::uint32_t n = o_.subscribers;
        std::uint32_t first = 0;
        // Generous: every wave of --connect-concurrency attempts may take the whole timeout.
        double waves = o_.connect_concurrency ? std::ceil(static_cast<double>(n) / processes_ / o_.connect_concurrency) : 1;
        double deadline_s = o_.connect_timeout * std::max(1.0, waves) + 5;
        std::vector<int> parent_fds;
        for (std::uint32_t p = 0; p < processes_; ++p) {
            std::uint32_t count = n / processes_ + (p < n % processes_ ? 1 : 0);
            int down[2], up[2];
            if (::pipe2(down, O_CLOEXEC) != 0 || ::pipe2(up, O_CLOEXEC) != 0) throw fatal("pipe failed");
            std::fflush(nullptr);
            pid_t pid = ::fork();
            if (pid < 0) throw fatal("fork failed");
            if (pid == 0) {
                for (int fd : parent_fds) ::close(fd);
                ::close(down[1]);
                ::close(up[0]);
                int code = 0;
                try {
                    subscriber_process proc(setup, o_.threads, first, count, line_pipe(down[0], up[1]));
                    code = proc.run(deadline_s);
                } catch (const std::exception& e) {
                    std::fprintf(stderr, "ssecast-bench subscriber process: %s\n", e.what());
                    code = 1;
                }
                std::fflush(nullptr);
                ::_exit(code);
            }
            ::close(down[0]);
            ::close(up[1]);
            parent_fds.push_back(down[1]);
            parent_fds.push_back(up[0]);
            child c;
            c.pid = pid;
            c.pipe = line_pipe(up[0], down[1]);
            c.first = first;
            c.count = count;
            children_.push_back(std::move(c));
            first += count;
        }
    }

    void connected() {
        connection_stats all;
        json per_process = json::array();
        for (auto& c : children_) {
            auto j = receive_json(c, "connected");
            auto stats = connection_stats::from_json(j.at("connections"));
            all.merge(stats);
            c.per_channel = j.at("per_channel").get<std::vector<std::uint64_t>>();
            per_process.push_back({{"pid", c.pid}, {"subscribers", c.count}, {"established", stats.established},
                                   {"connect_s", j.at("connect_s")}});
        }
        established_ = all.established;
        result_["connections"] = all.to_json();
        result_["connections"]["per_process"] = per_process;
        connection_limits(all, "subscriber connections");
    }

    void connection_limits(const connection_stats& s, const std::string& what) {
        auto f = [&](failure x) { return s.failed[static_cast<std::size_t>(x)]; };
        if (auto n = f(failure::emfile))
            note_limit(what + ": EMFILE/ENFILE x" + std::to_string(n) + ": the descriptor limit (" +
                       std::to_string(nofile_) + " per process) was hit; use more --processes");
        if (auto n = f(failure::eaddrnotavail))
            note_limit(what + ": EADDRNOTAVAIL x" + std::to_string(n) + ": out of source ports on " +
                       std::to_string(sources_) + " source address(es); use more --source-addresses");
        if (auto n = f(failure::refused))
            note_limit(what + ": ECONNREFUSED x" + std::to_string(n) +
                       ": not listening, or its accept queue overflowed");
        if (auto n = f(failure::connect_timeout))
            note_limit(what + ": connect timeout x" + std::to_string(n) +
                       ": SYNs unanswered (SYN/accept queue full?) within --connect-timeout");
        if (auto n = f(failure::response_timeout))
            note_limit(what + ": response timeout x" + std::to_string(n) +
                       ": connected but no response head within --connect-timeout");
        if (auto n = f(failure::server_limit))
            note_limit(what + ": the server's connection limit turned away x" + std::to_string(n));
        if (auto n = f(failure::kernel_memory))
            note_limit(what + ": ENOBUFS/ENOMEM x" + std::to_string(n) + ": kernel memory");
        if (auto n = f(failure::http_status)) {
            std::string codes;
            for (const auto& [code, k] : s.http_statuses) codes += " " + std::to_string(code) + "x" + std::to_string(k);
            note_limit(what + ": HTTP error answers x" + std::to_string(n) + ":" + codes);
        }
        if (auto n = f(failure::reset) + f(failure::closed_early))
            note_limit(what + ": reset/closed by the server before answering x" + std::to_string(n));
        if (auto n = f(failure::other))
            note_limit(what + ": other errors x" + std::to_string(n) + " (first: " + s.first_other_error + ")");
    }

    void send_all(const std::string& cmd, const char* reply) {
        for (auto& c : children_) c.pipe.send(cmd);
        for (auto& c : children_) receive_json(c, reply);
    }

    // ---- publishers --------------------------------------------------------------------------
    void start_publishers() {
        publisher_setup ps;
        ps.target = o_.target;
        ps.server = {boost::asio::ip::make_address_v4(o_.host), o_.port};
        ps.host_header = o_.host + ":" + std::to_string(o_.port);
        for (const auto& h : o_.publish_headers) ps.extra_headers += h + "\r\n";
        ps.channel_prefix = o_.channel_prefix;
        ps.channels = o_.channels;
        ps.payload = o_.payload;
        ps.connections = o_.publishers;
        ps.pipeline = o_.pipeline;
        ps.answer_timeout = std::chrono::milliseconds(static_cast<std::int64_t>(std::max(10.0, o_.drain) * 1000));
        pio_ = std::make_unique<boost::asio::io_context>(1);
        engine_ = std::make_unique<publish_engine>(*pio_, ps);
        pio_guard_.emplace(boost::asio::make_work_guard(*pio_));
        pio_thread_ = std::thread([this] { pio_->run(); });
        std::promise<std::string> connected;
        auto f = connected.get_future();
        boost::asio::post(*pio_, [&] { engine_->connect([&](std::string err) { connected.set_value(err); }); });
        if (f.wait_for(std::chrono::seconds(static_cast<long>(o_.connect_timeout) + 1)) != std::future_status::ready)
            throw fatal("publisher connections timed out");
        auto err = f.get();
        if (!err.empty()) throw fatal(err);
    }

    // Runs the publishers; samples the server meanwhile.
    void publish(double rate, std::int64_t end_ns, std::uint64_t count) {
        std::promise<void> done;
        auto f = done.get_future();
        boost::asio::post(*pio_, [&] { engine_->run(rate, end_ns, count, [&] { done.set_value(); }); });
        while (f.wait_for(std::chrono::milliseconds(250)) != std::future_status::ready) sample_load();
        sample_load();
    }

    publish_stats publisher_stats() {
        std::promise<publish_stats> p;
        auto f = p.get_future();
        boost::asio::post(*pio_, [&] { p.set_value(engine_->stats()); });
        return f.get();
    }

    std::string publisher_last_id() {
        std::promise<std::string> p;
        auto f = p.get_future();
        boost::asio::post(*pio_, [&] { p.set_value(engine_->last_id()); });
        return f.get();
    }

    void sample_load() {
        auto s = sample_processes(o_.server);
        if (s.rss_kb > load_max_.rss_kb) load_max_.rss_kb = s.rss_kb;
        if (s.pss_kb > load_max_.pss_kb) load_max_.pss_kb = s.pss_kb;
        auto k = sample_kernel();
        if (k.tcp_mem_pages > kernel_load_.tcp_mem_pages) kernel_load_ = k;
    }

    // Waits until every subscriber process has its share of the deliveries or --drain is over.
    void drain(const std::vector<std::uint64_t>& ok_per_channel) {
        auto until = mono_ns() + static_cast<std::int64_t>(o_.drain * 1e9);
        expected_ = 0;
        for (auto& c : children_) {
            std::uint64_t e = 0;
            for (std::size_t ch = 0; ch < ok_per_channel.size() && ch < c.per_channel.size(); ++ch)
                e += ok_per_channel[ch] * c.per_channel[ch];
            expected_ += e;
            c.pipe.send("drain " + std::to_string(e) + " " + std::to_string(until));
        }
        for (auto& c : children_) receive_json(c, "drained");
        drain_end_ns_ = mono_ns();
    }

    void load() {
        std::int64_t end = mono_ns() + static_cast<std::int64_t>(o_.duration * 1e9);
        publish(o_.rate, end, 0);
        auto ps = publisher_stats();
        kernel_load_ = std::max(kernel_load_, sample_kernel(), [](const kernel_sample& a, const kernel_sample& b) {
            return a.tcp_mem_pages < b.tcp_mem_pages;
        });
        if (!children_.empty()) drain(ps.ok_per_channel);
    }

    void storm() {
        // The anchor: its id is the resume point; the backlog follows it.
        publish(0, 0, 1);
        anchor_id_ = publisher_last_id();
        storm_first_ = publisher_stats().sent;
        publish(o_.rate, 0, o_.backlog);
        auto ps = publisher_stats();
        if (anchor_id_.empty()) throw fatal("the anchor event's publish answer carried no event id");
        if (ps.ok != o_.backlog + 1)
            note_limit("reconnect storm: only " + std::to_string(ps.ok) + " of " + std::to_string(o_.backlog + 1) +
                       " events were published; the replay expectation is off");
        drain(ps.ok_per_channel);
        auto until = mono_ns() + static_cast<std::int64_t>(std::max(o_.drain, 1.0) * 1e9) +
                     static_cast<std::int64_t>(o_.connect_timeout * 1e9);
        storm_sent_ns_ = mono_ns();
        for (auto& c : children_)
            c.pipe.send("storm " + std::to_string(storm_first_) + " " + std::to_string(o_.backlog) + " " +
                        std::to_string(until) + " " + anchor_id_);
        for (auto& c : children_) receive_json(c, "storm_done");
        sample_load();
    }

    // ---- results -------------------------------------------------------------------------------
    void collect_reports() {
        subscriber_stats subs;
        cpu_times cpu_total = own_cpu(), cpu_load{};
        cpu_times own_load_end = own_cpu();
        if (o_.mode != run_mode::idle) {
            cpu_load.user_s = own_load_end.user_s - bench_load_start_.user_s;
            cpu_load.sys_s = own_load_end.sys_s - bench_load_start_.sys_s;
        }
        for (auto& c : children_) {
            c.pipe.send("report");
            auto j = receive_json(c, "report");
            subs.merge(subscriber_stats::from_json(j.at("stats")));
            cpu_total.user_s += j.at("cpu_total").at("user_s").get<double>();
            cpu_total.sys_s += j.at("cpu_total").at("sys_s").get<double>();
            if (o_.mode != run_mode::idle) {
                cpu_load.user_s += j.at("cpu_load").at("user_s").get<double>();
                cpu_load.sys_s += j.at("cpu_load").at("sys_s").get<double>();
            }
        }
        double load_span = seconds(load_end_ns_ - load_start_ns_);
        if (o_.mode != run_mode::idle) {
            bench_load_cpu_ = cpu_load.total();
            // The bench on loopback costs about as much as the server per delivery (recv and
            // the ACKs it sends): when it runs out of CPU, the figures are its own limit.
            cpu_set_t set;
            CPU_ZERO(&set);
            int allowed = ::sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
            double cores = load_span > 0 ? cpu_load.total() / load_span : 0.0;
            if (cores > 0.85 * allowed) {
                char buf[200];
                std::snprintf(buf, sizeof buf,
                              "BENCH SATURATED: ssecast-bench used %.2f of its %d core(s) under load: the "
                              "throughput and latency figures may be the bench's limit, not the server's",
                              cores, allowed);
                note_limit(buf);
            }
        }
        result_["bench_cpu"] = {{"total", {{"user_s", cpu_total.user_s}, {"sys_s", cpu_total.sys_s}}},
                                {"load", {{"user_s", cpu_load.user_s}, {"sys_s", cpu_load.sys_s}}},
                                {"load_wall_s", load_span},
                                {"load_cores", load_span > 0 ? cpu_load.total() / load_span : 0.0}};

        if (engine_) {
            auto ps = publisher_stats();
            auto pj = ps.to_json();
            double send_span = seconds(ps.last_send_ns - ps.first_send_ns);
            pj["target_rate"] = o_.rate;
            pj["achieved_rate"] = send_span > 0 ? static_cast<double>(ps.sent) / send_span : 0.0;
            result_["publish"] = pj;
            if (ps.rejected) note_limit("publish: " + std::to_string(ps.rejected) + " requests rejected (first: " + ps.first_error + ")");
            if (ps.lost_in_flight)
                note_limit("publish: " + std::to_string(ps.lost_in_flight) + " requests lost with their connection (" +
                           ps.first_error + ")");
            if (ps.max_behind > 0 && o_.rate > 0)
                note_limit("publish: the publishers fell behind the target rate by up to " + std::to_string(ps.max_behind) +
                           " events (answers slower than --publishers x --pipeline allow)");
            if (!children_.empty()) delivery_json(subs, ps);
        }
        if (!children_.empty()) {
            result_["subscribers"] = {{"events", subs.events},
                                      {"foreign_events", subs.foreign},
                                      {"resyncs", subs.resyncs},
                                      {"bytes", subs.bytes},
                                      {"reads", subs.reads},
                                      {"bytes_per_read", subs.reads ? static_cast<double>(subs.bytes) / static_cast<double>(subs.reads) : 0.0}};
            auto ended = subs.conns.ended_by_server_eof + subs.conns.ended_by_server_reset;
            result_["connections"]["ended_by_server_eof"] = subs.conns.ended_by_server_eof;
            result_["connections"]["ended_by_server_reset"] = subs.conns.ended_by_server_reset;
            if (ended)
                note_limit("the server ended " + std::to_string(ended) + " streams during the run (" +
                           std::to_string(subs.conns.ended_by_server_reset) +
                           " by reset, e.g. a slow-consumer cut-off; " + std::to_string(subs.conns.ended_by_server_eof) +
                           " by close)");
        }
        if (o_.mode == run_mode::reconnect_storm) storm_json(subs.storm);
    }

    void delivery_json(const subscriber_stats& subs, const publish_stats& ps) {
        std::uint64_t lost = expected_ > subs.received ? expected_ - subs.received : 0;
        std::uint64_t extra = subs.received > expected_ ? subs.received - expected_ : 0;
        double window = seconds(subs.last_event_ns - ps.first_send_ns);
        double publish_span = seconds(ps.last_send_ns - ps.first_send_ns);
        result_["delivery"] = {
            {"expected", expected_},
            {"received", subs.received},
            {"lost", lost},
            {"loss_ratio", expected_ ? static_cast<double>(lost) / static_cast<double>(expected_) : 0.0},
            {"extra", extra},
            {"out_of_order", subs.out_of_order},
            {"delivered_per_s", window > 0 ? static_cast<double>(subs.received) / window : 0.0},
            {"delivery_window_s", window},
            {"offered_per_s", publish_span > 0 ? static_cast<double>(expected_) / publish_span : 0.0},
            {"drain_s", seconds(drain_end_ns_ - ps.last_answer_ns)},
            {"server_reported_deliveries", ps.server_reported},
            {"latency_ms", subs.latency.summary_ms()}};
        if (lost)
            note_limit("delivery: " + std::to_string(lost) + " of " + std::to_string(expected_) +
                       " expected deliveries missing after the --drain period");
    }

    void storm_json(const storm_stats& s) {
        std::uint64_t lost = s.expected > s.got ? s.expected - s.got : 0;
        result_["storm"] = {{"anchor_id", anchor_id_},
                            {"backlog", o_.backlog},
                            {"first_seq", storm_first_},
                            {"targets", s.targets},
                            {"reconnected", s.reconnected},
                            {"caught_up", s.caught_up},
                            {"expected", s.expected},
                            {"got", s.got},
                            {"lost", lost},
                            {"duplicates", s.duplicates},
                            {"unexpected", s.unexpected},
                            {"resyncs", s.resyncs},
                            {"ended_early", s.ended_early},
                            {"catch_up_s", s.caught_up ? seconds(s.last_caught_up_ns - s.start_ns) : -1.0},
                            {"all_caught_up", s.targets > 0 && s.caught_up == s.targets},
                            {"catch_up_ms", s.catch_up.summary_ms()},
                            {"connections", s.conns.to_json()}};
        connection_limits(s.conns, "storm reconnections");
        if (lost) note_limit("reconnect storm: " + std::to_string(lost) + " backlog deliveries missing");
        if (s.caught_up < s.targets)
            note_limit("reconnect storm: only " + std::to_string(s.caught_up) + " of " + std::to_string(s.targets) +
                       " subscribers caught up in time");
    }

    void server_json(const json& cpu) {
        json s;
        s["pids"] = resolve(o_.server);
        s["rss_kb"] = {{"before", before_.rss_kb}, {"idle", idle_.rss_kb}, {"load_max", load_max_.rss_kb}, {"after", after_.rss_kb}};
        s["pss_kb"] = {{"before", before_.pss_kb}, {"idle", idle_.pss_kb}, {"load_max", load_max_.pss_kb}, {"after", after_.pss_kb}};
        s["samples"] = {{"before", process_json(before_)}, {"idle", process_json(idle_)}, {"after", process_json(after_)}};
        auto per = [&](std::int64_t a, std::int64_t b) {
            return established_ ? static_cast<double>(b - a) * 1024.0 / static_cast<double>(established_) : 0.0;
        };
        s["bytes_per_idle_subscriber"] = per(before_.rss_kb, idle_.rss_kb);
        s["pss_bytes_per_idle_subscriber"] = before_.pss_kb >= 0 && idle_.pss_kb >= 0 ? per(before_.pss_kb, idle_.pss_kb) : -1.0;
        s["cpu_s"] = cpu;
        double span = seconds(load_end_ns_ - load_start_ns_);
        s["load_cores"] = cpu.contains("load") && span > 0 ? cpu.at("load").get<double>() / span : 0.0;
        result_["server"] = s;
        if (o_.mode != run_mode::idle && span > 0) {
            // Whatever the machine did besides the server and this bench during the load phase.
            double busy = machine_load_end_.busy_s - machine_load_start_.busy_s;
            double steal = machine_load_end_.steal_s - machine_load_start_.steal_s;
            std::set<int> mine;
            for (int pid : resolve(o_.server)) mine.insert(pid);
            mine.insert(::getpid());
            for (const auto& c : children_) mine.insert(c.pid);
            auto others = cpu_of_others(machine_load_start_, machine_load_end_, mine);
            // Processes that started and ended within the phase (compiler runs...) are not in
            // either sample: the machine-wide busy time catches them.
            double server_load = cpu.contains("load") ? cpu.at("load").get<double>() : 0.0;
            double irq = machine_load_end_.irq_s - machine_load_start_.irq_s;
            double unaccounted =
                std::max(0.0, busy + irq - server_load - bench_load_cpu_ - others.kernel_threads_s - others.user_space_s);
            std::vector<std::pair<double, std::string>> top;
            for (const auto& [name, used] : others.by_name) top.emplace_back(used, name);
            std::sort(top.rbegin(), top.rend());
            json top_json = json::object();
            std::string top_text;
            for (std::size_t i = 0; i < top.size() && i < 5; ++i) {
                top_json[top[i].second] = top[i].first / span;
                char buf[96];
                std::snprintf(buf, sizeof buf, "%s%s %.2f", i ? ", " : "", top[i].second.c_str(), top[i].first / span);
                top_text += buf;
            }
            result_["machine"]["load_phase"] = {{"wall_s", span},
                                                {"busy_cores", busy / span},
                                                {"steal_cores", steal / span},
                                                {"irq_softirq_cores", irq / span},
                                                {"unaccounted_cores", unaccounted / span},
                                                {"other_processes_cores", others.user_space_s / span},
                                                {"kernel_threads_cores", others.kernel_threads_s / span},
                                                {"top_other_processes_cores", top_json}};
            char buf[160];
            // Short-lived processes (compiler runs) are in neither sample but in the machine's
            // total; a little of that total is interrupt work charged to no process.
            if (others.user_space_s / span > 0.1 || unaccounted / span > 0.25 || steal / span > 0.1) {
                std::snprintf(buf, sizeof buf,
                              "SHARED MACHINE: other processes used %.2f cores (%.2f more unaccounted, steal %.2f) "
                              "during the load phase: ",
                              others.user_space_s / span, unaccounted / span, steal / span);
                note_limit(buf + top_text + "; the figures of this run are not reliable");
            }
        }
        if (!o_.server.empty() && (!before_.ok || !idle_.ok))
            note_limit("server process(es) could not be read from /proc (wrong --server-pid?)");
    }

    void kernel_json() {
        json k;
        k["before"] = to_json(kernel_before_);
        k["idle"] = to_json(kernel_idle_);
        k["load"] = to_json(kernel_load_);
        k["after"] = to_json(kernel_after_);
        auto slab = [](const kernel_sample& x) {
            std::int64_t t = 0;
            for (const auto& [name, bytes] : x.slab_bytes) t += bytes;
            return t;
        };
        // Loopback: both ends of every connection are sockets of this machine.
        k["note"] = "loopback: both ends of each connection are counted; the server's share is about half";
        k["tcp_mem_bytes_per_connection_both_ends"] =
            established_ && kernel_before_.tcp_mem_pages >= 0
                ? static_cast<double>((kernel_idle_.tcp_mem_pages - kernel_before_.tcp_mem_pages) * page_size()) /
                      static_cast<double>(established_)
                : 0.0;
        k["slab_bytes_per_connection_both_ends"] =
            established_ && !kernel_before_.slab_bytes.empty()
                ? static_cast<double>(slab(kernel_idle_) - slab(kernel_before_)) / static_cast<double>(established_)
                : 0.0;
        result_["kernel"] = k;
    }

    void finish_children() {
        for (auto& c : children_) {
            try {
                c.pipe.send("quit");
            } catch (const std::exception&) {
            }
        }
        for (auto& c : children_) {
            int status = 0;
            if (c.pid > 0) ::waitpid(c.pid, &status, 0);
            c.pipe.close();
        }
        if (engine_) {
            boost::asio::post(*pio_, [this] { engine_->close(); });
            pio_guard_.reset();
            pio_->stop();
            if (pio_thread_.joinable()) pio_thread_.join();
        }
    }

    void write_result() {
        auto text = result_.dump(2) + "\n";
        if (o_.json_file.empty()) {
            std::fwrite(text.data(), 1, text.size(), stdout);
            std::fflush(stdout);
        } else {
            std::ofstream out(o_.json_file);
            out << text;
        }
        if (!o_.quiet) {
            try {
                print_summary(result_, stderr);
            } catch (const std::exception& e) {
                std::fprintf(stderr, "ssecast-bench: summary failed: %s\n", e.what());
            }
        }
    }

    options o_;
    json result_;
    std::int64_t nofile_ = 0;
    std::int64_t per_process_cap_ = 0;
    std::uint32_t processes_ = 0;
    std::uint32_t sources_ = 1;
    int ports_per_address_ = 0;
    std::vector<child> children_;
    std::uint64_t established_ = 0;
    std::uint64_t expected_ = 0;
    process_sample before_, idle_, load_max_, after_;
    kernel_sample kernel_before_, kernel_idle_, kernel_load_, kernel_after_;
    cpu_times bench_load_start_;
    double bench_load_cpu_ = 0;
    machine_cpu machine_load_start_, machine_load_end_;
    std::int64_t load_start_ns_ = 0, load_end_ns_ = 0, drain_end_ns_ = 0, storm_sent_ns_ = 0;
    std::string anchor_id_;
    std::uint64_t storm_first_ = 0;

    // Created after the fork: the subscriber processes inherit no asio state.
    std::unique_ptr<boost::asio::io_context> pio_;
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> pio_guard_;
    std::thread pio_thread_;
    std::unique_ptr<publish_engine> engine_;
};

}  // namespace

int main(int argc, char** argv) {
    bench::options o;
    if (auto code = bench::parse_options(argc, argv, o)) return *code;
    return coordinator(std::move(o)).run();
}
