// Rows of SECURITY.md's table of bad inputs that no other test covers: each input, sent to the
// real daemon, and the answer SECURITY.md says it gets. (The other rows name their tests there.)

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "http_client.hpp"
#include "test_server.hpp"
#include "tokens.hpp"

using namespace std::chrono_literals;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

// An EC P-256 key pair in PEM, made for the test.
struct key_pair {
    std::string private_pem;
    std::string public_pem;
};

key_pair p256_pair() {
    std::unique_ptr<EVP_PKEY, void (*)(EVP_PKEY*)> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
    if (!key) throw std::runtime_error("EC key generation failed");
    auto pem = [&](bool private_part) {
        std::unique_ptr<BIO, int (*)(BIO*)> bio(BIO_new(BIO_s_mem()), BIO_free);
        int written = private_part ? PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr,
                                                              nullptr, 0, nullptr, nullptr)
                                   : PEM_write_bio_PUBKEY(bio.get(), key.get());
        if (written != 1) throw std::runtime_error("PEM encoding failed");
        char* data = nullptr;
        long size = BIO_get_mem_data(bio.get(), &data);
        return std::string(data, static_cast<std::size_t>(size));
    };
    return {pem(true), pem(false)};
}

std::string error_of(const test::http_response& res) {
    auto body = json::parse(res.body, nullptr, false);
    return body.is_object() && body.contains("error") ? body["error"].get<std::string>() : "";
}

const json publish_rights = {{"ssecast", {{"publish", {"*"}}}}};

test::http_response publish_with(std::uint16_t port, const std::string& token) {
    return test::publish(port, R"({"channel":"news","data":"x"})",
                         {{"Authorization", "Bearer " + token}});
}

class SecurityTable : public ::testing::Test {
  protected:
    void TearDown() override {
        server_.reset();
        std::error_code ignored;
        if (!dir_.empty()) fs::remove_all(dir_, ignored);
    }
    fs::path dir_ = test::make_temp_dir();
    std::unique_ptr<test::server> server_;
};

}  // namespace

// With only a public key configured, an HS256 token "signed" with the public key's PEM text as
// the HMAC secret (algorithm confusion) is refused; the same claims signed with the private key
// are accepted.
TEST_F(SecurityTable, AlgorithmConfusionIsRefused) {
    auto keys = p256_pair();
    auto pub = test::write_private_file(dir_ / "jwt.pub", keys.public_pem);
    server_ = std::make_unique<test::server>(
        std::vector<std::string>{"--jwt-public-key-file", pub.string()});
    auto confused = test::mint_jwt(publish_rights, keys.public_pem, JWT_ALG_HS256);
    auto refused = publish_with(server_->port(), confused);
    EXPECT_EQ(refused.status, 401) << refused.body;
    EXPECT_NE(error_of(refused).find("HS256 is not accepted"), std::string::npos) << refused.body;
    auto genuine = test::mint_jwt(publish_rights, keys.private_pem, JWT_ALG_ES256);
    EXPECT_EQ(publish_with(server_->port(), genuine).status, 200);
    // An ES token of another curve's name is refused too: the key decides (P-256: ES256 only).
    auto other = test::mint_jwt(publish_rights, keys.private_pem, JWT_ALG_ES384);
    EXPECT_EQ(publish_with(server_->port(), other).status, 401);
}

TEST_F(SecurityTable, NotYetValidWrongAudienceAndWrongIssuerAreRefused) {
    auto secret = test::write_private_file(dir_ / "secret", test::hmac_secret);
    server_ = std::make_unique<test::server>(
        std::vector<std::string>{"--jwt-secret-file", secret.string(), "--jwt-audience", "ssecast",
                                 "--jwt-issuer", "https://id.example"});
    json good = {{"aud", "ssecast"}, {"iss", "https://id.example"}};
    good.update(publish_rights);
    EXPECT_EQ(publish_with(server_->port(), test::mint_jwt(good)).status, 200);
    struct variant {
        json change;
        std::string said;
    };
    const std::vector<variant> bad = {
        {{{"nbf", test::unix_time(1h)}}, "not valid before"},
        {{{"aud", "another-service"}}, "audience"},
        {{{"aud", json::array({"a", "b"})}}, "audience"},
        {{{"iss", "https://evil.example"}}, "issuer"},
        {{{"exp", "tomorrow"}}, "exp"},
        {{{"ssecast", {{"publish", "news"}}}}, "publish"},
    };
    for (const auto& b : bad) {
        auto claims = good;
        claims.update(b.change);
        auto res = publish_with(server_->port(), test::mint_jwt(claims));
        EXPECT_EQ(res.status, 401) << b.change.dump() << ": " << res.body;
        EXPECT_NE(error_of(res).find(b.said), std::string::npos)
            << b.change.dump() << ": " << res.body;
    }
    auto missing_aud = json(publish_rights);
    missing_aud["iss"] = "https://id.example";
    EXPECT_EQ(publish_with(server_->port(), test::mint_jwt(missing_aud)).status, 401);
}

