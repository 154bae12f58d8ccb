#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ssecast/config/config.hpp"

namespace ssecast {

// Why a value was refused, beyond what the option expects ("\"x\" is not an IP address"); empty
// when the option's `expected` says it all.
struct refusal {
    std::string detail;
};

// One option of the daemon. The table of them drives everything about options: the flags,
// environment variables and TOML keys parse_config reads, --help (and so the man page),
// --check-config's listing, and the tests that hold README's options table and the sample
// config/ssecast.toml to it.
struct option {
    std::string_view name;          // flag --NAME, TOML key NAME, environment SSECAST_NAME
    std::string_view metavar;       // what the value is called in --help and README: D, N, SIZE
    std::string_view default_text;  // as it would be typed; empty: unset
    std::string_view help;          // what it does, one line
    std::string range;              // the values it takes, briefly: "100ms to 1h", "text or json"
    std::string expected;           // the values it takes, as every message about it says them
    bool numeric = false;           // a count, size, duration or rate: README states `range` as is
    bool takes_list = false;        // comma-separated; in TOML also an array of strings
    // Stores the value into the configuration, or says why not. Options are bound in table
    // order, so a binder may read the options above it (publish-auth's default reads the
    // credential files).
    std::function<std::optional<refusal>(const std::string& text, config& cfg)> bind;

    std::string flag() const;  // "--heartbeat"
    std::string env() const;   // "SSECAST_HEARTBEAT"
};

const std::vector<option>& option_table();
const option* find_option(std::string_view name);

}  // namespace ssecast
