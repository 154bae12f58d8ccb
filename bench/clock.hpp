// CLOCK_MONOTONIC in nanoseconds: the time base of every timestamp in ssecast-bench. It is the
// same clock in every process of the machine, so a publisher in one process and a subscriber in
// another can subtract their readings.
#pragma once

#include <time.h>

#include <cstdint>

namespace bench {

inline std::int64_t mono_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

inline double seconds(std::int64_t ns) { return static_cast<double>(ns) / 1e9; }

}  // namespace bench
