// Log formats: --log-format json, and lines for systemd's journal when stderr is the journal
// (JOURNAL_STREAM names it, set up by the test as systemd does).

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "test_server.hpp"

using namespace std::chrono_literals;

namespace {

TEST(LogFormat, JsonLinesAreObjectsWithTimeLevelAndEscapedMessage) {
    auto dir = test::make_temp_dir();
    auto file = dir / "ssecast.toml";
    std::ofstream(file) << "log-level = \"info\"\n";
    test::server s({"--log-format", "json", "--config", file.string()});
    // A failed reload logs the configuration error: quotes and a line break inside a message.
    std::ofstream(file) << "log-level = \"loud\"\n";
    s.signal(SIGHUP);
    ASSERT_TRUE(s.wait_for_log("not reloaded"));
    EXPECT_EQ(s.stop().code, 0);

    auto lines = test::split_lines(s.log());
    ASSERT_GE(lines.size(), 3u) << s.log();
    bool saw_start = false;
    bool saw_error = false;
    for (const auto& line : lines) {
        nlohmann::json j;
        ASSERT_NO_THROW(j = nlohmann::json::parse(line)) << line;
        ASSERT_TRUE(j.is_object()) << line;
        EXPECT_EQ(j.size(), 3u) << line;
        ASSERT_TRUE(j["time"].is_string()) << line;
        ASSERT_TRUE(j["level"].is_string()) << line;
        ASSERT_TRUE(j["message"].is_string()) << line;
        // 2024-05-01T12:34:56.789Z
        auto time = j["time"].get<std::string>();
        ASSERT_EQ(time.size(), 24u) << time;
        EXPECT_EQ(time[4], '-');
        EXPECT_EQ(time[10], 'T');
        EXPECT_EQ(time[19], '.');
        EXPECT_EQ(time.back(), 'Z');
        auto message = j["message"].get<std::string>();
        if (message.rfind("ssecast 0.1.0 listening on 127.0.0.1:", 0) == 0) {
            saw_start = true;
            EXPECT_EQ(j["level"], "info");
        }
        if (message.find("not reloaded") != std::string::npos) {
            saw_error = true;
            EXPECT_EQ(j["level"], "error");
            EXPECT_NE(message.find("--log-level = \"loud\""), std::string::npos) << message;
            EXPECT_NE(message.find('\n'), std::string::npos) << message;
        }
    }
    EXPECT_TRUE(saw_start) << s.log();
    EXPECT_TRUE(saw_error) << s.log();
    std::filesystem::remove_all(dir);
}

TEST(LogFormat, JournalGetsPriorityPrefixesAndNoTimestamp) {
    auto dir = test::make_temp_dir();
    auto file = dir / "ssecast.toml";
    std::ofstream(file) << "log-level = \"info\"\n";
    test::launch_options launch;
    launch.journal_stream = true;
    test::server s({"--config", file.string()}, {}, launch);
    std::ofstream(file) << "log-level = \"loud\"\n";
    s.signal(SIGHUP);
    ASSERT_TRUE(s.wait_for_log("not reloaded"));
    EXPECT_EQ(s.stop().code, 0);

    auto lines = test::split_lines(s.log());
    auto has = [&](const std::string& start) {
        return std::any_of(lines.begin(), lines.end(),
                           [&](const std::string& line) { return line.rfind(start, 0) == 0; });
    };
    EXPECT_TRUE(has("<6>info ssecast 0.1.0 listening on 127.0.0.1:")) << s.log();
    EXPECT_TRUE(has("<3>error SIGHUP: configuration not reloaded")) << s.log();
    EXPECT_TRUE(has("<6>info ssecast stopped")) << s.log();
    // Every line: a priority, then the level; no time (the journal records it).
    for (const auto& line : lines) {
        if (line.rfind("--log-level", 0) == 0 || line.empty()) continue;  // the error's own lines
        ASSERT_GE(line.size(), 4u) << line;
        EXPECT_EQ(line[0], '<') << line;
        EXPECT_EQ(line[2], '>') << line;
        EXPECT_TRUE(line[3] >= 'a' && line[3] <= 'z') << line;
    }
}

TEST(LogFormat, JournalJsonLinesCarryThePrefixToo) {
    test::launch_options launch;
    launch.journal_stream = true;
    test::server s({"--log-format", "json"}, {}, launch);
    EXPECT_EQ(s.stop().code, 0);
    auto lines = test::split_lines(s.log());
    ASSERT_FALSE(lines.empty());
    const std::map<std::string, std::string> priorities = {
        {"info", "<6>"}, {"warning", "<4>"}, {"error", "<3>"}, {"critical", "<2>"}};
    for (const auto& line : lines) {
        ASSERT_GT(line.size(), 4u) << line;
        nlohmann::json j;
        ASSERT_NO_THROW(j = nlohmann::json::parse(line.substr(3))) << line;
        auto level = j["level"].get<std::string>();
        ASSERT_TRUE(priorities.count(level)) << line;
        EXPECT_EQ(line.substr(0, 3), priorities.at(level)) << line;
    }
}

TEST(LogFormat, InheritedJournalStreamForAnotherStreamIsIgnored) {
    // stderr is a file here, not the stream JOURNAL_STREAM names: plain timestamped lines.
    test::server s({}, {{"JOURNAL_STREAM", "1:1"}});
    auto log = s.log();
    EXPECT_NE(log.rfind("<", 0), 0u) << log;
    ASSERT_GE(log.size(), 24u);
    EXPECT_EQ(log[4], '-') << log;
    EXPECT_EQ(log[10], 'T') << log;
    EXPECT_NE(log.find(" info ssecast 0.1.0 listening on"), std::string::npos) << log;
}

}  // namespace
