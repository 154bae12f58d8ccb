// --data-dir: restarts and crashes lose nothing. The real daemon, restarted on the same directory:
// clients resume with the ids they got before, exactly, with no resync; every publish that got a
// 200 survives kill -9; a damaged database is refused with exit code 3; a full disk answers 503
// and recovers when space returns.

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "http_client.hpp"
#include "temp_dir.hpp"
#include "test_server.hpp"

using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

struct id_parts {
    std::uint64_t epoch = 0;
    std::uint64_t seq = 0;
};

id_parts parse_id(const std::string& id) {
    auto dash = id.find('-');
    return {std::stoull(id.substr(0, dash)), std::stoull(id.substr(dash + 1))};
}

std::string publish_one(std::uint16_t port, const std::string& channel, const std::string& data) {
    auto r = test::publish(port, json{{"channel", channel}, {"data", data}}.dump());
    EXPECT_EQ(r.status, 200) << r.body;
    auto body = json::parse(r.body, nullptr, false);
    return body.is_object() ? body.value("id", std::string()) : std::string();
}

std::vector<std::string> args_for(const std::filesystem::path& dir, const std::string& fsync,
                                  std::vector<std::string> more = {}) {
    std::vector<std::string> args{"--data-dir", dir.string(), "--fsync", fsync,
                                  "--max-connections-per-ip", "0"};
    args.insert(args.end(), more.begin(), more.end());
    return args;
}

// Subscribes with `last_id` and reads until `until_id` has arrived; the events it got.
std::vector<sse_test::event> replay(std::uint16_t port, const std::string& channel,
                                    const std::string& last_id, const std::string& until_id) {
    test::sse_client client(port, "/events?channel=" + channel, {{"Last-Event-ID", last_id}});
    EXPECT_EQ(client.status(), 200);
    // Until `until_id` or a later one has arrived (events stored but never acknowledged may
    // follow it), or a resync.
    auto until = parse_id(until_id).seq;
    auto deadline = test::clock::now() + 20s;
    while (test::clock::now() < deadline) {
        const auto& got = client.events();
        if (!got.empty() && (got.back().type == "resync" || parse_id(got.back().last_event_id).seq >= until))
            break;
        client.wait_events(got.size() + 1, 200ms);
    }
    return client.events();
}

class DurabilityPolicies : public ::testing::TestWithParam<std::string> {};

// SIGTERM and a restart on the same directory: the ids go on in the same epoch, and a client
// resuming from an id given out before the restart gets exactly what came after it.
TEST_P(DurabilityPolicies, RestartResumesExactlyWithTheSameEpoch) {
    test::temp_dir data;
    std::vector<std::string> before;
    {
        test::server s(args_for(data.root(), GetParam()));
        for (int i = 0; i < 5; ++i) before.push_back(publish_one(s.port(), "news", "b" + std::to_string(i)));
        auto stopped = s.stop();
        ASSERT_TRUE(stopped.exited);
        EXPECT_EQ(stopped.code, 0) << s.log();
    }
    test::server s(args_for(data.root(), GetParam()));
    EXPECT_TRUE(s.wait_for_log("5 events read back")) << s.log();
    std::vector<std::string> after;
    for (int i = 0; i < 3; ++i) after.push_back(publish_one(s.port(), "news", "a" + std::to_string(i)));
    auto first = parse_id(before.front());
    for (std::size_t i = 0; i < after.size(); ++i) {
        auto id = parse_id(after[i]);
        EXPECT_EQ(id.epoch, first.epoch) << "the epoch is kept";
        EXPECT_EQ(id.seq, first.seq + before.size() + i) << "the seqs go on";
    }
    auto got = replay(s.port(), "news", before[1], after.back());
    std::vector<std::string> ids, datas;
    for (const auto& e : got) {
        EXPECT_NE(e.type, "resync") << e.data;
        ids.push_back(e.last_event_id);
        datas.push_back(e.data);
    }
    std::vector<std::string> want_ids(before.begin() + 2, before.end());
    want_ids.insert(want_ids.end(), after.begin(), after.end());
    EXPECT_EQ(ids, want_ids);
    EXPECT_EQ(datas, (std::vector<std::string>{"b2", "b3", "b4", "a0", "a1", "a2"}));
}

