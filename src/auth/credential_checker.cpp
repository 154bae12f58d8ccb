#include "ssecast/auth/credential_checker.hpp"

#include <algorithm>
#include <utility>

#include "ssecast/auth/sha256.hpp"

namespace ssecast {

namespace {

auth_failure invalid(std::string message) {
    return {auth_failure_reason::invalid, std::move(message)};
}

}  // namespace

credential_checker::credential_checker(const authenticator& source, std::size_t cache_capacity)
    : source_(source), current_(source.current()), cache_(cache_capacity) {}

const credential_set& credential_checker::refresh() {
    if (source_.generation() != current_.generation) current_ = source_.current();
    return *current_.set;
}

bool credential_checker::configured() {
    return refresh().configured();
}

bool credential_checker::accepts_jwt() {
    return refresh().accepts_jwt();
}

auth_result credential_checker::check(std::string_view bearer_token,
                                      std::chrono::system_clock::time_point now) {
    const credential_set& set = refresh();
    if (std::count(bearer_token.begin(), bearer_token.end(), '.') == 2) {
        if (!set.jwt()) {
            return invalid("JWTs are not accepted: no --jwt-secret-file or --jwt-public-key-file");
        }
        return check_jwt(*set.jwt(), bearer_token, now);
    }
    if (!set.tokens()) return invalid("API keys are not accepted: no --publish-tokens-file");
    const static_token_entry* entry = set.tokens()->find(bearer_token);
    if (!entry) return invalid("unknown API key");
    return authenticated{
        credential_kind::static_key, entry->identity, {entry->publish, {}}, std::nullopt};
}

auth_result credential_checker::check_jwt(const jwt_verifier& verifier, std::string_view token,
                                          std::chrono::system_clock::time_point now) {
    auto cached = cache_.find(token, current_.generation, now);
    cached_.store(cache_.size(), std::memory_order_relaxed);
    if (cached) return std::move(*cached);
    auto verified = verifier.verify(token, now);
    if (auto* failure = std::get_if<auth_failure>(&verified)) return std::move(*failure);
    auto& jwt = std::get<verified_jwt>(verified);

    authenticated result{credential_kind::jwt,
                         "jwt:" + (jwt.subject ? *jwt.subject : hex_prefix(sha256(token), 8)),
                         std::move(jwt.rights), jwt.expires};
    std::optional<std::chrono::system_clock::time_point> valid_until;
    if (jwt.expires) valid_until = *jwt.expires + verifier.leeway();
    cache_.insert(token, result, valid_until, current_.generation);
    cached_.store(cache_.size(), std::memory_order_relaxed);
    return result;
}

}  // namespace ssecast
