#include "ssecast/http/cors.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using ssecast::config;
using ssecast::cors;

cors policy(std::vector<std::string> origins, bool credentials = false) {
    config cfg;
    cfg.cors_origins = std::move(origins);
    cfg.cors_credentials = credentials;
    return cors(cfg);
}

TEST(Cors, NoOriginOrSameOriginNeedsNothing) {
    auto none = policy({});
    EXPECT_TRUE(none.check("", "sse.example:8080").allowed);
    EXPECT_EQ(none.check("", "sse.example:8080").headers, "");
    auto same = none.check("http://sse.example:8080", "sse.example:8080");
    EXPECT_TRUE(same.allowed);
    EXPECT_EQ(same.headers, "");
    EXPECT_TRUE(none.check("https://sse.example", "sse.example").allowed);  // behind TLS proxy
}

TEST(Cors, OtherOriginsAreRefusedUnlessListed) {
    auto p = policy({"https://app.example"});
    EXPECT_FALSE(p.check("https://evil.example", "sse.example").allowed);
    EXPECT_FALSE(p.check("http://app.example", "sse.example").allowed);  // scheme matters
    EXPECT_FALSE(p.check("null", "sse.example").allowed);
    auto ok = p.check("https://app.example", "sse.example");
    ASSERT_TRUE(ok.allowed);
    EXPECT_EQ(ok.headers, "Access-Control-Allow-Origin: https://app.example\r\nVary: Origin\r\n");
}

TEST(Cors, AnyOriginWithoutCredentialsIsAStar) {
    auto p = policy({"*"});
    auto v = p.check("https://anyone.example", "sse.example");
    ASSERT_TRUE(v.allowed);
    EXPECT_EQ(v.headers, "Access-Control-Allow-Origin: *\r\n");
}

TEST(Cors, CredentialsNameTheOrigin) {
    auto p = policy({"https://app.example"}, true);
    auto v = p.check("https://app.example", "sse.example");
    ASSERT_TRUE(v.allowed);
    EXPECT_NE(v.headers.find("Access-Control-Allow-Credentials: true\r\n"), std::string::npos);
    EXPECT_NE(v.headers.find("Access-Control-Allow-Origin: https://app.example\r\n"),
              std::string::npos);
}

TEST(Cors, PreflightListsMethodsAndHeaders) {
    auto p = policy({"https://app.example"});
    auto v = p.preflight("https://app.example", "sse.example");
    ASSERT_TRUE(v.allowed);
    EXPECT_NE(v.headers.find("Access-Control-Allow-Methods: GET, POST, OPTIONS\r\n"),
              std::string::npos);
    EXPECT_NE(
        v.headers.find("Access-Control-Allow-Headers: Authorization, Content-Type, Last-Event-ID"),
        std::string::npos);
    EXPECT_NE(v.headers.find("Access-Control-Max-Age: "), std::string::npos);
    EXPECT_FALSE(p.preflight("https://evil.example", "sse.example").allowed);
}

}  // namespace
