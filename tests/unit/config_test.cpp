#include "ssecast/config/config.hpp"
#include "ssecast/config/value_parsers.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "ssecast/version.hpp"

namespace {

using namespace std::chrono_literals;
using ssecast::config;
using ssecast::config_exit;
namespace fs = std::filesystem;
using env_map = std::map<std::string, std::string>;

// Runs parse_config with "ssecast" as argv[0] and a fake environment; remembers which variables
// were looked up.
struct runner {
    env_map env;
    std::set<std::string> looked_up;

    std::variant<config, config_exit> operator()(std::vector<std::string> args) {
        args.insert(args.begin(), "ssecast");
        return ssecast::parse_config(args,
                                     [this](const std::string& name) -> std::optional<std::string> {
                                         looked_up.insert(name);
                                         auto it = env.find(name);
                                         if (it == env.end()) return std::nullopt;
                                         return it->second;
                                     });
    }
};

config accepted(std::vector<std::string> args, env_map env = {}) {
    runner run{std::move(env), {}};
    auto result = run(args);
    if (auto* exit = std::get_if<config_exit>(&result)) {
        ADD_FAILURE() << "refused (exit " << exit->exit_code << "): " << exit->output;
        return {};
    }
    return std::get<config>(result);
}

config_exit exited(std::vector<std::string> args, env_map env = {}) {
    runner run{std::move(env), {}};
    auto result = run(args);
    if (!std::holds_alternative<config_exit>(result)) {
        ADD_FAILURE() << "accepted";
        return {-1, {}};
    }
    return std::get<config_exit>(result);
}

// Expects exit code 2 with the option named in the output.
void expect_invalid(std::vector<std::string> args, const std::string& named, env_map env = {}) {
    auto exit = exited(args, env);
    EXPECT_EQ(exit.exit_code, 2) << exit.output;
    EXPECT_NE(exit.output.find(named), std::string::npos)
        << "output does not name " << named << ":\n"
        << exit.output;
}

void expect_same(const config& a, const config& b) {
    EXPECT_EQ(a.listen_host, b.listen_host);
    EXPECT_EQ(a.listen_port, b.listen_port);
    EXPECT_EQ(a.heartbeat, b.heartbeat);
    EXPECT_EQ(a.history, b.history);
    EXPECT_EQ(a.history_max_age, b.history_max_age);
    EXPECT_EQ(a.max_body, b.max_body);
    EXPECT_EQ(a.max_queue, b.max_queue);
    EXPECT_EQ(a.max_connections, b.max_connections);
    EXPECT_EQ(a.max_channels, b.max_channels);
    EXPECT_EQ(a.channel_grace, b.channel_grace);
    EXPECT_EQ(a.reconnect_delay, b.reconnect_delay);
    EXPECT_EQ(a.request_timeout, b.request_timeout);
    EXPECT_EQ(a.shutdown_timeout, b.shutdown_timeout);
    EXPECT_EQ(a.drain_delay, b.drain_delay);
    EXPECT_EQ(a.metrics_per_channel, b.metrics_per_channel);
    EXPECT_EQ(a.metrics_access_any, b.metrics_access_any);
    EXPECT_EQ(a.access_log, b.access_log);
    EXPECT_EQ(a.log_level, b.log_level);
    EXPECT_EQ(a.max_stream_duration, b.max_stream_duration);
    EXPECT_EQ(a.cors_origins, b.cors_origins);
    EXPECT_EQ(a.cors_credentials, b.cors_credentials);
    EXPECT_EQ(a.demo_page, b.demo_page);
    EXPECT_EQ(a.log_format, b.log_format);
    EXPECT_EQ(a.publish_tokens_file, b.publish_tokens_file);
    EXPECT_EQ(a.jwt_secret_file, b.jwt_secret_file);
    EXPECT_EQ(a.jwt_public_key_file, b.jwt_public_key_file);
    EXPECT_EQ(a.jwt_audience, b.jwt_audience);
    EXPECT_EQ(a.jwt_issuer, b.jwt_issuer);
    EXPECT_EQ(a.jwt_leeway, b.jwt_leeway);
    EXPECT_EQ(a.publish_auth, b.publish_auth);
    EXPECT_EQ(a.private_channels, b.private_channels);
    EXPECT_EQ(a.jwt_cookie, b.jwt_cookie);
    EXPECT_EQ(a.trusted_proxies, b.trusted_proxies);
    EXPECT_EQ(a.max_connections_per_ip, b.max_connections_per_ip);
    EXPECT_EQ(a.publish_rate, b.publish_rate);
    EXPECT_EQ(a.publish_burst, b.publish_burst);
}

// A fresh directory per test for configuration files.
class ConfigFile : public ::testing::Test {
  protected:
    fs::path dir;

    void SetUp() override {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        dir = fs::temp_directory_path() /
              ("ssecast-config-test-" + std::to_string(::getpid()) + "-" + info->name());
        fs::remove_all(dir);
        fs::create_directories(dir);
    }
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }

    std::string write(const std::string& name, const std::string& text) {
        auto path = dir / name;
        std::ofstream out(path, std::ios::binary);
        out << text;
        return path.string();
    }
};

// --- defaults and flags -------------------------------------------------------------------------

TEST(Config, DefaultsMatchTheConfigStruct) {
    runner run;
    auto result = run({});
    ASSERT_TRUE(std::holds_alternative<config>(result));
    const auto& cfg = std::get<config>(result);
    expect_same(cfg, config{});
    EXPECT_FALSE(cfg.config_file.has_value());
    // The documented defaults, spelled out.
    EXPECT_EQ(cfg.listen_host, "0.0.0.0");
    EXPECT_EQ(cfg.listen_port, 8080);
    EXPECT_EQ(cfg.heartbeat, 15s);
    EXPECT_EQ(cfg.history, 1000u);
    EXPECT_FALSE(cfg.history_max_age.has_value());
    EXPECT_EQ(cfg.max_body, 65536u);
    EXPECT_EQ(cfg.max_queue, 1048576u);
    EXPECT_EQ(cfg.log_level, spdlog::level::info);
    EXPECT_EQ(cfg.log_format, ssecast::log_format::text);
    // Only SSECAST_* variables are consulted.
    EXPECT_FALSE(run.looked_up.empty());
    for (const auto& name : run.looked_up) EXPECT_EQ(name.rfind("SSECAST_", 0), 0u) << name;
}

