#pragma once

#include <ostream>

#include "ssecast/auth/credential_set.hpp"
#include "ssecast/config/config.hpp"

namespace ssecast {

// The credential files the configuration names, and how JWTs are checked: what the daemon loads
// at start and on SIGHUP, and what --check-config loads to check them.
credential_sources credential_sources_of(const config& cfg);

// --check-config: loads what the options name (the credential files) as the daemon would, then
// prints the effective configuration, one TOML line per option with the source of its value, to
// `out` (a valid config file itself) and returns 0; or prints the problem to `err` and returns 2.
int check_config(const config& cfg, std::ostream& out, std::ostream& err);

}  // namespace ssecast
