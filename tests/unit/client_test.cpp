#include "ssecast/http/client.hpp"

#include <gtest/gtest.h>

#include <boost/asio/ip/address.hpp>
#include <string>

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

}  // namespace
