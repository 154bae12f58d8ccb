#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "ssecast/auth/jwt_algorithm.hpp"
#include "ssecast/auth/load_error.hpp"

namespace ssecast {

inline constexpr std::size_t min_rsa_key_bits = 2048;

// The shortest secret an HS* algorithm accepts: the size of its hash (RFC 7518 §3.2), so
// 32 bytes for HS256, 48 for HS384, 64 for HS512. Zero for the other algorithms.
std::size_t min_jwt_secret_size(jwt_algorithm algorithm);

// The shared secret of HS256/HS384/HS512 tokens.
class jwt_secret {
  public:
    // `content` is the file's bytes; trailing CR and LF characters are dropped (the final newline
    // an editor adds). `file_name` starts each error message.
    static std::variant<jwt_secret, load_error> parse(std::string_view content,
                                                      std::string_view file_name);
    // Reads the file as read_credential_file() does for a secret (not readable by others).
    static std::variant<jwt_secret, load_error> load(const std::string& path);

    // The HS* algorithms whose minimum size the secret reaches.
    bool allows(jwt_algorithm algorithm) const;
    std::string_view bytes() const { return bytes_; }

  private:
    explicit jwt_secret(std::string bytes) : bytes_(std::move(bytes)) {}

    std::string bytes_;
};

// The public key of RS* or ES* tokens, from a PEM "PUBLIC KEY" block (SubjectPublicKeyInfo).
// An RSA key (at least min_rsa_key_bits) allows RS256, RS384 and RS512; an EC key allows only the
// one algorithm of its curve (P-256: ES256, P-384: ES384, P-521: ES512), because libjwt checks
// the key type but not that the curve fits the algorithm. Other key types are refused, and so is
// a file holding a private key or a certificate (the message says how to extract the public key).
class jwt_public_key {
  public:
    // `file_name` starts each error message.
    static std::variant<jwt_public_key, load_error> parse(std::string_view pem,
                                                          std::string_view file_name);
    // Reads the file (it may be readable by every user) and parses it.
    static std::variant<jwt_public_key, load_error> load(const std::string& path);

    bool allows(jwt_algorithm algorithm) const;
    // The key alone, re-encoded as one PEM block: what libjwt verifies with.
    std::string_view pem() const { return pem_; }

  private:
    jwt_public_key(std::string pem, std::vector<jwt_algorithm> algorithms)
        : pem_(std::move(pem)), algorithms_(std::move(algorithms)) {}

    std::string pem_;
    std::vector<jwt_algorithm> algorithms_;
};

// The keys tokens may be signed with; either, both, or (nothing configured) neither.
struct jwt_keys {
    std::optional<jwt_secret> secret;
    std::optional<jwt_public_key> public_key;

    bool allows(jwt_algorithm algorithm) const;
    bool empty() const { return !secret && !public_key; }
};

}  // namespace ssecast
