#include "ssecast/auth/authenticator.hpp"

#include <utility>

namespace ssecast {

authenticator::authenticator() : current_{std::make_shared<const credential_set>(), 0} {}

std::optional<std::string> authenticator::reload(const credential_sources& sources) {
    // Files are read without the lock: readers must never wait for the disk.
    auto loaded = credential_set::load(sources);
    if (auto* error = std::get_if<load_error>(&loaded)) return std::move(error->message);
    auto set = std::make_shared<const credential_set>(std::get<credential_set>(std::move(loaded)));

    const std::lock_guard lock(mutex_);
    current_ = {std::move(set), current_.generation + 1};
    // Published after the set, so a checker that sees the new number finds the new set.
    generation_.store(current_.generation, std::memory_order_release);
    return std::nullopt;
}

authenticator::snapshot authenticator::current() const {
    const std::lock_guard lock(mutex_);
    return current_;
}

bool authenticator::configured() const {
    return current().set->configured();
}

bool authenticator::accepts_jwt() const {
    return current().set->accepts_jwt();
}

}  // namespace ssecast