TEST(Config, EmptyArgsVectorIsAccepted) {
    auto result = ssecast::parse_config({}, [](const std::string&) { return std::nullopt; });
    ASSERT_TRUE(std::holds_alternative<config>(result));
    expect_same(std::get<config>(result), config{});
}

TEST(Config, EveryFlagParses) {
    auto cfg = accepted({"--listen",           "127.0.0.1:9000",
                         "--heartbeat",        "500ms",
                         "--history",          "50",
                         "--history-max-age",  "2m",
                         "--max-body",         "1MiB",
                         "--max-queue",        "64KiB",
                         "--max-connections",  "5",
                         "--max-channels",     "7",
                         "--channel-grace",    "1h",
                         "--reconnect-delay",  "2s",
                         "--request-timeout",  "10s",
                         "--shutdown-timeout", "100ms",
                         "--log-level",        "debug",
                         "--log-format",       "json"});
    EXPECT_EQ(cfg.listen_host, "127.0.0.1");
    EXPECT_EQ(cfg.listen_port, 9000);
    EXPECT_EQ(cfg.heartbeat, 500ms);
    EXPECT_EQ(cfg.history, 50u);
    EXPECT_EQ(cfg.history_max_age, std::optional<std::chrono::milliseconds>(2min));
    EXPECT_EQ(cfg.max_body, 1u << 20);
    EXPECT_EQ(cfg.max_queue, 64u << 10);
    EXPECT_EQ(cfg.max_connections, 5u);
    EXPECT_EQ(cfg.max_channels, 7u);
    EXPECT_EQ(cfg.channel_grace, 1h);
    EXPECT_EQ(cfg.reconnect_delay, 2s);
    EXPECT_EQ(cfg.request_timeout, 10s);
    EXPECT_EQ(cfg.shutdown_timeout, 100ms);
    EXPECT_EQ(cfg.log_level, spdlog::level::debug);
    EXPECT_EQ(cfg.log_format, ssecast::log_format::json);
    EXPECT_FALSE(cfg.config_file.has_value());
}

TEST(Config, EqualsSignFormAndLastFlagWins) {
    auto cfg = accepted({"--heartbeat=2m", "--history=5", "--history=6"});
    EXPECT_EQ(cfg.heartbeat, 2min);
    EXPECT_EQ(cfg.history, 6u);
}

TEST(Config, DurationSpellings) {
    EXPECT_EQ(accepted({"--heartbeat", "500ms"}).heartbeat, 500ms);
    EXPECT_EQ(accepted({"--heartbeat", "15s"}).heartbeat, 15s);
    EXPECT_EQ(accepted({"--heartbeat", "2m"}).heartbeat, 2min);
    EXPECT_EQ(accepted({"--heartbeat", "1h"}).heartbeat, 1h);
    EXPECT_EQ(accepted({"--heartbeat", "20"}).heartbeat, 20s);  // bare number: seconds
    EXPECT_EQ(accepted({"--channel-grace", "0"}).channel_grace, 0ms);
    EXPECT_EQ(accepted({"--reconnect-delay", "0ms"}).reconnect_delay, 0ms);
    EXPECT_FALSE(accepted({"--history-max-age", "0"}).history_max_age.has_value());
    EXPECT_EQ(accepted({"--history-max-age", "90"}).history_max_age,
              std::optional<std::chrono::milliseconds>(90s));
}

TEST(Config, SizeSpellings) {
    EXPECT_EQ(accepted({"--max-body", "65536"}).max_body, 65536u);
    EXPECT_EQ(accepted({"--max-body", "64KiB"}).max_body, 65536u);
    EXPECT_EQ(accepted({"--max-body", "64K"}).max_body, 65536u);
    EXPECT_EQ(accepted({"--max-body", "64KB"}).max_body, 65536u);
    EXPECT_EQ(accepted({"--max-body", "1MiB"}).max_body, 1048576u);
    EXPECT_EQ(accepted({"--max-body", "1M"}).max_body, 1048576u);
    EXPECT_EQ(accepted({"--max-queue", "1GiB"}).max_queue, 1u << 30);
}

TEST(Config, ParseDuration) {
    EXPECT_EQ(ssecast::parse_duration("500ms"), std::optional<std::chrono::milliseconds>(500ms));
    EXPECT_EQ(ssecast::parse_duration("15s"), std::optional<std::chrono::milliseconds>(15s));
    EXPECT_EQ(ssecast::parse_duration("2m"), std::optional<std::chrono::milliseconds>(2min));
    EXPECT_EQ(ssecast::parse_duration("1h"), std::optional<std::chrono::milliseconds>(1h));
    EXPECT_EQ(ssecast::parse_duration("15"), std::optional<std::chrono::milliseconds>(15s));
    EXPECT_EQ(ssecast::parse_duration("7d"), std::optional<std::chrono::milliseconds>(24h * 7));
    EXPECT_EQ(ssecast::parse_duration("0"), std::optional<std::chrono::milliseconds>(0ms));
    for (const char* bad : {"", "ms", "s", "1.5s", "-1s", "+1s", "1D", "1 s", "1S", "1sec", " 1s",
                            "1s ", "1m1s", "0x10", "99999999999999999999"}) {
        EXPECT_FALSE(ssecast::parse_duration(bad).has_value()) << '"' << bad << '"';
    }
}

TEST(Config, ParseSize) {
    EXPECT_EQ(ssecast::parse_size("65536"), std::optional<std::size_t>(65536));
    EXPECT_EQ(ssecast::parse_size("64KiB"), std::optional<std::size_t>(65536));
    EXPECT_EQ(ssecast::parse_size("64K"), std::optional<std::size_t>(65536));
    EXPECT_EQ(ssecast::parse_size("64k"), std::optional<std::size_t>(65536));
    EXPECT_EQ(ssecast::parse_size("64KB"), std::optional<std::size_t>(65536));
    EXPECT_EQ(ssecast::parse_size("1MiB"), std::optional<std::size_t>(1u << 20));
    EXPECT_EQ(ssecast::parse_size("1M"), std::optional<std::size_t>(1u << 20));
    EXPECT_EQ(ssecast::parse_size("1MB"), std::optional<std::size_t>(1u << 20));
    EXPECT_EQ(ssecast::parse_size("1GiB"), std::optional<std::size_t>(1u << 30));
    EXPECT_EQ(ssecast::parse_size("10B"), std::optional<std::size_t>(10));
    // Units in any case, all three letters alike.
    for (const char* k : {"64k", "64kb", "64kB", "64kib", "64KIB"})
        EXPECT_EQ(ssecast::parse_size(k), std::optional<std::size_t>(65536)) << k;
    for (const char* m : {"1m", "1mb", "1mib", "1Mb"})
        EXPECT_EQ(ssecast::parse_size(m), std::optional<std::size_t>(1u << 20)) << m;
    for (const char* g : {"1g", "1gb", "1gib"})
        EXPECT_EQ(ssecast::parse_size(g), std::optional<std::size_t>(1u << 30)) << g;
    EXPECT_EQ(ssecast::parse_size("10b"), std::optional<std::size_t>(10));
    for (const char* bad : {"", "K", "1.5M", "-1", "+1", "1 MiB", "64kibs", "1TiB", "1Mi", "0x10"}) {
        EXPECT_FALSE(ssecast::parse_size(bad).has_value()) << '"' << bad << '"';
    }
}

