#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ssecast {

// An event as accepted from a publisher, already validated.
struct new_event {
    std::vector<std::string> channels;  // distinct, valid names
    std::string type;                   // empty: none
    std::string data;                   // text to send; split into lines by the encoder
    std::optional<std::uint32_t> retry_ms;
};

struct publish_receipt {
    std::string id;
    std::size_t delivered = 0;  // live subscribers the event is handed to
};

}  // namespace ssecast
