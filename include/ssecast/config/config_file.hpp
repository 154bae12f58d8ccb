#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ssecast {

// One top-level key of the TOML file, as the text a flag would carry.
struct file_setting {
    std::string text;         // strings as they are, integers in decimal, booleans true/false
    bool from_array = false;  // an array of strings, joined with commas
    std::uint32_t line = 0;
    std::uint32_t column = 0;
};

struct config_file_contents {
    std::map<std::string, file_setting> settings;
    // "FILE:LINE:COLUMN: what is wrong" (or "FILE: ..." when it cannot be read at all).
    std::vector<std::string> problems;
};

// Parses `path` as TOML 1.0: a syntax error (an unclosed table header or string, two values on
// one line, a key given twice, ...) is a problem, and so is any value that no option takes
// (floats, dates, tables).
config_file_contents read_config_file(const std::string& path);

}  // namespace ssecast
