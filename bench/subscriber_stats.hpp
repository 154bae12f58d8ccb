// What the subscribers of one thread (and, merged, of a whole run) saw: connections, events,
// publish->receive latency, and the reconnect storm. Mergeable and serialisable, because results
// travel from each subscriber process to the coordinator as JSON lines.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>

#include <nlohmann/json.hpp>

#include "connection_stats.hpp"
#include "histogram.hpp"

namespace bench {

struct storm_stats {
    std::uint64_t targets = 0;       // streams that were open and were closed for the storm
    std::uint64_t reconnected = 0;   // got their 200 again
    std::uint64_t caught_up = 0;     // received every backlog event of their channel
    std::uint64_t expected = 0;      // backlog events owed to the targets
    std::uint64_t got = 0;           // distinct backlog events received after reconnecting
    std::uint64_t duplicates = 0;    // a backlog event received twice (or out of order)
    std::uint64_t unexpected = 0;    // events outside the backlog
    std::uint64_t resyncs = 0;       // "event: resync" notices (ssecast: history gap)
    std::uint64_t ended_early = 0;   // stream ended by the server before catching up
    std::int64_t start_ns = std::numeric_limits<std::int64_t>::max();
    std::int64_t last_caught_up_ns = 0;
    histogram catch_up;  // per subscriber: storm start -> its last backlog event
    connection_stats conns;

    void merge(const storm_stats& o) {
        targets += o.targets;
        reconnected += o.reconnected;
        caught_up += o.caught_up;
        expected += o.expected;
        got += o.got;
        duplicates += o.duplicates;
        unexpected += o.unexpected;
        resyncs += o.resyncs;
        ended_early += o.ended_early;
        start_ns = std::min(start_ns, o.start_ns);
        last_caught_up_ns = std::max(last_caught_up_ns, o.last_caught_up_ns);
        catch_up.merge(o.catch_up);
        conns.merge(o.conns);
    }

    nlohmann::json to_json() const {
        return {{"targets", targets},       {"reconnected", reconnected}, {"caught_up", caught_up},
                {"expected", expected},     {"got", got},                 {"duplicates", duplicates},
                {"unexpected", unexpected}, {"resyncs", resyncs},         {"ended_early", ended_early},
                {"start_ns", start_ns},     {"last_caught_up_ns", last_caught_up_ns},
                {"catch_up", catch_up.to_json()}, {"connections", conns.to_json()}};
    }

    static storm_stats from_json(const nlohmann::json& j) {
        storm_stats s;
        s.targets = j.at("targets");
        s.reconnected = j.at("reconnected");
        s.caught_up = j.at("caught_up");
        s.expected = j.at("expected");
        s.got = j.at("got");
        s.duplicates = j.at("duplicates");
        s.unexpected = j.at("unexpected");
        s.resyncs = j.at("resyncs");
        s.ended_early = j.at("ended_early");
        s.start_ns = j.at("start_ns");
        s.last_caught_up_ns = j.at("last_caught_up_ns");
        s.catch_up = histogram::from_json(j.at("catch_up"));
        s.conns = connection_stats::from_json(j.at("connections"));
        return s;
    }
};

struct subscriber_stats {
    connection_stats conns;
    std::uint64_t events = 0;        // dispatched events (with a data line)
    std::uint64_t received = 0;      // events carrying our payload (counted for loss)
    std::uint64_t out_of_order = 0;  // payload sequence lower than the previous one on the stream
    std::uint64_t foreign = 0;       // events without our payload (other than resync)
    std::uint64_t resyncs = 0;
    std::uint64_t bytes = 0;
    std::uint64_t reads = 0;  // read() calls that returned data
    std::int64_t first_event_ns = std::numeric_limits<std::int64_t>::max();
    std::int64_t last_event_ns = 0;
    histogram latency;  // publisher write -> subscriber read, ns
    storm_stats storm;

    void merge(const subscriber_stats& o) {
        conns.merge(o.conns);
        events += o.events;
        received += o.received;
        out_of_order += o.out_of_order;
        foreign += o.foreign;
        resyncs += o.resyncs;
        bytes += o.bytes;
        reads += o.reads;
        first_event_ns = std::min(first_event_ns, o.first_event_ns);
        last_event_ns = std::max(last_event_ns, o.last_event_ns);
        latency.merge(o.latency);
        storm.merge(o.storm);
    }

    nlohmann::json to_json() const {
        return {{"connections", conns.to_json()},
                {"events", events},
                {"received", received},
                {"out_of_order", out_of_order},
                {"foreign", foreign},
                {"resyncs", resyncs},
                {"bytes", bytes},
                {"reads", reads},
                {"first_event_ns", first_event_ns},
                {"last_event_ns", last_event_ns},
                {"latency", latency.to_json()},
                {"storm", storm.to_json()}};
    }

    static subscriber_stats from_json(const nlohmann::json& j) {
        subscriber_stats s;
        s.conns = connection_stats::from_json(j.at("connections"));
        s.events = j.at("events");
        s.received = j.at("received");
        s.out_of_order = j.at("out_of_order");
        s.foreign = j.at("foreign");
        s.resyncs = j.at("resyncs");
        s.bytes = j.at("bytes");
        s.reads = j.at("reads");
        s.first_event_ns = j.at("first_event_ns");
        s.last_event_ns = j.at("last_event_ns");
        s.latency = histogram::from_json(j.at("latency"));
        s.storm = storm_stats::from_json(j.at("storm"));
        return s;
    }
};

}  // namespace bench
