#include "ssecast/http/publisher_access.hpp"

#include <gtest/gtest.h>

#include <boost/asio/ip/address.hpp>
#include <string>

namespace {

using boost::asio::ip::make_address;
using ssecast::is_loopback;
using ssecast::may_publish;

TEST(PublisherAccess, LoopbackAddresses) {
    for (const char* text : {"127.0.0.1", "127.9.9.9", "127.255.255.255", "127.0.0.0", "::1",
                             "::ffff:127.0.0.1", "::ffff:127.1.2.3"}) {
        EXPECT_TRUE(is_loopback(make_address(text))) << text;
    }
}

TEST(PublisherAccess, NonLoopbackAddresses) {
    for (const char* text :
         {"10.0.0.1", "0.0.0.0", "128.0.0.1", "126.255.255.255", "192.168.1.1", "8.8.8.8",
          "255.255.255.255", "::ffff:10.0.0.1", "::ffff:0.0.0.0", "::", "::2", "fe80::1",
          "2001:db8::1", "::127.0.0.1" /* v4-compatible, deprecated: not mapped */}) {
        EXPECT_FALSE(is_loopback(make_address(text))) << text;
    }
}

TEST(PublisherAccess, LoopbackMayPublishWithoutForwardingHeader) {
    EXPECT_TRUE(may_publish(make_address("127.0.0.1"), false));
    EXPECT_TRUE(may_publish(make_address("::1"), false));
    EXPECT_TRUE(may_publish(make_address("::ffff:127.0.0.1"), false));
}

TEST(PublisherAccess, ForwardingHeaderMakesLoopbackRemote) {
    EXPECT_FALSE(may_publish(make_address("127.0.0.1"), true));
    EXPECT_FALSE(may_publish(make_address("::1"), true));
    EXPECT_FALSE(may_publish(make_address("::ffff:127.0.0.1"), true));
}

TEST(PublisherAccess, RemotePeersMayNotPublish) {
    for (bool forwarded : {false, true}) {
        EXPECT_FALSE(may_publish(make_address("10.0.0.1"), forwarded));
        EXPECT_FALSE(may_publish(make_address("::ffff:10.0.0.1"), forwarded));
        EXPECT_FALSE(may_publish(make_address("0.0.0.0"), forwarded));
        EXPECT_FALSE(may_publish(make_address("2001:db8::1"), forwarded));
    }
}

}  // namespace
