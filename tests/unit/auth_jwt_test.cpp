// JWT keys and verification, with tokens minted here: by libjwt where it can write them, and by
// OpenSSL's HMAC over hand-made headers where libjwt would not (wrong-case alg, crit, typ).
#include <gtest/gtest.h>
#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <variant>

#include "ssecast/auth/jwt_keys.hpp"
#include "ssecast/auth/jwt_verifier.hpp"
#include "temp_dir.hpp"

namespace {

using json = nlohmann::json;
using ssecast::auth_failure;
using ssecast::auth_failure_reason;
using ssecast::jwt_keys;
using ssecast::jwt_public_key;
using ssecast::jwt_secret;
using ssecast::jwt_settings;
using ssecast::jwt_verifier;
using ssecast::load_error;
using ssecast::verified_jwt;
using std::chrono::system_clock;

constexpr long now_seconds = 1'796'205'600;  // 2026-12-02T10:00:00Z
const system_clock::time_point now{std::chrono::seconds(now_seconds)};

const std::string secret64 = "0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789ABCDEF";
const std::string secret32 = secret64.substr(0, 32);

// ---- minting ----

std::string b64url(std::string_view bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    const int size = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                     reinterpret_cast<const unsigned char*>(bytes.data()),
                                     static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(size));
    while (!out.empty() && out.back() == '=') out.pop_back();
    for (char& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
    return out;
}

std::string hmac_token(const std::string& header, const std::string& claims,
                       const std::string& secret = secret64, const EVP_MD* md = EVP_sha256()) {
    const std::string input = b64url(header) + "." + b64url(claims);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    HMAC(md, secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &size);
    return input + "." + b64url(std::string(reinterpret_cast<const char*>(mac), size));
}

// A token written by libjwt; `key` is an HMAC secret or a PEM private key.
std::string mint(jwt_alg_t alg, const std::string& key, const json& claims) {
    jwt_t* raw = nullptr;
    if (jwt_new(&raw) != 0) throw std::runtime_error("jwt_new failed");
    const std::unique_ptr<jwt_t, void (*)(jwt_t*)> jwt(raw, jwt_free);
    const bool keyless = alg == JWT_ALG_NONE;
    if (jwt_set_alg(raw, alg,
                    keyless ? nullptr : reinterpret_cast<const unsigned char*>(key.data()),
                    keyless ? 0 : static_cast<int>(key.size())) != 0 ||
        jwt_add_grants_json(raw, claims.dump().c_str()) != 0) {
        throw std::runtime_error("libjwt refused the token's settings");
    }
    char* encoded = jwt_encode_str(raw);
    if (!encoded) throw std::runtime_error("jwt_encode_str failed");
    std::string token(encoded);
    std::free(encoded);
    return token;
}

const json rights = {{"sub", "alice"},
                     {"exp", now_seconds + 3600},
                     {"ssecast", {{"publish", {"news", "user:alice:*"}}, {"subscribe", {"*"}}}}};

// ---- keys ----

struct key_pair {
    std::string private_pem;
    std::string public_pem;
};

std::string pem_of(EVP_PKEY* key, bool private_part) {
    const std::unique_ptr<BIO, int (*)(BIO*)> bio(BIO_new(BIO_s_mem()), BIO_free);
    const int written = private_part ? PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0,
                                                                nullptr, nullptr)
                                     : PEM_write_bio_PUBKEY(bio.get(), key);
    if (written != 1) throw std::runtime_error("PEM encoding failed");
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(size));
}

using pkey_ptr = std::unique_ptr<EVP_PKEY, void (*)(EVP_PKEY*)>;

key_pair pair_of(EVP_PKEY* generated) {
    if (!generated) throw std::runtime_error("key generation failed");
    const pkey_ptr key(generated, EVP_PKEY_free);
    return {pem_of(key.get(), true), pem_of(key.get(), false)};
}

// Generated once each: RSA key generation is slow under the sanitizers.
const key_pair& rsa2048() {
    static const key_pair keys = pair_of(EVP_RSA_gen(2048));
    return keys;
}
const key_pair& ec(const char* curve) {
    static const key_pair p256 = pair_of(EVP_EC_gen("P-256"));
    static const key_pair p384 = pair_of(EVP_EC_gen("P-384"));
    static const key_pair p521 = pair_of(EVP_EC_gen("P-521"));
    const std::string name = curve;
    return name == "P-256" ? p256 : name == "P-384" ? p384 : p521;
}

