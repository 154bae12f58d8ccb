// Authentication and authorization against the real daemon: static API keys and JWTs for
// publishers (--publish-auth), private channels for subscribers (--private-channels), the answers
// RFC 6750 asks for, token expiry on open streams, redaction in the logs, reloads and metrics.

#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "http_client.hpp"
#include "prometheus_text.hpp"
#include "test_server.hpp"
#include "tokens.hpp"

using namespace std::chrono_literals;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

const std::string news_key = "news-key-0123456789abcdef";    // may publish to news and user:*
const std::string admin_key = "admin-key-0123456789abcdef";  // every channel

// A daemon with a tokens file and a JWT secret; `extra` options after them.
class Auth : public ::testing::Test {
  protected:
    void start(std::vector<std::string> extra = {}) {
        dir_ = test::make_temp_dir();
        tokens_ = test::write_private_file(
            dir_ / "tokens",
            "# publishers\n" + news_key + " news user:*\n\n" + admin_key + "   # every channel\n");
        secret_ = test::write_private_file(dir_ / "secret", test::hmac_secret + "\n");
        std::vector<std::string> args = {"--publish-tokens-file", tokens_.string(),
                                         "--jwt-secret-file", secret_.string()};
        args.insert(args.end(), extra.begin(), extra.end());
        server_ = std::make_unique<test::server>(args);
    }
    void TearDown() override {
        if (server_) {
            auto status = server_->stop();
            EXPECT_EQ(status.code, 0) << server_->log();
        }
        std::error_code ignored;
        if (!dir_.empty()) fs::remove_all(dir_, ignored);
    }

    std::uint16_t port() const { return server_->port(); }
    test::server& server() { return *server_; }

    test::http_response publish(const std::string& body, const std::string& token = "",
                                test::header_map headers = {}) {
        if (!token.empty()) headers["Authorization"] = "Bearer " + token;
        return test::publish(port(), body, headers);
    }

    double auth_failures(const std::string& endpoint, const std::string& reason) {
        auto res = test::request(port(), "GET", "/metrics", "",
                                 {{"Authorization", "Bearer " + admin_key}});
        EXPECT_EQ(res.status, 200) << res.body;
        return prom::parse(res.body).at("ssecast_auth_failures_total",
                                        {{"endpoint", endpoint}, {"reason", reason}});
    }

    fs::path dir_, tokens_, secret_;
    std::unique_ptr<test::server> server_;
};

std::string error_of(const test::http_response& res) {
    auto body = json::parse(res.body, nullptr, false);
    return body.is_object() && body.contains("error") ? body["error"].get<std::string>() : "";
}

std::string event(const std::string& channel, const std::string& data) {
    return json{{"channel", channel}, {"data", data}}.dump();
}

json subscriber_claims(std::vector<std::string> channels, std::chrono::seconds ttl = 1h) {
    return {{"sub", "u42"}, {"exp", test::unix_time(ttl)}, {"ssecast", {{"subscribe", channels}}}};
}

}  // namespace

TEST_F(Auth, StaticKeysPublishToTheirChannelsFromAnyAddress) {
    start();
    test::sse_client sub(port(), "/events?channel=news&channel=user:7");
    auto ok = publish(event("news", "by key"), news_key);
    EXPECT_EQ(ok.status, 200) << ok.body;
    EXPECT_EQ(publish(event("user:7", "by pattern"), news_key).status, 200);
    // Another address is no different: through a proxy (remote), with the key.
    EXPECT_EQ(
        publish(event("news", "relayed"), news_key, {{"X-Forwarded-For", "203.0.113.7"}}).status,
        200);
    ASSERT_TRUE(sub.wait_events(3));
    EXPECT_EQ(sub.events()[0].data, "by key");
    EXPECT_EQ(sub.events()[1].data, "by pattern");
}

