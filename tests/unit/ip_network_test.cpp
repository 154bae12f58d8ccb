#include "ssecast/config/ip_network.hpp"

#include <gtest/gtest.h>

#include <boost/asio/ip/address.hpp>
#include <string>
#include <vector>

namespace {

using boost::asio::ip::make_address;
using ssecast::ip_network;

std::vector<ip_network> parsed(const std::string& list) {
    std::vector<ip_network> out;
    auto problem = ssecast::parse_networks(list, out);
    EXPECT_FALSE(problem.has_value()) << list << ": " << *problem;
    return out;
}

std::string problem_with(const std::string& list) {
    std::vector<ip_network> out;
    auto problem = ssecast::parse_networks(list, out);
    EXPECT_TRUE(problem.has_value()) << list << " was accepted";
    return problem.value_or("");
}

bool in(const std::string& list, const char* address) {
    return ssecast::in_networks(parsed(list), make_address(address));
}

TEST(IpNetwork, AddressesAndNetworksParse) {
    auto list = parsed("127.0.0.1, 10.0.0.0/8,::1,fd00::/8, 0.0.0.0/0");
    ASSERT_EQ(list.size(), 5u);
    EXPECT_EQ(list[0].to_string(), "127.0.0.1/32");
    EXPECT_EQ(list[1].to_string(), "10.0.0.0/8");
    EXPECT_EQ(list[2].to_string(), "::1/128");
    EXPECT_EQ(list[3].to_string(), "fd00::/8");
    EXPECT_EQ(list[4].to_string(), "0.0.0.0/0");
    EXPECT_TRUE(parsed("").empty());
    EXPECT_TRUE(parsed(" , ").empty());
}

TEST(IpNetwork, MappedNetworksAreIPv4) {
    auto list = parsed("::ffff:10.0.0.0/104,::ffff:127.0.0.1");
    ASSERT_EQ(list.size(), 2u);
    EXPECT_EQ(list[0].to_string(), "10.0.0.0/8");
    EXPECT_EQ(list[1].to_string(), "127.0.0.1/32");
}

TEST(IpNetwork, InvalidEntriesAreNamed) {
    for (const char* bad :
         {"nope", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/x", "10.0.0.0/-1", "::/129", "1.2.3",
          "10.0.0.0/8/8", "fe80::1%lo", "localhost", "[::1]", "127.0.0.1:80"}) {
        auto problem = problem_with(std::string("127.0.0.1,") + bad);
        EXPECT_NE(problem.find(std::string("\"") + bad + "\""), std::string::npos) << problem;
        EXPECT_NE(problem.find("10.0.0.0/8"), std::string::npos) << problem;  // an example
    }
}

TEST(IpNetwork, HostBitsBelowThePrefixAreRefusedWithTheNetworkMeant) {
    auto problem = problem_with("10.1.2.3/8");
    EXPECT_NE(problem.find("did you mean 10.0.0.0/8?"), std::string::npos) << problem;
    problem = problem_with("fd00::1/8");
    EXPECT_NE(problem.find("did you mean fd00::/8?"), std::string::npos) << problem;
    problem = problem_with("192.168.1.129/25");
    EXPECT_NE(problem.find("did you mean 192.168.1.128/25?"), std::string::npos) << problem;
}

TEST(IpNetwork, Contains) {
    EXPECT_TRUE(in("10.0.0.0/8", "10.0.0.0"));
    EXPECT_TRUE(in("10.0.0.0/8", "10.255.255.255"));
    EXPECT_FALSE(in("10.0.0.0/8", "11.0.0.0"));
    EXPECT_FALSE(in("10.0.0.0/8", "9.255.255.255"));
    EXPECT_TRUE(in("192.168.1.128/25", "192.168.1.200"));
    EXPECT_FALSE(in("192.168.1.128/25", "192.168.1.127"));
    EXPECT_TRUE(in("127.0.0.1", "127.0.0.1"));
    EXPECT_FALSE(in("127.0.0.1", "127.0.0.2"));
    EXPECT_TRUE(in("0.0.0.0/0", "203.0.113.7"));
    EXPECT_TRUE(in("fd00::/8", "fdab::1"));
    EXPECT_FALSE(in("fd00::/8", "fe00::1"));
    EXPECT_TRUE(in("2001:db8::/33", "2001:db8:7fff::1"));
    EXPECT_FALSE(in("2001:db8::/33", "2001:db8:8000::1"));
    EXPECT_TRUE(in("::1", "::1"));
    // Families do not mix, except that IPv4-mapped addresses are IPv4.
    EXPECT_FALSE(in("::/0", "10.0.0.1"));
    EXPECT_FALSE(in("0.0.0.0/0", "::1"));
    EXPECT_TRUE(in("10.0.0.0/8", "::ffff:10.1.2.3"));
    EXPECT_TRUE(in("127.0.0.1", "::ffff:127.0.0.1"));
    EXPECT_FALSE(in("::1", "127.0.0.1"));
    EXPECT_FALSE(in("", "127.0.0.1"));
}

TEST(IpNetwork, Unmapped) {
    EXPECT_EQ(ssecast::unmapped(make_address("::ffff:1.2.3.4")), make_address("1.2.3.4"));
    EXPECT_EQ(ssecast::unmapped(make_address("1.2.3.4")), make_address("1.2.3.4"));
    EXPECT_EQ(ssecast::unmapped(make_address("2001:db8::1")), make_address("2001:db8::1"));
    // IPv4-compatible (deprecated, ::a.b.c.d) is not mapped.
    EXPECT_TRUE(ssecast::unmapped(make_address("::1.2.3.4")).is_v6());
}

}  // namespace
