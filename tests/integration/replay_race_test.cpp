// Replay race: a publisher publishes without pause while subscribers keep dropping their
// connection and coming back with the id of the last event they saw. Every subscriber must end up
// with every event from its first one to the last, exactly once, in publish order, and no resync.

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "http_client.hpp"
#include "test_server.hpp"

using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

constexpr int kClients = 8;
constexpr int kMaxEvents = 3000;
constexpr auto kPublishFor = 20s;
constexpr int kMaxRounds = 400;   // per client; rounds also end when the publisher is done
constexpr auto kRoundsFor = 40s;  // per client, all rounds together
constexpr std::size_t kMaxPerRound = 30;

using test::publisher;

std::optional<std::uint64_t> seq_of(const std::string& id) {
    auto dash = id.find('-');
    if (dash == std::string::npos || dash + 1 >= id.size()) return std::nullopt;
    try {
        return std::stoull(id.substr(dash + 1));
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

struct published_event {
    std::string id;
    std::string data;
    bool visible = true;  // whether the subscribers' channels include it
};

struct received_event {
    std::string id;
    std::string data;
    int round = 0;
};

struct client_record {
    std::vector<received_event> events;
    std::vector<std::string> errors;
    int rounds = 0;
    int resumed_rounds = 0;  // rounds that started with a resume point
};

struct race_shared {
    std::uint16_t port = 0;
    std::string target;  // GET target of the subscription
    std::atomic<int> ready{0};
    std::atomic<bool> done{false};  // the publisher has stopped
    std::atomic<int> final_connected{0};
    std::atomic<bool> sentinel_published{false};
    std::string sentinel_id;  // written before `sentinel_published` is set
};

std::string describe(const std::vector<std::string>& errors) {
    std::ostringstream out;
    for (std::size_t i = 0; i < errors.size() && i < 10; ++i) out << "  " << errors[i] << "\n";
    if (errors.size() > 10) out << "  ... " << errors.size() - 10 << " more\n";
    return out.str();
}

// Records the events dispatched on `client` (the parser keeps a half-received event back, which
// the resume point then asks for again), and moves the resume point `last` past them.
void take_events(test::sse_client& client, int round, client_record& rec,
                 std::optional<std::string>& last) {
    for (const auto& e : client.events()) {
        if (e.type != "message") {
            rec.errors.push_back("round " + std::to_string(round) + ": unexpected event type \"" +
                                 e.type + "\" data=" + e.data.substr(0, 200));
        }
        rec.events.push_back({e.last_event_id, e.data, round});
        last = e.last_event_id;
    }
}

void run_client(int index, race_shared& shared, client_record& rec) {
    std::minstd_rand rng(7919u * static_cast<unsigned>(index + 1));
    std::optional<std::string> last;
    bool announced = false;
    // However this client ends, it counts as having made its final connection, once.
    struct final_guard {
        std::atomic<int>& count;
        bool counted = false;
        void mark() {
            if (!counted) ++count;
            counted = true;
        }
        ~final_guard() { mark(); }
    } final_connection{shared.final_connected};
    auto started = test::clock::now();
    try {
        for (int round = 0; round < kMaxRounds && test::clock::now() - started < kRoundsFor;
             ++round) {
            test::header_map headers;
            std::string target = shared.target;
            if (last) {
                ++rec.resumed_rounds;
                // Mostly the header, as EventSource sends it; sometimes the query parameter.
                if (round % 4 == 3) {
                    target += "&lastEventId=" + *last;
                } else {
                    headers["Last-Event-ID"] = *last;
                }
            }
            test::sse_client client(shared.port, target, headers);
            if (!announced) {
                announced = true;
                ++shared.ready;
            }
            if (client.status() != 200) {
                rec.errors.push_back("round " + std::to_string(round) + ": status " +
                                     std::to_string(client.status()));
                break;
            }
            auto want = 1 + rng() % kMaxPerRound;
            auto deadline = test::clock::now() + 10s;
            while (client.events().size() < want && test::clock::now() < deadline) {
                if (client.wait_events(want, 100ms)) break;
                if (client.conn().closed()) {
                    rec.errors.push_back("round " + std::to_string(round) +
                                         ": the server closed the stream");
                    break;
                }
                if (shared.done.load()) break;
            }
            take_events(client, round, rec, last);
            ++rec.rounds;
            if (shared.done.load()) break;
            // The client goes out of scope here with unread bytes: an abrupt close (RST).
        }

        // The publisher is finished: one last connection brings everything after `last`. Once
        // every client has it open, one more event (the sentinel) is published: what arrives
        // before it is the replay, so a replayed duplicate shows up deterministically.
        if (!test::eventually([&] { return shared.done.load(); }, 60s)) {
            rec.errors.push_back("the publisher did not finish");
            return;
        }
        test::header_map headers;
        if (last) headers["Last-Event-ID"] = *last;
        test::sse_client client(shared.port, shared.target, headers);
        final_connection.mark();
        if (!test::eventually([&] { return shared.sentinel_published.load(); }, 60s)) {
            rec.errors.push_back("the sentinel event was not published");
            return;
        }
        const auto& final_id = shared.sentinel_id;
        auto has_final = [&] {
            return !client.events().empty() && client.events().back().last_event_id == final_id;
        };
        auto deadline = test::clock::now() + 20s;
        while (!has_final() && test::clock::now() < deadline) {
            if (!client.wait_events(client.events().size() + 1, 200ms) && client.conn().closed()) {
                break;
            }
        }
        if (!has_final()) {
            rec.errors.push_back("final reconnect (Last-Event-ID " + last.value_or("none") +
                                 ") did not bring the sentinel " + final_id);
        }
        take_events(client, -1, rec, last);
    } catch (const std::exception& e) {
        rec.errors.push_back(std::string("exception: ") + e.what());
        if (!announced) ++shared.ready;
        final_connection.mark();
    }
}

// Checks that `rec` holds exactly `expected` from its first received event to the end, in order.
void verify_client(int index, const client_record& rec,
                   const std::vector<published_event>& expected) {
    SCOPED_TRACE("client " + std::to_string(index));
    EXPECT_TRUE(rec.errors.empty()) << describe(rec.errors);
    ASSERT_FALSE(rec.events.empty()) << "client received nothing";
    std::unordered_map<std::string, std::size_t> position;
    for (std::size_t i = 0; i < expected.size(); ++i) position.emplace(expected[i].id, i);
    auto first = position.find(rec.events.front().id);
    ASSERT_NE(first, position.end())
        << "first received id " << rec.events.front().id << " was never published";
    auto start = first->second;
    for (std::size_t j = 0; j < rec.events.size(); ++j) {
        const auto& got = rec.events[j];
        if (start + j >= expected.size()) {
            FAIL() << "event " << j << " (id " << got.id << ", round " << got.round
                   << ") is past the last published event " << expected.back().id
                   << ": a duplicate";
        }
        const auto& want = expected[start + j];
        if (got.id != want.id) {
            auto seen = position.find(got.id);
            FAIL() << "event " << j << " of the client (round " << got.round << "): got id "
                   << got.id
                   << (seen == position.end()
                           ? " (never published)"
                           : " (published at index " + std::to_string(seen->second) + ")")
                   << ", expected " << want.id << " (index " << start + j
                   << "); previous received id "
                   << (j > 0 ? rec.events[j - 1].id + " in round " +
                                   std::to_string(rec.events[j - 1].round)
                             : std::string("none"))
                   << (seen == position.end() ? ""
                       : seen->second < start + j
                           ? ": a duplicate or reordering"
                           : ": a gap of " + std::to_string(seen->second - start - j) + " events");
        }
        ASSERT_EQ(got.data, want.data) << "data of event " << got.id;
    }
    EXPECT_EQ(rec.events.size(), expected.size() - start)
        << "the client stopped at " << rec.events.back().id << ", the last published event is "
        << expected.back().id;
}

struct race_result {
    std::vector<published_event> published;
    std::vector<client_record> clients;
    std::vector<std::string> publisher_errors;
};

// Runs the publisher and the clients; `body_for(i)` gives the JSON of event i and whether the
// subscribers' channels include it.
race_result run_race(test::server& s, const std::string& target,
                     const std::function<std::pair<json, bool>(int)>& body_for,
                     const json& sentinel) {
    race_result result;
    race_shared shared;
    shared.port = s.port();
    shared.target = target;
    result.clients.resize(kClients);

    std::vector<std::thread> threads;
    for (int c = 0; c < kClients; ++c) {
        threads.emplace_back([&, c] { run_client(c, shared, result.clients[c]); });
    }
    // Every client is subscribed before the first event, so each sees from its first round on.
    bool all_ready = test::eventually([&] { return shared.ready.load() == kClients; }, 30s);
    if (!all_ready) result.publisher_errors.push_back("not every client connected");

    try {
        publisher pub(s.port());
        std::uint64_t previous = 0;
        auto started = test::clock::now();
        for (int i = 0; i < kMaxEvents && test::clock::now() - started < kPublishFor; ++i) {
            auto [body, visible] = body_for(i);
            auto res = pub.post(body.dump());
            if (res.status != 200) {
                result.publisher_errors.push_back("publish " + std::to_string(i) + ": status " +
                                                  std::to_string(res.status) + " " + res.body);
                break;
            }
            auto id = json::parse(res.body).at("id").get<std::string>();
            auto seq = seq_of(id);
            if (!seq || *seq <= previous) {
                result.publisher_errors.push_back("publish " + std::to_string(i) + ": id " + id +
                                                  " is not greater than the one before");
                break;
            }
            previous = *seq;
            result.published.push_back({id, body.at("data").get<std::string>(), visible});
        }
    } catch (const std::exception& e) {
        result.publisher_errors.push_back(std::string("publisher exception: ") + e.what());
    }
    shared.done = true;

    // The sentinel, once every client has made its final reconnection.
    try {
        if (!test::eventually([&] { return shared.final_connected.load() == kClients; }, 60s)) {
            result.publisher_errors.push_back("not every client made its final reconnection");
        }
        auto res = test::publish(s.port(), sentinel.dump());
        if (res.status == 200) {
            shared.sentinel_id = json::parse(res.body).at("id").get<std::string>();
            result.published.push_back(
                {shared.sentinel_id, sentinel.at("data").get<std::string>(), true});
        } else {
            result.publisher_errors.push_back("sentinel: status " + std::to_string(res.status));
        }
    } catch (const std::exception& e) {
        result.publisher_errors.push_back(std::string("sentinel exception: ") + e.what());
    }
    shared.sentinel_published = true;
    for (auto& t : threads) t.join();
    return result;
}

void verify_race(const race_result& result) {
    EXPECT_TRUE(result.publisher_errors.empty()) << describe(result.publisher_errors);
    std::vector<published_event> visible;
    for (const auto& e : result.published) {
        if (e.visible) visible.push_back(e);
    }
    ASSERT_GE(visible.size(), 100u) << "too few events published to mean anything";
    int resumed = 0;
    for (int c = 0; c < kClients; ++c) {
        verify_client(c, result.clients[c], visible);
        resumed += result.clients[c].resumed_rounds;
    }
    // The point of the test: many reconnections with a resume point while events were flowing.
    EXPECT_GE(resumed, kClients * 3) << "too few reconnections happened during publishing";
    std::cout << "[ info     ] published " << result.published.size() << " events ("
              << visible.size() << " to the subscribed channels); " << resumed
              << " resumed connections\n";
}

}  // namespace

TEST(ReplayRace, ReconnectingClientsSeeEveryIdExactlyOnceInOrder) {
    test::server s({"--history", "10000"});
    auto result = run_race(
        s, "/events?channel=race",
        [](int i) {
            return std::pair{json{{"channel", "race"}, {"data", "event " + std::to_string(i)}},
                             true};
        },
        json{{"channel", "race"}, {"data", "sentinel"}});
    verify_race(result);
    EXPECT_EQ(s.log().find("resync"), std::string::npos) << s.log();
    auto stopped = s.stop();
    EXPECT_TRUE(stopped.exited);
    EXPECT_EQ(stopped.code, 0) << s.log();
}

TEST(ReplayRace, MultiChannelMergeHasNoDuplicatesOrGaps) {
    test::server s({"--history", "10000"});
    // a, b, both, and a channel the subscribers are not on (it must never reach them).
    auto result = run_race(
        s, "/events?channel=a&channel=b",
        [](int i) {
            auto data = "event " + std::to_string(i);
            switch (i % 4) {
                case 0:
                    return std::pair{json{{"channel", "a"}, {"data", data + " on a"}}, true};
                case 1:
                    return std::pair{json{{"channel", "b"}, {"data", data + " on b"}}, true};
                case 2:
                    return std::pair{json{{"channels", {"a", "b"}}, {"data", data + " on a and b"}},
                                     true};
                default:
                    return std::pair{json{{"channels", {"c"}}, {"data", data + " on c"}}, false};
            }
        },
        json{{"channel", "b"}, {"data", "sentinel"}});
    verify_race(result);
    auto stopped = s.stop();
    EXPECT_TRUE(stopped.exited);
    EXPECT_EQ(stopped.code, 0) << s.log();
}
