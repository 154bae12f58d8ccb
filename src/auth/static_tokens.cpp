#include "ssecast/auth/static_tokens.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <map>
#include <utility>

#include "ssecast/auth/credential_file.hpp"

namespace ssecast {

namespace {

bool is_b64token_char(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
}

bool is_blank(char c) {
    return c == ' ' || c == '\t';
}

// What is wrong with a token, or nothing. Positions, not characters, so no part of a secret
// ends up in a log.
std::optional<std::string> check_token(std::string_view token) {
    const std::size_t last = token.find_last_not_of('=');
    if (last == std::string_view::npos) return "token is only '=' characters";
    for (std::size_t i = 0; i <= last; ++i) {
        if (!is_b64token_char(static_cast<unsigned char>(token[i]))) {
            return "character " + std::to_string(i + 1) +
                   " of the token is not one of A-Z a-z 0-9 - . _ ~ + / (nor a trailing =)";
        }
    }
    if (token.size() < min_static_token_length) {
        return "token is shorter than " + std::to_string(min_static_token_length) + " characters";
    }
    if (std::count(token.begin(), token.end(), '.') == 2) {
        return "token has exactly two '.' and would be taken for a JWT";
    }
    return std::nullopt;
}

// The fields of a line up to a comment.
std::vector<std::string_view> fields_of(std::string_view line) {
    std::vector<std::string_view> fields;
    std::size_t pos = 0;
    for (;;) {
        while (pos < line.size() && is_blank(line[pos])) ++pos;
        if (pos == line.size() || line[pos] == '#') return fields;
        const std::size_t end =
            std::find_if(line.begin() + pos, line.end(), is_blank) - line.begin();
        fields.push_back(line.substr(pos, end - pos));
        pos = end;
    }
}

}  // namespace

std::variant<static_tokens, load_error> static_tokens::parse(std::string_view text,
                                                             std::string_view file_name) {
    static_tokens result;
    std::map<sha256_digest, std::size_t> line_of;  // to name the earlier line of a duplicate
    std::size_t line_number = 0;
    std::size_t start = 0;
    while (start < text.size()) {
        ++line_number;
        const std::size_t newline = std::min(text.find('\n', start), text.size());
        std::string_view line = text.substr(start, newline - start);
        start = newline + 1;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);

        const auto fail = [&](const std::string& what) {
            return load_error{std::string(file_name) + ":" + std::to_string(line_number) + ": " +
                              what};
        };
        const std::vector<std::string_view> fields = fields_of(line);
        if (fields.empty()) continue;
        if (auto problem = check_token(fields[0])) return fail(*problem);
        if (result.entries_.size() == max_static_tokens) {
            return fail("more than " + std::to_string(max_static_tokens) + " tokens");
        }
        const sha256_digest digest = sha256(fields[0]);
        if (auto [earlier, added] = line_of.emplace(digest, line_number); !added) {
            return fail("the same token as on line " + std::to_string(earlier->second));
        }

        std::vector<channel_pattern> patterns;
        for (std::size_t i = 1; i < fields.size(); ++i) {
            auto parsed = channel_pattern::parse(fields[i]);
            if (auto* bad = std::get_if<invalid_pattern>(&parsed)) {
                // Not "\"" + std::string(...): GCC 12 warns falsely (-Wrestrict) on that at -O3.
                return fail(std::string("\"").append(fields[i]) + "\": " + bad->message);
            }
            patterns.push_back(std::get<channel_pattern>(std::move(parsed)));
        }
        if (patterns.empty())
            patterns.push_back(std::get<channel_pattern>(channel_pattern::parse("*")));

        result.entries_.push_back(
            {digest, {"static:" + hex_prefix(digest, 8), channel_patterns(std::move(patterns))}});
    }
    return result;
}

std::variant<static_tokens, load_error> static_tokens::load(const std::string& path) {
    return load_credential_file<static_tokens>(path, world_readable::refused);
}

const static_token_entry* static_tokens::find(std::string_view presented) const {
    const sha256_digest digest = sha256(presented);
    std::size_t match = entries_.size();  // none
    for (std::size_t i = 0; i < entries_.size(); ++i) {
        // Every digest is compared in full and the match is selected with a mask, not a branch or
        // an early return, so the time taken says nothing about which entry matched.
        const std::size_t equal =
            CRYPTO_memcmp(entries_[i].digest.data(), digest.data(), digest.size()) == 0;
        const std::size_t mask = 0 - equal;
        match = (match & ~mask) | (i & mask);
    }
    return match < entries_.size() ? &entries_[match].entry : nullptr;
}

}  // namespace ssecast
