#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ssecast/config/config.hpp"

namespace ssecast {

// Cross-origin resource sharing: which pages from other sites may use the API (--cors-origins,
// --cors-credentials), and the Access-Control-* headers that tell their browsers so.
class cors {
  public:
    explicit cors(const config& cfg);

    struct verdict {
        bool allowed = true;  // false: answer 403
        std::string headers;  // complete header lines to add (may be empty)
    };

    // A request with this Origin header (empty: none) and Host header. A request without an Origin,
    // or from the page's own origin, needs nothing.
    verdict check(std::string_view origin, std::string_view host) const;
    // The same for a preflight (OPTIONS with Access-Control-Request-Method): adds what may be sent.
    verdict preflight(std::string_view origin, std::string_view host) const;

  private:
    std::vector<std::string> origins_;
    bool any_ = false;
    bool credentials_ = false;
};

}  // namespace ssecast
