#include "ssecast/config/config.hpp"

#include <CLI/CLI.hpp>
#include <sstream>

#include "ssecast/config/config_file.hpp"
#include "ssecast/config/option_table.hpp"
#include "ssecast/version.hpp"

namespace ssecast {

namespace {

constexpr std::string_view units_footer =
    "Durations (D): a whole number and ms, s, m, h or d (500ms, 15s, 2m, 1h, 7d); a bare number\n"
    "is seconds. Sizes: bytes, or a whole number and K, M or G (also KB/KiB, MB/MiB, GB/GiB, in\n"
    "any case; all powers of 1024). Booleans: true/false, on/off, yes/no, 1/0.\n"
    "Exit status: 0 (also for --help, --version and a valid --check-config), 1 when it cannot\n"
    "listen, 2 for an invalid configuration.";

// The checks that involve several options; each names the options it is about.
void check_combinations(const config& cfg, const std::vector<config_setting>& settings,
                        std::ostringstream& errors) {
    auto given = [&](std::string_view name) {
        for (const auto& s : settings) {
            if (s.name == name) return !s.text.empty();
        }
        return false;
    };
    bool jwt_key = cfg.jwt_secret_file || cfg.jwt_public_key_file;
    for (const char* name : {"jwt-audience", "jwt-issuer"}) {
        if (given(name) && !jwt_key)
            errors << "--" << name << " needs --jwt-secret-file or --jwt-public-key-file\n";
    }
    if (cfg.publish_auth != publish_auth::loopback && !cfg.credentials_configured()) {
        errors << "--publish-auth needs --publish-tokens-file, --jwt-secret-file or "
                  "--jwt-public-key-file for anything but loopback\n";
    }
    if (!cfg.private_channels.empty() && !jwt_key) {
        errors << "--private-channels needs --jwt-secret-file or --jwt-public-key-file: "
                  "subscribers of private channels show a JWT\n";
    }
    if (cfg.cors_credentials && cfg.cors_origins == std::vector<std::string>{"*"}) {
        errors << "--cors-credentials = true needs an explicit --cors-origins list: browsers "
                  "refuse credentials with \"*\"\n";
    }
}

}  // namespace

std::variant<config, config_exit> parse_config(const std::vector<std::string>& args,
                                               const env_lookup& env) {
    const auto& table = option_table();
    CLI::App app{
        "ssecast: a Server-Sent Events broadcast daemon.\n"
        "Every option can also be set with the environment variable shown, or as a key of\n"
        "the same name (without --) in the TOML file given with --config.\n"
        "Precedence: flag, then environment, then file, then default.",
        "ssecast"};
    app.set_version_flag("--version", std::string("ssecast ") + version);
    app.footer(std::string(units_footer));
    app.get_formatter()->column_width(34);

    std::string config_path;
    auto* config_flag =
        app.add_option("--config", config_path, "TOML configuration file (env SSECAST_CONFIG)")
            ->type_name("FILE");
    bool check_only = false;
    app.add_flag("--check-config", check_only,
                 "validate the configuration (values, files named by options), print it with "
                 "where each value comes from, and exit: 0 valid, 2 invalid");

    std::vector<std::string> flag_values(table.size());
    std::vector<CLI::Option*> flags;
    for (std::size_t i = 0; i < table.size(); ++i) {
        const auto& o = table[i];
        auto help = std::string(o.help) + "; " + o.range;
        if (!o.default_text.empty()) help += "; default " + std::string(o.default_text);
        help += " (env " + o.env() + ")";
        flags.push_back(app.add_option(o.flag(), flag_values[i], help)
                            ->type_name(std::string(o.metavar))
                            ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast));
    }

    std::vector<std::string> argv_strings(args.begin() + (args.empty() ? 0 : 1), args.end());
    std::reverse(argv_strings.begin(), argv_strings.end());  // CLI11 takes them in reverse
    try {
        app.parse(argv_strings);
    } catch (const CLI::CallForHelp&) {
        return config_exit{0, app.help()};
    } catch (const CLI::CallForVersion&) {
        return config_exit{0, std::string("ssecast ") + version + "\n"};
    } catch (const CLI::ParseError& e) {
        return config_exit{2, "ssecast: invalid configuration: " + std::string(e.what()) + "\n"};
    }

    // An empty variable counts as unset, as most deployment tools write it that way.
    auto env_value = [&](const std::string& name) -> std::optional<std::string> {
        auto value = env(name);
        if (!value || value->empty()) return std::nullopt;
        return value;
    };
    std::ostringstream errors;
    config cfg;
    cfg.check_only = check_only;
    if (config_flag->count() > 0) {
        cfg.config_file = config_path;
    } else {
        cfg.config_file = env_value("SSECAST_CONFIG");
    }
    config_file_contents file;
    if (cfg.config_file) {
        file = read_config_file(*cfg.config_file);
        for (const auto& problem : file.problems) errors << problem << "\n";
        for (const auto& [key, setting] : file.settings) {
            auto* o = find_option(key);
            if (o == nullptr) {
                errors << *cfg.config_file << ":" << setting.line << ":" << setting.column
                       << ": unknown key \"" << key << "\" (ssecast --help lists the options)\n";
            } else if (setting.from_array && !o->takes_list) {
                errors << *cfg.config_file << ":" << setting.line << ":" << setting.column << ": \""
                       << key << "\" takes one value, not an array\n";
            }
        }
    }

    for (std::size_t i = 0; i < table.size(); ++i) {
        const auto& o = table[i];
        config_setting setting{std::string(o.name), std::string(o.default_text), "default"};
        auto in_file = file.settings.find(setting.name);
        if (flags[i]->count() > 0) {
            setting = {setting.name, flag_values[i], "flag"};
        } else if (auto value = env_value(o.env())) {
            setting = {setting.name, *value, "env " + o.env()};
        } else if (in_file != file.settings.end()) {
            setting = {setting.name, in_file->second.text,
                       "file " + *cfg.config_file + ":" + std::to_string(in_file->second.line)};
        }
        if (auto refused = o.bind(setting.text, cfg)) {
            errors << o.flag() << " = \"" << setting.text << "\"";
            if (setting.source != "flag") errors << " (" << setting.source << ")";
            errors << ": " << (refused->detail.empty() ? "" : refused->detail + "; ") << "expected "
                   << o.expected << "\n";
        }
        cfg.settings.push_back(std::move(setting));
    }
    check_combinations(cfg, cfg.settings, errors);

    auto problems = errors.str();
    if (!problems.empty()) return config_exit{2, "ssecast: invalid configuration:\n" + problems};
    return cfg;
}

}  // namespace ssecast
