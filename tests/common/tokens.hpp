#pragma once

// Credentials for tests against the real daemon: secret and token files written with the modes
// the daemon demands, and JWTs minted with libjwt (the library the daemon verifies them with is
// the same, but minting only uses its encoder; the daemon's own checks are what is under test).

#include <jwt.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

namespace test {

// A 48-byte HMAC secret, enough for HS256 and HS384.
inline const std::string hmac_secret = "0123456789abcdef0123456789abcdef0123456789abcdef";

inline std::filesystem::path write_private_file(
    const std::filesystem::path& path, const std::string& text,
    std::filesystem::perms perms = std::filesystem::perms::owner_read |
                                   std::filesystem::perms::owner_write) {
    {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out << text;
    }
    std::filesystem::permissions(path, perms);
    return path;
}

// "alg" and the key; the claims as given.
inline std::string mint_jwt(const nlohmann::json& claims, const std::string& key = hmac_secret,
                            jwt_alg_t alg = JWT_ALG_HS256) {
    jwt_t* jwt = nullptr;
    if (jwt_new(&jwt) != 0) throw std::runtime_error("jwt_new failed");
    auto* bytes = reinterpret_cast<const unsigned char*>(key.data());
    if (jwt_set_alg(jwt, alg, alg == JWT_ALG_NONE ? nullptr : bytes,
                    alg == JWT_ALG_NONE ? 0 : static_cast<int>(key.size())) != 0 ||
        jwt_add_grants_json(jwt, claims.dump().c_str()) != 0) {
        jwt_free(jwt);
        throw std::runtime_error("cannot mint the JWT");
    }
    char* encoded = jwt_encode_str(jwt);
    std::string token = encoded != nullptr ? encoded : "";
    std::free(encoded);
    jwt_free(jwt);
    if (token.empty()) throw std::runtime_error("jwt_encode_str failed");
    return token;
}

// Unix seconds `from_now` away.
inline long long unix_time(std::chrono::seconds from_now = std::chrono::seconds(0)) {
    return std::chrono::duration_cast<std::chrono::seconds>(
               (std::chrono::system_clock::now() + from_now).time_since_epoch())
        .count();
}

}  // namespace test
