#include "ssecast/http/client.hpp"

#include <gtest/gtest.h>

#include <boost/asio/ip/address.hpp>
#include <string>
#include <utility>
#include <vector>

namespace {

using boost::asio::ip::make_address;
using ssecast::is_loopback;

ssecast::client resolve(const char* peer, const char* header = nullptr, const char* value = "x") {
    ssecast::request req{ssecast::http::verb::post, "/notify", 11};
    if (header != nullptr) req.set(header, value);
    return ssecast::resolve_client(make_address(peer), req);
}

TEST(Client, LoopbackAddresses) {
    for (const char* text : {"127.0.0.1", "127.9.9.9", "127.255.255.255", "127.0.0.0", "::1",
                             "::ffff:127.0.0.1", "::ffff:127.1.2.3"}) {
        EXPECT_TRUE(is_loopback(make_address(text))) << text;
    }
}

TEST(Client, NonLoopbackAddresses) {
    for (const char* text :
         {"10.0.0.1", "0.0.0.0", "128.0.0.1", "126.255.255.255", "192.168.1.1", "8.8.8.8",
          "255.255.255.255", "::ffff:10.0.0.1", "::ffff:0.0.0.0", "::", "::2", "fe80::1",
          "2001:db8::1", "::127.0.0.1" /* v4-compatible, deprecated: not mapped */}) {
        EXPECT_FALSE(is_loopback(make_address(text))) << text;
    }
}

TEST(Client, LoopbackWithoutForwardingHeaderIsLocal) {
    for (const char* peer : {"127.0.0.1", "::1", "::ffff:127.0.0.1"}) {
        auto who = resolve(peer);
        EXPECT_TRUE(who.local()) << peer;
        EXPECT_FALSE(who.forwarded) << peer;
        EXPECT_EQ(who.address, make_address(peer));
    }
}

TEST(Client, ForwardingHeaderMakesLoopbackRemote) {
    for (const char* header :
         {"X-Forwarded-For", "Forwarded", "X-Real-IP", "Via", "X-Forwarded-Host",
          "X-Forwarded-Proto", "CF-Connecting-IP", "True-Client-IP", "X-Client-IP"}) {
        for (const char* peer : {"127.0.0.1", "::1", "::ffff:127.0.0.1"}) {
            auto who = resolve(peer, header, "203.0.113.7");
            EXPECT_TRUE(who.forwarded) << header << " " << peer;
            EXPECT_FALSE(who.local()) << header << " " << peer;
        }
    }
}

TEST(Client, RemotePeersAreNeverLocal) {
    for (const char* header : {static_cast<const char*>(nullptr), "X-Forwarded-For"}) {
        for (const char* peer : {"10.0.0.1", "::ffff:10.0.0.1", "0.0.0.0", "2001:db8::1"})
            EXPECT_FALSE(resolve(peer, header).local()) << peer;
    }
}

// --- --trusted-proxies and X-Forwarded-For ------------------------------------------------------

std::vector<ssecast::ip_network> networks(const std::string& list) {
    std::vector<ssecast::ip_network> out;
    auto problem = ssecast::parse_networks(list, out);
    EXPECT_FALSE(problem.has_value()) << *problem;
    return out;
}

// A request from `peer` carrying the given header fields (a name may come several times).
ssecast::client relayed(const char* peer,
                        const std::vector<std::pair<std::string, std::string>>& fields,
                        const std::string& trusted) {
    ssecast::request req{ssecast::http::verb::post, "/notify", 11};
    for (const auto& [name, value] : fields) req.insert(name, value);
    return ssecast::resolve_client(make_address(peer), req, networks(trusted));
}

ssecast::client via_xff(const char* peer, const std::string& xff, const std::string& trusted) {
    return relayed(peer, {{"X-Forwarded-For", xff}}, trusted);
}

TEST(ClientProxies, WithoutTrustedProxiesForwardedForIsNeverRead) {
    auto who = via_xff("127.0.0.1", "127.0.0.1", "");
    EXPECT_EQ(who.address, make_address("127.0.0.1"));
    EXPECT_FALSE(who.named_by_proxy);
    EXPECT_FALSE(who.trusted_peer);
    EXPECT_TRUE(who.forwarded);
    EXPECT_FALSE(who.local());
    // Garbage is not even looked at.
    EXPECT_TRUE(via_xff("127.0.0.1", "not an address", "").problem.empty());
}

TEST(ClientProxies, AnUntrustedPeerIsNotBelieved) {
    auto who = via_xff("10.9.9.9", "127.0.0.1", "127.0.0.1");
    EXPECT_EQ(who.address, make_address("10.9.9.9"));
    EXPECT_FALSE(who.named_by_proxy);
    EXPECT_FALSE(who.trusted_peer);
    EXPECT_TRUE(who.forwarded);
    EXPECT_TRUE(via_xff("10.9.9.9", "garbage", "127.0.0.1").problem.empty());
}

TEST(ClientProxies, TheRightmostUntrustedEntryIsTheClient) {
    const std::string trusted = "127.0.0.1,10.0.0.0/8";
    struct case_ {
        const char* xff;
        const char* client;
    };
    for (auto [xff, expected] : std::vector<case_>{
             {"203.0.113.7", "203.0.113.7"},
             {"198.51.100.1, 203.0.113.7", "203.0.113.7"},  // the left one is the client's say
             {"203.0.113.7, 10.1.1.1", "203.0.113.7"},      // through a second trusted proxy
             {"203.0.113.7,10.1.1.1,10.2.2.2", "203.0.113.7"},
             {"10.1.1.1, 10.2.2.2", "10.1.1.1"},  // all trusted: the leftmost
             {"127.0.0.5", "127.0.0.5"},
             {" 203.0.113.7 ,\t10.1.1.1 ", "203.0.113.7"},  // list whitespace
             {", ,203.0.113.7,,", "203.0.113.7"},           // empty elements are skipped
         }) {
        auto who = via_xff("127.0.0.1", xff, trusted);
        EXPECT_TRUE(who.problem.empty()) << xff << ": " << who.problem;
        EXPECT_EQ(who.address, make_address(expected)) << xff;
        EXPECT_EQ(who.peer, make_address("127.0.0.1")) << xff;
        EXPECT_TRUE(who.named_by_proxy) << xff;
        EXPECT_TRUE(who.trusted_peer) << xff;
        EXPECT_FALSE(who.forwarded) << xff;
    }
}

TEST(ClientProxies, SeveralFieldsAreOneListInOrder) {
    auto who =
        relayed("127.0.0.1",
                {{"X-Forwarded-For", "198.51.100.1"}, {"X-Forwarded-For", "203.0.113.7, 10.0.0.1"}},
                "127.0.0.1,10.0.0.1");
    EXPECT_EQ(who.address, make_address("203.0.113.7"));
    who = relayed("127.0.0.1",
                  {{"X-Forwarded-For", "203.0.113.7, 10.0.0.1"}, {"X-Forwarded-For", "10.0.0.2"}},
                  "127.0.0.1,10.0.0.0/8");
    EXPECT_EQ(who.address, make_address("203.0.113.7"));
}

TEST(ClientProxies, EntryForms) {
    struct case_ {
        const char* entry;
        const char* client;
    };
    for (auto [entry, expected] : std::vector<case_>{
             {"203.0.113.7", "203.0.113.7"},
             {"203.0.113.7:4711", "203.0.113.7"},
             {"2001:db8::7", "2001:db8::7"},
             {"[2001:db8::7]", "2001:db8::7"},
             {"[2001:db8::7]:4711", "2001:db8::7"},
             {"::ffff:203.0.113.7", "::ffff:203.0.113.7"},
         }) {
        auto who = via_xff("127.0.0.1", entry, "127.0.0.1");
        EXPECT_TRUE(who.problem.empty()) << entry << ": " << who.problem;
        EXPECT_EQ(who.address, make_address(expected)) << entry;
    }
}

TEST(ClientProxies, AnEntryThatIsNotAnAddressBeforeTheClientIsAProblem) {
    for (const char* xff :
         {"unknown", "203.0.113.7, unknown", "_hidden", "example.com", "203.0.113.7:", "1.2.3",
          "[203.0.113.7]", "2001:db8::7:99999", "[2001:db8::7]:99999", "[2001:db8::7", "[::1]x",
          "203.0.113.7:port", "fe80::1%eth0", "203.0.113.7, 10.0.0.1:1:2"}) {
        auto who = via_xff("127.0.0.1", xff, "127.0.0.1,10.0.0.0/8");
        EXPECT_FALSE(who.problem.empty()) << xff;
        EXPECT_NE(who.problem.find("X-Forwarded-For"), std::string::npos) << who.problem;
        // Never attributed to the proxy's own address as if local.
        EXPECT_FALSE(who.local()) << xff;
        EXPECT_FALSE(who.named_by_proxy) << xff;
    }
    // Left of the client, garbage is the client's own say and is not read.
    auto who = via_xff("127.0.0.1", "unknown, 203.0.113.7", "127.0.0.1");
    EXPECT_TRUE(who.problem.empty()) << who.problem;
    EXPECT_EQ(who.address, make_address("203.0.113.7"));
}

TEST(ClientProxies, TheProblemQuotesTheEntryShortAndPrintable) {
    auto who = via_xff("127.0.0.1", std::string(200, 'x') + "\x01", "127.0.0.1");
    EXPECT_LT(who.problem.size(), 200u) << who.problem;
    who = via_xff("127.0.0.1", "a\x1b[31mb", "127.0.0.1");
    EXPECT_EQ(who.problem.find('\x1b'), std::string::npos) << who.problem;
}

TEST(ClientProxies, MappedAddressesCompareAsIPv4) {
    // A dual-stack listener sees the IPv4 proxy as ::ffff:127.0.0.1.
    auto who = via_xff("::ffff:127.0.0.1", "::ffff:10.1.1.1, 10.2.2.2", "127.0.0.1,10.0.0.0/8");
    EXPECT_TRUE(who.trusted_peer);
    EXPECT_EQ(who.address, make_address("::ffff:10.1.1.1"));  // all trusted: the leftmost
    who = via_xff("127.0.0.1", "203.0.113.7", "::ffff:127.0.0.1");
    EXPECT_TRUE(who.trusted_peer);
    EXPECT_EQ(who.address, make_address("203.0.113.7"));
}

TEST(ClientProxies, LocalIsTheResolvedClients) {
    const std::string trusted = "127.0.0.1";
    // Relayed from a remote client: remote.
    EXPECT_FALSE(via_xff("127.0.0.1", "203.0.113.7", trusted).local());
    // Relayed from a process on this host: local.
    EXPECT_TRUE(via_xff("127.0.0.1", "127.0.0.9", trusted).local());
    EXPECT_TRUE(via_xff("127.0.0.1", "::1", trusted).local());
    // A loopback client of a proxy on another machine is on that machine: remote.
    auto elsewhere = via_xff("10.0.0.5", "127.0.0.1", "10.0.0.0/8");
    EXPECT_EQ(elsewhere.address, make_address("127.0.0.1"));
    EXPECT_FALSE(elsewhere.local());
    // A trusted proxy that names nobody, with another proxy header: relayed, not local.
    for (const char* header : {"X-Real-IP", "Forwarded", "Via", "X-Forwarded-Proto"}) {
        auto who = relayed("127.0.0.1", {{header, "127.0.0.1"}}, trusted);
        EXPECT_TRUE(who.forwarded) << header;
        EXPECT_FALSE(who.local()) << header;
        EXPECT_FALSE(who.named_by_proxy) << header;
        EXPECT_EQ(who.address, make_address("127.0.0.1")) << header;
    }
    // An X-Forwarded-For with no entry names nobody either.
    EXPECT_FALSE(via_xff("127.0.0.1", " , ", trusted).local());
    // The trusted proxy talking for itself, no proxy header: local, as without --trusted-proxies.
    EXPECT_TRUE(relayed("127.0.0.1", {}, trusted).local());
    // Only X-Forwarded-For names the client: X-Real-IP beside it changes nothing.
    auto who = relayed("127.0.0.1",
                       {{"X-Forwarded-For", "203.0.113.7"}, {"X-Real-IP", "127.0.0.1"}}, trusted);
    EXPECT_EQ(who.address, make_address("203.0.113.7"));
    EXPECT_FALSE(who.local());
}

TEST(ClientProxies, LogLabelNamesTheClientAndTheProxy) {
    EXPECT_EQ(ssecast::log_label(resolve("127.0.0.1")), "127.0.0.1");
    EXPECT_EQ(ssecast::log_label(resolve("127.0.0.1"), 4711), "127.0.0.1:4711");
    auto who = via_xff("127.0.0.1", "203.0.113.7", "127.0.0.1");
    EXPECT_EQ(ssecast::log_label(who), "203.0.113.7 proxy=127.0.0.1");
    EXPECT_EQ(ssecast::log_label(who, 4711), "203.0.113.7 proxy=127.0.0.1:4711");
    // A problem: the TCP peer only.
    EXPECT_EQ(ssecast::log_label(via_xff("127.0.0.1", "bad", "127.0.0.1")), "127.0.0.1");
}

}  // namespace
