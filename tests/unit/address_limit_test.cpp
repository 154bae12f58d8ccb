#include "ssecast/http/address_limit.hpp"

#include <gtest/gtest.h>

#include <boost/asio/ip/address.hpp>
#include <string>
#include <thread>
#include <vector>

#include "ssecast/config/config.hpp"
#include "ssecast/metrics/address_counts.hpp"
#include "ssecast/metrics/connection_slot.hpp"

namespace {

using boost::asio::ip::make_address;
using ssecast::address_counts;
using ssecast::address_limit;
using ssecast::connection_slot;
using ssecast::key_of;
using verdict = ssecast::address_limit::verdict;

TEST(AddressKey, IPv4AndMappedAreOneKey) {
    EXPECT_EQ(key_of(make_address("203.0.113.7")), key_of(make_address("::ffff:203.0.113.7")));
    EXPECT_NE(key_of(make_address("203.0.113.7")), key_of(make_address("203.0.113.8")));
    EXPECT_EQ(ssecast::to_string(key_of(make_address("::ffff:203.0.113.7"))), "203.0.113.7");
}

TEST(AddressKey, IPv6CountsPerSlash64) {
    EXPECT_EQ(key_of(make_address("2001:db8:1:2::1")),
              key_of(make_address("2001:db8:1:2:ffff::9")));
    EXPECT_NE(key_of(make_address("2001:db8:1:2::1")), key_of(make_address("2001:db8:1:3::1")));
    EXPECT_EQ(ssecast::to_string(key_of(make_address("2001:db8:1:2:aaaa::1"))),
              "2001:db8:1:2::/64");
    // An IPv6 /64 never equals an IPv4 address with the same leading bytes.
    EXPECT_NE(key_of(make_address("102:304::")), key_of(make_address("1.2.3.4")));
}

TEST(AddressCounts, AnAddressIsKeptOnlyWhileItHasConnections) {
    address_counts counts;
    auto a = key_of(make_address("10.0.0.1"));
    auto b = key_of(make_address("10.0.0.2"));
    EXPECT_EQ(counts.add(a), 1u);
    EXPECT_EQ(counts.add(a), 2u);
    EXPECT_EQ(counts.add(b), 1u);
    EXPECT_EQ(counts.size(), 2u);
    counts.remove(a);
    EXPECT_EQ(counts.size(), 2u);
    counts.remove(a);
    EXPECT_EQ(counts.size(), 1u);
    counts.remove(b);
    EXPECT_EQ(counts.size(), 0u);
}

struct tracker final : ssecast::connection_tracker {
    int open = 0;
    void opened() override { ++open; }
    void became_stream() override {}
    void closed(bool) override { --open; }
};

TEST(ConnectionSlot, CountsUnderItsKeyWhereverItMoves) {
    tracker t;
    address_counts counts;
    auto a = key_of(make_address("10.0.0.1"));
    auto b = key_of(make_address("10.0.0.2"));
    {
        connection_slot first(t, &counts);
        EXPECT_EQ(first.count_under(a), 1u);
        EXPECT_EQ(first.count_under(a), std::nullopt);  // unchanged: not counted again
        connection_slot second(t, &counts);
        EXPECT_EQ(second.count_under(a), 2u);
        // Moved from the listener to the session to the stream: still one connection under a.
        connection_slot moved(std::move(second));
        connection_slot assigned;
        assigned = std::move(moved);
        EXPECT_EQ(counts.add(a), 3u);
        counts.remove(a);
        EXPECT_EQ(t.open, 2);
        // Re-keyed (a proxied request for another client): leaves a, counts under b.
        EXPECT_EQ(assigned.count_under(b), 1u);
        EXPECT_EQ(counts.add(a), 2u);
        counts.remove(a);
        // Under no key (the proxy talking for itself).
        EXPECT_EQ(assigned.count_under(std::nullopt), std::nullopt);
        EXPECT_EQ(counts.size(), 1u);
    }
    EXPECT_EQ(counts.size(), 0u);
    EXPECT_EQ(t.open, 0);
}

TEST(ConnectionSlot, WithoutCountsByAddressNothingIsCounted) {
    tracker t;
    connection_slot slot(t);
    EXPECT_EQ(slot.count_under(key_of(make_address("10.0.0.1"))), std::nullopt);
    EXPECT_EQ(t.open, 1);
}

ssecast::config limited(std::size_t per_ip, const std::string& trusted = "") {
    ssecast::config cfg;
    cfg.max_connections_per_ip = per_ip;
    EXPECT_FALSE(ssecast::parse_networks(trusted, cfg.trusted_proxies).has_value());
    return cfg;
}

TEST(AddressLimit, WithinThenRefusedThenDropped) {
    auto cfg = limited(2);
    address_limit limit(cfg);
    auto who = make_address("203.0.113.7");
    EXPECT_EQ(limit.judge(1, who, true), verdict::within);
    EXPECT_EQ(limit.judge(2, who, true), verdict::within);
    EXPECT_EQ(limit.judge(3, who, true), verdict::refuse);
    EXPECT_EQ(limit.judge(2 + address_limit::overflow_answers, who, true), verdict::refuse);
    EXPECT_EQ(limit.judge(3 + address_limit::overflow_answers, who, true), verdict::drop);
    // A request on an open connection is always answered.
    EXPECT_EQ(limit.judge(3 + address_limit::overflow_answers, who, false), verdict::refuse);
    EXPECT_EQ(limit.refused(), 4u);
}

TEST(AddressLimit, ZeroIsNoLimitAndCountsNothing) {
    auto cfg = limited(0);
    address_limit limit(cfg);
    EXPECT_EQ(limit.counts(), nullptr);
    EXPECT_EQ(limit.accept_key(make_address("203.0.113.7")), std::nullopt);
    EXPECT_EQ(limit.judge(1'000'000, make_address("203.0.113.7"), true), verdict::within);
    EXPECT_EQ(limit.refused(), 0u);
}

TEST(AddressLimit, TrustedProxiesAreNotLimitedTheirClientsAre) {
    auto cfg = limited(5, "127.0.0.1");
    address_limit limit(cfg);
    EXPECT_NE(limit.counts(), nullptr);
    EXPECT_EQ(limit.accept_key(make_address("127.0.0.1")), std::nullopt);
    EXPECT_EQ(limit.accept_key(make_address("::ffff:127.0.0.1")), std::nullopt);
    EXPECT_EQ(limit.accept_key(make_address("127.0.0.2")), key_of(make_address("127.0.0.2")));

    ssecast::request req{ssecast::http::verb::get, "/events", 11};
    req.set("X-Forwarded-For", "203.0.113.7");
    auto named = ssecast::resolve_client(make_address("127.0.0.1"), req, cfg.trusted_proxies);
    EXPECT_EQ(address_limit::request_key(named), key_of(make_address("203.0.113.7")));
    req.erase("X-Forwarded-For");
    req.set("X-Real-IP", "203.0.113.7");
    auto unnamed = ssecast::resolve_client(make_address("127.0.0.1"), req, cfg.trusted_proxies);
    EXPECT_EQ(address_limit::request_key(unnamed), std::nullopt);
}

TEST(AddressLimit, ManyThreadsRefusingStayConsistent) {
    auto cfg = limited(1);
    address_limit limit(cfg);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 1000; ++i) limit.judge(2, make_address("127.0.0.1"), true);
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(limit.refused(), 4000u);
}

}  // namespace