// kill -9 while 4 publishers publish as fast as they can: every event that got a 200 is there
// after the restart, in order, once, without a resync; for several kill points, each run on the
// directory of the one before.
TEST_P(DurabilityPolicies, KillNineLosesNoAcknowledgedEvent) {
    test::temp_dir data;
    std::vector<std::string> acknowledged;  // every run's, in no particular order
    std::optional<std::uint64_t> epoch;
    for (int run = 0; run < 3; ++run) {
        auto s = std::make_unique<test::server>(args_for(data.root(), GetParam(), {"--history", "100000"}));
        std::mutex mutex;
        std::atomic<bool> stop{false};
        std::atomic<int> acks{0};
        std::vector<std::thread> publishers;
        for (int p = 0; p < 4; ++p) {
            publishers.emplace_back([&, p] {
                try {
                    test::publisher pub(s->port());
                    for (int i = 0; i < 100000 && !stop; ++i) {
                        auto r = pub.post(json{{"channel", "load"}, {"data", std::to_string(p) + ":" + std::to_string(i)}}.dump());
                        if (r.status != 200) return;  // killed
                        auto id = json::parse(r.body).value("id", std::string());
                        std::lock_guard lock(mutex);
                        acknowledged.push_back(id);
                        ++acks;
                    }
                } catch (const std::exception&) {
                    // The connection died with the daemon.
                }
            });
        }
        // A different kill point each run: after 200, 1200, 2200 acknowledged events.
        auto wanted = 200 + 1000 * run;
        EXPECT_TRUE(test::eventually([&] { return acks >= wanted; }, 60s));
        s->signal(SIGKILL);
        auto killed = s->wait_exit(10s);
        stop = true;
        for (auto& t : publishers) t.join();
        EXPECT_TRUE(killed.exited);
        EXPECT_EQ(killed.code, 128 + SIGKILL);
        s.reset();

        test::server after(args_for(data.root(), GetParam(), {"--history", "100000"}));
        std::set<std::uint64_t> want;
        std::string newest;
        {
            std::lock_guard lock(mutex);
            for (const auto& id : acknowledged) {
                auto parts = parse_id(id);
                if (!epoch) epoch = parts.epoch;
                EXPECT_EQ(parts.epoch, *epoch) << "the epoch is kept across kill -9";
                want.insert(parts.seq);
            }
        }
        ASSERT_FALSE(want.empty());
        newest = std::to_string(*epoch) + "-" + std::to_string(*want.rbegin());
        // From the start of the epoch: the whole history, up to the newest acknowledged.
        auto got = replay(after.port(), "load", std::to_string(*epoch) + "-0", newest);
        std::set<std::uint64_t> have;
        std::uint64_t previous = 0;
        for (const auto& e : got) {
            ASSERT_NE(e.type, "resync") << e.data;
            auto seq = parse_id(e.last_event_id).seq;
            EXPECT_GT(seq, previous) << "strictly increasing, no duplicate";
            previous = seq;
            have.insert(seq);
        }
        std::vector<std::uint64_t> lost;
        for (auto seq : want) {
            if (!have.count(seq)) lost.push_back(seq);
        }
        EXPECT_TRUE(lost.empty()) << lost.size() << " acknowledged events lost (run " << run
                                  << ", fsync " << GetParam() << "), first " << lost.front();
        EXPECT_TRUE(after.stop().exited);
    }
}

INSTANTIATE_TEST_SUITE_P(Fsync, DurabilityPolicies, ::testing::Values("always", "batch", "off"));

