#pragma once

// What every fuzz target shares: the bytes as text, and property checks that stop the run. A
// violated property aborts, so libFuzzer reports it like a crash and saves the input.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#define FUZZ_CHECK(condition) \
    ((condition) ? void() : ::ssecast_fuzz::property_violated(#condition, __FILE__, __LINE__))

namespace ssecast_fuzz {

[[noreturn]] inline void property_violated(const char* condition, const char* file, int line) {
    std::fprintf(stderr, "fuzz: property violated: %s (%s:%d)\n", condition, file, line);
    std::abort();
}

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

}  // namespace ssecast_fuzz
