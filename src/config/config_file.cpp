#include "ssecast/config/config_file.hpp"

#include <toml++/toml.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace ssecast {

namespace {

std::string where(const std::string& path, const toml::source_region& source) {
    return path + ":" + std::to_string(source.begin.line) + ":" +
           std::to_string(source.begin.column) + ": ";
}

// The text of a scalar an option can take, or nothing.
std::optional<std::string> scalar_text(const toml::node& node) {
    if (auto s = node.as_string()) return s->get();
    if (auto i = node.as_integer()) return std::to_string(i->get());
    if (auto b = node.as_boolean()) return std::string(b->get() ? "true" : "false");
    return std::nullopt;
}

}  // namespace

config_file_contents read_config_file(const std::string& path) {
    config_file_contents out;
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
        out.problems.push_back(path + ": cannot read the config file: it is a directory");
        return out;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        out.problems.push_back(path + ": cannot read the config file: " + std::strerror(errno));
        return out;
    }
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) {
        out.problems.push_back(path + ": cannot read the config file: " + std::strerror(errno));
        return out;
    }

    toml::table table;
    try {
        table = toml::parse(text.str(), path);
    } catch (const toml::parse_error& e) {
        out.problems.push_back(where(path, e.source()) + std::string(e.description()));
        return out;
    }

    for (const auto& [key, node] : table) {
        const auto& source = key.source();
        file_setting setting{{}, false, source.begin.line, source.begin.column};
        std::string name(key.str());
        if (auto value = scalar_text(node)) {
            setting.text = *value;
        } else if (auto array = node.as_array()) {
            setting.from_array = true;
            bool strings = true;
            for (const auto& item : *array) {
                if (!item.is_string()) strings = false;
                if (strings)
                    setting.text += (setting.text.empty() ? "" : ",") + *item.value<std::string>();
            }
            if (!strings) {
                out.problems.push_back(where(path, source) + "\"" + name +
                                       "\": an array may only hold strings");
                continue;
            }
        } else {
            out.problems.push_back(where(path, source) + "\"" + name +
                                   (node.is_table() ? "\": ssecast's options are top-level keys, "
                                                      "not tables"
                                                    : "\": expected a string, a whole number or "
                                                      "true/false"));
            continue;
        }
        out.settings.emplace(std::move(name), std::move(setting));
    }
    return out;
}

}  // namespace ssecast