// 17179869185 * 2^30 is 2^64 + 2^30: it must not wrap around to 1GiB.
TEST(Config, ParseSizeRefusesValuesThatOverflow) {
    auto huge = ssecast::parse_size("17179869185G");
    EXPECT_FALSE(huge.has_value()) << "parsed as " << *huge;
    expect_invalid({"--max-queue", "17179869185G"}, "--max-queue");
}

TEST(Config, FormatDuration) {
    EXPECT_EQ(ssecast::format_duration(0ms), "0s");
    EXPECT_EQ(ssecast::format_duration(500ms), "500ms");
    EXPECT_EQ(ssecast::format_duration(1500ms), "1500ms");
    EXPECT_EQ(ssecast::format_duration(15s), "15s");
    EXPECT_EQ(ssecast::format_duration(90s), "90s");
    EXPECT_EQ(ssecast::format_duration(2min), "2m");
    EXPECT_EQ(ssecast::format_duration(1h), "1h");
    EXPECT_EQ(ssecast::format_duration(24h), "1d");
    EXPECT_EQ(ssecast::format_duration(25h), "25h");
    EXPECT_EQ(ssecast::format_duration(24h * 365), "365d");
    for (std::chrono::milliseconds d :
         {0ms, 1ms, 999ms, 1000ms, 61000ms, 120000ms, 5400000ms, 3600000ms, 86400000ms}) {
        EXPECT_EQ(ssecast::parse_duration(ssecast::format_duration(d)),
                  std::optional<std::chrono::milliseconds>(d));
    }
}

TEST(Config, LogLevels) {
    EXPECT_EQ(accepted({"--log-level", "trace"}).log_level, spdlog::level::trace);
    EXPECT_EQ(accepted({"--log-level", "debug"}).log_level, spdlog::level::debug);
    EXPECT_EQ(accepted({"--log-level", "info"}).log_level, spdlog::level::info);
    EXPECT_EQ(accepted({"--log-level", "warn"}).log_level, spdlog::level::warn);
    EXPECT_EQ(accepted({"--log-level", "error"}).log_level, spdlog::level::err);
    EXPECT_EQ(accepted({"--log-level", "critical"}).log_level, spdlog::level::critical);
    EXPECT_EQ(accepted({"--log-level", "off"}).log_level, spdlog::level::off);
}

TEST(Config, LogFormats) {
    EXPECT_EQ(accepted({"--log-format", "text"}).log_format, ssecast::log_format::text);
    EXPECT_EQ(accepted({"--log-format", "json"}).log_format, ssecast::log_format::json);
}

TEST(Config, ListenForms) {
    auto v6 = accepted({"--listen", "[::1]:8080"});
    EXPECT_EQ(v6.listen_host, "::1");
    EXPECT_EQ(v6.listen_port, 8080);
    auto any6 = accepted({"--listen", "[::]:80"});
    EXPECT_EQ(any6.listen_host, "::");
    EXPECT_EQ(any6.listen_port, 80);
    auto local = accepted({"--listen", "localhost:1"});
    EXPECT_EQ(local.listen_host, "127.0.0.1");
    EXPECT_EQ(local.listen_port, 1);
    auto high = accepted({"--listen", "10.1.2.3:65535"});
    EXPECT_EQ(high.listen_host, "10.1.2.3");
    EXPECT_EQ(high.listen_port, 65535);
}

// --- invalid values -----------------------------------------------------------------------------

TEST(Config, InvalidValuesNameTheOption) {
    expect_invalid({"--heartbeat", "50ms"}, "--heartbeat");
    expect_invalid({"--heartbeat", "2h"}, "--heartbeat");
    expect_invalid({"--heartbeat", "soon"}, "--heartbeat");
    expect_invalid({"--heartbeat", "1.5s"}, "--heartbeat");
    expect_invalid({"--heartbeat", "1d"}, "--heartbeat");
    expect_invalid({"--history=-1"}, "--history");
    expect_invalid({"--history", "1000001"}, "--history");
    expect_invalid({"--history", "ten"}, "--history");
    expect_invalid({"--max-body", "1"}, "--max-body");
    expect_invalid({"--max-body", "65MiB"}, "--max-body");
    expect_invalid({"--max-body", "1.5MiB"}, "--max-body");
    expect_invalid({"--max-body", "64kibs"}, "--max-body");
    expect_invalid({"--max-queue", "1KiB"}, "--max-queue");
    expect_invalid({"--max-connections", "0"}, "--max-connections");
    expect_invalid({"--max-channels", "0"}, "--max-channels");
    expect_invalid({"--channel-grace", "25h"}, "--channel-grace");
    expect_invalid({"--reconnect-delay", "2h"}, "--reconnect-delay");
    expect_invalid({"--request-timeout", "500ms"}, "--request-timeout");
    expect_invalid({"--shutdown-timeout", "10m"}, "--shutdown-timeout");
    expect_invalid({"--log-level", "loud"}, "--log-level");
    expect_invalid({"--log-level", "INFO"}, "--log-level");
    expect_invalid({"--log-format", "xml"}, "--log-format");
    expect_invalid({"--log-format", "JSON"}, "--log-format");
    expect_invalid({"--log-format="}, "--log-format");
}

TEST(Config, InvalidListenNamesTheOption) {
    for (const char* bad : {"nohost", "1.2.3.4:99999", "1.2.3.4:", ":8080", "nohost:80",
                            "1.2.3.4:-1", "1.2.3.4:80x", "::1:8080x", "[::1]", "256.1.1.1:80"}) {
        expect_invalid({"--listen", bad}, "--listen");
    }
}

