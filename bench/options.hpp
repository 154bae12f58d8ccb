// Command line of ssecast-bench (CLI11).
#pragma once

#include <cstdint>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "proc_stats.hpp"
#include "target.hpp"

namespace bench {

enum class run_mode { fanout, idle, publish_only, reconnect_storm };

inline const char* mode_name(run_mode m) {
    switch (m) {
        case run_mode::fanout: return "fanout";
        case run_mode::idle: return "idle";
        case run_mode::publish_only: return "publish-only";
        case run_mode::reconnect_storm: return "reconnect-storm";
    }
    return "?";
}

struct options {
    std::string target_text = "ssecast";
    target_kind target = target_kind::ssecast;
    std::string mode_text = "fanout";
    run_mode mode = run_mode::fanout;
    std::string host = "127.0.0.1";
    std::uint16_t port = 8080;
    std::string label;

    std::uint32_t subscribers = 1000;
    std::uint32_t channels = 1;
    std::string channel_prefix = "bench";
    double rate = 100;  // events/s, 0 = flat out
    double duration = 10;
    double drain = 10;
    double settle = 2;
    std::uint32_t payload = 100;
    std::uint32_t publishers = 1;
    std::uint32_t pipeline = 1;
    std::uint32_t backlog = 100;

    std::uint32_t threads = 1;
    std::uint32_t processes = 0;        // 0 = as many as the descriptor limit needs
    std::uint32_t source_addresses = 0; // 0 = as many as the source ports need
    double connect_timeout = 10;
    std::uint32_t connect_concurrency = 1000;  // connects in flight per process
    std::uint32_t read_size = 65536;
    bool delayed_acks = false;
    std::uint32_t rcvbuf = 0;

