#pragma once

// What every fuzz target shares: the bytes as text, and property checks that stop the run. A
// violated property aborts, so libFuzzer reports it like a crash and saves the input.

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#define FUZZ_CHECK(condition) \
    ((condition) ? void() : ::ssecast_fuzz::property_violated(#condition, __FILE__, __LINE__))

namespace ssecast_fuzz {

[[noreturn]] inline void property_violated(const char* condition, const char* file, int line) {
    std::fprintf(stderr, "fuzz: property violated: %s (%s:%d)\n", condition, file, line);
    std::abort();
}

// A file only its owner reads (as the daemon demands of credential files), in a directory of this
// process's for the whole run; its path.
inline std::string private_file(const char* target, const char* name, const std::string& text) {
    auto dir = std::filesystem::temp_directory_path() /
               ("ssecast-fuzz-" + std::string(target) + "-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    auto path = dir / name;
    std::ofstream(path) << text;
    std::filesystem::permissions(
        path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    return path.string();
}

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

}  // namespace ssecast_fuzz