// A self-signed certificate for the RSA key, as someone might give instead of the key.
std::string certificate_pem() {
    const auto bio = std::unique_ptr<BIO, int (*)(BIO*)>(
        BIO_new_mem_buf(rsa2048().private_pem.data(),
                        static_cast<int>(rsa2048().private_pem.size())),
        BIO_free);
    const pkey_ptr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr),
                       EVP_PKEY_free);
    const std::unique_ptr<X509, void (*)(X509*)> cert(X509_new(), X509_free);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
    X509_set_pubkey(cert.get(), key.get());
    X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get()));
    if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) throw std::runtime_error("X509_sign");
    const std::unique_ptr<BIO, int (*)(BIO*)> out(BIO_new(BIO_s_mem()), BIO_free);
    PEM_write_bio_X509(out.get(), cert.get());
    char* data = nullptr;
    const long size = BIO_get_mem_data(out.get(), &data);
    return std::string(data, static_cast<std::size_t>(size));
}

template <typename T>
T loaded(std::variant<T, load_error> result) {
    if (auto* error = std::get_if<load_error>(&result)) throw std::runtime_error(error->message);
    return std::get<T>(std::move(result));
}

template <typename T>
std::string load_error_of(std::variant<T, load_error> result) {
    auto* error = std::get_if<load_error>(&result);
    return error ? error->message : "(accepted)";
}

jwt_secret secret(const std::string& bytes) {
    return loaded(jwt_secret::parse(bytes, "secret"));
}
jwt_public_key public_key(const std::string& pem) {
    return loaded(jwt_public_key::parse(pem, "key.pem"));
}

jwt_verifier with_secret(const std::string& bytes = secret64, jwt_settings settings = {}) {
    return jwt_verifier(jwt_keys{secret(bytes), std::nullopt}, std::move(settings));
}
jwt_verifier with_public_key(const std::string& pem, jwt_settings settings = {}) {
    return jwt_verifier(jwt_keys{std::nullopt, public_key(pem)}, std::move(settings));
}

verified_jwt accepted(const std::variant<verified_jwt, auth_failure>& result) {
    if (auto* failure = std::get_if<auth_failure>(&result)) {
        throw std::runtime_error("refused: " + failure->message);
    }
    return std::get<verified_jwt>(result);
}

auth_failure refused(const std::variant<verified_jwt, auth_failure>& result) {
    if (std::holds_alternative<verified_jwt>(result)) throw std::runtime_error("accepted");
    return std::get<auth_failure>(result);
}

// The message of an invalid (not expired) refusal.
std::string invalid_message(const jwt_verifier& verifier, const std::string& token) {
    const auth_failure failure = refused(verifier.verify(token, now));
    EXPECT_EQ(failure.reason, auth_failure_reason::invalid) << failure.message;
    EXPECT_EQ(failure.message.find(token), std::string::npos) << "the message shows the token";
    return failure.message;
}

void expect_rights(const verified_jwt& verified) {
    EXPECT_EQ(verified.subject, "alice");
    EXPECT_EQ(verified.expires, now + std::chrono::hours(1));
    EXPECT_TRUE(verified.rights.publish.matches("news"));
    EXPECT_TRUE(verified.rights.publish.matches("user:alice:inbox"));
    EXPECT_FALSE(verified.rights.publish.matches("user:bob:inbox"));
    EXPECT_FALSE(verified.rights.publish.matches_every_channel());
    EXPECT_TRUE(verified.rights.subscribe.matches_every_channel());
}

using test::temp_dir;

// ---- accepted tokens ----

TEST(JwtVerifier, AcceptsHmacTokensWithTheirRights) {
    const auto verifier = with_secret();
    expect_rights(accepted(verifier.verify(mint(JWT_ALG_HS256, secret64, rights), now)));
    expect_rights(accepted(verifier.verify(mint(JWT_ALG_HS384, secret64, rights), now)));
    expect_rights(accepted(verifier.verify(mint(JWT_ALG_HS512, secret64, rights), now)));
}

TEST(JwtVerifier, AcceptsRsaTokens) {
    const auto verifier = with_public_key(rsa2048().public_pem);
    expect_rights(
        accepted(verifier.verify(mint(JWT_ALG_RS256, rsa2048().private_pem, rights), now)));
    expect_rights(
        accepted(verifier.verify(mint(JWT_ALG_RS512, rsa2048().private_pem, rights), now)));
}

TEST(JwtVerifier, AcceptsEcTokensOfTheKeysCurve) {
    expect_rights(accepted(with_public_key(ec("P-256").public_pem)
                               .verify(mint(JWT_ALG_ES256, ec("P-256").private_pem, rights), now)));
    expect_rights(accepted(with_public_key(ec("P-384").public_pem)
                               .verify(mint(JWT_ALG_ES384, ec("P-384").private_pem, rights), now)));
    expect_rights(accepted(with_public_key(ec("P-521").public_pem)
                               .verify(mint(JWT_ALG_ES512, ec("P-521").private_pem, rights), now)));
}

