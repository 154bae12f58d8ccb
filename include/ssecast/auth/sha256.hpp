#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace ssecast {

using sha256_digest = std::array<unsigned char, 32>;

sha256_digest sha256(std::string_view data);

// The first `digits` hex digits of a digest (at most 64): names a secret in logs without
// revealing it.
std::string hex_prefix(const sha256_digest& digest, std::size_t digits);

}  // namespace ssecast