TEST_F(Auth, WithCredentialsConfiguredLoopbackNeedsAKeyToo) {
    start();
    auto missing = publish(event("news", "x"));
    EXPECT_EQ(missing.status, 401) << missing.body;
    // RFC 6750 §3.1: no credential at all gets the challenge without an error code.
    EXPECT_EQ(missing.headers["WWW-Authenticate"], "Bearer realm=\"ssecast\"");
    EXPECT_NE(error_of(missing).find("needs a credential"), std::string::npos) << missing.body;

    auto basic = publish(event("news", "x"), "", {{"Authorization", "Basic dXNlcjpwYXNz"}});
    EXPECT_EQ(basic.status, 401);
    EXPECT_NE(error_of(basic).find("Basic is not supported"), std::string::npos) << basic.body;

    auto wrong = publish(event("news", "x"), "wrong-key-0123456789abcdef");
    EXPECT_EQ(wrong.status, 401);
    EXPECT_EQ(wrong.headers["WWW-Authenticate"].rfind(
                  "Bearer realm=\"ssecast\", error=\"invalid_token\", error_description=", 0),
              0u)
        << wrong.headers["WWW-Authenticate"];
    EXPECT_EQ(error_of(wrong), "unknown API key");
}

TEST_F(Auth, ABatchIsAuthorizedAsAWhole) {
    start();
    auto refused = publish(
        json::array({{{"channel", "news"}, {"data", "a"}}, {{"channel", "sports"}, {"data", "b"}}})
            .dump(),
        news_key);
    EXPECT_EQ(refused.status, 403) << refused.body;
    EXPECT_NE(refused.headers["WWW-Authenticate"].find("error=\"insufficient_scope\""),
              std::string::npos);
    EXPECT_NE(error_of(refused).find("channel sports"), std::string::npos) << refused.body;
    // Nothing was published: news is still empty.
    auto channels =
        test::request(port(), "GET", "/channels", "", {{"Authorization", "Bearer " + admin_key}});
    ASSERT_EQ(channels.status, 200) << channels.body;
    auto listed = json::parse(channels.body);
    for (const auto& ch : listed["channels"]) EXPECT_EQ(ch["buffered"], 0) << ch.dump();
    // The channels array of one event is authorized as a whole too.
    auto both = publish(json{{"channels", {"news", "sports"}}, {"data", "x"}}.dump(), news_key);
    EXPECT_EQ(both.status, 403) << both.body;
}

TEST_F(Auth, JwtPublishersAndTheirFailures) {
    start();
    auto good = test::mint_jwt({{"sub", "app"},
                                {"exp", test::unix_time(1h)},
                                {"ssecast", {{"publish", {"news", "user:*"}}}}});
    EXPECT_EQ(publish(event("news", "x"), good).status, 200);
    EXPECT_EQ(publish(event("user:9", "x"), good).status, 200);
    EXPECT_EQ(publish(event("sports", "x"), good).status, 403);

    // A publisher token without exp is fine; with exp past the leeway it is expired.
    auto no_exp = test::mint_jwt({{"ssecast", {{"publish", {"*"}}}}});
    EXPECT_EQ(publish(event("sports", "x"), no_exp).status, 200);
    auto old = test::mint_jwt({{"exp", test::unix_time(-120s)}, {"ssecast", {{"publish", {"*"}}}}});
    auto expired = publish(event("news", "x"), old);
    EXPECT_EQ(expired.status, 401);
    EXPECT_NE(error_of(expired).find("expired"), std::string::npos) << expired.body;

    auto forged = test::mint_jwt({{"ssecast", {{"publish", {"*"}}}}},
                                 "another-secret-0123456789abcdef0123456789");
    auto bad_signature = publish(event("news", "x"), forged);
    EXPECT_EQ(bad_signature.status, 401);
    EXPECT_NE(error_of(bad_signature).find("signature"), std::string::npos) << bad_signature.body;

    // alg none, as minted (no signature) and with a signature segment added.
    auto none = test::mint_jwt({{"ssecast", {{"publish", {"*"}}}}}, "", JWT_ALG_NONE);
    for (const auto& unsigned_token : {none, none + "c2ln"}) {
        auto refused = publish(event("news", "x"), unsigned_token);
        EXPECT_EQ(refused.status, 401) << unsigned_token;
        EXPECT_NE(error_of(refused).find("none"), std::string::npos) << refused.body;
    }
    EXPECT_EQ(publish(event("news", "x"), "a.b.c").status, 401);

    auto no_rights = test::mint_jwt({{"sub", "nobody"}});
    auto refused = publish(event("news", "x"), no_rights);
    EXPECT_EQ(refused.status, 403);
    EXPECT_NE(error_of(refused).find("no publishing"), std::string::npos) << refused.body;
}