TEST(JwtVerifier, AcceptsBothKindsWhenBothKeysAreConfigured) {
    const jwt_verifier verifier(jwt_keys{secret(secret64), public_key(rsa2048().public_pem)}, {});
    expect_rights(accepted(verifier.verify(mint(JWT_ALG_HS256, secret64, rights), now)));
    expect_rights(
        accepted(verifier.verify(mint(JWT_ALG_RS256, rsa2048().private_pem, rights), now)));
    EXPECT_EQ(invalid_message(verifier, mint(JWT_ALG_ES256, ec("P-256").private_pem, rights)),
              "algorithm ES256 is not accepted: only HS256, HS384, HS512, RS256, RS384, RS512 "
              "with the configured secret and public key");
}

TEST(JwtVerifier, TokenWithoutClaimsGrantsNothing) {
    const auto verified =
        accepted(with_secret().verify(mint(JWT_ALG_HS256, secret64, json::object()), now));
    EXPECT_FALSE(verified.subject);
    EXPECT_FALSE(verified.expires);
    EXPECT_TRUE(verified.rights.publish.empty());
    EXPECT_TRUE(verified.rights.subscribe.empty());
}

TEST(JwtVerifier, TypIsOptionalAndCaseInsensitive) {
    const std::string claims = R"({"sub":"alice"})";
    const auto verifier = with_secret();
    EXPECT_TRUE(accepted(verifier.verify(hmac_token(R"({"alg":"HS256"})", claims), now)).subject);
    EXPECT_TRUE(accepted(verifier.verify(hmac_token(R"({"alg":"HS256","typ":"jwt"})", claims), now))
                    .subject);
    // The control for the refusals below: this hand-made token is as libjwt would write it.
    EXPECT_TRUE(accepted(verifier.verify(hmac_token(R"({"alg":"HS256","typ":"JWT"})", claims), now))
                    .subject);
}

// ---- algorithms ----

TEST(JwtVerifier, RefusesAlgNoneEvenWithAKeyConfigured) {
    const auto verifier = with_secret();
    const std::string unsigned_token = mint(JWT_ALG_NONE, "", rights);
    ASSERT_EQ(unsigned_token.back(), '.');  // libjwt writes no signature segment content
    EXPECT_EQ(invalid_message(verifier, unsigned_token), "algorithm none is not accepted");
    EXPECT_EQ(invalid_message(verifier, unsigned_token + "c2lnbmF0dXJl"),
              "algorithm none is not accepted");
    EXPECT_EQ(invalid_message(verifier, hmac_token(R"({"alg":"None"})", rights.dump())),
              "algorithm none is not accepted");
    EXPECT_EQ(invalid_message(with_public_key(rsa2048().public_pem), unsigned_token),
              "algorithm none is not accepted");
}

TEST(JwtVerifier, RefusesHmacTokenSignedWithThePublicKeyText) {
    // Algorithm confusion: libjwt alone would verify this HS256 token with the PEM text as the
    // HMAC secret, and accept it.
    const auto verifier = with_public_key(rsa2048().public_pem);
    const std::string forged = mint(JWT_ALG_HS256, rsa2048().public_pem, rights);
    EXPECT_EQ(invalid_message(verifier, forged),
              "algorithm HS256 is not accepted: only RS256, RS384, RS512 with the configured "
              "public key");
    const std::string forged_canonical =
        mint(JWT_ALG_HS256, std::string(public_key(rsa2048().public_pem).pem()), rights);
    EXPECT_NE(invalid_message(verifier, forged_canonical).find("HS256 is not accepted"),
              std::string::npos);
}

TEST(JwtVerifier, RefusesAlgorithmsOfTheOtherKeyKind) {
    EXPECT_EQ(invalid_message(with_public_key(ec("P-256").public_pem),
                              mint(JWT_ALG_HS256, secret64, rights)),
              "algorithm HS256 is not accepted: only ES256 with the configured public key");
    EXPECT_EQ(
        invalid_message(with_secret(), mint(JWT_ALG_RS256, rsa2048().private_pem, rights)),
        "algorithm RS256 is not accepted: only HS256, HS384, HS512 with the configured secret");
    EXPECT_EQ(
        invalid_message(with_secret(), mint(JWT_ALG_ES256, ec("P-256").private_pem, rights)),
        "algorithm ES256 is not accepted: only HS256, HS384, HS512 with the configured secret");
}

