#include <gtest/gtest.h>
#include <jwt.h>
#include <openssl/evp.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "ssecast/auth/authenticator.hpp"
#include "ssecast/auth/credential_checker.hpp"
#include "temp_dir.hpp"

namespace {

using ssecast::auth_failure;
using ssecast::auth_failure_reason;
using ssecast::auth_result;
using ssecast::authenticated;
using ssecast::authenticator;
using ssecast::credential_checker;
using ssecast::credential_kind;
using ssecast::credential_sources;
using std::chrono::seconds;
using std::chrono::system_clock;

constexpr long now_seconds = 1'796'205'600;  // 2026-12-02T10:00:00Z
const system_clock::time_point now{seconds(now_seconds)};

const std::string api_key = "publisher-key-0001";
const std::string other_api_key = "publisher-key-0002";
const std::string secret = "0123456789abcdef0123456789abcdef";
const std::string other_secret = "fedcba9876543210fedcba9876543210";

using test::temp_dir;

// An HS256 token written by libjwt.
std::string hs256(const std::string& key, const std::string& claims_json) {
    jwt_t* raw = nullptr;
    if (jwt_new(&raw) != 0) throw std::runtime_error("jwt_new failed");
    const std::unique_ptr<jwt_t, void (*)(jwt_t*)> jwt(raw, jwt_free);
    if (jwt_set_alg(raw, JWT_ALG_HS256, reinterpret_cast<const unsigned char*>(key.data()),
                    static_cast<int>(key.size())) != 0 ||
        jwt_add_grants_json(raw, claims_json.c_str()) != 0) {
        throw std::runtime_error("libjwt refused the token's settings");
    }
    char* encoded = jwt_encode_str(raw);
    std::string token(encoded);
    std::free(encoded);
    return token;
}

std::string sha256_hex8(const std::string& text) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    EVP_Digest(text.data(), text.size(), digest, &size, EVP_sha256(), nullptr);
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (int i = 0; i < 4; ++i) out += {hex[digest[i] >> 4], hex[digest[i] & 15]};
    return out;
}

authenticated accepted(const auth_result& result) {
    if (auto* failure = std::get_if<auth_failure>(&result)) {
        throw std::runtime_error("refused: " + failure->message);
    }
    return std::get<authenticated>(result);
}

auth_failure refused(const auth_result& result) {
    if (std::holds_alternative<authenticated>(result)) throw std::runtime_error("accepted");
    return std::get<auth_failure>(result);
}

// A tokens file and a JWT secret file, both loaded by the fixture's authenticator.
class AuthenticatorTest : public ::testing::Test {
  protected:
    void SetUp() override {
        sources.tokens_file = dir.write("tokens", api_key + " news alerts:*\n");
        sources.jwt_secret_file = dir.write("jwt-secret", secret + "\n");
        ASSERT_EQ(auth.reload(sources), std::nullopt);
    }

    temp_dir dir;
    credential_sources sources;
    authenticator auth;
};

TEST(Authenticator, NothingConfiguredAcceptsNothing) {
    const authenticator auth;
    EXPECT_FALSE(auth.configured());
    EXPECT_FALSE(auth.accepts_jwt());
    credential_checker checker(auth);
    EXPECT_FALSE(checker.configured());
    EXPECT_EQ(refused(checker.check(hs256(secret, "{}"), now)).message,
              "JWTs are not accepted: no --jwt-secret-file or --jwt-public-key-file");
    EXPECT_EQ(refused(checker.check(api_key, now)).message,
              "API keys are not accepted: no --publish-tokens-file");
}

TEST_F(AuthenticatorTest, AcceptsAStaticKey) {
    EXPECT_TRUE(auth.configured());
    EXPECT_TRUE(auth.accepts_jwt());
    credential_checker checker(auth);
    const auto result = accepted(checker.check(api_key, now));
    EXPECT_EQ(result.kind, credential_kind::static_key);
    EXPECT_EQ(result.identity, "static:" + sha256_hex8(api_key));
    EXPECT_TRUE(result.rights.publish.matches("news"));
    EXPECT_TRUE(result.rights.publish.matches("alerts:fire"));
    EXPECT_FALSE(result.rights.publish.matches("other"));
    EXPECT_TRUE(result.rights.subscribe.empty());  // API keys are for publishers
    EXPECT_FALSE(result.expires);
    const auto unknown = refused(checker.check(other_api_key, now));
    EXPECT_EQ(unknown.reason, auth_failure_reason::invalid);
    EXPECT_EQ(unknown.message, "unknown API key");
    EXPECT_EQ(refused(checker.check("", now)).message, "unknown API key");
}

