#include "ssecast/backend/storage.hpp"

namespace ssecast {

namespace {

struct store_error_category final : std::error_category {
    const char* name() const noexcept override { return "ssecast.store"; }
    std::string message(int value) const override {
        switch (static_cast<store_errc>(value)) {
            case store_errc::channel_limit:
                return "channel limit reached";
            case store_errc::unavailable:
                return "storage unavailable";
            case store_errc::timeout:
                return "storage timed out";
        }
        return "unknown storage error";
    }
};

}  // namespace

const std::error_category& store_category() {
    static const store_error_category category;
    return category;
}

std::error_code make_error_code(store_errc e) {
    return {static_cast<int>(e), store_category()};
}

}  // namespace ssecast
