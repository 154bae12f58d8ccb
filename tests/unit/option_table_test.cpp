// The option table is the one description of every option: these tests hold --help, README's
// options table and the sample config/ssecast.toml to it, so that none of them can drift.

#include "ssecast/config/option_table.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "ssecast/config/config.hpp"

namespace {

namespace fs = std::filesystem;

std::string source_file(const std::string& relative) {
    const char* dir = std::getenv("SSECAST_SOURCE_DIR");
    if (dir == nullptr || *dir == '\0') return {};
    std::ifstream in(fs::path(dir) / relative);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

// The cells of a Markdown table row; "\|" stays inside a cell.
std::vector<std::string> cells_of(const std::string& row) {
    std::vector<std::string> cells;
    std::string cell;
    for (std::size_t i = 1; i < row.size(); ++i) {
        if (row[i] == '|' && row[i - 1] != '\\') {
            auto begin = cell.find_first_not_of(' ');
            auto end = cell.find_last_not_of(' ');
            cells.push_back(begin == std::string::npos ? "" : cell.substr(begin, end - begin + 1));
            cell.clear();
        } else {
            cell += row[i];
        }
    }
    return cells;
}

TEST(OptionTable, NamesAreUniqueAndWellFormed) {
    std::set<std::string> names;
    for (const auto& o : ssecast::option_table()) {
        EXPECT_TRUE(names.insert(std::string(o.name)).second) << o.name;
        EXPECT_TRUE(std::regex_match(std::string(o.name), std::regex("[a-z]+(-[a-z]+)*")))
            << o.name;
        EXPECT_FALSE(o.metavar.empty()) << o.name;
        EXPECT_FALSE(o.help.empty()) << o.name;
        EXPECT_FALSE(o.range.empty()) << o.name;
        EXPECT_FALSE(o.expected.empty()) << o.name;
        // The default must be a value the option takes.
        ssecast::config cfg;
        EXPECT_FALSE(o.bind(std::string(o.default_text), cfg).has_value()) << o.name;
    }
    EXPECT_EQ(ssecast::option_table().front().flag(), "--listen");
    EXPECT_EQ(ssecast::find_option("max-connections-per-ip")->env(),
              "SSECAST_MAX_CONNECTIONS_PER_IP");
}

TEST(OptionTable, HelpShowsEveryOption) {
    auto result = ssecast::parse_config({"ssecast", "--help"},
                                        [](const std::string&) { return std::nullopt; });
    ASSERT_TRUE(std::holds_alternative<ssecast::config_exit>(result));
    auto help = std::get<ssecast::config_exit>(result).output;
    for (const auto& o : ssecast::option_table()) {
        auto lines = lines_of(help);
        auto it = std::find_if(lines.begin(), lines.end(), [&](const std::string& l) {
            return l.find("  " + o.flag() + " ") != std::string::npos;
        });
        ASSERT_NE(it, lines.end()) << o.flag() << " not in --help:\n" << help;
        EXPECT_NE(it->find(std::string(o.metavar)), std::string::npos) << *it;
        EXPECT_NE(it->find("(env " + o.env() + ")"), std::string::npos) << *it;
        EXPECT_NE(it->find(o.range), std::string::npos) << *it;
        if (!o.default_text.empty()) {
            EXPECT_NE(it->find("default " + std::string(o.default_text)), std::string::npos) << *it;
        }
    }
    EXPECT_NE(help.find("--check-config"), std::string::npos);
}

TEST(OptionTable, ReadmeOptionsTableAgrees) {
    auto readme = source_file("README.md");
    if (readme.empty()) GTEST_SKIP() << "SSECAST_SOURCE_DIR is not set";
    std::vector<std::vector<std::string>> rows;
    bool in_options = false;
    for (const auto& line : lines_of(readme)) {
        if (line.rfind("## ", 0) == 0) in_options = line == "## Options";
        if (in_options && line.rfind("| `--", 0) == 0) rows.push_back(cells_of(line));
    }
    ASSERT_FALSE(rows.empty()) << "no options table under \"## Options\"";

    std::size_t next = 0;  // README lists the options in the table's order
    for (const auto& row : rows) {
        ASSERT_GE(row.size(), 5u) << row[0];
        std::smatch flag;
        ASSERT_TRUE(std::regex_search(row[0], flag, std::regex("^`--([a-z-]+)"))) << row[0];
        const auto* o = ssecast::find_option(flag[1].str());
        if (o == nullptr) {
            static const std::set<std::string> others = {"config", "check-config", "help",
                                                         "version"};
            EXPECT_TRUE(others.count(flag[1].str())) << row[0] << " is not an option of the table";
            continue;
        }
        const auto& table = ssecast::option_table();
        auto index = static_cast<std::size_t>(o - table.data());
        EXPECT_EQ(index, next) << row[0] << ": README's order differs from the table's, expected "
                               << (next < table.size() ? table[next].flag() : "the end");
        next = index + 1;
        EXPECT_EQ(row[0], "`" + o->flag() + " " + std::string(o->metavar) + "`");
        EXPECT_EQ(row[1], "`" + o->env() + "`") << row[0];
        EXPECT_EQ(row[2], "`" + std::string(o->name) + "`") << row[0];
        if (o->default_text.empty()) {
            EXPECT_TRUE(row[3].rfind("none", 0) == 0 || row[3].rfind("empty", 0) == 0)
                << row[0] << ": default is empty, README says " << row[3];
        } else {
            EXPECT_EQ(row[3].rfind("`" + std::string(o->default_text) + "`", 0), 0u)
                << row[0] << ": default is " << o->default_text << ", README says " << row[3];
        }
        if (o->numeric) {
            EXPECT_NE(row[4].find(o->range), std::string::npos)
                << row[0] << ": README does not give the range " << o->range;
        }
    }
    std::set<std::string> in_readme;
    for (const auto& row : rows) in_readme.insert(row[0]);
    for (const auto& o : ssecast::option_table()) {
        EXPECT_TRUE(in_readme.count("`" + o.flag() + " " + std::string(o.metavar) + "`"))
            << o.flag() << " is missing from README's options table";
    }
}

TEST(OptionTable, SampleConfigHasEveryOptionAtItsDefault) {
    auto sample = source_file("config/ssecast.toml");
    if (sample.empty()) GTEST_SKIP() << "SSECAST_SOURCE_DIR is not set";
    std::map<std::string, std::pair<std::string, std::string>> keys;  // key -> value, comments
    std::string comments;
    std::regex key_line(R"re(^([a-z-]+) = (.*)$)re");
    for (const auto& line : lines_of(sample)) {
        std::smatch m;
        if (line.rfind("#", 0) == 0) {
            comments += line + "\n";
        } else if (std::regex_match(line, m, key_line)) {
            auto value = m[2].str();
            if (value.size() >= 2 && value.front() == '"')
                value = value.substr(1, value.size() - 2);
            EXPECT_TRUE(keys.emplace(m[1].str(), std::pair{value, comments}).second)
                << m[1] << " twice";
            comments.clear();
        }
    }
    for (const auto& o : ssecast::option_table()) {
        auto it = keys.find(std::string(o.name));
        ASSERT_NE(it, keys.end()) << o.name << " is missing from config/ssecast.toml";
        EXPECT_EQ(it->second.first, o.default_text) << o.name;
        EXPECT_NE(it->second.second.find("Env " + o.env() + "."), std::string::npos)
            << o.name << ": its comment does not name " << o.env();
        if (o.numeric) {
            EXPECT_NE(it->second.second.find(o.range), std::string::npos)
                << o.name << ": its comment does not give the range " << o.range;
        }
        keys.erase(it);
    }
    for (const auto& [key, value] : keys) ADD_FAILURE() << key << " is not an option";
}

}  // namespace
