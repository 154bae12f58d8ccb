#include "ssecast/jitter.hpp"

#include <algorithm>
#include <cstdint>
#include <random>

namespace ssecast {

std::chrono::milliseconds jittered_retry(std::chrono::milliseconds base) {
    // One generator per thread: no lock, no shared state between event loops.
    thread_local std::minstd_rand random{std::random_device{}()};
    auto floor = std::max<std::chrono::milliseconds>(base, std::chrono::seconds(1));
    std::uniform_int_distribution<std::int64_t> spread(0, floor.count());
    return floor + std::chrono::milliseconds(spread(random));
}

}  // namespace ssecast
