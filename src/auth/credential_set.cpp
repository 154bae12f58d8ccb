#include "ssecast/auth/credential_set.hpp"

#include <utility>

namespace ssecast {

namespace {

// Loads the optional file into `out`; the error when it is named but cannot be used.
template <typename T>
std::optional<load_error> load_optional(const std::optional<std::string>& path,
                                        std::optional<T>& out) {
    if (!path) return std::nullopt;
    auto loaded = T::load(*path);
    if (auto* error = std::get_if<load_error>(&loaded)) return std::move(*error);
    out.emplace(std::get<T>(std::move(loaded)));
    return std::nullopt;
}

}  // namespace

std::variant<credential_set, load_error> credential_set::load(const credential_sources& sources) {
    const auto leeway = sources.jwt.leeway;
    if (leeway < std::chrono::seconds::zero() || leeway > max_jwt_leeway) {
        return load_error{"the JWT leeway must be between 0 and " +
                          std::to_string(max_jwt_leeway.count()) + " seconds"};
    }
    credential_set set;
    jwt_keys keys;
    if (auto error = load_optional(sources.tokens_file, set.tokens_)) return std::move(*error);
    if (auto error = load_optional(sources.jwt_secret_file, keys.secret)) return std::move(*error);
    if (auto error = load_optional(sources.jwt_public_key_file, keys.public_key)) {
        return std::move(*error);
    }
    if (!keys.empty()) set.jwt_.emplace(std::move(keys), sources.jwt);
    return set;
}

}  // namespace ssecast