TEST(Config, EveryProblemIsReported) {
    auto exit = exited({"--heartbeat", "1ms", "--history", "x", "--log-level", "loud"});
    EXPECT_EQ(exit.exit_code, 2);
    EXPECT_NE(exit.output.find("--heartbeat"), std::string::npos) << exit.output;
    EXPECT_NE(exit.output.find("--history"), std::string::npos) << exit.output;
    EXPECT_NE(exit.output.find("--log-level"), std::string::npos) << exit.output;
}

TEST(Config, UnknownFlagIsRefused) {
    auto exit = exited({"--heartbaet", "1s"});
    EXPECT_EQ(exit.exit_code, 2);
    EXPECT_NE(exit.output.find("heartbaet"), std::string::npos) << exit.output;
}

TEST(Config, HelpAndVersion) {
    auto help = exited({"--help"});
    EXPECT_EQ(help.exit_code, 0);
    EXPECT_NE(help.output.find("--heartbeat"), std::string::npos) << help.output;
    EXPECT_NE(help.output.find("SSECAST_HEARTBEAT"), std::string::npos) << help.output;
    EXPECT_NE(help.output.find("--config"), std::string::npos) << help.output;

    auto short_help = exited({"-h"});
    EXPECT_EQ(short_help.exit_code, 0);
    EXPECT_FALSE(short_help.output.empty());

    auto version = exited({"--version"});
    EXPECT_EQ(version.exit_code, 0);
    EXPECT_NE(version.output.find("ssecast"), std::string::npos) << version.output;
    EXPECT_NE(version.output.find(ssecast::version), std::string::npos) << version.output;

    // Even with a broken value elsewhere, --help answers.
    EXPECT_EQ(exited({"--heartbeat", "1ms", "--help"}).exit_code, 0);
}

// --- environment ---------------------------------------------------------------------------------

TEST(Config, EveryEnvironmentVariableIsUsed) {
    auto cfg = accepted({}, {{"SSECAST_LISTEN", "127.0.0.2:81"},
                             {"SSECAST_HEARTBEAT", "3s"},
                             {"SSECAST_HISTORY", "11"},
                             {"SSECAST_HISTORY_MAX_AGE", "1h"},
                             {"SSECAST_MAX_BODY", "2KiB"},
                             {"SSECAST_MAX_QUEUE", "8KiB"},
                             {"SSECAST_MAX_CONNECTIONS", "12"},
                             {"SSECAST_MAX_CHANNELS", "13"},
                             {"SSECAST_CHANNEL_GRACE", "14s"},
                             {"SSECAST_RECONNECT_DELAY", "15s"},
                             {"SSECAST_REQUEST_TIMEOUT", "16s"},
                             {"SSECAST_SHUTDOWN_TIMEOUT", "17s"},
                             {"SSECAST_LOG_LEVEL", "warn"},
                             {"SSECAST_LOG_FORMAT", "json"}});
    EXPECT_EQ(cfg.listen_host, "127.0.0.2");
    EXPECT_EQ(cfg.listen_port, 81);
    EXPECT_EQ(cfg.heartbeat, 3s);
    EXPECT_EQ(cfg.history, 11u);
    EXPECT_EQ(cfg.history_max_age, std::optional<std::chrono::milliseconds>(1h));
    EXPECT_EQ(cfg.max_body, 2048u);
    EXPECT_EQ(cfg.max_queue, 8192u);
    EXPECT_EQ(cfg.max_connections, 12u);
    EXPECT_EQ(cfg.max_channels, 13u);
    EXPECT_EQ(cfg.channel_grace, 14s);
    EXPECT_EQ(cfg.reconnect_delay, 15s);
    EXPECT_EQ(cfg.request_timeout, 16s);
    EXPECT_EQ(cfg.shutdown_timeout, 17s);
    EXPECT_EQ(cfg.log_level, spdlog::level::warn);
    EXPECT_EQ(cfg.log_format, ssecast::log_format::json);
}

TEST(Config, FlagBeatsEnvironment) {
    auto cfg = accepted(
        {"--heartbeat", "4s", "--history=3"},
        {{"SSECAST_HEARTBEAT", "3s"}, {"SSECAST_HISTORY", "11"}, {"SSECAST_MAX_CHANNELS", "13"}});
    EXPECT_EQ(cfg.heartbeat, 4s);
    EXPECT_EQ(cfg.history, 3u);
    EXPECT_EQ(cfg.max_channels, 13u);  // no flag: the environment still counts
}

TEST(Config, InvalidEnvironmentValueIsRefused) {
    expect_invalid({}, "--heartbeat", {{"SSECAST_HEARTBEAT", "50ms"}});
    expect_invalid({}, "--listen", {{"SSECAST_LISTEN", "nohost"}});
    // A valid flag replaces a broken environment value.
    EXPECT_EQ(accepted({"--heartbeat", "1s"}, {{"SSECAST_HEARTBEAT", "50ms"}}).heartbeat, 1s);
}

TEST(Config, UnrelatedEnvironmentIsIgnored) {
    auto cfg = accepted({}, {{"HEARTBEAT", "3s"}, {"SSECAST_HEARTBEATS", "3s"}, {"PORT", "1"}});
    expect_same(cfg, config{});
}

// --- metrics options -----------------------------------------------------------------------------

TEST(Config, MetricsOptions) {
    EXPECT_EQ(config{}.metrics_per_channel, 0u);
    EXPECT_FALSE(config{}.metrics_access_any);
    EXPECT_EQ(accepted({"--metrics-per-channel", "25"}).metrics_per_channel, 25u);
    EXPECT_EQ(accepted({"--metrics-per-channel", "1000"}).metrics_per_channel, 1000u);
    EXPECT_TRUE(accepted({"--metrics-access", "any"}).metrics_access_any);
    EXPECT_FALSE(accepted({"--metrics-access", "local"}).metrics_access_any);
    auto env =
        accepted({}, {{"SSECAST_METRICS_PER_CHANNEL", "7"}, {"SSECAST_METRICS_ACCESS", "any"}});
    EXPECT_EQ(env.metrics_per_channel, 7u);
    EXPECT_TRUE(env.metrics_access_any);
    expect_invalid({"--metrics-per-channel", "1001"}, "--metrics-per-channel");
    expect_invalid({"--metrics-per-channel=-1"}, "--metrics-per-channel");
    expect_invalid({"--metrics-access", "all"}, "--metrics-access");
    expect_invalid({"--metrics-access", "ANY"}, "--metrics-access");
}