TEST_F(Auth, AdminEndpointsNeedACredentialForEveryChannel) {
    start();
    auto scoped =
        test::request(port(), "GET", "/channels", "", {{"Authorization", "Bearer " + news_key}});
    EXPECT_EQ(scoped.status, 403) << scoped.body;
    EXPECT_NE(error_of(scoped).find("pattern *"), std::string::npos) << scoped.body;
    EXPECT_EQ(test::request(port(), "GET", "/channels").status, 401);
    EXPECT_EQ(test::request(port(), "GET", "/metrics").status, 401);
    EXPECT_EQ(
        test::request(port(), "GET", "/metrics", "", {{"Authorization", "Bearer " + news_key}})
            .status,
        403);
    EXPECT_EQ(
        test::request(port(), "GET", "/channels", "", {{"Authorization", "Bearer " + admin_key}})
            .status,
        200);
    // Health and readiness stay open to monitors.
    EXPECT_EQ(test::request(port(), "GET", "/healthz").status, 200);
    EXPECT_EQ(test::request(port(), "GET", "/readyz").status, 200);
}

TEST_F(Auth, MetricsAccessAnyOpensMetricsOnly) {
    start({"--metrics-access", "any"});
    EXPECT_EQ(test::request(port(), "GET", "/metrics").status, 200);
    EXPECT_EQ(test::request(port(), "GET", "/channels").status, 401);
}

TEST_F(Auth, LoopbackOrTokenLetsLocalClientsPublishAndOthersShowAKey) {
    start({"--publish-auth", "loopback-or-token"});
    EXPECT_EQ(publish(event("sports", "local")).status, 200);
    EXPECT_EQ(test::request(port(), "GET", "/channels").status, 200);
    auto relayed = publish(event("news", "x"), "", {{"X-Forwarded-For", "203.0.113.7"}});
    EXPECT_EQ(relayed.status, 401) << relayed.body;
    EXPECT_EQ(publish(event("news", "x"), news_key, {{"X-Forwarded-For", "203.0.113.7"}}).status,
              200);
    // A credential that is shown must be valid, even where the address alone would do.
    EXPECT_EQ(publish(event("news", "x"), "wrong-key-0123456789abcdef").status, 401);
    // A local client is not held to the key's channels.
    EXPECT_EQ(publish(event("sports", "x"), news_key).status, 200);
}

TEST_F(Auth, ExplicitLoopbackModeIgnoresKeys) {
    start({"--publish-auth", "loopback"});
    EXPECT_EQ(publish(event("sports", "x")).status, 200);
    auto relayed = publish(event("news", "x"), news_key, {{"X-Forwarded-For", "203.0.113.7"}});
    EXPECT_EQ(relayed.status, 403) << relayed.body;
    EXPECT_NE(error_of(relayed).find("only local clients"), std::string::npos);
}

TEST_F(Auth, TwoWaysOfSendingTheTokenAreAnInvalidRequest) {
    start({"--private-channels", "user:*"});
    auto token = test::mint_jwt(subscriber_claims({"user:1"}));
    auto both = test::request(port(), "GET", "/events?channel=user:1&token=" + token, "",
                              {{"Authorization", "Bearer " + token}});
    EXPECT_EQ(both.status, 400) << both.body;
    EXPECT_NE(both.headers["WWW-Authenticate"].find("error=\"invalid_request\""),
              std::string::npos);
    auto twice =
        test::request(port(), "GET", "/events?channel=user:1&token=" + token + "&token=" + token);
    EXPECT_EQ(twice.status, 400) << twice.body;
    test::connection c(port());
    c.send("POST /notify HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + news_key +
           "\r\nAuthorization: Bearer " + admin_key +
           "\r\nContent-Type: application/json\r\nContent-Length: 12\r\n\r\n{\"data\":\"x\"}");
    EXPECT_EQ(c.read_response(10s).status, 400);
}