TEST_F(AuthenticatorTest, AcceptsAJwt) {
    credential_checker checker(auth);
    const std::string token =
        hs256(secret, R"({"sub":"alice","exp":)" + std::to_string(now_seconds + 60) +
                          R"(,"ssecast":{"subscribe":["user:alice:*"]}})");
    const auto result = accepted(checker.check(token, now));
    EXPECT_EQ(result.kind, credential_kind::jwt);
    EXPECT_EQ(result.identity, "jwt:alice");
    EXPECT_TRUE(result.rights.subscribe.matches("user:alice:inbox"));
    EXPECT_TRUE(result.rights.publish.empty());
    EXPECT_EQ(result.expires, now + seconds(60));
}

TEST_F(AuthenticatorTest, JwtWithoutSubIsNamedByItsDigest) {
    credential_checker checker(auth);
    const std::string token = hs256(secret, "{}");
    EXPECT_EQ(accepted(checker.check(token, now)).identity, "jwt:" + sha256_hex8(token));
}

TEST_F(AuthenticatorTest, TwoDotsMakeAJwt) {
    credential_checker checker(auth);
    EXPECT_EQ(refused(checker.check("publisher.key.0001", now)).message,
              "token header is not base64url");
    EXPECT_EQ(refused(checker.check("publisher.key.00.01", now)).message, "unknown API key");
}

TEST_F(AuthenticatorTest, SecondCheckOfAJwtIsACacheHit) {
    credential_checker checker(auth);
    const std::string token = hs256(secret, R"({"sub":"alice"})");
    EXPECT_EQ(accepted(checker.check(token, now)).identity, "jwt:alice");
    EXPECT_EQ(accepted(checker.check(token, now)).identity, "jwt:alice");
    EXPECT_EQ(checker.cache().misses(), 1u);  // verified once
    EXPECT_EQ(checker.cache().hits(), 1u);
    EXPECT_EQ(checker.cache().size(), 1u);
    // Refusals are not cached: each is verified again.
    const std::string forged = hs256(other_secret, R"({"sub":"alice"})");
    EXPECT_EQ(refused(checker.check(forged, now)).message, "token signature is invalid");
    EXPECT_EQ(refused(checker.check(forged, now)).message, "token signature is invalid");
    EXPECT_EQ(checker.cache().misses(), 3u);
    EXPECT_EQ(checker.cache().size(), 1u);
}

TEST_F(AuthenticatorTest, CachedJwtExpires) {
    credential_checker checker(auth);
    const std::string token = hs256(secret, R"({"exp":)" + std::to_string(now_seconds + 60) + "}");
    EXPECT_NO_THROW(accepted(checker.check(token, now)));
    EXPECT_NO_THROW(accepted(checker.check(token, now + seconds(89))));  // within the 30 s leeway
    EXPECT_EQ(checker.cache().hits(), 1u);
    const auto expired = refused(checker.check(token, now + seconds(90)));
    EXPECT_EQ(expired.reason, auth_failure_reason::expired);
    EXPECT_EQ(expired.message, "token expired at 2026-12-02T10:01:00Z");
    EXPECT_EQ(checker.cache().hits(), 1u);
    EXPECT_EQ(checker.cache().size(), 0u);
}

TEST_F(AuthenticatorTest, CacheIsBounded) {
    credential_checker checker(auth, 2);
    for (int i = 0; i < 5; ++i) {
        EXPECT_NO_THROW(accepted(
            checker.check(hs256(secret, R"({"sub":"u)" + std::to_string(i) + "\"}"), now)));
    }
    EXPECT_EQ(checker.cache().size(), 2u);
}

TEST_F(AuthenticatorTest, ReloadMakesTheCacheMiss) {
    credential_checker checker(auth);
    const std::string token = hs256(secret, R"({"sub":"alice"})");
    EXPECT_NO_THROW(accepted(checker.check(token, now)));
    ASSERT_EQ(auth.reload(sources), std::nullopt);  // same files, new generation
    EXPECT_NO_THROW(accepted(checker.check(token, now)));
    EXPECT_EQ(checker.cache().misses(), 2u);
    EXPECT_EQ(checker.cache().hits(), 0u);

    // A new secret: the token verified under the old one is refused at once.
    dir.write("jwt-secret", other_secret);
    ASSERT_EQ(auth.reload(sources), std::nullopt);
    EXPECT_EQ(refused(checker.check(token, now)).message, "token signature is invalid");
    EXPECT_NO_THROW(accepted(checker.check(hs256(other_secret, "{}"), now)));
}

