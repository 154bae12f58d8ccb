#include "ssecast/app/config_check.hpp"

#include <cstdio>
#include <filesystem>

#include "ssecast/version.hpp"

namespace ssecast {

namespace {

// A TOML basic string.
std::string quoted(const std::string& text) {
    std::string out = "\"";
    for (char c : text) {
        auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (u < 0x20 || u == 0x7f) {
            char escape[8];
            std::snprintf(escape, sizeof escape, "\\u%04x", u);
            out += escape;
        } else {
            out += c;
        }
    }
    return out + "\"";
}

}  // namespace

credential_sources credential_sources_of(const config& cfg) {
    return {cfg.publish_tokens_file,
            cfg.jwt_secret_file,
            cfg.jwt_public_key_file,
            {cfg.jwt_audience, cfg.jwt_issuer, cfg.jwt_leeway}};
}

int check_config(const config& cfg, std::ostream& out, std::ostream& err) {
    auto loaded = credential_set::load(credential_sources_of(cfg));
    if (auto* problem = std::get_if<load_error>(&loaded)) {
        err << "ssecast: invalid configuration:\n" << problem->message << "\n";
        return 2;
    }
    // The database itself is the daemon's to open (it may be in use right now); its place must
    // exist, or the start would fail with exit code 3.
    std::error_code ec;
    if (cfg.data_dir && !std::filesystem::is_directory(*cfg.data_dir, ec)) {
        err << "ssecast: invalid configuration:\n--data-dir " << *cfg.data_dir
            << ": no such directory\n";
        return 2;
    }
    out << "# ssecast " << version << ": the configuration is valid\n"
        << "# config file: " << cfg.config_file.value_or("none") << "\n";
    for (const auto& s : cfg.settings) {
        auto line = s.name + " = " + quoted(s.text);
        if (line.size() < 44) line.resize(44, ' ');
        out << line << " # " << s.source << "\n";
    }
    return 0;
}

}  // namespace ssecast