TEST_F(Auth, PrivateChannelsNeedAJwtThatNamesThem) {
    start({"--private-channels", "user:*,admin"});
    // Public channels need nothing.
    test::sse_client open(port(), "/events?channel=news");
    EXPECT_EQ(open.status(), 200);

    auto missing = test::request(port(), "GET", "/events?channel=user:42");
    EXPECT_EQ(missing.status, 401) << missing.body;
    EXPECT_EQ(missing.headers["WWW-Authenticate"], "Bearer realm=\"ssecast\"");
    EXPECT_NE(error_of(missing).find("channel user:42 is private"), std::string::npos);

    auto token = test::mint_jwt(subscriber_claims({"user:42"}));
    // Each of the three ways a token may come.
    test::sse_client by_header(port(), "/events?channel=user:42",
                               {{"Authorization", "Bearer " + token}});
    test::sse_client by_query(port(), "/events?channel=user:42&channel=news&token=" + token);
    test::sse_client by_cookie(port(), "/events?channel=user:42",
                               {{"Cookie", "theme=dark; ssecast_jwt=" + token + "; lang=en"}});
    for (auto* sub : {&by_header, &by_query, &by_cookie}) EXPECT_EQ(sub->status(), 200);
    EXPECT_EQ(publish(event("user:42", "for 42"), admin_key).status, 200);
    for (auto* sub : {&by_header, &by_query, &by_cookie}) {
        ASSERT_TRUE(sub->wait_events(1));
        EXPECT_EQ(sub->events()[0].data, "for 42");
    }

    // Another user's channel, or one private channel too many.
    auto other = test::request(port(), "GET", "/events?channel=user:43&token=" + token);
    EXPECT_EQ(other.status, 403) << other.body;
    EXPECT_NE(error_of(other).find("channel user:43"), std::string::npos) << other.body;
    auto more =
        test::request(port(), "GET", "/events?channel=user:42&channel=admin&token=" + token);
    EXPECT_EQ(more.status, 403);
    EXPECT_NE(error_of(more).find("channel admin"), std::string::npos) << more.body;

    // exp is required of subscriber tokens; API keys do not subscribe.
    auto forever = test::mint_jwt({{"ssecast", {{"subscribe", {"user:42"}}}}});
    auto no_exp = test::request(port(), "GET", "/events?channel=user:42&token=" + forever);
    EXPECT_EQ(no_exp.status, 401);
    EXPECT_NE(error_of(no_exp).find("exp"), std::string::npos) << no_exp.body;
    auto key = test::request(port(), "GET", "/events?channel=user:42&token=" + admin_key);
    EXPECT_EQ(key.status, 401);
    EXPECT_NE(error_of(key).find("not a JWT"), std::string::npos) << key.body;
}

