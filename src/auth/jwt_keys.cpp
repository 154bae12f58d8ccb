#include "ssecast/auth/jwt_keys.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <climits>
#include <memory>

#include "ssecast/auth/credential_file.hpp"

namespace ssecast {

namespace {

struct bio_free {
    void operator()(BIO* bio) const { BIO_free(bio); }
};
struct pkey_free {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct openssl_free {
    void operator()(void* memory) const { OPENSSL_free(memory); }
};
using bio_ptr = std::unique_ptr<BIO, bio_free>;
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_free>;
template <typename T>
using openssl_ptr = std::unique_ptr<T, openssl_free>;

// OpenSSL keeps failures in a per-thread queue; what failed is reported in our message, and a
// stale entry must not be taken later for an error of something else on this thread.
struct clear_openssl_errors {
    ~clear_openssl_errors() { ERR_clear_error(); }
};

load_error file_error(std::string_view file_name, std::string_view what) {
    return load_error{std::string(file_name).append(what)};
}

// The DER bytes of the single "PUBLIC KEY" block, or why there is none. Private keys and
// certificates are named explicitly, as they are the usual wrong files to give.
std::variant<std::string, load_error> public_key_block(std::string_view pem,
                                                       std::string_view file_name) {
    if (pem.size() > static_cast<std::size_t>(INT_MAX))
        return file_error(file_name, " is too large");
    // OpenSSL refuses a null buffer even when empty.
    const bio_ptr bio(BIO_new_mem_buf(pem.empty() ? "" : pem.data(), static_cast<int>(pem.size())));
    if (!bio) return file_error(file_name, ": out of memory");
    const std::string path(file_name);
    std::optional<std::string> der;
    for (;;) {
        char* name_raw = nullptr;
        char* header_raw = nullptr;
        unsigned char* data_raw = nullptr;
        long size = 0;
        const int read = PEM_read_bio(bio.get(), &name_raw, &header_raw, &data_raw, &size);
        const openssl_ptr<char> block_name(name_raw), header(header_raw);
        const openssl_ptr<unsigned char> data(data_raw);
        if (read != 1) {
            const unsigned long error = ERR_peek_last_error();
            if (ERR_GET_LIB(error) == ERR_LIB_PEM && ERR_GET_REASON(error) == PEM_R_NO_START_LINE) {
                break;  // no further block
            }
            return file_error(file_name, " holds a malformed PEM block");
        }
        const std::string_view kind = block_name.get();
        if (kind.find("PRIVATE KEY") != std::string_view::npos) {
            return file_error(
                file_name, " holds a private key: give the public key instead (openssl pkey -in " +
                               path + " -pubout)");
        }
        if (kind.find("CERTIFICATE") != std::string_view::npos) {
            return file_error(
                file_name, " holds a certificate: give its public key instead (openssl x509 -in " +
                               path + " -pubkey -noout)");
        }
        if (kind == "RSA PUBLIC KEY") {
            return file_error(file_name,
                              " holds a PKCS #1 RSA key: give it as a PUBLIC KEY (openssl rsa "
                              "-RSAPublicKey_in -in " +
                                  path + " -pubout)");
        }
        if (kind == "PUBLIC KEY") {
            if (der) return file_error(file_name, " holds more than one public key");
            der.emplace(reinterpret_cast<const char*>(data.get()), static_cast<std::size_t>(size));
        }
        // Other blocks (such as "EC PARAMETERS") do not matter: libjwt skips them too.
    }
    if (!der) return file_error(file_name, " holds no public key (-----BEGIN PUBLIC KEY-----)");
    return std::move(*der);
}

// The algorithms a key may verify, or why it is refused.
std::variant<std::vector<jwt_algorithm>, load_error> algorithms_for(EVP_PKEY* key,
                                                                    std::string_view file_name) {
    switch (EVP_PKEY_get_id(key)) {
        case EVP_PKEY_RSA: {
            const int bits = EVP_PKEY_get_bits(key);
            if (bits < static_cast<int>(min_rsa_key_bits)) {
                return file_error(file_name, ": the RSA key has " + std::to_string(bits) +
                                                 " bits, at least " +
                                                 std::to_string(min_rsa_key_bits) + " are needed");
            }
            return std::vector{jwt_algorithm::rs256, jwt_algorithm::rs384, jwt_algorithm::rs512};
        }
        case EVP_PKEY_EC: {
            char curve[80] = {};
            std::size_t length = 0;
            if (EVP_PKEY_get_group_name(key, curve, sizeof curve, &length) != 1) {
                return file_error(file_name, ": the EC key's curve is unknown");
            }
            const std::string_view name(curve, length);
            if (name == "prime256v1") return std::vector{jwt_algorithm::es256};
            if (name == "secp384r1") return std::vector{jwt_algorithm::es384};
            if (name == "secp521r1") return std::vector{jwt_algorithm::es512};
            return file_error(file_name, ": the EC key is on curve " + std::string(name) +
                                             "; only P-256, P-384 and P-521 are supported");
        }
        default: {
            const char* type = EVP_PKEY_get0_type_name(key);
            return file_error(file_name, " holds a key of type " +
                                             std::string(type ? type : "unknown") +
                                             "; only RSA and EC (P-256, P-384, P-521) keys are "
                                             "supported");
        }
    }
}

std::variant<std::string, load_error> to_pem(EVP_PKEY* key, std::string_view file_name) {
    const bio_ptr bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_PUBKEY(bio.get(), key) != 1) {
        return file_error(file_name, ": the public key cannot be encoded");
    }
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(size));
}

}  // namespace

