// ssecast --check-config, the binary as an operator (or systemd's ExecStartPre=) runs it.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "test_server.hpp"

namespace {

namespace fs = std::filesystem;

// The line of the listing for `key`, empty if there is none.
std::string listing_line(const std::string& out, const std::string& key) {
    for (const auto& line : test::split_lines(out)) {
        if (line.rfind(key + " = ", 0) == 0) return line;
    }
    return {};
}

TEST(CheckConfig, PrintsTheEffectiveConfigurationWithSources) {
    auto dir = test::make_temp_dir();
    auto file = (dir / "ssecast.toml").string();
    std::ofstream(file) << "# a comment\nhistory = 50\nheartbeat = \"2s\"\nmax-body = \"2KiB\"\n";
    auto r = test::run_ssecast({"--check-config", "--config", file, "--heartbeat", "4s"},
                               {{"SSECAST_MAX_BODY", "3k"}});
    ASSERT_EQ(r.status.code, 0) << r.err;
    EXPECT_NE(r.out.find("the configuration is valid"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("# config file: " + file), std::string::npos) << r.out;
    EXPECT_NE(listing_line(r.out, "heartbeat").find("\"4s\""), std::string::npos) << r.out;
    EXPECT_NE(listing_line(r.out, "heartbeat").find("# flag"), std::string::npos) << r.out;
    EXPECT_NE(listing_line(r.out, "max-body").find("# env SSECAST_MAX_BODY"), std::string::npos);
    EXPECT_NE(listing_line(r.out, "history").find("# file " + file + ":2"), std::string::npos)
        << r.out;
    EXPECT_NE(listing_line(r.out, "max-queue").find("\"1MiB\""), std::string::npos) << r.out;
    EXPECT_NE(listing_line(r.out, "max-queue").find("# default"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("listening"), std::string::npos) << "it must not serve";
    EXPECT_TRUE(r.err.empty()) << r.err;

    // The listing is a config file that gives the same configuration.
    std::ofstream(dir / "again.toml") << r.out;
    auto again = test::run_ssecast({"--check-config", "--config", (dir / "again.toml").string()});
    ASSERT_EQ(again.status.code, 0) << again.err;
    for (const char* key : {"heartbeat", "history", "max-body", "max-queue", "listen"}) {
        auto first = listing_line(r.out, key);
        auto second = listing_line(again.out, key);
        EXPECT_EQ(first.substr(0, first.find('#')), second.substr(0, second.find('#'))) << key;
    }
    fs::remove_all(dir);
}

TEST(CheckConfig, RefusesWhatTheDaemonWouldRefuse) {
    auto dir = test::make_temp_dir();
    auto broken = (dir / "broken.toml").string();
    std::ofstream(broken) << "history = 5 5\n";
    auto r = test::run_ssecast({"--check-config", "--config", broken});
    EXPECT_EQ(r.status.code, 2);
    EXPECT_NE(r.err.find(broken + ":1:"), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;

    r = test::run_ssecast({"--check-config", "--listen", "nohost:80"});
    EXPECT_EQ(r.status.code, 2);
    EXPECT_NE(r.err.find("--listen"), std::string::npos) << r.err;

    // Files named by options are read as the daemon reads them: missing, or readable by all.
    r = test::run_ssecast({"--check-config", "--publish-tokens-file", (dir / "none").string()});
    EXPECT_EQ(r.status.code, 2);
    EXPECT_NE(r.err.find((dir / "none").string()), std::string::npos) << r.err;
    auto tokens = dir / "tokens";
    std::ofstream(tokens) << "0123456789abcdef0123456789abcdef\n";
    ::chmod(tokens.c_str(), 0644);
    r = test::run_ssecast({"--check-config", "--publish-tokens-file", tokens.string()});
    EXPECT_EQ(r.status.code, 2) << r.out;
    ::chmod(tokens.c_str(), 0600);
    r = test::run_ssecast({"--check-config", "--publish-tokens-file", tokens.string()});
    EXPECT_EQ(r.status.code, 0) << r.err;
    EXPECT_NE(listing_line(r.out, "publish-auth").find("\"\""), std::string::npos) << r.out;
    fs::remove_all(dir);
}

}  // namespace

// The daemon would exit 3 on a --data-dir that does not exist; the check says so first.
TEST(CheckConfig, RefusesAMissingDataDirectory) {
    auto dir = test::make_temp_dir();
    auto r = test::run_ssecast({"--check-config", "--data-dir", (dir / "absent").string()});
    EXPECT_EQ(r.status.code, 2);
    EXPECT_NE(r.err.find("absent: no such directory"), std::string::npos) << r.err;
    r = test::run_ssecast({"--check-config", "--data-dir", dir.string(), "--fsync", "batch"});
    EXPECT_EQ(r.status.code, 0) << r.err;
    EXPECT_FALSE(std::filesystem::exists(dir / "ssecast.db")) << "the check opens no database";
    std::filesystem::remove_all(dir);
}