    std::string server_pid_text;
    std::string server_pid_tree_text;
    server_spec server;
    std::string json_file;
    std::vector<std::string> publish_headers;  // "Name: value", sent with every publish
    bool quiet = false;
};

inline std::vector<int> parse_pid_list(const std::string& text) {
    std::vector<int> pids;
    std::stringstream ss(text);
    std::string item;
    while (std::getline(ss, item, ',')) {
        if (item.empty()) continue;
        pids.push_back(std::stoi(item));
    }
    return pids;
}

// Returns an exit code when the program should stop (help, bad flags).
inline std::optional<int> parse_options(int argc, char** argv, options& o) {
    CLI::App app{
        "ssecast-bench: load generator for SSE broadcast servers (ssecast, nchan).\n"
        "Opens subscribers, publishes with the send time in the payload, and reports delivery,\n"
        "loss, latency, and the server's memory and CPU. JSON on stdout (or --json), summary on stderr."};
    app.add_option("--target", o.target_text, "ssecast or nchan")
        ->check(CLI::IsMember({"ssecast", "nchan"}))
        ->capture_default_str();
    app.add_option("--mode", o.mode_text, "fanout, idle, publish-only or reconnect-storm")
        ->check(CLI::IsMember({"fanout", "idle", "publish-only", "reconnect-storm"}))
        ->capture_default_str();
    app.add_option("--host", o.host, "server IPv4 address")->capture_default_str();
    app.add_option("--port", o.port, "server port")->capture_default_str();
    app.add_option("--label", o.label, "free text recorded in the JSON (scenario name)");
    app.add_option("--subscribers,-n", o.subscribers, "subscriber connections")->capture_default_str();
    app.add_option("--channels,-c", o.channels, "channels; subscribers and events go round-robin over them")
        ->check(CLI::Range(1u, 1000000u))
        ->capture_default_str();
    app.add_option("--channel-prefix", o.channel_prefix, "channel names are PREFIX0, PREFIX1, ...")
        ->capture_default_str();
    app.add_option("--rate,-r", o.rate, "events published per second in total; 0 = flat out")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    app.add_option("--duration,-d", o.duration, "seconds of publishing")->check(CLI::NonNegativeNumber)->capture_default_str();
    app.add_option("--drain", o.drain, "seconds to wait at most after publishing for deliveries still in flight")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    app.add_option("--settle", o.settle, "seconds to wait after connecting before the idle measurement")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    app.add_option("--payload", o.payload, "payload bytes per event (at least the 'SEQ SENDNS ' head)")
        ->check(CLI::Range(1u, 60000u))
        ->capture_default_str();
    app.add_option("--publishers", o.publishers, "keep-alive publisher connections")->check(CLI::Range(1u, 1000u))->capture_default_str();
    app.add_option("--pipeline", o.pipeline, "outstanding publish requests per publisher connection")
        ->check(CLI::Range(1u, 1000u))
        ->capture_default_str();
    app.add_option("--backlog", o.backlog, "reconnect-storm: events published before the storm and replayed")
        ->check(CLI::Range(1u, 1000000u))
        ->capture_default_str();
    app.add_option("--threads,-t", o.threads, "io_context threads per subscriber process")->check(CLI::Range(1u, 256u))->capture_default_str();
    app.add_option("--processes,-p", o.processes,
                   "subscriber processes; 0 = enough to stay under the descriptor limit")
        ->capture_default_str();
    app.add_option("--source-addresses", o.source_addresses,
                   "spread subscribers over source addresses 127.0.0.1..127.0.0.K; 0 = enough for the ports needed")
        ->check(CLI::Range(0u, 254u))
        ->capture_default_str();
    app.add_option("--connect-timeout", o.connect_timeout, "seconds for a connection to get its response head")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    app.add_option("--connect-concurrency", o.connect_concurrency, "connection attempts in flight per process (0 = all at once)")
        ->capture_default_str();
    app.add_option("--read-size", o.read_size, "bytes per read() on a subscriber socket")
        ->check(CLI::Range(512u, 16u << 20))
        ->capture_default_str();
    app.add_flag("--delayed-acks", o.delayed_acks,
                 "keep delayed ACKs on subscriber sockets (TCP_QUICKACK off after every read), like a "
                 "typical client; default: the kernel's own heuristics");
    app.add_option("--rcvbuf", o.rcvbuf, "SO_RCVBUF for subscriber sockets (0 = kernel default)")->capture_default_str();
    app.add_option("--server-pid", o.server_pid_text, "comma list of server pids to measure (RSS, CPU)");
    app.add_option("--server-pid-tree", o.server_pid_tree_text,
                   "comma list of pids measured with all their descendants (nginx master -> workers)");
    app.add_option("--json", o.json_file, "write the JSON result to FILE instead of stdout");
    app.add_option("--publish-header", o.publish_headers,
                   "a header sent with every publish, \"Name: value\" (repeatable), e.g. "
                   "\"Authorization: Bearer TOKEN\"");
    app.add_flag("--quiet,-q", o.quiet, "no human summary on stderr");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    o.target = parse_target(o.target_text);
    if (o.mode_text == "fanout") o.mode = run_mode::fanout;
    else if (o.mode_text == "idle") o.mode = run_mode::idle;
    else if (o.mode_text == "publish-only") o.mode = run_mode::publish_only;
    else o.mode = run_mode::reconnect_storm;
    try {
        o.server.pids = parse_pid_list(o.server_pid_text);
        o.server.trees = parse_pid_list(o.server_pid_tree_text);
    } catch (const std::exception&) {
        std::cerr << "ssecast-bench: --server-pid and --server-pid-tree take comma lists of numbers\n";
        return 2;
    }
    if (o.mode == run_mode::publish_only) o.subscribers = 0;
    // Publish-only measures the request rate and the storm's backlog is a burst: flat out unless
    // a rate is given.
    if ((o.mode == run_mode::publish_only || o.mode == run_mode::reconnect_storm) && app.count("--rate") == 0)
        o.rate = 0;
    return std::nullopt;
}

}  // namespace bench