TEST(Config, AccessLogOption) {
    EXPECT_TRUE(config{}.access_log);
    EXPECT_FALSE(accepted({"--access-log", "off"}).access_log);
    EXPECT_TRUE(accepted({"--access-log", "on"}).access_log);
    EXPECT_FALSE(accepted({}, {{"SSECAST_ACCESS_LOG", "off"}}).access_log);
    EXPECT_FALSE(accepted({"--access-log", "false"}).access_log);  // a boolean like the others
    expect_invalid({"--access-log", "maybe"}, "--access-log");
}

TEST_F(ConfigFile, MetricsAndAccessLogKeysInTheFile) {
    auto path = write("m.toml",
                      "metrics-per-channel = 3\nmetrics-access = \"any\"\naccess-log = \"off\"\n");
    auto cfg = accepted({"--config", path});
    EXPECT_EQ(cfg.metrics_per_channel, 3u);
    EXPECT_TRUE(cfg.metrics_access_any);
    EXPECT_FALSE(cfg.access_log);
}

// --- configuration file --------------------------------------------------------------------------

TEST_F(ConfigFile, FileBeatsDefaults) {
    auto path = write("ssecast.toml",
                      "# comment line\n"
                      "heartbeat = \"2s\"\n"
                      "\n"
                      "history = 50\n"
                      "max-body = \"1MiB\"\n");
    auto cfg = accepted({"--config", path});
    EXPECT_EQ(cfg.heartbeat, 2s);
    EXPECT_EQ(cfg.history, 50u);
    EXPECT_EQ(cfg.max_body, 1u << 20);
    EXPECT_EQ(cfg.max_queue, config{}.max_queue);  // not in the file: default
    ASSERT_TRUE(cfg.config_file.has_value());
    EXPECT_EQ(*cfg.config_file, path);
}

TEST_F(ConfigFile, EveryKeyCanBeSetInTheFile) {
    auto path = write("all.toml",
                      "listen = \"[::1]:7000\"\n"
                      "heartbeat = \"1m\"\n"
                      "history = 0\n"
                      "history-max-age = \"30s\"\n"
                      "max-body = \"4KiB\"\n"
                      "max-queue = \"16KiB\"\n"
                      "max-connections = 9\n"
                      "max-channels = 8\n"
                      "channel-grace = \"5s\"\n"
                      "reconnect-delay = \"750ms\"\n"
                      "request-timeout = \"2s\"\n"
                      "shutdown-timeout = \"1s\"\n"
                      "log-level = \"error\"\n"
                      "log-format = \"json\"\n");
    auto cfg = accepted({"--config=" + path});
    EXPECT_EQ(cfg.listen_host, "::1");
    EXPECT_EQ(cfg.listen_port, 7000);
    EXPECT_EQ(cfg.heartbeat, 1min);
    EXPECT_EQ(cfg.history, 0u);
    EXPECT_EQ(cfg.history_max_age, std::optional<std::chrono::milliseconds>(30s));
    EXPECT_EQ(cfg.max_body, 4096u);
    EXPECT_EQ(cfg.max_queue, 16384u);
    EXPECT_EQ(cfg.max_connections, 9u);
    EXPECT_EQ(cfg.max_channels, 8u);
    EXPECT_EQ(cfg.channel_grace, 5s);
    EXPECT_EQ(cfg.reconnect_delay, 750ms);
    EXPECT_EQ(cfg.request_timeout, 2s);
    EXPECT_EQ(cfg.shutdown_timeout, 1s);
    EXPECT_EQ(cfg.log_level, spdlog::level::err);
    EXPECT_EQ(cfg.log_format, ssecast::log_format::json);
}

TEST_F(ConfigFile, EnvironmentBeatsFile) {
    auto path = write("c.toml", "heartbeat = \"2s\"\nhistory = 50\n");
    auto cfg = accepted({"--config", path}, {{"SSECAST_HEARTBEAT", "3s"}});
    EXPECT_EQ(cfg.heartbeat, 3s);
    EXPECT_EQ(cfg.history, 50u);
}

TEST_F(ConfigFile, FlagBeatsEnvironmentAndFile) {
    auto path = write("c.toml", "heartbeat = \"2s\"\n");
    auto cfg = accepted({"--config", path, "--heartbeat", "4s"}, {{"SSECAST_HEARTBEAT", "3s"}});
    EXPECT_EQ(cfg.heartbeat, 4s);
    // The position of --config among the flags does not matter.
    auto after = accepted({"--heartbeat", "4s", "--config", path}, {{"SSECAST_HEARTBEAT", "3s"}});
    EXPECT_EQ(after.heartbeat, 4s);
}

TEST_F(ConfigFile, FileNamedByEnvironment) {
    auto path = write("env.toml", "history = 77\n");
    auto cfg = accepted({}, {{"SSECAST_CONFIG", path}});
    EXPECT_EQ(cfg.history, 77u);
    EXPECT_EQ(cfg.config_file, std::optional<std::string>(path));
}

// Precedence is flag, then environment: SSECAST_CONFIG (say, from a service unit) must not stop
// an explicit --config from working.
TEST_F(ConfigFile, ConfigFlagBeatsSsecastConfigEnvironment) {
    auto from_env = write("env.toml", "history = 1\n");
    auto from_flag = write("flag.toml", "history = 2\n");
    runner run{{{"SSECAST_CONFIG", from_env}}, {}};
    auto result = run({"--config", from_flag});
    if (auto* exit = std::get_if<config_exit>(&result)) {
        FAIL() << "refused (exit " << exit->exit_code << "): " << exit->output;
    }
    const auto& cfg = std::get<config>(result);
    EXPECT_EQ(cfg.history, 2u);
    EXPECT_EQ(cfg.config_file, std::optional<std::string>(from_flag));
}

TEST_F(ConfigFile, UnknownKeyIsRefused) {
    auto path = write("bad.toml", "heartbeat = \"2s\"\nbogus-key = 1\n");
    auto exit = exited({"--config", path});
    EXPECT_EQ(exit.exit_code, 2);
    EXPECT_NE(exit.output.find("unknown key \"bogus-key\""), std::string::npos) << exit.output;
}