TEST(JwtVerifier, RefusesEcAlgorithmOfAnotherCurve) {
    EXPECT_EQ(invalid_message(with_public_key(ec("P-384").public_pem),
                              mint(JWT_ALG_ES256, ec("P-256").private_pem, rights)),
              "algorithm ES256 is not accepted: only ES384 with the configured public key");
}

TEST(JwtVerifier, DuplicateAlgIsReadAsLibjwtReadsIt) {
    // nlohmann and libjwt's jansson both take the last "alg".
    const auto verifier = with_public_key(rsa2048().public_pem);
    EXPECT_EQ(invalid_message(verifier, hmac_token(R"({"alg":"RS256","alg":"HS256"})",
                                                   rights.dump(), rsa2048().public_pem)),
              "algorithm HS256 is not accepted: only RS256, RS384, RS512 with the configured "
              "public key");
    // Pinned to RS256, which libjwt then uses too: an HMAC is no RSA signature.
    EXPECT_EQ(invalid_message(verifier, hmac_token(R"({"alg":"HS256","alg":"RS256"})",
                                                   rights.dump(), rsa2048().public_pem)),
              "token signature is invalid");
}

TEST(JwtVerifier, RefusesAlgInAnotherCase) {
    // libjwt compares "alg" case-insensitively and would accept this correctly signed token.
    EXPECT_EQ(
        invalid_message(with_secret(), hmac_token(R"({"alg":"hs256","typ":"JWT"})", rights.dump())),
        "algorithm hs256 is not accepted: only HS256, HS384, HS512 with the configured secret");
}

TEST(JwtVerifier, RefusesMissingOrOddAlg) {
    const auto verifier = with_secret();
    EXPECT_EQ(invalid_message(verifier, hmac_token(R"({"typ":"JWT"})", "{}")),
              "token header has no alg");
    EXPECT_EQ(invalid_message(verifier, hmac_token(R"({"alg":256})", "{}")),
              "token header alg is not a string");
    EXPECT_EQ(
        invalid_message(verifier, hmac_token(R"({"alg":"PS256"})", "{}")),
        "algorithm PS256 is not accepted: only HS256, HS384, HS512 with the configured secret");
    // Text from the token is shown as printable ASCII, and shortened.
    EXPECT_EQ(invalid_message(
                  verifier,
                  hmac_token("{\"alg\":\"HS256\\n\\u0000" + std::string(50, 'x') + "\"}", "{}")),
              "algorithm HS256??" + std::string(33, 'x') +
                  "... is not accepted: only HS256, HS384, HS512 with the configured secret");
}

TEST(JwtVerifier, RefusesHs384WithA32ByteSecret) {
    const auto verifier = with_secret(secret32);
    EXPECT_TRUE(accepted(verifier.verify(mint(JWT_ALG_HS256, secret32, rights), now)).subject);
    EXPECT_EQ(invalid_message(verifier, mint(JWT_ALG_HS384, secret32, rights)),
              "algorithm HS384 is not accepted: only HS256 with the configured secret (HS384 needs "
              "a secret of at least 48 bytes)");
    EXPECT_EQ(invalid_message(verifier, mint(JWT_ALG_HS512, secret32, rights)),
              "algorithm HS512 is not accepted: only HS256 with the configured secret (HS512 needs "
              "a secret of at least 64 bytes)");
    const auto verifier48 = with_secret(secret64.substr(0, 48));
    EXPECT_TRUE(
        accepted(verifier48.verify(mint(JWT_ALG_HS384, secret64.substr(0, 48), rights), now))
            .subject);
    EXPECT_NE(invalid_message(verifier48, mint(JWT_ALG_HS512, secret64.substr(0, 48), rights))
                  .find("HS512 is not accepted"),
              std::string::npos);
}

// ---- signatures and syntax ----

TEST(JwtVerifier, RefusesBadSignatures) {
    EXPECT_EQ(invalid_message(with_secret(), mint(JWT_ALG_HS256, secret64 + "x", rights)),
              "token signature is invalid");
    const std::string other_rsa = pair_of(EVP_RSA_gen(2048)).private_pem;
    EXPECT_EQ(invalid_message(with_public_key(rsa2048().public_pem),
                              mint(JWT_ALG_RS256, other_rsa, rights)),
              "token signature is invalid");
    // A valid signature moved onto other claims.
    const std::string good = mint(JWT_ALG_ES256, ec("P-256").private_pem, rights);
    const std::string other = mint(JWT_ALG_ES256, ec("P-256").private_pem, {{"sub", "mallory"}});
    const std::string spliced = other.substr(0, other.rfind('.')) + good.substr(good.rfind('.'));
    EXPECT_EQ(invalid_message(with_public_key(ec("P-256").public_pem), spliced),
              "token signature is invalid");
    // No signature at all.
    EXPECT_EQ(invalid_message(with_public_key(ec("P-256").public_pem),
                              good.substr(0, good.rfind('.') + 1)),
              "token has no signature");
}

