#include <nlohmann/json.hpp>

#include "ssecast/fanout/broker.hpp"
#include "ssecast/http/handlers.hpp"

namespace ssecast {

answer list_channels(const handler_context& ctx) {
    using json = nlohmann::json;
    json list = json::array();
    for (const auto& ch : ctx.store.channels()) {
        list.push_back({{"name", ch.name},
                        {"subscribers", ch.subscribers},
                        {"buffered", ch.buffered},
                        {"lastId", ch.last_id ? json(*ch.last_id) : json(nullptr)}});
    }
    return json_reply(http::status::ok, json{{"channels", list}}.dump() + "\n", ctx.req);
}

}  // namespace ssecast
