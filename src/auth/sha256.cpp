#include "ssecast/auth/sha256.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <stdexcept>

namespace ssecast {

sha256_digest sha256(std::string_view data) {
    // Fetched once: EVP_sha256() would make OpenSSL 3 look the implementation up in its provider
    // tables on every call, which cost more than the hash of a short token (perf, bench/RESULTS.md).
    // Never freed: it lives as long as the process.
    static EVP_MD* const algorithm = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    sha256_digest digest{};
    unsigned int size = 0;
    if (algorithm == nullptr ||
        EVP_Digest(data.data(), data.size(), digest.data(), &size, algorithm, nullptr) != 1 ||
        size != digest.size()) {
        // Only an allocation failure inside OpenSSL gets here: no digest to compare against.
        throw std::runtime_error("SHA-256 failed");
    }
    return digest;
}

std::string hex_prefix(const sha256_digest& digest, std::size_t digits) {
    static constexpr char hex[] = "0123456789abcdef";
    digits = std::min(digits, digest.size() * 2);
    std::string out;
    out.reserve(digits);
    for (std::size_t i = 0; i < digits; ++i) {
        const unsigned char byte = digest[i / 2];
        out += hex[i % 2 == 0 ? byte >> 4 : byte & 0x0f];
    }
    return out;
}

}  // namespace ssecast