TEST_F(ConfigFile, MissingFileIsRefused) {
    auto path = (dir / "does-not-exist.toml").string();
    auto exit = exited({"--config", path});
    EXPECT_EQ(exit.exit_code, 2);
    EXPECT_NE(exit.output.find("does-not-exist.toml"), std::string::npos) << exit.output;
    EXPECT_EQ(exited({}, {{"SSECAST_CONFIG", path}}).exit_code, 2);
}

TEST_F(ConfigFile, DirectoryIsRefused) {
    EXPECT_EQ(exited({"--config", dir.string()}).exit_code, 2);
}

TEST_F(ConfigFile, UnreadableFileIsRefused) {
    auto path = write("secret.toml", "history = 5\n");
    fs::permissions(path, fs::perms::none);
    if (std::ifstream(path).good()) GTEST_SKIP() << "running with privileges that read any file";
    EXPECT_EQ(exited({"--config", path}).exit_code, 2);
}

TEST_F(ConfigFile, InvalidValueInFileNamesTheOption) {
    auto path = write("c.toml", "heartbeat = \"50ms\"\n");
    expect_invalid({"--config", path}, "--heartbeat");
}

TEST_F(ConfigFile, EmptyFileGivesDefaults) {
    auto path = write("empty.toml", "");
    expect_same(accepted({"--config", path}), config{});
}