TEST(JwtVerifier, RefusesMalformedTokens) {
    const auto verifier = with_secret();
    const std::string good = mint(JWT_ALG_HS256, secret64, rights);
    EXPECT_EQ(invalid_message(verifier, good.substr(0, 10)),
              "token has 1 segment, a signed JWT has 3");
    EXPECT_EQ(invalid_message(verifier, good.substr(0, good.rfind('.'))),
              "token has 2 segments, a signed JWT has 3");
    EXPECT_EQ(invalid_message(verifier, good + ".c2ln"),
              "token has 4 segments, a signed JWT has 3");
    EXPECT_EQ(invalid_message(verifier, "eyJhbGciOiJSU0EtT0FFUCJ9.a2V5.aXY.Y2lwaGVy.dGFn"),
              "token has 5 segments, a signed JWT has 3 (encrypted JWTs are not accepted)");
    EXPECT_EQ(invalid_message(verifier, "!!!.???.###"), "token header is not base64url");
    EXPECT_EQ(invalid_message(verifier, "..."), "token has 4 segments, a signed JWT has 3");
    EXPECT_EQ(invalid_message(verifier, ".."), "token header is not a JSON object");
    EXPECT_EQ(invalid_message(verifier, good.substr(0, good.find('.')) + ".e30=." + "c2ln"),
              "token claims are not base64url");  // padding
    EXPECT_EQ(invalid_message(verifier, good + "+"), "token signature is not base64url");
    EXPECT_EQ(
        invalid_message(verifier, good.substr(0, good.size() - 5)).rfind("token signature is ", 0),
        0u);
    std::string tampered = good;
    char& first = tampered[good.rfind('.') + 1];
    first = first == 'A' ? 'B' : 'A';
    EXPECT_EQ(invalid_message(verifier, tampered), "token signature is invalid");
    EXPECT_EQ(invalid_message(verifier, std::string(ssecast::max_jwt_size + 1, 'a')),
              "token is longer than 8192 bytes");
}

TEST(JwtVerifier, RefusesNonJsonHeadersAndClaims) {
    const auto verifier = with_secret();
    EXPECT_EQ(invalid_message(verifier, hmac_token("not json", "{}")),
              "token header is not a JSON object");
    EXPECT_EQ(invalid_message(verifier, hmac_token(R"(["HS256"])", "{}")),
              "token header is not a JSON object");
    EXPECT_EQ(invalid_message(verifier, hmac_token(R"({"alg":"HS256"} x)", "{}")),
              "token header is not a JSON object");
    EXPECT_EQ(invalid_message(verifier, hmac_token(R"({"alg":"HS256"})", "[1]")),
              "token claims are not a JSON object");
    EXPECT_EQ(invalid_message(verifier, hmac_token(R"({"alg":"HS256"})", "{\"sub\":\"\xff\"}")),
              "token claims are not a JSON object");
}

TEST(JwtVerifier, RefusesCritAndForeignTyp) {
    const auto verifier = with_secret();
    EXPECT_EQ(
        invalid_message(verifier, hmac_token(R"({"alg":"HS256","crit":["exp"],"exp":1})", "{}")),
        "token header crit is not accepted: no JWT extension is understood");
    EXPECT_EQ(invalid_message(verifier, hmac_token(R"({"alg":"HS256","typ":"at+jwt"})", "{}")),
              "token header typ is not \"JWT\"");
    EXPECT_EQ(invalid_message(verifier, hmac_token(R"({"alg":"HS256","typ":1})", "{}")),
              "token header typ is not \"JWT\"");
}

// ---- time ----