TEST_F(AuthenticatorTest, FailedReloadKeepsTheOldSet) {
    credential_checker checker(auth);
    const std::string token = hs256(secret, "{}");
    const std::string tokens_file = *sources.tokens_file;
    dir.write("tokens", other_api_key + " news\n" + other_api_key + "\n");
    EXPECT_EQ(auth.reload(sources), tokens_file + ":2: the same token as on line 1");
    ::chmod(tokens_file.c_str(), 0644);
    EXPECT_EQ(auth.reload(sources),
              tokens_file + " is readable by every user (mode 0644): chmod o-r " + tokens_file);
    credential_sources bad_leeway = sources;
    bad_leeway.jwt.leeway = seconds(-1);
    EXPECT_EQ(auth.reload(bad_leeway), "the JWT leeway must be between 0 and 3600 seconds");
    bad_leeway.jwt.leeway = seconds(3601);
    EXPECT_EQ(auth.reload(bad_leeway), "the JWT leeway must be between 0 and 3600 seconds");
    // The tokens file is fine again but the secret file is missing: still nothing changes.
    dir.write("tokens", other_api_key + "\n");
    credential_sources missing_secret = sources;
    missing_secret.jwt_secret_file = *sources.jwt_secret_file + ".gone";
    EXPECT_EQ(auth.reload(missing_secret),
              *missing_secret.jwt_secret_file + ": No such file or directory");

    EXPECT_NO_THROW(accepted(checker.check(api_key, now)));
    EXPECT_EQ(refused(checker.check(other_api_key, now)).message, "unknown API key");
    EXPECT_NO_THROW(accepted(checker.check(token, now)));
}

TEST_F(AuthenticatorTest, GoodReloadReplacesTheSet) {
    credential_checker checker(auth);
    EXPECT_NO_THROW(accepted(checker.check(api_key, now)));
    dir.write("tokens", other_api_key + " news\n");
    ASSERT_EQ(auth.reload(sources), std::nullopt);
    EXPECT_EQ(refused(checker.check(api_key, now)).message, "unknown API key");
    EXPECT_NO_THROW(accepted(checker.check(other_api_key, now)));

    // Dropping the JWT secret stops JWTs, in the checker and the authenticator.
    credential_sources tokens_only = sources;
    tokens_only.jwt_secret_file.reset();
    ASSERT_EQ(auth.reload(tokens_only), std::nullopt);
    EXPECT_FALSE(auth.accepts_jwt());
    EXPECT_FALSE(checker.accepts_jwt());
    EXPECT_TRUE(checker.configured());
    EXPECT_EQ(refused(checker.check(hs256(secret, "{}"), now)).message,
              "JWTs are not accepted: no --jwt-secret-file or --jwt-public-key-file");
}

TEST_F(AuthenticatorTest, JwtOnlyRefusesApiKeys) {
    credential_sources jwt_only = sources;
    jwt_only.tokens_file.reset();
    ASSERT_EQ(auth.reload(jwt_only), std::nullopt);
    credential_checker checker(auth);
    EXPECT_TRUE(checker.configured());
    EXPECT_EQ(refused(checker.check(api_key, now)).message,
              "API keys are not accepted: no --publish-tokens-file");
    EXPECT_NO_THROW(accepted(checker.check(hs256(secret, "{}"), now)));
}

TEST_F(AuthenticatorTest, AudienceAndIssuerSettingsApply) {
    sources.jwt.audience = "ssecast";
    sources.jwt.issuer = "issuer";
    ASSERT_EQ(auth.reload(sources), std::nullopt);
    credential_checker checker(auth);
    EXPECT_NO_THROW(
        accepted(checker.check(hs256(secret, R"({"aud":"ssecast","iss":"issuer"})"), now)));
    EXPECT_EQ(refused(checker.check(hs256(secret, R"({"aud":"ssecast"})"), now)).message,
              "token has no iss claim; issuer \"issuer\" is required");
}

TEST_F(AuthenticatorTest, CheckersOnOtherThreadsSeeReloads) {
    // Each thread has its own checker, as each event loop will; every set loaded here accepts
    // both credentials, so every check must succeed however the reloads interleave.
    const std::string token = hs256(secret, R"({"sub":"alice"})");
    std::vector<std::thread> threads;
    std::vector<int> failures(2, 0);
    for (int t = 0; t < 2; ++t) {
        threads.emplace_back([&, t] {
            credential_checker checker(auth);
            for (int i = 0; i < 300; ++i) {
                if (!std::holds_alternative<authenticated>(checker.check(token, now)))
                    ++failures[t];
                if (!std::holds_alternative<authenticated>(checker.check(api_key, now)))
                    ++failures[t];
            }
        });
    }
    for (int i = 0; i < 30; ++i) EXPECT_EQ(auth.reload(sources), std::nullopt);
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(failures, std::vector<int>(2, 0));
}

}  // namespace
