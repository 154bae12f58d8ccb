// The bearer-token check the daemon runs on every credential: credential_checker with an API key
// file, an HS256 secret and an EC P-256 public key configured, as one event loop holds it. The
// first byte chooses the mode:
//   even: the rest is a token as a client sends it (header, query or cookie);
//   odd:  the rest is a JWT claims set, signed here with the configured secret (so that the claim
//         checks are reached, which random signatures never pass), under a header the fuzzer also
//         varies by the second byte.
//
// Properties: every answer is an acceptance or a refusal with a message; no message contains the
// token; only tokens of exactly HS256 (the secret's) or ES256 (the key's) get in, and never one
// that is expired beyond the leeway; a second check of the same token gives the same answer
// (the cache changes nothing but the cost).

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "fuzz_check.hpp"
#include "ssecast/auth/authenticator.hpp"
#include "ssecast/auth/base64url.hpp"
#include "ssecast/auth/credential_checker.hpp"

namespace {

using namespace ssecast;

const std::string secret = "0123456789abcdef0123456789abcdef";  // 32 bytes: HS256 only

// The minting side's encoder (the daemon only decodes).
std::string base64url_encode(std::string_view bytes) {
    static constexpr char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    std::uint32_t bits = 0;
    int count = 0;
    for (unsigned char c : bytes) {
        bits = (bits << 8) | c;
        count += 8;
        while (count >= 6) {
            count -= 6;
            out += alphabet[(bits >> count) & 63];
        }
    }
    if (count > 0) out += alphabet[(bits << (6 - count)) & 63];
    return out;
}

std::string public_pem() {
    std::unique_ptr<EVP_PKEY, void (*)(EVP_PKEY*)> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
    std::unique_ptr<BIO, int (*)(BIO*)> bio(BIO_new(BIO_s_mem()), BIO_free);
    if (!key || PEM_write_bio_PUBKEY(bio.get(), key.get()) != 1) std::abort();
    char* data = nullptr;
    long size = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(size));
}

struct world {
    world() {
        auto write = [](const char* name, const std::string& text) {
            return ssecast_fuzz::private_file("token", name, text);
        };
        credential_sources sources{write("tokens", "fuzz-key-0123456789abcdef news user:*\n"),
                                   write("secret", secret + "\n"),
                                   write("key.pem", public_pem()),
                                   {}};
        if (auto problem = credentials.reload(sources))
            ssecast_fuzz::property_violated(problem->c_str(), __FILE__, __LINE__);
        checker = std::make_unique<credential_checker>(credentials, 64);
    }
    authenticator credentials;
    std::unique_ptr<credential_checker> checker;
};

world& the_world() {
    static world w;
    return w;
}

// The claims signed with the secret under a header of HS256 (its alg and typ varied).
std::string signed_token(std::string_view claims, std::uint8_t header_choice) {
    static const char* algs[] = {"HS256", "hs256", "HS384", "none", "ES256", "RS256"};
    nlohmann::json header = {{"alg", algs[header_choice % 6]}};
    if (header_choice & 0x40) header["typ"] = "JWT";
    if (header_choice & 0x80) header["crit"] = {"exp"};
    auto signing_input = base64url_encode(header.dump()) + "." + base64url_encode(claims);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_size = 0;
    if (!HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
              reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(),
              mac, &mac_size))
        std::abort();
    return signing_input + "." +
           base64url_encode(std::string_view(reinterpret_cast<const char*>(mac), mac_size));
}

std::string header_alg(std::string_view token) {
    auto dot = token.find('.');
    auto decoded = base64url_decode(token.substr(0, dot));
    if (!decoded) return {};
    auto header = nlohmann::json::parse(*decoded, nullptr, false);
    if (!header.is_object() || !header.contains("alg") || !header["alg"].is_string()) return {};
    return header["alg"];
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    auto& w = the_world();
    auto rest = ssecast_fuzz::as_text(data + 2, size - 2);
    std::string token = (data[0] & 1) ? signed_token(rest, data[1]) : std::string(rest);
    auto now = std::chrono::system_clock::now();

    auto first = w.checker->check(token, now);
    if (auto* failure = std::get_if<auth_failure>(&first)) {
        FUZZ_CHECK(!failure->message.empty());
        if (token.size() >= 16) FUZZ_CHECK(failure->message.find(token) == std::string::npos);
    } else {
        const auto& who = std::get<authenticated>(first);
        FUZZ_CHECK(!who.identity.empty());
        FUZZ_CHECK(who.identity.find(token) == std::string::npos || token.size() < 8);
        if (who.kind == credential_kind::jwt) {
            auto alg = header_alg(token);
            FUZZ_CHECK(alg == "HS256" || alg == "ES256");
            if (who.expires) FUZZ_CHECK(*who.expires + std::chrono::seconds(30) > now);
        } else {
            FUZZ_CHECK(token == "fuzz-key-0123456789abcdef");
        }
    }
    // The cache must not change the answer.
    auto second = w.checker->check(token, now);
    FUZZ_CHECK(first.index() == second.index());
    if (auto* a = std::get_if<authenticated>(&first)) {
        const auto& b = std::get<authenticated>(second);
        FUZZ_CHECK(a->identity == b.identity && a->expires == b.expires &&
                   a->rights.publish == b.rights.publish &&
                   a->rights.subscribe == b.rights.subscribe);
    } else {
        FUZZ_CHECK(std::get<auth_failure>(first).message == std::get<auth_failure>(second).message);
    }
    return 0;
}