TEST(JwtVerifier, ExpiryWithLeeway) {
    const auto verifier = with_secret();  // default leeway: 30 s
    const auto token_expiring = [](long exp) {
        return mint(JWT_ALG_HS256, secret64, {{"exp", exp}});
    };
    EXPECT_EQ(accepted(verifier.verify(token_expiring(now_seconds - 29), now)).expires,
              now - std::chrono::seconds(29));
    const auto expired = refused(verifier.verify(token_expiring(now_seconds - 30), now));
    EXPECT_EQ(expired.reason, auth_failure_reason::expired);
    EXPECT_EQ(expired.message, "token expired at 2026-12-02T09:59:30Z");
    EXPECT_EQ(refused(verifier.verify(token_expiring(now_seconds - 86400), now)).message,
              "token expired at 2026-12-01T10:00:00Z");

    const auto strict =
        with_secret(secret64, jwt_settings{std::nullopt, std::nullopt, std::chrono::seconds(0)});
    EXPECT_EQ(refused(strict.verify(token_expiring(now_seconds), now)).reason,
              auth_failure_reason::expired);
    EXPECT_TRUE(accepted(strict.verify(token_expiring(now_seconds + 1), now)).expires);
}

TEST(JwtVerifier, NotBeforeWithLeeway) {
    const auto verifier = with_secret();
    const auto token_starting = [](long nbf) {
        return mint(JWT_ALG_HS256, secret64, {{"nbf", nbf}});
    };
    EXPECT_FALSE(accepted(verifier.verify(token_starting(now_seconds + 30), now)).expires);
    EXPECT_EQ(invalid_message(verifier, token_starting(now_seconds + 31)),
              "token is not valid before 2026-12-02T10:00:31Z");
}

