#pragma once

#include <chrono>

namespace ssecast {

// A reconnection delay for clients told to come back later: max(base, 1 s) plus a random part of
// up to as much again, so that thousands of clients do not come back in the same millisecond.
std::chrono::milliseconds jittered_retry(std::chrono::milliseconds base);
// `base` plus a random part from 0 to `spread`.
std::chrono::milliseconds with_jitter(std::chrono::milliseconds base,
                                      std::chrono::milliseconds spread);

}  // namespace ssecast
