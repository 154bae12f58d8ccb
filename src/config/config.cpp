#include "ssecast/config/config.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <charconv>
#include <sstream>

#include "ssecast/config/comma_list.hpp"
#include "ssecast/version.hpp"

namespace ssecast {

namespace {

using std::chrono::milliseconds;

std::optional<std::uint64_t> parse_uint(std::string_view digits) {
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size())
        return std::nullopt;
    return value;
}

std::pair<std::string_view, std::string_view> split_number(std::string_view text) {
    auto end = text.find_first_not_of("0123456789");
    if (end == std::string_view::npos) end = text.size();
    return {text.substr(0, end), text.substr(end)};
}

// One option that takes a string and is checked after parsing; keeps the table below readable.
struct option_spec {
    const char* flag;
    const char* env;
    const char* help;
    std::string value;
};

// RFC 6265 cookie-name: an RFC 9110 token.
bool is_cookie_name(std::string_view name) {
    if (name.empty() || name.size() > 64) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        auto u = static_cast<unsigned char>(c);
        return std::isalnum(u) != 0 ||
               std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    });
}

// The options of authentication, checked together: some only make sense with others.
template <typename ValueOf, typename Duration>
void parse_auth_options(const ValueOf& value_of, const Duration& duration,
                        std::ostringstream& errors, config& cfg) {
    using namespace std::chrono_literals;
    auto optional_value = [&](std::string_view flag) -> std::optional<std::string> {
        const auto& v = value_of(flag);
        if (v.empty()) return std::nullopt;
        return v;
    };
    cfg.publish_tokens_file = optional_value("--publish-tokens-file");
    cfg.jwt_secret_file = optional_value("--jwt-secret-file");
    cfg.jwt_public_key_file = optional_value("--jwt-public-key-file");
    cfg.jwt_audience = optional_value("--jwt-audience");
    cfg.jwt_issuer = optional_value("--jwt-issuer");
    bool jwt_key = cfg.jwt_secret_file || cfg.jwt_public_key_file;
    for (const char* flag : {"--jwt-audience", "--jwt-issuer"}) {
        if (optional_value(flag) && !jwt_key)
            errors << flag << " needs --jwt-secret-file or --jwt-public-key-file\n";
    }

    auto leeway = duration("--jwt-leeway", 0ms, 1h);
    if (leeway.count() % 1000 != 0) {
        errors << "--jwt-leeway = \"" << value_of("--jwt-leeway")
               << "\": expected whole seconds, such as 30s\n";
    }
    cfg.jwt_leeway = std::chrono::duration_cast<std::chrono::seconds>(leeway);

    const auto& mode = value_of("--publish-auth");
    if (mode.empty()) {
        cfg.publish_auth =
            cfg.credentials_configured() ? publish_auth::token : publish_auth::loopback;
    } else if (mode == "loopback" || mode == "token" || mode == "loopback-or-token") {
        cfg.publish_auth = mode == "loopback" ? publish_auth::loopback
                           : mode == "token"  ? publish_auth::token
                                              : publish_auth::loopback_or_token;
        if (cfg.publish_auth != publish_auth::loopback && !cfg.credentials_configured()) {
            errors << "--publish-auth = \"" << mode
                   << "\" needs --publish-tokens-file, --jwt-secret-file or "
                      "--jwt-public-key-file\n";
        }
    } else {
        errors << "--publish-auth = \"" << mode
               << "\": expected loopback, token or loopback-or-token\n";
    }

    std::vector<channel_pattern> patterns;
    const auto& list = value_of("--private-channels");
    for (const auto& item : split_comma_list(list)) {
        auto parsed = channel_pattern::parse(item);
        if (auto* bad = std::get_if<invalid_pattern>(&parsed)) {
            errors << "--private-channels = \"" << list << "\": \"" << item
                   << "\": " << bad->message << "\n";
        } else {
            patterns.push_back(std::get<channel_pattern>(std::move(parsed)));
        }
    }
    cfg.private_channels = channel_patterns(std::move(patterns));
    if (!cfg.private_channels.empty() && !jwt_key) {
        errors << "--private-channels needs --jwt-secret-file or --jwt-public-key-file: "
                  "subscribers of private channels show a JWT\n";
    }

    cfg.jwt_cookie = value_of("--jwt-cookie");
    if (!is_cookie_name(cfg.jwt_cookie)) {
        errors << "--jwt-cookie = \"" << cfg.jwt_cookie
               << "\": expected a cookie name of 1 to 64 letters, digits and !#$%&'*+-.^_`|~\n";
    }
}

}  // namespace

