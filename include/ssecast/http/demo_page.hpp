#pragma once

#include <string_view>

namespace ssecast {

// The built-in demo page served at GET / (--demo-page): subscribe to channels with EventSource,
// watch the events and the connection state, publish with a form. Plain HTML and JavaScript.
std::string_view demo_page_html();

}  // namespace ssecast