std::size_t min_jwt_secret_size(jwt_algorithm algorithm) {
    switch (algorithm) {
        case jwt_algorithm::hs256:
            return 32;
        case jwt_algorithm::hs384:
            return 48;
        case jwt_algorithm::hs512:
            return 64;
        default:
            return 0;
    }
}

std::variant<jwt_secret, load_error> jwt_secret::parse(std::string_view content,
                                                       std::string_view file_name) {
    const std::size_t end = content.find_last_not_of("\r\n");
    const std::string_view bytes = content.substr(0, end == std::string_view::npos ? 0 : end + 1);
    const std::size_t minimum = min_jwt_secret_size(jwt_algorithm::hs256);
    if (bytes.size() < minimum) {
        return file_error(file_name, ": the secret is " + std::to_string(bytes.size()) +
                                         " bytes, at least " + std::to_string(minimum) +
                                         " are needed");
    }
    return jwt_secret(std::string(bytes));
}

std::variant<jwt_secret, load_error> jwt_secret::load(const std::string& path) {
    return load_credential_file<jwt_secret>(path, world_readable::refused);
}

bool jwt_secret::allows(jwt_algorithm algorithm) const {
    return uses_secret(algorithm) && bytes_.size() >= min_jwt_secret_size(algorithm);
}

std::variant<jwt_public_key, load_error> jwt_public_key::parse(std::string_view pem,
                                                               std::string_view file_name) {
    const clear_openssl_errors clear_errors;
    auto block = public_key_block(pem, file_name);
    if (auto* error = std::get_if<load_error>(&block)) return std::move(*error);
    const std::string& der = std::get<std::string>(block);

    const auto* cursor = reinterpret_cast<const unsigned char*>(der.data());
    const pkey_ptr key(d2i_PUBKEY(nullptr, &cursor, static_cast<long>(der.size())));
    if (!key) return file_error(file_name, ": the public key cannot be parsed");

    auto algorithms = algorithms_for(key.get(), file_name);
    if (auto* error = std::get_if<load_error>(&algorithms)) return std::move(*error);
    auto canonical = to_pem(key.get(), file_name);
    if (auto* error = std::get_if<load_error>(&canonical)) return std::move(*error);
    return jwt_public_key(std::get<std::string>(std::move(canonical)),
                          std::get<std::vector<jwt_algorithm>>(std::move(algorithms)));
}

std::variant<jwt_public_key, load_error> jwt_public_key::load(const std::string& path) {
    return load_credential_file<jwt_public_key>(path, world_readable::allowed);
}

bool jwt_public_key::allows(jwt_algorithm algorithm) const {
    return std::find(algorithms_.begin(), algorithms_.end(), algorithm) != algorithms_.end();
}

bool jwt_keys::allows(jwt_algorithm algorithm) const {
    return (secret && secret->allows(algorithm)) || (public_key && public_key->allows(algorithm));
}

}  // namespace ssecast
