#include "ssecast/sse/jitter.hpp"

#include <algorithm>
#include <cstdint>
#include <random>

namespace ssecast {

std::chrono::milliseconds with_jitter(std::chrono::milliseconds base,
                                      std::chrono::milliseconds spread) {
    // One generator per thread: no lock, no shared state between event loops.
    thread_local std::minstd_rand random{std::random_device{}()};
    std::uniform_int_distribution<std::int64_t> extra(0, spread.count());
    return base + std::chrono::milliseconds(extra(random));
}

std::chrono::milliseconds jittered_retry(std::chrono::milliseconds base) {
    auto floor = std::max<std::chrono::milliseconds>(base, std::chrono::seconds(1));
    return with_jitter(floor, floor);
}

}  // namespace ssecast