// The sample shipped in config/ssecast.toml documents the defaults: it must parse to exactly them.
TEST(Config, StreamDurationCorsAndDemoPage) {
    auto cfg = accepted({"--max-stream-duration", "90s", "--cors-origins",
                         "https://a.example, http://b.example:8080", "--cors-credentials", "yes",
                         "--demo-page", "off"});
    EXPECT_EQ(cfg.max_stream_duration, std::optional<std::chrono::milliseconds>(90'000));
    EXPECT_EQ(cfg.cors_origins,
              (std::vector<std::string>{"https://a.example", "http://b.example:8080"}));
    EXPECT_TRUE(cfg.cors_credentials);
    EXPECT_FALSE(cfg.demo_page);
    EXPECT_EQ(accepted({"--cors-origins", "*"}).cors_origins, std::vector<std::string>{"*"});
    EXPECT_EQ(accepted({"--max-stream-duration", "0"}).max_stream_duration, std::nullopt);
    EXPECT_EQ(accepted({}, {{"SSECAST_CORS_ORIGINS", "https://env.example"}}).cors_origins,
              std::vector<std::string>{"https://env.example"});
}

TEST(Config, DrainDelay) {
    using namespace std::chrono_literals;
    EXPECT_EQ(accepted({}).drain_delay, 0ms);
    EXPECT_EQ(accepted({"--drain-delay", "2s"}).drain_delay, 2s);
    EXPECT_EQ(accepted({"--drain-delay", "5m"}).drain_delay, 5min);
    EXPECT_EQ(accepted({}, {{"SSECAST_DRAIN_DELAY", "1500ms"}}).drain_delay, 1500ms);
    expect_invalid({"--drain-delay", "6m"},
                   "--drain-delay = \"6m\": expected a duration from 0 to 5m");
    expect_invalid({"--drain-delay", "soon"}, "--drain-delay");
}

TEST(Config, InvalidStreamDurationCorsAndBooleans) {
    expect_invalid({"--max-stream-duration", "500ms"}, "--max-stream-duration");
    expect_invalid({"--max-stream-duration", "8d"}, "--max-stream-duration");
    EXPECT_EQ(accepted({"--max-stream-duration", "7d"}).max_stream_duration,
              std::optional<std::chrono::milliseconds>(24h * 7));
    for (const char* bad : {"example.com", "https://a.example/path", "ftp://a.example", "https://",
                            "*,https://a.example"}) {
        expect_invalid({"--cors-origins", bad}, "--cors-origins");
    }
    expect_invalid({"--cors-origins", "*", "--cors-credentials", "true"}, "--cors-credentials");
    expect_invalid({"--cors-credentials", "maybe"}, "--cors-credentials");
    expect_invalid({"--demo-page", "2"}, "--demo-page");
}

TEST(Config, AuthenticationOptions) {
    using ssecast::publish_auth;
    auto plain = accepted({});
    EXPECT_EQ(plain.publish_auth, publish_auth::loopback);
    EXPECT_FALSE(plain.credentials_configured());
    EXPECT_TRUE(plain.private_channels.empty());
    EXPECT_EQ(plain.jwt_cookie, "ssecast_jwt");
    EXPECT_EQ(plain.jwt_leeway, std::chrono::seconds(30));

    // A credential makes token the default; loopback can still be asked for.
    auto keyed = accepted({"--publish-tokens-file", "/etc/ssecast/tokens"});
    EXPECT_EQ(keyed.publish_tokens_file, std::optional<std::string>("/etc/ssecast/tokens"));
    EXPECT_EQ(keyed.publish_auth, publish_auth::token);
    EXPECT_EQ(accepted({"--jwt-secret-file", "s", "--publish-auth", "loopback"}).publish_auth,
              publish_auth::loopback);
    EXPECT_EQ(accepted({"--jwt-public-key-file", "k", "--publish-auth", "loopback-or-token"})
                  .publish_auth,
              publish_auth::loopback_or_token);

    auto jwt = accepted({"--jwt-secret-file", "s", "--jwt-audience", "ssecast", "--jwt-issuer",
                         "https://id.example", "--jwt-leeway", "5s", "--private-channels",
                         "user:*, admin ,*:secret", "--jwt-cookie", "my-jwt"});
    EXPECT_EQ(jwt.jwt_audience, std::optional<std::string>("ssecast"));
    EXPECT_EQ(jwt.jwt_issuer, std::optional<std::string>("https://id.example"));
    EXPECT_EQ(jwt.jwt_leeway, std::chrono::seconds(5));
    ASSERT_EQ(jwt.private_channels.list().size(), 3u);
    EXPECT_TRUE(jwt.private_channels.matches("user:42"));
    EXPECT_TRUE(jwt.private_channels.matches("admin"));
    EXPECT_TRUE(jwt.private_channels.matches("x:secret"));
    EXPECT_FALSE(jwt.private_channels.matches("news"));
    EXPECT_EQ(jwt.jwt_cookie, "my-jwt");
    EXPECT_EQ(accepted({}, {{"SSECAST_PRIVATE_CHANNELS", "*"}, {"SSECAST_JWT_SECRET_FILE", "s"}})
                  .private_channels.matches("anything"),
              true);
}

TEST(Config, InvalidAuthenticationOptionsNameTheProblem) {
    expect_invalid({"--publish-auth", "token"}, "--publish-tokens-file");
    expect_invalid({"--publish-auth", "loopback-or-token"}, "--publish-auth");
    expect_invalid({"--publish-auth", "nobody"}, "loopback, token or loopback-or-token");
    expect_invalid({"--private-channels", "user:*"}, "--private-channels needs");
    expect_invalid({"--jwt-secret-file", "s", "--private-channels", "user:*,bad name"},
                   "\"bad name\"");
    expect_invalid({"--jwt-audience", "x"}, "--jwt-audience needs");
    expect_invalid({"--jwt-issuer", "x"}, "--jwt-issuer needs");
    expect_invalid({"--jwt-secret-file", "s", "--jwt-leeway", "2h"}, "--jwt-leeway");
    expect_invalid({"--jwt-secret-file", "s", "--jwt-leeway", "1500ms"}, "whole seconds");
    expect_invalid({"--jwt-cookie", "a b"}, "--jwt-cookie");
    expect_invalid({"--jwt-cookie", "a;b"}, "--jwt-cookie");
}

// --- abuse limits
// ----------------------------------------------------------------------------------

TEST(Config, AbuseLimitDefaults) {
    auto cfg = accepted({});
    EXPECT_TRUE(cfg.trusted_proxies.empty());
    EXPECT_EQ(cfg.max_connections_per_ip, 1000u);
    EXPECT_EQ(cfg.publish_rate, 0u);
    EXPECT_EQ(cfg.publish_burst, 1u);
}

TEST(Config, AbuseLimitOptions) {
    auto cfg = accepted({"--trusted-proxies", "127.0.0.1, 10.0.0.0/8,::1,fd00::/8",
                         "--max-connections-per-ip", "0", "--publish-rate", "50/s"});
    ASSERT_EQ(cfg.trusted_proxies.size(), 4u);
    EXPECT_EQ(cfg.trusted_proxies[1].to_string(), "10.0.0.0/8");
    EXPECT_EQ(cfg.trusted_proxies[3].to_string(), "fd00::/8");
    EXPECT_EQ(cfg.max_connections_per_ip, 0u);
    EXPECT_EQ(cfg.publish_rate, 50u);
    EXPECT_EQ(cfg.publish_burst, 50u);  // the burst defaults to a second's worth
    cfg = accepted({"--publish-rate", "7", "--publish-burst", "100"});
    EXPECT_EQ(cfg.publish_rate, 7u);
    EXPECT_EQ(cfg.publish_burst, 100u);
    EXPECT_EQ(accepted({"--publish-rate", "1000000/s"}).publish_rate, 1'000'000u);
    EXPECT_EQ(accepted({"--max-connections-per-ip", "10000000"}).max_connections_per_ip,
              10'000'000u);
    // Off: the burst is not used, but still at least 1.
    EXPECT_EQ(accepted({"--publish-rate", "0"}).publish_burst, 1u);

    auto env = accepted({}, {{"SSECAST_TRUSTED_PROXIES", "192.168.0.0/16"},
                             {"SSECAST_MAX_CONNECTIONS_PER_IP", "12"},
                             {"SSECAST_PUBLISH_RATE", "3/s"},
                             {"SSECAST_PUBLISH_BURST", "4"}});
    ASSERT_EQ(env.trusted_proxies.size(), 1u);
    EXPECT_EQ(env.trusted_proxies[0].to_string(), "192.168.0.0/16");
    EXPECT_EQ(env.max_connections_per_ip, 12u);
    EXPECT_EQ(env.publish_rate, 3u);
    EXPECT_EQ(env.publish_burst, 4u);
}

TEST(Config, InvalidAbuseLimitsNameTheOptionAndTheEntry) {
    auto exit = exited({"--trusted-proxies", "127.0.0.1,proxy.example,10.0.0.0/8"});
    EXPECT_EQ(exit.exit_code, 2);
    EXPECT_NE(exit.output.find("--trusted-proxies"), std::string::npos) << exit.output;
    EXPECT_NE(exit.output.find("\"proxy.example\" is not an IP address"), std::string::npos)
        << exit.output;
    expect_invalid({"--trusted-proxies", "10.0.0.0/33"}, "\"10.0.0.0/33\"");
    expect_invalid({"--trusted-proxies", "10.1.0.0/8"}, "did you mean 10.0.0.0/8?");
    expect_invalid({"--max-connections-per-ip", "10000001"}, "--max-connections-per-ip");
    expect_invalid({"--max-connections-per-ip", "-1"}, "--max-connections-per-ip");
    for (const char* rate : {"1000001/s", "10/m", "/s", "ten", "-1", "1.5/s", "10/s/s"})
        expect_invalid({"--publish-rate", rate}, "--publish-rate");
    expect_invalid({"--publish-rate", "5", "--publish-burst", "0"}, "--publish-burst");
    expect_invalid({"--publish-rate", "5", "--publish-burst", "1000001"}, "--publish-burst");
    expect_invalid({}, "--max-connections-per-ip", {{"SSECAST_MAX_CONNECTIONS_PER_IP", "x"}});
}

TEST_F(ConfigFile, AbuseLimitKeys) {
    auto path = write("limits.toml",
                      "trusted-proxies = \"127.0.0.1,::1\"\n"
                      "max-connections-per-ip = 50\n"
                      "publish-rate = \"20/s\"\n"
                      "publish-burst = 40\n");
    auto cfg = accepted({"--config", path});
    EXPECT_EQ(cfg.trusted_proxies.size(), 2u);
    EXPECT_EQ(cfg.max_connections_per_ip, 50u);
    EXPECT_EQ(cfg.publish_rate, 20u);
    EXPECT_EQ(cfg.publish_burst, 40u);
}

TEST(ConfigSample, ParsesToTheDefaults) {
    const char* source_dir = std::getenv("SSECAST_SOURCE_DIR");
    if (source_dir == nullptr || *source_dir == '\0') {
        GTEST_SKIP() << "SSECAST_SOURCE_DIR is not set";
    }
    auto path = fs::path(source_dir) / "config" / "ssecast.toml";
    ASSERT_TRUE(fs::is_regular_file(path)) << path;
    auto cfg = accepted({"--config", path.string()});
    expect_same(cfg, config{});
    EXPECT_EQ(cfg.config_file, std::optional<std::string>(path.string()));
}


// --- TOML syntax and types ------------------------------------------------------------------------

// Each broken file is refused with exit 2, naming the file, the line and the column.
TEST_F(ConfigFile, BrokenTomlNamesFileLineAndColumn) {
    struct broken {
        const char* text;
        const char* where;  // ":LINE:" the error is on
    } cases[] = {
        {"history = 5\n[x\n", ":2:"},                        // unclosed table header
        {"heartbeat = \"2s\nhistory = 5\n", ":1:"},          // unterminated string
        {"history = 5 5\n", ":1:"},                           // two values
        {"history = 5\nheartbeat = \"1s\"\nhistory = 6\n", ":3:"},  // a key given twice
        {"history 5\n", ":1:"},                               // no =
    };
    for (const auto& c : cases) {
        auto path = write("broken.toml", c.text);
        auto exit = exited({"--config", path});
        EXPECT_EQ(exit.exit_code, 2) << c.text;
        EXPECT_NE(exit.output.find(path + c.where), std::string::npos)
            << "for " << c.text << ":\n" << exit.output;
        // FILE:LINE:COLUMN: what
        auto at = exit.output.find(path + c.where);
        if (at != std::string::npos) {
            auto column = exit.output.substr(at + path.size() + std::strlen(c.where));
            EXPECT_TRUE(!column.empty() && std::isdigit(static_cast<unsigned char>(column[0])))
                << exit.output;
        }
    }
}

TEST_F(ConfigFile, TomlTypesTheOptionsTake) {
    auto path = write("types.toml",
                      "history = 50\n"
                      "heartbeat = 20\n"  // a bare number of seconds
                      "demo-page = false\n"
                      "access-log = false\n"
                      "trusted-proxies = [\"127.0.0.1\", \"::1\"]\n"
                      "cors-origins = [\"https://a.example\"]\n");
    auto cfg = accepted({"--config", path});
    EXPECT_EQ(cfg.history, 50u);
    EXPECT_EQ(cfg.heartbeat, 20s);
    EXPECT_FALSE(cfg.demo_page);
    EXPECT_FALSE(cfg.access_log);
    EXPECT_EQ(cfg.trusted_proxies.size(), 2u);
    EXPECT_EQ(cfg.cors_origins, std::vector<std::string>{"https://a.example"});

    for (const char* bad : {"history = 5.5\n", "heartbeat = 1979-05-27\n", "[listen]\nx = 1\n",
                            "history = [1, 2]\n", "trusted-proxies = [1]\n"}) {
        auto file = write("bad.toml", bad);
        auto exit = exited({"--config", file});
        EXPECT_EQ(exit.exit_code, 2) << bad;
        EXPECT_NE(exit.output.find(file + ":1:"), std::string::npos) << bad << exit.output;
    }
}

TEST_F(ConfigFile, UnknownKeyNamesItsLine) {
    auto path = write("bad.toml", "heartbeat = \"2s\"\n\nbogus-key = 1\n");
    auto exit = exited({"--config", path});
    EXPECT_EQ(exit.exit_code, 2);
    EXPECT_NE(exit.output.find(path + ":3:1: unknown key \"bogus-key\""), std::string::npos)
        << exit.output;
}

// --- sources and --check-config ------------------------------------------------------------------

std::string source_of(const config& cfg, const std::string& name) {
    for (const auto& s : cfg.settings) {
        if (s.name == name) return s.source;
    }
    return "missing";
}

TEST_F(ConfigFile, EverySettingSaysWhereItCameFrom) {
    auto path = write("c.toml", "history = 50\nheartbeat = \"2s\"\nmax-body = \"2KiB\"\n");
    auto cfg = accepted({"--config", path, "--heartbeat", "4s"},
                        {{"SSECAST_MAX_BODY", "3KiB"}, {"SSECAST_THREADS", "2"}});
    EXPECT_EQ(source_of(cfg, "heartbeat"), "flag");
    EXPECT_EQ(source_of(cfg, "max-body"), "env SSECAST_MAX_BODY");
    EXPECT_EQ(source_of(cfg, "threads"), "env SSECAST_THREADS");
    EXPECT_EQ(source_of(cfg, "history"), "file " + path + ":1");
    EXPECT_EQ(source_of(cfg, "max-queue"), "default");
    EXPECT_FALSE(cfg.check_only);
    EXPECT_TRUE(accepted({"--check-config"}).check_only);
}

// A wrong value, whatever it is, gets the option's one message: its expected values, and where
// the value came from when not from a flag.
TEST_F(ConfigFile, OneMessagePerOption) {
    auto message = [](const config_exit& exit) {
        auto at = exit.output.find("expected ");
        return at == std::string::npos ? exit.output : exit.output.substr(at);
    };
    for (const auto& [flag, bad] : std::vector<std::pair<std::string, std::vector<std::string>>>{
             {"--max-stream-duration", {"500ms", "8d", "soon", "-1s"}},
             {"--heartbeat", {"1d", "50ms", "1.5s", "x"}},
             {"--max-body", {"1", "65MiB", "64kibs", "1.5M"}},
             {"--history", {"-1", "1000001", "ten"}},
             {"--jwt-leeway", {"1500ms", "2h", "x"}},
             {"--publish-rate", {"1000001/s", "10/m", "ten"}}}) {
        std::string first;
        for (const auto& value : bad) {
            auto exit = exited({flag, value});
            EXPECT_EQ(exit.exit_code, 2);
            EXPECT_NE(exit.output.find(flag + " = \"" + value + "\": expected "), std::string::npos)
                << exit.output;
            if (first.empty()) first = message(exit);
            EXPECT_EQ(message(exit), first) << flag << " " << value;
        }
    }
    auto path = write("c.toml", "heartbeat = \"50ms\"\n");
    auto from_file = exited({"--config", path});
    EXPECT_NE(from_file.output.find("--heartbeat = \"50ms\" (file " + path + ":1): expected"),
              std::string::npos)
        << from_file.output;
    auto from_env = exited({}, {{"SSECAST_HEARTBEAT", "50ms"}});
    EXPECT_NE(from_env.output.find("--heartbeat = \"50ms\" (env SSECAST_HEARTBEAT): expected"),
              std::string::npos)
        << from_env.output;
}

}  // namespace
