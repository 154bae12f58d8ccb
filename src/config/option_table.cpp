#include "ssecast/config/option_table.hpp"

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <utility>

#include "ssecast/config/comma_list.hpp"
#include "ssecast/config/value_parsers.hpp"

namespace ssecast {

namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;
using binder = decltype(option::bind);

const std::optional<refusal> accepted = std::nullopt;
const std::optional<refusal> refused = refusal{};

std::optional<std::uint64_t> parse_count(const std::string& text) {
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return value;
}

// The typed kinds of option: each makes the option's range, its message and its binder, so that
// no two places describe the same values differently.

option count(std::string_view name, std::string_view default_text, std::string_view help,
             std::size_t config::*member, std::uint64_t lo, std::uint64_t hi) {
    auto range = std::to_string(lo) + " to " + std::to_string(hi);
    return {name,
            "N",
            default_text,
            help,
            range,
            "a whole number from " + range,
            true,
            false,
            [=](const std::string& text, config& cfg) {
                auto n = parse_count(text);
                if (!n || *n < lo || *n > hi) return refused;
                cfg.*member = *n;
                return accepted;
            }};
}

constexpr std::string_view duration_units = " (a whole number and ms, s, m, h or d)";

option duration(std::string_view name, std::string_view default_text, std::string_view help,
                milliseconds config::*member, milliseconds lo, milliseconds hi) {
    auto range = format_duration(lo) + " to " + format_duration(hi);
    if (lo.count() == 0) range = "0 to " + format_duration(hi);
    return {name,
            "D",
            default_text,
            help,
            range,
            "a duration from " + range + std::string(duration_units),
            true,
            false,
            [=](const std::string& text, config& cfg) {
                auto d = parse_duration(text);
                if (!d || *d < lo || *d > hi) return refused;
                cfg.*member = *d;
                return accepted;
            }};
}

// 0 turns the option off; otherwise from `lo` to `hi`.
option duration_or_off(std::string_view name, std::string_view help,
                       std::optional<milliseconds> config::*member, milliseconds lo,
                       milliseconds hi) {
    auto range = "0 or " + format_duration(lo) + " to " + format_duration(hi);
    return {name,
            "D",
            "0",
            help,
            range,
            "0 (off) or a duration from " + format_duration(lo) + " to " + format_duration(hi) +
                std::string(duration_units),
            true,
            false,
            [=](const std::string& text, config& cfg) {
                auto d = parse_duration(text);
                if (!d || (d->count() != 0 && (*d < lo || *d > hi))) return refused;
                cfg.*member = d->count() == 0 ? std::nullopt : d;
                return accepted;
            }};
}

option size(std::string_view name, std::string_view default_text, std::string_view help,
            std::size_t config::*member, std::size_t lo, std::size_t hi) {
    auto range = format_size(lo) + " to " + format_size(hi);
    return {name,
            "SIZE",
            default_text,
            help,
            range,
            "a size from " + range + " (bytes, or a whole number and K, M or G)",
            true,
            false,
            [=](const std::string& text, config& cfg) {
                auto n = parse_size(text);
                if (!n || *n < lo || *n > hi) return refused;
                cfg.*member = *n;
                return accepted;
            }};
}

option boolean(std::string_view name, std::string_view default_text, std::string_view help,
               bool config::*member) {
    return {name,
            "BOOL",
            default_text,
            help,
            "true or false",
            "true or false (also on/off, yes/no, 1/0)",
            false,
            false,
            [=](const std::string& text, config& cfg) {
                for (auto [word, value] : {std::pair{"true", true},
                                           {"on", true},
                                           {"yes", true},
                                           {"1", true},
                                           {"false", false},
                                           {"off", false},
                                           {"no", false},
                                           {"0", false}}) {
                    if (text == word) {
                        cfg.*member = value;
                        return accepted;
                    }
                }
                return refused;
            }};
}

// One of a few words.
template <typename T>
option choice(std::string_view name, std::string_view metavar, std::string_view default_text,
              std::string_view help, T config::*member,
              std::vector<std::pair<std::string_view, T>> words) {
    std::string range;
    for (std::size_t i = 0; i < words.size(); ++i) {
        range += (i == 0                  ? ""
                  : i + 1 == words.size() ? " or "
                                          : ", ") +
                 std::string(words[i].first);
    }
    return {name,
            metavar,
            default_text,
            help,
            range,
            range,
            false,
            false,
            [=](const std::string& text, config& cfg) {
                for (const auto& [word, value] : words) {
                    if (text != word) continue;
                    cfg.*member = value;
                    return accepted;
                }
                return refused;
            }};
}

// Any text; empty leaves it unset.
option text(std::string_view name, std::string_view metavar, std::string_view help,
            std::optional<std::string> config::*member) {
    return {name,
            metavar,
            "",
            help,
            "any text",
            "any text",
            false,
            false,
            [=](const std::string& text, config& cfg) {
                cfg.*member = text.empty() ? std::nullopt : std::optional<std::string>(text);
                return accepted;
            }};
}

option custom(std::string_view name, std::string_view metavar, std::string_view default_text,
              std::string_view help, std::string range, std::string expected, binder bind,
              bool list = false) {
    return {name,  metavar, default_text,   help, std::move(range), std::move(expected),
            false, list,    std::move(bind)};
}

std::optional<refusal> bind_listen(const std::string& listen, config& cfg) {
    auto colon = listen.rfind(':');
    if (colon == std::string::npos) return refused;
    auto host = listen.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    if (host == "localhost") host = "127.0.0.1";
    auto port = parse_count(listen.substr(colon + 1));
    boost::system::error_code ec;
    boost::asio::ip::make_address(host, ec);
    if (!port || *port > 65535 || ec) return refused;
    cfg.listen_host = host;
    cfg.listen_port = static_cast<std::uint16_t>(*port);
    return accepted;
}

// RFC 6265 cookie-name: an RFC 9110 token.
bool is_cookie_name(std::string_view name) {
    if (name.empty() || name.size() > 64) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        auto u = static_cast<unsigned char>(c);
        return std::isalnum(u) != 0 ||
               std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    });
}