TEST_F(SecurityTable, GarbageTokensAreRefusedAndTheDaemonKeepsServing) {
    auto secret = test::write_private_file(dir_ / "secret", test::hmac_secret);
    auto keys = test::write_private_file(dir_ / "tokens", "garbage-test-key-0123456789\n");
    server_ = std::make_unique<test::server>(std::vector<std::string>{
        "--jwt-secret-file", secret.string(), "--publish-tokens-file", keys.string()});
    auto valid = test::mint_jwt(publish_rights);
    auto dot = valid.find('.');
    const std::vector<std::string> tokens = {
        "a.b.c",
        "..",
        "e30.e30.",                                                   // {} {} and no signature
        valid.substr(0, valid.rfind('.')) + ".",                      // signature cut off
        valid + "x",                                                  // one character more
        valid.substr(0, dot) + "." + valid.substr(dot + 1) + ".x.y",  // five segments (JWE-shaped)
        "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln",                      // payload not JSON
        "bm90IGpzb24.e30.c2ln",                                       // header not JSON
        std::string(9000, 'a') + "." + std::string(10, 'b') + ".c",   // longer than 8 KiB
        "garbage-test-key-012345678",                                 // a key one character short
        "garbage-test-key-0123456789x",                               // a key one character long
    };
    for (const auto& t : tokens) {
        auto res = publish_with(server_->port(), t);
        EXPECT_TRUE(res.status == 401 || res.status == 431) << t.substr(0, 80) << ": " << res.body;
        if (res.status == 401) {
            EXPECT_FALSE(error_of(res).empty());
        }
    }
    // Not a token at all: characters RFC 6750 does not allow.
    for (const char* t : {"a b", "tok\"en", "tök"}) {
        auto res = publish_with(server_->port(), t);
        EXPECT_EQ(res.status, 400) << t;
    }
    EXPECT_EQ(publish_with(server_->port(), valid).status, 200);
    EXPECT_EQ(publish_with(server_->port(), "garbage-test-key-0123456789").status, 200);
    EXPECT_EQ(test::request(server_->port(), "GET", "/healthz").status, 200);
}

TEST_F(SecurityTable, BadLastEventIdsGetAResyncNeverAnError) {
    server_ = std::make_unique<test::server>(std::vector<std::string>{"--history", "10"});
    auto res = test::publish(server_->port(), R"({"channel":"l","data":"kept"})");
    ASSERT_EQ(res.status, 200);
    auto id = json::parse(res.body)["id"].get<std::string>();
    auto epoch = id.substr(0, id.find('-'));
    const std::vector<std::string> bad = {
        "garbage",
        "-1",
        epoch + "-01",
        epoch + "-" + std::to_string(1'000'000),
        epoch + "-",
        "99999999999999999999999-1",
        std::string(4000, '9'),
        "\xFF\xFE",
        epoch + "--1",
    };
    for (const auto& b : bad) {
        test::sse_client sub(server_->port(), "/events?channel=l", {{"Last-Event-ID", b}});
        ASSERT_EQ(sub.status(), 200) << b.substr(0, 40);
        ASSERT_TRUE(sub.wait_events(2)) << b.substr(0, 40);
        EXPECT_EQ(sub.events()[0].type, "resync") << b.substr(0, 40);
        EXPECT_LE(json::parse(sub.events()[0].data)["lastEventId"].get<std::string>().size(), 128u);
        EXPECT_EQ(sub.events()[1].data, "kept");
    }
}