// At exp a stream gets a token-expired event, then ends; a client that reconnects with its
// Last-Event-ID and a fresh token gets exactly what it missed.
TEST_F(Auth, AStreamEndsWhenItsTokenExpires) {
    start({"--private-channels", "user:*", "--jwt-leeway", "0s"});
    auto exp = test::unix_time(2s);
    auto token =
        test::mint_jwt({{"sub", "u1"}, {"exp", exp}, {"ssecast", {{"subscribe", {"user:1"}}}}});
    test::sse_client sub(port(), "/events?channel=user:1", {{"Authorization", "Bearer " + token}});
    ASSERT_EQ(sub.status(), 200);
    ASSERT_EQ(publish(event("user:1", "before"), admin_key).status, 200);
    ASSERT_TRUE(sub.wait_events(1));
    ASSERT_TRUE(sub.wait_events(2, 10s));
    EXPECT_EQ(sub.events()[1].type, "token-expired");
    EXPECT_EQ(json::parse(sub.events()[1].data), (json{{"exp", exp}}));
    // The notice carries no id: the client keeps the id of the last event it got.
    EXPECT_EQ(sub.events()[1].last_event_id, sub.events()[0].last_event_id);
    ASSERT_TRUE(sub.wait_closed());
    EXPECT_TRUE(server().wait_for_log("reason=token expired"));

    auto missed = publish(event("user:1", "while away"), admin_key);
    ASSERT_EQ(missed.status, 200);
    auto fresh = test::mint_jwt(subscriber_claims({"user:1"}));
    test::sse_client back(
        port(), "/events?channel=user:1",
        {{"Authorization", "Bearer " + fresh}, {"Last-Event-ID", sub.events()[0].last_event_id}});
    ASSERT_TRUE(back.wait_events(1));
    EXPECT_EQ(back.events()[0].data, "while away");
    EXPECT_EQ(back.events()[0].last_event_id, json::parse(missed.body)["id"]);
    EXPECT_EQ(back.events().size(), 1u);

    // The stale token is refused now: the page must get a new one.
    auto stale = test::request(port(), "GET", "/events?channel=user:1&token=" + token);
    EXPECT_EQ(stale.status, 401);
}

TEST_F(Auth, TokensNeverReachTheLog) {
    start({"--private-channels", "user:*", "--log-level", "debug"});
    auto token = test::mint_jwt(subscriber_claims({"user:5"}));
    { test::sse_client sub(port(), "/events?channel=user:5&token=" + token); }
    // Refused, so logged with their targets; %74 is "t", which the query parser decodes.
    test::request(port(), "GET", "/events?channel=user:6&token=" + token);
    test::request(port(), "GET", "/events?channel=user:6&%74oken=" + token);
    publish(event("news", "x"), news_key);
    publish(event("news", "x"), "wrong-key-0123456789abcdef");
    ASSERT_TRUE(server().wait_for_log("token=REDACTED"));
    ASSERT_TRUE(server().wait_for_log("%74oken=REDACTED"));
    ASSERT_TRUE(server().wait_for_log("status=401"));
    auto log = server().log();
    for (const auto& secret : {token, news_key, std::string("wrong-key-0123456789abcdef")})
        EXPECT_EQ(log.find(secret), std::string::npos) << "a token in the log:\n" << log;
}

TEST_F(Auth, FailuresAreCountedByEndpointAndReason) {
    start({"--private-channels", "user:*"});
    auto before_missing = auth_failures("publish", "missing");
    auto before_invalid = auth_failures("publish", "invalid");
    auto before_forbidden = auth_failures("publish", "forbidden");
    auto before_expired = auth_failures("subscribe", "expired");
    auto before_admin = auth_failures("admin", "forbidden");
    publish(event("news", "x"));
    publish(event("news", "x"), "wrong-key-0123456789abcdef");
    publish(event("sports", "x"), news_key);
    publish(event("sports", "x"), news_key);
    test::request(
        port(), "GET",
        "/events?channel=user:1&token=" + test::mint_jwt(subscriber_claims({"user:1"}, -120s)));
    test::request(port(), "GET", "/channels", "", {{"Authorization", "Bearer " + news_key}});
    EXPECT_EQ(auth_failures("publish", "missing") - before_missing, 1);
    EXPECT_EQ(auth_failures("publish", "invalid") - before_invalid, 1);
    EXPECT_EQ(auth_failures("publish", "forbidden") - before_forbidden, 2);
    EXPECT_EQ(auth_failures("subscribe", "expired") - before_expired, 1);
    EXPECT_EQ(auth_failures("admin", "forbidden") - before_admin, 1);
}