std::vector<option> make_table() {
    std::vector<option> t;
    t.push_back(custom(
        "listen", "HOST:PORT", "0.0.0.0:8080", "address and port to listen on",
        "IPv4:PORT, [IPv6]:PORT or localhost:PORT",
        "IP:PORT such as 0.0.0.0:8080, 127.0.0.1:8080, [::]:8080 or localhost:8080 (port 0: any "
        "free port)",
        bind_listen));
    t.push_back(count("threads", "0",
                      "event loop threads, each serving its share of the connections; 0: one per "
                      "CPU core",
                      &config::threads, 0, 256));
    t.push_back(duration("heartbeat", "15s", "interval between heartbeat comments on streams",
                         &config::heartbeat, 100ms, 1h));
    t.push_back(count("history", "1000", "events kept per channel for replay", &config::history, 0,
                      1'000'000));
    t.push_back(duration_or_off("history-max-age",
                                "buffered events older than this are dropped; 0: kept until "
                                "pushed out by --history",
                                &config::history_max_age, 1s, 24h * 365));
    t.push_back(text("data-dir", "DIR",
                     "keep the history in an SQLite database in DIR, so that restarts lose "
                     "nothing; unset: in memory only",
                     &config::data_dir));
    t.push_back(choice<fsync_mode>(
        "fsync", "POLICY", "always",
        "with --data-dir, when a stored event is on disk: always (before its 200), batch (within "
        "--fsync-interval) or off (when the OS writes it)",
        &config::fsync,
        {{"always", fsync_mode::always}, {"batch", fsync_mode::batch}, {"off", fsync_mode::off}}));
    t.push_back(duration("fsync-interval", "100ms",
                         "with --fsync batch, the longest a stored event waits to be synced",
                         &config::fsync_interval, 1ms, 10s));
    t.push_back(
        size("max-body", "64KiB", "largest POST /notify body", &config::max_body, 1024, 64u << 20));
    t.push_back(size("max-queue", "1MiB",
                     "bytes queued for one subscriber before it is disconnected as too slow",
                     &config::max_queue, 4096, 1u << 30));
    t.push_back(count("max-connections", "100000",
                      "open client connections (also capped by the open-files limit)",
                      &config::max_connections, 1, 10'000'000));
    t.push_back(count("max-channels", "10000", "channels that may exist at once",
                      &config::max_channels, 1, 10'000'000));
    t.push_back(duration("channel-grace", "60s",
                         "how long a channel with no subscribers and no events lives on",
                         &config::channel_grace, 0ms, 24h));
    t.push_back(duration("reconnect-delay", "3s", "retry: sent to clients at stream start",
                         &config::reconnect_delay, 0ms, 1h));
    t.push_back(duration("request-timeout", "30s",
                         "time allowed to send a request, and idle keep-alive limit",
                         &config::request_timeout, 1s, 1h));
    t.push_back(duration("shutdown-timeout", "5s",
                         "on SIGTERM, how long connections get to finish before the daemon exits",
                         &config::shutdown_timeout, 100ms, 5min));
    t.push_back(duration("drain-delay", "0",
                         "on SIGTERM, how long GET /readyz answers 503 while everything else is "
                         "still served, before the shutdown begins",
                         &config::drain_delay, 0ms, 5min));
    t.push_back(custom("log-level", "LEVEL", "info", "log level",
                       "trace, debug, info, warn, error, critical or off",
                       "trace, debug, info, warn, error, critical or off",
                       [](const std::string& text, config& cfg) {
                           auto level = spdlog::level::from_str(text);
                           // from_str answers "off" for anything it does not know.
                           if (level == spdlog::level::off && text != "off") return refused;
                           cfg.log_level = level;
                           return accepted;
                       }));
    t.push_back(duration_or_off("max-stream-duration",
                                "end each stream after this long (+0-10% jitter) so clients "
                                "reconnect and rebalance; 0: never",
                                &config::max_stream_duration, 1s, 24h * 7));
    t.push_back(custom(
        "cors-origins", "LIST", "", "origins allowed to use the API from other sites; empty: none",
        "scheme://host[:port] or *",
        "comma-separated origins scheme://host[:port] such as https://app.example.com, or * for "
        "any",
        [](const std::string& text, config& cfg) -> std::optional<refusal> {
            if (auto problem = parse_origins(text, cfg.cors_origins)) return refusal{*problem};
            return accepted;
        },
        true));
    t.push_back(boolean("cors-credentials", "false",
                        "allow credentials (cookies) on cross-origin requests",
                        &config::cors_credentials));
    t.push_back(
        boolean("demo-page", "true", "serve the console page at GET /", &config::demo_page));
    t.push_back(choice<log_format>(
        "log-format", "FORMAT", "text",
        "text (TIME LEVEL MESSAGE lines) or json (one JSON object per line)", &config::log_format,
        {{"text", log_format::text}, {"json", log_format::json}}));
    t.push_back(boolean("access-log", "on", "one info line per answered request (not streams)",
                        &config::access_log));
    t.push_back(count("metrics-per-channel", "0",
                      "GET /metrics shows the subscribers of this many channels, those with the "
                      "most",
                      &config::metrics_per_channel, 0, 1000));
    t.push_back(choice<bool>("metrics-access", "WHO", "local",
                             "who may GET /metrics: local (as /channels) or any",
                             &config::metrics_access_any, {{"local", false}, {"any", true}}));
    // Authentication: the files first, as publish-auth's default depends on them.
    t.push_back(text("publish-tokens-file", "FILE",
                     "file of API keys, one per line: TOKEN [CHANNEL-PATTERN ...]; not "
                     "world-readable",
                     &config::publish_tokens_file));
    t.push_back(text("jwt-secret-file", "FILE",
                     "file holding the HMAC secret of HS256/HS384/HS512 JWTs (at least 32 bytes)",
                     &config::jwt_secret_file));
    t.push_back(text("jwt-public-key-file", "FILE",
                     "PEM public key of RS256/RS384/RS512 or ES256/ES384/ES512 JWTs",
                     &config::jwt_public_key_file));
    t.push_back(text("jwt-audience", "AUD", "the aud every JWT must name; empty: none",
                     &config::jwt_audience));
    t.push_back(
        text("jwt-issuer", "ISS", "the iss every JWT must have; empty: any", &config::jwt_issuer));
    t.push_back(custom("jwt-leeway", "D", "30s", "clock skew allowed for exp and nbf",
                       "0 to 1h, whole seconds", "whole seconds from 0 to 1h, such as 30s",
                       [](const std::string& text, config& cfg) {
                           auto d = parse_duration(text);
                           if (!d || *d > 1h || d->count() % 1000 != 0) return refused;
                           cfg.jwt_leeway = std::chrono::duration_cast<std::chrono::seconds>(*d);
                           return accepted;
                       }));
    t.back().numeric = true;
    t.push_back(
        custom("publish-auth", "MODE", "",
               "who may publish, list channels and read metrics; empty: token when "
               "credentials are configured, else loopback",
               "loopback, token or loopback-or-token", "loopback, token or loopback-or-token",
               [](const std::string& text, config& cfg) {
                   if (text.empty()) {
                       cfg.publish_auth = cfg.credentials_configured() ? publish_auth::token
                                                                       : publish_auth::loopback;
                   } else if (text == "loopback") {
                       cfg.publish_auth = publish_auth::loopback;
                   } else if (text == "token") {
                       cfg.publish_auth = publish_auth::token;
                   } else if (text == "loopback-or-token") {
                       cfg.publish_auth = publish_auth::loopback_or_token;
                   } else {
                       return refused;
                   }
                   return accepted;
               }));
    t.push_back(custom(
        "private-channels", "LIST", "",
        "channel patterns whose subscribers need a JWT (* matches any run of characters); empty: "
        "every channel is public",
        "channel patterns", "comma-separated channel patterns such as user:*,admin",
        [](const std::string& text, config& cfg) -> std::optional<refusal> {
            std::vector<channel_pattern> patterns;
            for (const auto& item : split_comma_list(text)) {
                auto parsed = channel_pattern::parse(item);
                if (auto* bad = std::get_if<invalid_pattern>(&parsed))
                    return refusal{"\"" + item + "\": " + bad->message};
                patterns.push_back(std::get<channel_pattern>(std::move(parsed)));
            }
            cfg.private_channels = channel_patterns(std::move(patterns));
            return accepted;
        },
        true));
    t.push_back(custom("jwt-cookie", "NAME", "ssecast_jwt",
                       "name of the cookie that may carry a subscriber's JWT", "a cookie name",
                       "a cookie name of 1 to 64 letters, digits and !#$%&'*+-.^_`|~",
                       [](const std::string& text, config& cfg) {
                           if (!is_cookie_name(text)) return refused;
                           cfg.jwt_cookie = text;
                           return accepted;
                       }));
    // Abuse limits.
    t.push_back(custom(
        "trusted-proxies", "LIST", "",
        "proxies whose X-Forwarded-For names the client; empty: none", "IP addresses or networks",
        "comma-separated IP addresses or networks such as 127.0.0.1,10.0.0.0/8,::1,fd00::/8",
        [](const std::string& text, config& cfg) -> std::optional<refusal> {
            if (auto problem = parse_networks(text, cfg.trusted_proxies)) return refusal{*problem};
            return accepted;
        },
        true));
    t.push_back(count("max-connections-per-ip", "1000",
                      "open connections per client address (IPv6: per /64); 0: no limit",
                      &config::max_connections_per_ip, 0, 10'000'000));
    t.push_back(custom("publish-rate", "N/s", "0",
                       "POST /notify requests per second for one publisher; 0: no limit",
                       "0 to 1000000/s",
                       "requests per second from 0 (no limit) to 1000000, such as 100/s",
                       [](const std::string& text, config& cfg) {
                           auto rate = parse_rate(text);
                           if (!rate || *rate > 1'000'000) return refused;
                           cfg.publish_rate = *rate;
                           return accepted;
                       }));
    t.back().numeric = true;
    t.push_back(custom("publish-burst", "N", "",
                       "requests one publisher may send at once before --publish-rate holds it "
                       "back; empty: the rate",
                       "1 to 1000000", "a whole number from 1 to 1000000",
                       [](const std::string& text, config& cfg) {
                           // A second's worth unless told otherwise (unused while the rate is 0).
                           if (text.empty()) {
                               cfg.publish_burst = std::max<std::size_t>(1, cfg.publish_rate);
                               return accepted;
                           }
                           auto n = parse_count(text);
                           if (!n || *n < 1 || *n > 1'000'000) return refused;
                           cfg.publish_burst = *n;
                           return accepted;
                       }));
    t.back().numeric = true;
    return t;
}

}  // namespace

std::string option::flag() const {
    return "--" + std::string(name);
}

std::string option::env() const {
    std::string out = "SSECAST_";
    for (char c : name) out += c == '-' ? '_' : static_cast<char>(std::toupper(c));
    return out;
}

const std::vector<option>& option_table() {
    static const std::vector<option> table = make_table();
    return table;
}

const option* find_option(std::string_view name) {
    for (const auto& o : option_table()) {
        if (o.name == name) return &o;
    }
    return nullptr;
}

}  // namespace ssecast