TEST(JwtVerifier, DatesMustBeNumbersAndAreClamped) {
    const auto verifier = with_secret();
    EXPECT_EQ(invalid_message(verifier, mint(JWT_ALG_HS256, secret64, {{"exp", "tomorrow"}})),
              "claim exp is not a NumericDate (a number)");
    EXPECT_EQ(invalid_message(verifier, mint(JWT_ALG_HS256, secret64, {{"nbf", true}})),
              "claim nbf is not a NumericDate (a number)");
    // Fractions are allowed; huge and negative dates stay within system_clock's range.
    EXPECT_EQ(
        accepted(verifier.verify(mint(JWT_ALG_HS256, secret64, {{"exp", now_seconds + 0.75}}), now))
            .expires,
        now);
    EXPECT_EQ(accepted(verifier.verify(hmac_token(R"({"alg":"HS256"})", R"({"exp":1e300})"), now))
                  .expires,
              system_clock::time_point(std::chrono::seconds(7'258'118'400)));
    EXPECT_EQ(refused(verifier.verify(hmac_token(R"({"alg":"HS256"})", R"({"exp":-1e300})"), now))
                  .message,
              "token expired at 1970-01-01T00:00:00Z");
    EXPECT_EQ(invalid_message(verifier, hmac_token(R"({"alg":"HS256"})", R"({"nbf":1e300})")),
              "token is not valid before 2200-01-01T00:00:00Z");
}

// ---- audience, issuer, subject ----

TEST(JwtVerifier, Audience) {
    const auto verifier =
        with_secret(secret64, jwt_settings{"ssecast", std::nullopt, ssecast::default_jwt_leeway});
    const auto with_aud = [](json aud) {
        return mint(JWT_ALG_HS256, secret64, {{"aud", std::move(aud)}});
    };
    EXPECT_NO_THROW(accepted(verifier.verify(with_aud("ssecast"), now)));
    EXPECT_NO_THROW(accepted(verifier.verify(with_aud({"billing", "ssecast"}), now)));
    EXPECT_EQ(invalid_message(verifier, mint(JWT_ALG_HS256, secret64, json::object())),
              "token has no aud claim; audience \"ssecast\" is required");
    EXPECT_EQ(invalid_message(verifier, with_aud("billing")),
              "token is not for audience \"ssecast\"");
    EXPECT_EQ(invalid_message(verifier, with_aud({"billing"})),
              "token is not for audience \"ssecast\"");
    EXPECT_EQ(invalid_message(verifier, with_aud(json::array())),
              "token is not for audience \"ssecast\"");
    EXPECT_EQ(invalid_message(verifier, with_aud("SSECAST")),
              "token is not for audience \"ssecast\"");
    EXPECT_EQ(invalid_message(verifier, with_aud({"ssecast", 1})),
              "claim aud is not a string or an array of strings");
    EXPECT_EQ(invalid_message(verifier, with_aud(1)),
              "claim aud is not a string or an array of strings");
}

TEST(JwtVerifier, AudienceGivenButNoneConfigured) {
    EXPECT_EQ(invalid_message(with_secret(), mint(JWT_ALG_HS256, secret64, {{"aud", "ssecast"}})),
              "token has an aud claim but no audience is configured");
}

TEST(JwtVerifier, Issuer) {
    const auto verifier = with_secret(
        secret64, jwt_settings{std::nullopt, "https://auth.example", ssecast::default_jwt_leeway});
    EXPECT_NO_THROW(accepted(
        verifier.verify(mint(JWT_ALG_HS256, secret64, {{"iss", "https://auth.example"}}), now)));
    EXPECT_EQ(
        invalid_message(verifier, mint(JWT_ALG_HS256, secret64, {{"iss", "https://evil.example"}})),
        "token issuer is not \"https://auth.example\"");
    EXPECT_EQ(invalid_message(verifier, mint(JWT_ALG_HS256, secret64, json::object())),
              "token has no iss claim; issuer \"https://auth.example\" is required");
    EXPECT_EQ(invalid_message(with_secret(), mint(JWT_ALG_HS256, secret64, {{"iss", 7}})),
              "claim iss is not a string");
    EXPECT_NO_THROW(
        accepted(with_secret().verify(mint(JWT_ALG_HS256, secret64, {{"iss", "anyone"}}), now)));
}

TEST(JwtVerifier, Subject) {
    EXPECT_EQ(invalid_message(with_secret(), mint(JWT_ALG_HS256, secret64, {{"sub", 42}})),
              "claim sub is not a string");
    EXPECT_EQ(invalid_message(with_secret(),
                              mint(JWT_ALG_HS256, secret64, {{"sub", "alice\nINFO forged"}})),
              "claim sub contains a control character");
}

// ---- rights ----

TEST(JwtVerifier, RefusesMisshapenSsecastClaim) {
    const auto verifier = with_secret();
    const auto with_claim = [](json claim) {
        return mint(JWT_ALG_HS256, secret64, {{"ssecast", std::move(claim)}});
    };
    EXPECT_EQ(invalid_message(verifier, with_claim("publish")), "claim ssecast is not an object");
    EXPECT_EQ(invalid_message(verifier, with_claim({{"publish", "news"}})),
              "claim ssecast.publish is not an array of channel patterns");
    EXPECT_EQ(invalid_message(verifier, with_claim({{"subscribe", {"news", 1}}})),
              "claim ssecast.subscribe[1] is not a string");
    EXPECT_EQ(invalid_message(verifier, with_claim({{"publish", {"news", "bad channel"}}})),
              "claim ssecast.publish[1]: pattern may only contain A-Z a-z 0-9 _ . : / @ - and *");
    EXPECT_EQ(invalid_message(verifier, with_claim({{"publish", {""}}})),
              "claim ssecast.publish[0]: pattern is empty");
    EXPECT_EQ(invalid_message(verifier, with_claim({{"publsh", {"news"}}})),
              "claim ssecast has an unknown member publsh (expected publish, subscribe)");
    const auto only_subscribe =
        accepted(verifier.verify(with_claim({{"subscribe", {"a", "b:*"}}}), now));
    EXPECT_TRUE(only_subscribe.rights.publish.empty());
    EXPECT_TRUE(only_subscribe.rights.subscribe.matches("b:1"));
    EXPECT_FALSE(only_subscribe.rights.subscribe.matches("c"));
}

// ---- loading keys ----

TEST(JwtKeys, SecretFile) {
    const temp_dir dir;
    const auto path = dir.write("secret", secret64 + "\r\n\n");
    const auto loaded_secret = loaded(jwt_secret::load(path));
    EXPECT_EQ(loaded_secret.bytes(), secret64);  // the trailing newline is not part of it
    const jwt_verifier verifier(jwt_keys{loaded_secret, std::nullopt}, {});
    EXPECT_NO_THROW(accepted(verifier.verify(mint(JWT_ALG_HS512, secret64, rights), now)));
    EXPECT_TRUE(loaded_secret.allows(ssecast::jwt_algorithm::hs512));
    EXPECT_FALSE(loaded_secret.allows(ssecast::jwt_algorithm::rs256));
}

TEST(JwtKeys, RefusesShortAndWorldReadableSecrets) {
    const temp_dir dir;
    const auto short_secret = dir.write("short", secret64.substr(0, 31) + "\n");
    EXPECT_EQ(load_error_of(jwt_secret::load(short_secret)),
              short_secret + ": the secret is 31 bytes, at least 32 are needed");
    const auto open_secret = dir.write("open", secret64, 0644);
    EXPECT_EQ(load_error_of(jwt_secret::load(open_secret)),
              open_secret + " is readable by every user (mode 0644): chmod o-r " + open_secret);
    EXPECT_EQ(load_error_of(jwt_secret::parse("\n\n", "empty")),
              "empty: the secret is 0 bytes, at least 32 are needed");
}

TEST(JwtKeys, PublicKeyFileMayBeWorldReadable) {
    const temp_dir dir;
    const auto path = dir.write("key.pem", rsa2048().public_pem, 0644);
    const auto key = loaded(jwt_public_key::load(path));
    EXPECT_TRUE(key.allows(ssecast::jwt_algorithm::rs384));
    EXPECT_FALSE(key.allows(ssecast::jwt_algorithm::hs256));
    EXPECT_FALSE(key.allows(ssecast::jwt_algorithm::es256));
    EXPECT_EQ(key.pem(), rsa2048().public_pem);
}

TEST(JwtKeys, RefusesSmallRsaKeys) {
    const temp_dir dir;
    const auto path = dir.write("key.pem", pair_of(EVP_RSA_gen(1024)).public_pem);
    EXPECT_EQ(load_error_of(jwt_public_key::load(path)),
              path + ": the RSA key has 1024 bits, at least 2048 are needed");
}

TEST(JwtKeys, RefusesPrivateKeysAndCertificates) {
    const temp_dir dir;
    const auto private_key = dir.write("private.pem", rsa2048().private_pem);
    EXPECT_EQ(load_error_of(jwt_public_key::load(private_key)),
              private_key + " holds a private key: give the public key instead (openssl pkey -in " +
                  private_key + " -pubout)");
    const auto both = dir.write("both.pem", ec("P-256").public_pem + ec("P-256").private_pem);
    EXPECT_EQ(load_error_of(jwt_public_key::load(both)),
              both + " holds a private key: give the public key instead (openssl pkey -in " + both +
                  " -pubout)");
    const auto certificate = dir.write("cert.pem", certificate_pem());
    EXPECT_EQ(load_error_of(jwt_public_key::load(certificate)),
              certificate + " holds a certificate: give its public key instead (openssl x509 -in " +
                  certificate + " -pubkey -noout)");
}

TEST(JwtKeys, RefusesOtherKeyTypesAndCurves) {
    EXPECT_EQ(load_error_of(jwt_public_key::parse(
                  pair_of(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")).public_pem, "ed.pem")),
              "ed.pem holds a key of type ED25519; only RSA and EC (P-256, P-384, P-521) keys are "
              "supported");
    EXPECT_EQ(
        load_error_of(jwt_public_key::parse(pair_of(EVP_EC_gen("secp256k1")).public_pem, "k1.pem")),
        "k1.pem: the EC key is on curve secp256k1; only P-256, P-384 and P-521 are supported");
}

TEST(JwtKeys, RefusesWhatIsNotOnePublicKey) {
    EXPECT_EQ(load_error_of(jwt_public_key::parse("", "key.pem")),
              "key.pem holds no public key (-----BEGIN PUBLIC KEY-----)");
    EXPECT_EQ(load_error_of(
                  jwt_public_key::parse("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5 me@host\n", "key.pem")),
              "key.pem holds no public key (-----BEGIN PUBLIC KEY-----)");
    EXPECT_EQ(load_error_of(jwt_public_key::parse(
                  "-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----\n", "key.pem")),
              "key.pem holds a malformed PEM block");
    EXPECT_EQ(load_error_of(jwt_public_key::parse(
                  "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "key.pem")),
              "key.pem: the public key cannot be parsed");
    std::string pkcs1 = rsa2048().public_pem;  // only the block's name matters here
    for (auto at = pkcs1.find("PUBLIC KEY"); at != std::string::npos;
         at = pkcs1.find("PUBLIC KEY", at + 14)) {
        pkcs1.replace(at, 10, "RSA PUBLIC KEY");
    }
    EXPECT_EQ(load_error_of(jwt_public_key::parse(pkcs1, "key.pem")),
              "key.pem holds a PKCS #1 RSA key: give it as a PUBLIC KEY (openssl rsa "
              "-RSAPublicKey_in -in key.pem -pubout)");
    EXPECT_EQ(load_error_of(
                  jwt_public_key::parse(rsa2048().public_pem + ec("P-256").public_pem, "key.pem")),
              "key.pem holds more than one public key");
}

TEST(JwtKeys, KeepsOnlyThePublicKeyBlock) {
    // Text around the block (comments, parameters) is dropped: libjwt gets exactly one key.
    const auto key = public_key("a comment\n" + ec("P-256").public_pem + "trailing text\n");
    EXPECT_EQ(key.pem(), ec("P-256").public_pem);
    EXPECT_TRUE(key.allows(ssecast::jwt_algorithm::es256));
    EXPECT_FALSE(key.allows(ssecast::jwt_algorithm::es384));
}

}  // namespace
