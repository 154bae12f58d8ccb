#pragma once

#include <optional>
#include <string>
#include <variant>

#include "ssecast/auth/jwt_verifier.hpp"
#include "ssecast/auth/load_error.hpp"
#include "ssecast/auth/static_tokens.hpp"

namespace ssecast {

// Where the credentials come from: the files of --publish-tokens-file, --jwt-secret-file and
// --jwt-public-key-file (each optional), and how JWTs are checked.
struct credential_sources {
    std::optional<std::string> tokens_file;
    std::optional<std::string> jwt_secret_file;
    std::optional<std::string> jwt_public_key_file;
    jwt_settings jwt;
};

// Every credential the daemon accepts at one time, loaded from the files as a whole: either all
// of them loaded, or the set is not made. Never changed once made (a reload makes a new one), so
// any number of threads may read it.
class credential_set {
  public:
    // Accepts nothing.
    credential_set() = default;

    static std::variant<credential_set, load_error> load(const credential_sources& sources);

    // Null without a tokens file.
    const static_tokens* tokens() const { return tokens_ ? &*tokens_ : nullptr; }
    // Null without a JWT key.
    const jwt_verifier* jwt() const { return jwt_ ? &*jwt_ : nullptr; }

    // A tokens file or a JWT key is configured, so requests need credentials.
    bool configured() const { return tokens_ || jwt_; }
    bool accepts_jwt() const { return jwt_.has_value(); }

  private:
    std::optional<static_tokens> tokens_;
    std::optional<jwt_verifier> jwt_;
};

}  // namespace ssecast
