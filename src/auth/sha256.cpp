#include "ssecast/auth/sha256.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <stdexcept>

namespace ssecast {

sha256_digest sha256(std::string_view data) {
    sha256_digest digest{};
    unsigned int size = 0;
    if (EVP_Digest(data.data(), data.size(), digest.data(), &size, EVP_sha256(), nullptr) != 1 ||
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