TEST_F(Auth, SighupRereadsTheKeysAndKeepsThemWhenTheFileIsBad) {
    start();
    const std::string rotated = "rotated-key-0123456789abcdef";
    test::write_private_file(tokens_, rotated + "\n");
    server().signal(SIGHUP);
    ASSERT_TRUE(server().wait_for_log("credentials re-read"));
    EXPECT_EQ(publish(event("news", "x"), rotated).status, 200);
    EXPECT_EQ(publish(event("news", "x"), news_key).status, 401);

    // A broken file is logged and the keys in force stay.
    test::write_private_file(tokens_, "short\n");
    server().signal(SIGHUP);
    ASSERT_TRUE(server().wait_for_log("credentials not reloaded"));
    EXPECT_NE(server().log().find("16"), std::string::npos);
    EXPECT_EQ(publish(event("news", "x"), rotated).status, 200);
}

TEST(AuthStartup, UnusableCredentialFilesAreAConfigurationError) {
    auto dir = test::make_temp_dir();
    auto open = test::write_private_file(dir / "tokens", "readable-by-all-0123456789\n",
                                         fs::perms::owner_read | fs::perms::owner_write |
                                             fs::perms::group_read | fs::perms::others_read);
    auto run =
        test::run_ssecast({"--listen", "127.0.0.1:0", "--publish-tokens-file", open.string()});
    EXPECT_EQ(run.status.code, 2) << run.err;
    EXPECT_NE(run.err.find("readable by every user"), std::string::npos) << run.err;
    EXPECT_NE(run.err.find(open.string()), std::string::npos) << run.err;

    auto weak = test::write_private_file(dir / "secret", "too-short\n");
    run = test::run_ssecast({"--listen", "127.0.0.1:0", "--jwt-secret-file", weak.string()});
    EXPECT_EQ(run.status.code, 2) << run.err;
    EXPECT_NE(run.err.find("32"), std::string::npos) << run.err;

    run = test::run_ssecast(
        {"--listen", "127.0.0.1:0", "--jwt-secret-file", (dir / "absent").string()});
    EXPECT_EQ(run.status.code, 2) << run.err;
    fs::remove_all(dir);
}

// A publisher sends the same JWT on every request: it is verified once, then found in the cache
// (its signature checked once is a unit test of the cache; here, the cache the daemon keeps).
TEST_F(Auth, VerifiedJwtsAreCachedOncePerToken) {
    start({"--threads", "1"});
    auto cached = [&] {
        auto res = test::request(port(), "GET", "/metrics", "",
                                 {{"Authorization", "Bearer " + admin_key}});
        return prom::parse(res.body).at("ssecast_token_cache_entries");
    };
    EXPECT_EQ(cached(), 0);
    auto token = test::mint_jwt({{"sub", "app"}, {"ssecast", {{"publish", {"*"}}}}});
    for (int i = 0; i < 5; ++i) EXPECT_EQ(publish(event("news", "x"), token).status, 200);
    EXPECT_EQ(cached(), 1);
    auto other = test::mint_jwt({{"sub", "other"}, {"ssecast", {{"publish", {"*"}}}}});
    EXPECT_EQ(publish(event("news", "x"), other).status, 200);
    EXPECT_EQ(cached(), 2);
    // Refused tokens are not kept.
    EXPECT_EQ(publish(event("news", "x"), test::mint_jwt({{"exp", test::unix_time(-1h)}})).status,
              401);
    EXPECT_EQ(cached(), 2);
}

// --publish-rate counts a publisher by the credential it shows: two keys from one address have a
// bucket each, and one key has one bucket whichever address it comes from.
TEST_F(Auth, ThePublishRateCountsEachCredentialApart) {
    start({"--publish-rate", "1/s", "--publish-burst", "2"});
    for (int i = 0; i < 2; ++i) EXPECT_EQ(publish(event("news", "x"), news_key).status, 200) << i;
    auto over = publish(event("news", "x"), news_key, {{"X-Forwarded-For", "203.0.113.9"}});
    EXPECT_EQ(over.status, 429) << over.body;
    EXPECT_TRUE(over.headers.count("Retry-After"));
    // The same address, another credential: a bucket of its own.
    for (int i = 0; i < 2; ++i) EXPECT_EQ(publish(event("news", "x"), admin_key).status, 200) << i;
    EXPECT_EQ(publish(event("news", "x"), admin_key).status, 429);
}