TEST(Durability, DamagedDatabaseIsRefusedWithExitCode3) {
    test::temp_dir data;
    {
        std::ofstream garbage(data.root() / "ssecast.db", std::ios::binary);
        for (int i = 0; i < 4096; ++i) garbage << "not a database ";
    }
    auto r = test::run_ssecast({"--listen", "127.0.0.1:0", "--data-dir", data.root().string()});
    ASSERT_TRUE(r.status.exited) << r.err;
    EXPECT_EQ(r.status.code, 3) << r.err;
    EXPECT_NE(r.err.find("ssecast.db"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("cannot use --data-dir"), std::string::npos) << r.err;
}

TEST(Durability, TruncatedDatabaseIsRefusedOrStartsConsistent) {
    test::temp_dir data;
    std::vector<std::string> ids;
    {
        test::server s(args_for(data.root(), "always"));
        for (int i = 0; i < 300; ++i)
            ids.push_back(publish_one(s.port(), "c" + std::to_string(i % 7), std::string(2000, 'x')));
        ASSERT_EQ(s.stop().code, 0);
    }
    auto file = data.root() / "ssecast.db";
    std::filesystem::resize_file(file, std::filesystem::file_size(file) / 2);
    test::process p({test::daemon_binary(), "--listen", "127.0.0.1:0", "--data-dir", data.root().string()},
                    {}, data.root() / "out", data.root() / "err");
    auto status = p.wait(20s);
    auto err = test::read_file(data.root() / "err");
    ASSERT_TRUE(status.exited) << "a truncated database is refused, not served: " << err;
    EXPECT_EQ(status.code, 3) << err;
    EXPECT_NE(err.find("ssecast.db"), std::string::npos) << err;
}

// Two daemons on one directory would give out the same ids: the second is refused.
TEST(Durability, SecondDaemonOnTheSameDirectoryIsRefused) {
    test::temp_dir data;
    test::server first(args_for(data.root(), "always"));
    auto r = test::run_ssecast({"--listen", "127.0.0.1:0", "--data-dir", data.root().string()});
    ASSERT_TRUE(r.status.exited) << r.err;
    EXPECT_EQ(r.status.code, 3) << r.err;
    EXPECT_NE(r.err.find("is in use by another ssecast"), std::string::npos) << r.err;
    EXPECT_EQ(publish_one(first.port(), "still", "served").empty(), false);
}

TEST(Durability, MissingDirectoryIsRefusedWithExitCode3) {
    test::temp_dir data;
    auto r = test::run_ssecast({"--listen", "127.0.0.1:0", "--data-dir", (data.root() / "nope").string()});
    ASSERT_TRUE(r.status.exited) << r.err;
    EXPECT_EQ(r.status.code, 3) << r.err;
    EXPECT_NE(r.err.find("does not exist"), std::string::npos) << r.err;
}

// A small tmpfs as the data directory: once it is full, publishes get 503 with a JSON error and
// /readyz is not ready; nothing refused is ever delivered; when space returns, both recover.
TEST(Durability, FullDiskAnswers503AndRecovers) {
    test::temp_dir data;
    if (::mount("tmpfs", data.root().c_str(), "tmpfs", 0, "size=4m") != 0) {
        GTEST_SKIP() << "cannot mount a tmpfs here (" << std::strerror(errno)
                     << "): CI runs as root, where it can";
    }
    struct unmount {
        std::filesystem::path dir;
        ~unmount() { ::umount2(dir.c_str(), MNT_DETACH); }
    } cleanup{data.root()};
    test::server s(args_for(data.root(), "always", {"--history", "100000", "--max-body", "256KiB"}));
    test::sse_client watcher(s.port(), "/events?channel=disk");
    // Leave about 256 KiB free, then publish 64 KiB events until the disk is full.
    {
        auto free_now = std::filesystem::space(data.root()).available;
        std::ofstream filler(data.root() / "filler", std::ios::binary);
        std::string block(64 * 1024, 'f');
        for (std::uintmax_t written = 0; written + 256 * 1024 + block.size() < free_now; written += block.size())
            filler << block;
    }
    std::string payload(60 * 1024, 'p');
    int accepted = 0;
    test::http_response refused;
    for (int i = 0; i < 200; ++i) {
        auto r = test::publish(s.port(), json{{"channel", "disk"}, {"data", payload + std::to_string(i)}}.dump());
        if (r.status == 200) {
            ++accepted;
            continue;
        }
        refused = r;
        break;
    }
    ASSERT_EQ(refused.status, 503) << "the disk never filled: " << accepted << " accepted";
    auto body = json::parse(refused.body, nullptr, false);
    ASSERT_TRUE(body.is_object()) << refused.body;
    EXPECT_NE(body.value("error", std::string()).find("full"), std::string::npos) << refused.body;
    auto ready = test::request(s.port(), "GET", "/readyz");
    EXPECT_EQ(ready.status, 503) << ready.body;
    auto metrics = test::request(s.port(), "GET", "/metrics").body;
    EXPECT_EQ(metrics.find("ssecast_storage_write_errors_total 0\n"), std::string::npos);
    // Exactly the accepted events reached the subscriber: none of the refused.
    EXPECT_TRUE(watcher.wait_events(static_cast<std::size_t>(accepted)));

    std::filesystem::remove(data.root() / "filler");
    EXPECT_TRUE(test::eventually([&] { return test::request(s.port(), "GET", "/readyz").status == 200; }, 10s))
        << "ready again once space returns";
    auto again = test::publish(s.port(), json{{"channel", "disk"}, {"data", "after"}}.dump());
    EXPECT_EQ(again.status, 200) << again.body;
    ASSERT_TRUE(watcher.wait_events(static_cast<std::size_t>(accepted) + 1));
    EXPECT_EQ(watcher.events().back().data, "after");
    EXPECT_EQ(watcher.events().size(), static_cast<std::size_t>(accepted) + 1);
}

// The file holds what the history holds: 4000 events of 1 KiB on a channel that keeps 50 leave a
// database of about that much, not of 4 MB, once the periodic checkpoint has run.
TEST(Durability, DatabaseSizeStaysBoundedByTheHistory) {
    test::temp_dir data;
    test::server s(args_for(data.root(), "off", {"--history", "50"}));
    test::publisher pub(s.port());
    std::string payload(1024, 'k');
    for (int i = 0; i < 4000; ++i) {
        auto batch = json::array();
        batch.push_back({{"channel", "big"}, {"data", payload}});
        ASSERT_EQ(pub.post(batch.dump()).status, 200);
    }
    auto size = [&] {
        auto text = test::request(s.port(), "GET", "/metrics").body;
        auto at = text.find("\nssecast_storage_database_bytes ");
        return at == std::string::npos ? ~0ull : std::stoull(text.substr(at + 32));
    };
    std::uint64_t seen = 0;
    EXPECT_TRUE(test::eventually([&] { return (seen = size()) < 512 * 1024; }, 15s))
        << "database + WAL still " << seen << " bytes";
    std::uintmax_t files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(data.root()))
        files += entry.is_regular_file() ? entry.file_size() : 0;
    EXPECT_LT(files, 1024u * 1024u) << "on disk";
    std::cout << "steady-state size with --history 50 x 1 KiB after 4000 events: " << seen
              << " bytes (database + WAL), " << files << " bytes in the directory\n";
}

TEST(Durability, MetricsShowTheCommits) {
    test::temp_dir data;
    test::server s(args_for(data.root(), "always"));
    for (int i = 0; i < 3; ++i) publish_one(s.port(), "m", "x");
    auto text = test::request(s.port(), "GET", "/metrics").body;
    for (const char* family :
         {"ssecast_storage_commit_seconds_bucket", "ssecast_storage_events_per_commit_bucket",
          "ssecast_storage_database_bytes", "ssecast_storage_write_errors_total 0",
          "ssecast_storage_events_committed_total 3"}) {
        EXPECT_NE(text.find(family), std::string::npos) << family;
    }
    // Private channels' events are in there: only the daemon's user may read them.
    for (const char* name : {"ssecast.db", "ssecast.db-wal"}) {
        auto perms = std::filesystem::status(data.root() / name).permissions();
        EXPECT_EQ(perms & (std::filesystem::perms::group_all | std::filesystem::perms::others_all),
                  std::filesystem::perms::none)
            << name;
    }
}

}  // namespace
