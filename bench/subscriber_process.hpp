// One subscriber process (a forked child of the coordinator): --threads io_context threads, each
// with a subscriber_shard, driven by commands from the coordinator over a line_pipe. Splitting the
// subscribers over processes keeps each under the per-process descriptor limit.
//
// Protocol (every command gets exactly one JSON line back):
//   (at start, unasked)            {"type":"connected", "connections":{..}, "per_channel":[..]}
//   start                          {"type":"started"}        CPU accounting of the load phase begins
//   drain EXPECTED DEADLINE_NS     {"type":"drained","received":N}   waits for deliveries
//   storm FIRST COUNT DEADLINE ID  {"type":"storm_done"}     reconnect storm with Last-Event-ID: ID
//   report                         {"type":"report","stats":{..},"cpu":{..}}
//   quit                           (none; the process exits)
#pragma once

#include <chrono>
#include <future>
#include <memory>
#include <sstream>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <nlohmann/json.hpp>

#include "clock.hpp"
#include "control_channel.hpp"
#include "proc_stats.hpp"
#include "subscriber_shard.hpp"

namespace bench {

class subscriber_process {
public:
    // Subscribers first_global .. first_global+count-1 of the run: subscriber g is on channel
    // g mod channels and uses source address g mod sources.
    subscriber_process(const shard_setup& setup, std::uint32_t threads, std::uint32_t first_global,
                       std::uint32_t count, line_pipe pipe)
        : setup_(setup), pipe_(std::move(pipe)), count_(count) {
        if (setup_.connect_concurrency > 0)
            setup_.connect_concurrency = std::max<std::uint32_t>(1, setup_.connect_concurrency / threads);
        for (std::uint32_t t = 0; t < threads; ++t) {
            ios_.push_back(std::make_unique<boost::asio::io_context>(1));
            shards_.push_back(std::make_unique<subscriber_shard>(setup_, *ios_.back()));
        }
        for (std::uint32_t j = 0; j < count; ++j) {
            std::uint32_t g = first_global + j;
            shards_[j % threads]->add(g % setup_.channels,
                                      static_cast<std::uint32_t>(g % setup_.sources.size()));
        }
    }

    int run(double connect_deadline_s) {
        for (auto& io : ios_) {
            guards_.emplace_back(boost::asio::make_work_guard(*io));
            threads_.emplace_back([io = io.get()] { io->run(); });
        }
        auto t0 = mono_ns();
        for (std::size_t t = 0; t < shards_.size(); ++t)
            boost::asio::post(*ios_[t], [s = shards_[t].get()] { s->connect_all(); });
        auto deadline = t0 + static_cast<std::int64_t>(connect_deadline_s * 1e9);
        while (sum([](subscriber_shard& s) { return s.settled.load(std::memory_order_relaxed); }) < count_ &&
               mono_ns() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        auto t1 = mono_ns();

        std::vector<std::uint64_t> per_channel(setup_.channels, 0);
        connection_stats conns;
        for (std::size_t t = 0; t < shards_.size(); ++t) {
            auto [counts, stats] = on_shard(t, [](subscriber_shard& s) {
                return std::make_pair(s.established_per_channel(), s.stats().conns);
            });
            for (std::size_t c = 0; c < counts.size(); ++c) per_channel[c] += counts[c];
            conns.merge(stats);
        }
        pipe_.send(nlohmann::json{{"type", "connected"},
                                  {"connections", conns.to_json()},
                                  {"per_channel", per_channel},
                                  {"connect_s", seconds(t1 - t0)},
                                  {"cpu", cpu_json(own_cpu())}}
                       .dump());

        cpu_times load_start = own_cpu();
        while (auto line = pipe_.receive()) {
            std::istringstream in(*line);
            std::string cmd;
            in >> cmd;
            if (cmd == "start") {
                load_start = own_cpu();
                pipe_.send(R"({"type":"started"})");
            } else if (cmd == "drain") {
                std::uint64_t expected = 0;
                std::int64_t until = 0;
                in >> expected >> until;
                while (received() < expected && mono_ns() < until)
                    std::this_thread::sleep_for(std::chrono::milliseconds(5));
                pipe_.send(nlohmann::json{{"type", "drained"}, {"received", received()}}.dump());
            } else if (cmd == "storm") {
                std::uint64_t first = 0;
                std::uint32_t n = 0;
                std::int64_t until = 0;
                std::string id;
                in >> first >> n >> until;
                std::getline(in >> std::ws, id);
                std::uint64_t targets = 0;
                for (std::size_t t = 0; t < shards_.size(); ++t)
                    targets += on_shard(t, [&](subscriber_shard& s) {
                        s.begin_storm(id, first, n);
                        return s.stats().storm.targets;
                    });
                while (sum([](subscriber_shard& s) { return s.storm_settled.load(std::memory_order_relaxed); }) < targets &&
                       mono_ns() < until)
                    std::this_thread::sleep_for(std::chrono::milliseconds(2));
                pipe_.send(R"({"type":"storm_done"})");
            } else if (cmd == "report") {
                subscriber_stats all;
                for (std::size_t t = 0; t < shards_.size(); ++t)
                    all.merge(on_shard(t, [](subscriber_shard& s) { return s.stats(); }));
                auto now = own_cpu();
                cpu_times load{now.user_s - load_start.user_s, now.sys_s - load_start.sys_s};
                pipe_.send(nlohmann::json{{"type", "report"},
                                          {"stats", all.to_json()},
                                          {"cpu_total", cpu_json(now)},
                                          {"cpu_load", cpu_json(load)}}
                               .dump());
            } else if (cmd == "quit") {
                break;
            }
        }
        for (std::size_t t = 0; t < shards_.size(); ++t)
            on_shard(t, [](subscriber_shard& s) {
                s.close_all();
                return 0;
            });
        guards_.clear();
        for (auto& io : ios_) io->stop();
        for (auto& th : threads_) th.join();
        return 0;
    }

    static nlohmann::json cpu_json(cpu_times c) { return {{"user_s", c.user_s}, {"sys_s", c.sys_s}}; }

private:
    template <class F>
    std::uint64_t sum(F f) {
        std::uint64_t n = 0;
        for (auto& s : shards_) n += f(*s);
        return n;
    }

    std::uint64_t received() {
        return sum([](subscriber_shard& s) { return s.received.load(std::memory_order_relaxed); });
    }

    // Runs f(shard) on the shard's own thread and returns its result.
    template <class F>
    auto on_shard(std::size_t t, F f) -> decltype(f(std::declval<subscriber_shard&>())) {
        using result = decltype(f(std::declval<subscriber_shard&>()));
        std::promise<result> done;
        auto future = done.get_future();
        boost::asio::post(*ios_[t], [&] { done.set_value(f(*shards_[t])); });
        return future.get();
    }

    shard_setup setup_;
    line_pipe pipe_;
    std::uint32_t count_;
    std::vector<std::unique_ptr<boost::asio::io_context>> ios_;
    std::vector<std::unique_ptr<subscriber_shard>> shards_;
    std::vector<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guards_;
    std::vector<std::thread> threads_;
};

}  // namespace bench
