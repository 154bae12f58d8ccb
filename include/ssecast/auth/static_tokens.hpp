#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ssecast/auth/channel_pattern.hpp"
#include "ssecast/auth/load_error.hpp"
#include "ssecast/auth/sha256.hpp"

namespace ssecast {

inline constexpr std::size_t min_static_token_length = 16;
inline constexpr std::size_t max_static_tokens = 1000;

// What one configured API key may do, and how logs and rate limits name its holder.
struct static_token_entry {
    // "static:" and the first 8 hex digits of the token's SHA-256: stays the same when the file
    // is edited around it (unlike a line number), and reveals nothing usable about the token.
    std::string identity;
    channel_patterns publish;
};

// The API keys of a tokens file. One key per line:
//
//     TOKEN [PATTERN ...]
//
// separated by spaces or tabs. Without a pattern the key may publish to every channel (as with
// "*"). A field starting with '#' starts a comment that runs to the end of the line; blank lines
// are ignored. A TOKEN has RFC 6750's b64token syntax (A-Z a-z 0-9 - . _ ~ + / then optional
// trailing '='), at least min_static_token_length characters, and not exactly two '.' (it would
// be taken for a JWT). At most max_static_tokens keys, each once.
//
// Only SHA-256 digests of the keys are kept, and a lookup compares the presented key's digest
// with every one of them, so its time does not depend on which key (if any) matches.
class static_tokens {
  public:
    // `file_name` starts each error message ("FILE:LINE: ..."); no message contains a token.
    static std::variant<static_tokens, load_error> parse(std::string_view text,
                                                         std::string_view file_name);
    // Reads the file as read_credential_file() does for a secret, then parses it.
    static std::variant<static_tokens, load_error> load(const std::string& path);

    // The entry of the key presented, or nothing for an unknown key. The pointer stays valid as
    // long as this object.
    const static_token_entry* find(std::string_view presented) const;

    std::size_t size() const { return entries_.size(); }

  private:
    struct stored_token {
        sha256_digest digest;
        static_token_entry entry;
    };

    std::vector<stored_token> entries_;
};

}  // namespace ssecast
