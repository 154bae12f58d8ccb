#pragma once

#include <spdlog/common.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "ssecast/auth/channel_pattern.hpp"
#include "ssecast/config/ip_network.hpp"

namespace ssecast {

// text: "TIME LEVEL MESSAGE" lines; json: one {"time","level","message"} object per line.
enum class log_format { text, json };
// --fsync (README, "Durability").
enum class fsync_mode { always, batch, off };

// Who may publish (and use /channels and /metrics): local clients, holders of a valid credential,
// or either.
enum class publish_auth { loopback, token, loopback_or_token };

// One option's value as the configuration has it, and where it came from.
struct config_setting {
    std::string name;    // the TOML key: "heartbeat"
    std::string text;    // "15s"
    std::string source;  // "default", "flag", "env SSECAST_HEARTBEAT", "file PATH:LINE"
};

struct config {
    std::string listen_host = "0.0.0.0";
    std::uint16_t listen_port = 8080;
    std::optional<std::string> config_file;
    // --check-config: validate, print the effective configuration and exit instead of serving.
    bool check_only = false;
    // Every option of the table, in its order, as given (for --check-config).
    std::vector<config_setting> settings;
    std::size_t threads = 0;  // event loops; 0: one per CPU core
    std::chrono::milliseconds heartbeat{15'000};
    std::size_t history = 1000;
    std::optional<std::chrono::milliseconds> history_max_age;  // none: events expire by count only
    std::optional<std::string> data_dir;  // none: the history is kept in memory only
    ssecast::fsync_mode fsync = ssecast::fsync_mode::always;
    std::chrono::milliseconds fsync_interval{100};
    std::size_t max_body = 64 * 1024;
    std::size_t max_queue = 1024 * 1024;
    std::size_t max_connections = 100'000;
    std::size_t max_channels = 10'000;
    std::chrono::milliseconds channel_grace{60'000};
    std::chrono::milliseconds reconnect_delay{3'000};
    std::chrono::milliseconds request_timeout{30'000};
    std::chrono::milliseconds shutdown_timeout{5'000};
    // On SIGTERM/SIGINT, /readyz answers 503 for this long while the daemon still serves
    // everything (new connections too), so that a load balancer stops sending clients first.
    std::chrono::milliseconds drain_delay{0};
    // Streams are ended (with a retry:) after this long, give or take 10%: clients reconnect and
    // spread over the instances. None: streams last as long as the client stays.
    std::optional<std::chrono::milliseconds> max_stream_duration;
    // Origins whose pages may use the API across origins: exact "scheme://host[:port]" values, or
    // "*" for any. Empty: none (same-origin pages only).
    std::vector<std::string> cors_origins;
    bool cors_credentials = false;        // allow cookies/credentials on cross-origin requests
    bool demo_page = true;                // GET / serves the built-in demo page
    std::size_t metrics_per_channel = 0;  // channels with their own series in GET /metrics
    bool metrics_access_any = false;      // GET /metrics for every peer, not local ones only
    bool access_log = true;               // one info line per answered plain request
    spdlog::level::level_enum log_level = spdlog::level::info;
    ssecast::log_format log_format = ssecast::log_format::text;

    // Credentials (SECURITY.md): the files are read at start and again on SIGHUP.
    std::optional<std::string> publish_tokens_file;  // static API keys
    std::optional<std::string> jwt_secret_file;      // HS256/HS384/HS512
    std::optional<std::string> jwt_public_key_file;  // RS256/384/512, ES256/384/512
    std::optional<std::string> jwt_audience;         // required in a JWT's aud when set
    std::optional<std::string> jwt_issuer;           // required as a JWT's iss when set
    std::chrono::seconds jwt_leeway{30};             // clock skew allowed for exp and nbf
    // Defaults to token when a tokens file or a JWT key is configured, loopback otherwise.
    ssecast::publish_auth publish_auth = ssecast::publish_auth::loopback;
    channel_patterns private_channels;       // subscribing to these needs a JWT; empty: none
    std::string jwt_cookie = "ssecast_jwt";  // the cookie that may carry a subscriber's JWT

    bool credentials_configured() const {
        return publish_tokens_file || jwt_secret_file || jwt_public_key_file;
    }
    // --- Abuse limits (README "Limits") ---
    // Proxies in front of ssecast: only from these peers is X-Forwarded-For believed.
    std::vector<ip_network> trusted_proxies;
    // Open connections per client address (IPv4, or IPv6 /64); 0: no limit.
    std::size_t max_connections_per_ip = 1000;
    // POST /notify requests per second for one publisher (a token bucket of publish_burst
    // tokens); 0: no limit.
    std::size_t publish_rate = 0;
    std::size_t publish_burst = 1;
};

// What to do instead of running: print `output` and exit with `exit_code` (0 for --help and
// --version, 2 for invalid configuration).
struct config_exit {
    int exit_code = 0;
    std::string output;
};

using env_lookup = std::function<std::optional<std::string>(const std::string& name)>;

// Reads the configuration from, in decreasing precedence: command-line flags, SSECAST_*
// environment variables, the TOML file named by --config (or SSECAST_CONFIG), the built-in
// defaults. Every option is described once, in option_table.hpp.
std::variant<config, config_exit> parse_config(const std::vector<std::string>& args,
                                               const env_lookup& env);

}  // namespace ssecast