std::optional<milliseconds> parse_duration(const std::string& text) {
    auto [digits, unit] = split_number(text);
    auto n = parse_uint(digits);
    if (!n || *n > 10'000'000'000ULL) return std::nullopt;
    if (unit == "ms") return milliseconds(*n);
    if (unit.empty() || unit == "s") return milliseconds(*n * 1000);
    if (unit == "m") return milliseconds(*n * 60'000);
    if (unit == "h") return milliseconds(*n * 3'600'000);
    return std::nullopt;
}

std::optional<std::size_t> parse_size(const std::string& text) {
    auto [digits, unit] = split_number(text);
    auto n = parse_uint(digits);
    if (!n) return std::nullopt;
    int shift = -1;
    if (unit.empty() || unit == "B") shift = 0;
    if (unit == "K" || unit == "k" || unit == "KB" || unit == "KiB") shift = 10;
    if (unit == "M" || unit == "MB" || unit == "MiB") shift = 20;
    if (unit == "G" || unit == "GB" || unit == "GiB") shift = 30;
    // Checked before shifting, so that no value wraps around into an acceptable one.
    constexpr std::uint64_t limit = 1ULL << 40;
    if (shift < 0 || *n > (limit >> shift)) return std::nullopt;
    return *n << shift;
}

std::optional<std::string> parse_origins(const std::string& text, std::vector<std::string>& out) {
    out.clear();
    for (auto& item : split_comma_list(text)) {
        if (item == "*") {
            out.push_back(item);
            continue;
        }
        // An origin is exactly what browsers send in the Origin header: scheme, host, port.
        auto scheme_end = item.find("://");
        auto scheme = scheme_end == std::string::npos ? std::string() : item.substr(0, scheme_end);
        auto host = scheme_end == std::string::npos ? std::string() : item.substr(scheme_end + 3);
        bool host_ok = !host.empty() && host.find_first_of("/?#@ ") == std::string::npos;
        if ((scheme != "http" && scheme != "https") || !host_ok) {
            return "\"" + item +
                   "\" is not an origin: expected scheme://host[:port] such as "
                   "https://example.com, or *";
        }
        out.push_back(item);
    }
    if (out.size() > 1 && std::find(out.begin(), out.end(), "*") != out.end())
        return std::string("\"*\" cannot be combined with other origins");
    return std::nullopt;
}

std::optional<std::size_t> parse_rate(const std::string& text) {
    auto [digits, unit] = split_number(text);
    if (!unit.empty() && unit != "/s") return std::nullopt;
    return parse_uint(digits);
}

std::string format_duration(milliseconds d) {
    auto ms = d.count();
    if (ms != 0 && ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
    if (ms != 0 && ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
    if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
    return std::to_string(ms) + "ms";
}

std::variant<config, config_exit> parse_config(const std::vector<std::string>& args,
                                               const env_lookup& env) {
    config cfg;
    CLI::App app{
        "ssecast: a Server-Sent Events broadcast daemon.\n"
        "Every option can also be set with the environment variable shown, or as a key of\n"
        "the same name (without --) in the TOML file given with --config.\n"
        "Precedence: flag, then environment, then file, then default.",
        "ssecast"};
    app.set_version_flag("--version", std::string("ssecast ") + version);
    app.set_config("--config", "", "TOML configuration file (env SSECAST_CONFIG)");
    app.allow_config_extras(CLI::config_extras_mode::error);
    app.get_formatter()->column_width(30);

    std::vector<option_spec> specs = {
        {"--listen", "SSECAST_LISTEN", "address and port to listen on, HOST:PORT or [IPv6]:PORT",
         "0.0.0.0:8080"},
        {"--threads", "SSECAST_THREADS",
         "event loop threads, each serving its share of the connections, 0 (one per CPU core) to "
         "256",
         "0"},
        {"--heartbeat", "SSECAST_HEARTBEAT",
         "interval between heartbeat comments on streams, 100ms to 1h", "15s"},
        {"--history", "SSECAST_HISTORY", "events kept per channel for replay, 0 to 1000000",
         "1000"},
        {"--history-max-age", "SSECAST_HISTORY_MAX_AGE",
         "drop buffered events older than this; 0 keeps them until pushed out", "0"},
        {"--max-body", "SSECAST_MAX_BODY", "largest POST /notify body, 1KiB to 64MiB", "64KiB"},
        {"--max-queue", "SSECAST_MAX_QUEUE",
         "bytes queued for one subscriber before it is disconnected as too slow, 4KiB to 1GiB",
         "1MiB"},
        {"--max-connections", "SSECAST_MAX_CONNECTIONS",
         "open client connections, 1 to 10000000 (also capped by the open-files limit)", "100000"},
        {"--max-channels", "SSECAST_MAX_CHANNELS", "channels that may exist at once, 1 to 10000000",
         "10000"},
        {"--channel-grace", "SSECAST_CHANNEL_GRACE",
         "how long a channel with no subscribers and no events lives on, 0 to 24h", "60s"},
        {"--reconnect-delay", "SSECAST_RECONNECT_DELAY",
         "retry: sent to clients at stream start, 0 to 1h", "3s"},
        {"--request-timeout", "SSECAST_REQUEST_TIMEOUT",
         "time allowed to send a request, and idle keep-alive limit, 1s to 1h", "30s"},
        {"--shutdown-timeout", "SSECAST_SHUTDOWN_TIMEOUT",
         "on SIGTERM, how long streams get to flush before the daemon exits, 100ms to 5m", "5s"},
        {"--drain-delay", "SSECAST_DRAIN_DELAY",
         "on SIGTERM, how long GET /readyz answers 503 while everything else is still served, "
         "before the shutdown begins, 0 to 5m",
         "0"},
        {"--metrics-per-channel", "SSECAST_METRICS_PER_CHANNEL",
         "GET /metrics shows the subscribers of this many channels, those with the most, 0 to "
         "1000",
         "0"},
        {"--metrics-access", "SSECAST_METRICS_ACCESS",
         "who may GET /metrics: local (loopback, not through a proxy, like /channels) or any",
         "local"},
        {"--access-log", "SSECAST_ACCESS_LOG",
         "on: one info line per answered request (not streams); off: none", "on"},
        {"--log-level", "SSECAST_LOG_LEVEL", "trace, debug, info, warn, error, critical or off",
         "info"},
        {"--max-stream-duration", "SSECAST_MAX_STREAM_DURATION",
         "end each stream after this long (+0-10% jitter) so clients reconnect and rebalance, "
         "0 (never) or 1s to 7d",
         "0"},
        {"--cors-origins", "SSECAST_CORS_ORIGINS",
         "origins allowed to use the API from other sites: comma-separated scheme://host[:port], "
         "or * for any; empty for none",
         ""},
        {"--cors-credentials", "SSECAST_CORS_CREDENTIALS",
         "allow credentials (cookies) on cross-origin requests: true or false", "false"},
        {"--demo-page", "SSECAST_DEMO_PAGE", "serve the demo page at GET /: true or false", "true"},
        {"--log-format", "SSECAST_LOG_FORMAT",
         "text (TIME LEVEL MESSAGE lines) or json (one JSON object per line)", "text"},
        // Authentication.
        {"--publish-tokens-file", "SSECAST_PUBLISH_TOKENS_FILE",
         "file of API keys, one per line: TOKEN [CHANNEL-PATTERN ...]; not world-readable", ""},
        {"--jwt-secret-file", "SSECAST_JWT_SECRET_FILE",
         "file holding the HMAC secret of HS256/HS384/HS512 JWTs (at least 32 bytes)", ""},
        {"--jwt-public-key-file", "SSECAST_JWT_PUBLIC_KEY_FILE",
         "PEM public key of RS256/RS384/RS512 or ES256/ES384/ES512 JWTs", ""},
        {"--jwt-audience", "SSECAST_JWT_AUDIENCE", "the aud every JWT must name; empty: none", ""},
        {"--jwt-issuer", "SSECAST_JWT_ISSUER", "the iss every JWT must have; empty: any", ""},
        {"--jwt-leeway", "SSECAST_JWT_LEEWAY", "clock skew allowed for exp and nbf, 0 to 1h",
         "30s"},
        {"--publish-auth", "SSECAST_PUBLISH_AUTH",
         "who may publish, list channels and read metrics: loopback, token or "
         "loopback-or-token; empty: token when credentials are configured, else loopback",
         ""},
        {"--private-channels", "SSECAST_PRIVATE_CHANNELS",
         "comma-separated channel patterns (* matches any run of characters) whose subscribers "
         "need a JWT; empty: every channel is public",
         ""},
        {"--jwt-cookie", "SSECAST_JWT_COOKIE",
         "name of the cookie that may carry a subscriber's JWT", "ssecast_jwt"},
        // --- abuse limits ---
        {"--trusted-proxies", "SSECAST_TRUSTED_PROXIES",
         "proxies whose X-Forwarded-For names the client: comma-separated IP addresses or "
         "networks (127.0.0.1, 10.0.0.0/8, ::1, fd00::/8); empty for none",
         ""},
        {"--max-connections-per-ip", "SSECAST_MAX_CONNECTIONS_PER_IP",
         "open connections per client address (IPv6: per /64), 0 (no limit) to 10000000", "1000"},
        {"--publish-rate", "SSECAST_PUBLISH_RATE",
         "POST /notify requests per second for one publisher, N/s, 0 (no limit) to 1000000/s", "0"},
        {"--publish-burst", "SSECAST_PUBLISH_BURST",
         "requests one publisher may send at once before --publish-rate holds it back, 1 to "
         "1000000; empty: the rate",
         ""},
    };
    for (auto& spec : specs) {
        auto help = std::string(spec.help) + " (env " + spec.env + ")";
        app.add_option(spec.flag, spec.value, help)
            ->capture_default_str()
            ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    }

    // CLI11 lets a config file override environment variables; we want the environment to win, so
    // environment values go in as flags ahead of the real ones (the last occurrence wins).
    // An empty variable counts as unset, as most deployment tools write it that way.
    auto env_value = [&](const std::string& name) -> std::optional<std::string> {
        auto value = env(name);
        if (!value || value->empty()) return std::nullopt;
        return value;
    };
    std::vector<std::string> argv_strings{args.empty() ? std::string("ssecast") : args.front()};
    bool config_flag_given = std::any_of(args.begin(), args.end(), [](const std::string& a) {
        return a == "--config" || a.rfind("--config=", 0) == 0;
    });
    if (auto file = env_value("SSECAST_CONFIG"); file && !config_flag_given) {
        argv_strings.push_back("--config=" + *file);
    }
    for (const auto& spec : specs) {
        if (auto value = env_value(spec.env))
            argv_strings.push_back(std::string(spec.flag) + "=" + *value);
    }
    argv_strings.insert(argv_strings.end(), args.begin() + (args.empty() ? 0 : 1), args.end());
    std::vector<const char*> argv;
    for (const auto& s : argv_strings) argv.push_back(s.c_str());

    try {
        app.parse(static_cast<int>(argv.size()), argv.data());
    } catch (const CLI::CallForHelp&) {
        return config_exit{0, app.help()};
    } catch (const CLI::CallForVersion&) {
        return config_exit{0, std::string("ssecast ") + version + "\n"};
    } catch (const CLI::ParseError& e) {
        std::string what = e.what();
        // CLI11 words an unknown config file key as an INI parse failure; say what it is.
        constexpr std::string_view extras = "INI was not able to parse ";
        if (what.rfind(extras, 0) == 0) {
            what = "unknown key \"" + what.substr(extras.size()) +
                   "\" in the config file (see --help)";
        }
        return config_exit{2, "ssecast: invalid configuration: " + what + "\n"};
    }

    std::ostringstream errors;
    auto value_of = [&](std::string_view flag) -> const std::string& {
        for (const auto& spec : specs) {
            if (flag == spec.flag) return spec.value;
        }
        throw std::logic_error("unknown option");
    };
    auto duration = [&](std::string_view flag, milliseconds lo, milliseconds hi) -> milliseconds {
        auto d = parse_duration(value_of(flag));
        if (!d || *d < lo || *d > hi) {
            errors << flag << " = \"" << value_of(flag) << "\": expected a duration from "
                   << format_duration(lo) << " to " << format_duration(hi)
                   << " such as 500ms, 15s, 2m, 1h\n";
            return lo;
        }
        return *d;
    };
    auto size = [&](std::string_view flag, std::size_t lo, std::size_t hi) -> std::size_t {
        auto n = parse_size(value_of(flag));
        if (!n || *n < lo || *n > hi) {
            errors << flag << " = \"" << value_of(flag) << "\": expected a size from " << lo
                   << " to " << hi << " bytes, such as 65536, 64KiB or 1MiB\n";
            return lo;
        }
        return *n;
    };
    auto count = [&](std::string_view flag, std::uint64_t lo, std::uint64_t hi) -> std::size_t {
        auto n = parse_uint(value_of(flag));
        if (!n || *n < lo || *n > hi) {
            errors << flag << " = \"" << value_of(flag) << "\": expected a whole number from " << lo
                   << " to " << hi << "\n";
            return lo;
        }
        return *n;
    };

    // One of two words; true for the second.
    auto either = [&](std::string_view flag, std::string_view no, std::string_view yes) -> bool {
        const auto& value = value_of(flag);
        if (value != no && value != yes) {
            errors << flag << " = \"" << value << "\": expected " << no << " or " << yes << "\n";
        }
        return value == yes;
    };

    const auto& listen = value_of("--listen");
    auto colon = listen.rfind(':');
    auto host = colon == std::string::npos ? std::string() : listen.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    if (host == "localhost") host = "127.0.0.1";
    auto port = colon == std::string::npos ? std::nullopt
                                           : parse_uint(std::string_view(listen).substr(colon + 1));
    boost::system::error_code ec;
    boost::asio::ip::make_address(host, ec);
    if (!port || *port > 65535 || ec) {
        errors << "--listen = \"" << listen
               << "\": expected IP:PORT such as 0.0.0.0:8080, 127.0.0.1:8080 or [::]:8080\n";
    } else {
        cfg.listen_host = host;
        cfg.listen_port = static_cast<std::uint16_t>(*port);
    }

    using namespace std::chrono_literals;
    cfg.threads = count("--threads", 0, 256);
    cfg.heartbeat = duration("--heartbeat", 100ms, 1h);
    cfg.history = count("--history", 0, 1'000'000);
    auto max_age = duration("--history-max-age", 0ms, 24h * 365);
    if (max_age.count() > 0) cfg.history_max_age = max_age;
    cfg.max_body = size("--max-body", 1024, 64u << 20);
    cfg.max_queue = size("--max-queue", 4096, 1u << 30);
    cfg.max_connections = count("--max-connections", 1, 10'000'000);
    cfg.max_channels = count("--max-channels", 1, 10'000'000);
    cfg.channel_grace = duration("--channel-grace", 0ms, 24h);
    cfg.reconnect_delay = duration("--reconnect-delay", 0ms, 1h);
    cfg.request_timeout = duration("--request-timeout", 1s, 1h);
    cfg.shutdown_timeout = duration("--shutdown-timeout", 100ms, 5min);
    cfg.drain_delay = duration("--drain-delay", 0ms, 5min);
    cfg.metrics_per_channel = count("--metrics-per-channel", 0, 1000);
    cfg.metrics_access_any = either("--metrics-access", "local", "any");
    cfg.access_log = either("--access-log", "off", "on");

    auto boolean = [&](std::string_view flag) -> bool {
        const auto& v = value_of(flag);
        if (v == "true" || v == "yes" || v == "on" || v == "1") return true;
        if (v == "false" || v == "no" || v == "off" || v == "0") return false;
        errors << flag << " = \"" << v << "\": expected true or false\n";
        return false;
    };
    auto stream_limit = duration("--max-stream-duration", 0ms, 24h * 7);
    if (stream_limit.count() > 0 && stream_limit < 1s) {
        errors << "--max-stream-duration = \"" << value_of("--max-stream-duration")
               << "\": expected 0 (never) or a duration from 1s to 7d\n";
    } else if (stream_limit.count() > 0) {
        cfg.max_stream_duration = stream_limit;
    }
    if (auto problem = parse_origins(value_of("--cors-origins"), cfg.cors_origins)) {
        errors << "--cors-origins = \"" << value_of("--cors-origins") << "\": " << *problem << "\n";
    }
    cfg.cors_credentials = boolean("--cors-credentials");
    if (cfg.cors_credentials && cfg.cors_origins == std::vector<std::string>{"*"}) {
        errors
            << "--cors-credentials = true needs an explicit --cors-origins list: browsers refuse "
               "credentials with \"*\"\n";
    }
    cfg.demo_page = boolean("--demo-page");

    auto level = spdlog::level::from_str(value_of("--log-level"));
    // from_str answers "off" for anything it does not know; only accept "off" when asked for.
    if (level == spdlog::level::off && value_of("--log-level") != "off") {
        errors << "--log-level = \"" << value_of("--log-level")
               << "\": expected trace, debug, info, warn, error, critical or off\n";
    } else {
        cfg.log_level = level;
    }

    const auto& format = value_of("--log-format");
    if (format == "text" || format == "json") {
        cfg.log_format = format == "json" ? log_format::json : log_format::text;
    } else {
        errors << "--log-format = \"" << format << "\": expected text or json\n";
    }

    parse_auth_options(value_of, duration, errors, cfg);
    // --- abuse limits ---
    if (auto problem = parse_networks(value_of("--trusted-proxies"), cfg.trusted_proxies)) {
        errors << "--trusted-proxies = \"" << value_of("--trusted-proxies") << "\": " << *problem
               << "\n";
    }
    cfg.max_connections_per_ip = count("--max-connections-per-ip", 0, 10'000'000);
    auto rate = parse_rate(value_of("--publish-rate"));
    if (!rate || *rate > 1'000'000) {
        errors << "--publish-rate = \"" << value_of("--publish-rate")
               << "\": expected requests per second from 0 (no limit) to 1000000, such as 100/s\n";
    } else {
        cfg.publish_rate = *rate;
    }
    // The bucket holds a second's worth unless told otherwise (ignored when the rate is 0).
    cfg.publish_burst = value_of("--publish-burst").empty()
                            ? std::max<std::size_t>(1, cfg.publish_rate)
                            : count("--publish-burst", 1, 1'000'000);

    if (auto* file = app.get_config_ptr(); file && file->count() > 0)
        cfg.config_file = file->as<std::string>();

    auto problems = errors.str();
    if (!problems.empty()) return config_exit{2, "ssecast: invalid configuration:\n" + problems};
    return cfg;
}

}  // namespace ssecast
