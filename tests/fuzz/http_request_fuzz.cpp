// Bytes in, as an HTTP session reads them: request_reader (Beast's parser and the RFC 9112
// framing rules), then for every request it takes the client, the bearer token, and the route
// table with its access rules and handlers over a real in-memory broker, with credentials
// configured (an API key, a JWT secret, private channels), a trusted proxy (10.0.0.0/8) and the
// abuse limits. The first byte chooses how the bytes
// arrive: in pieces of 1 to 256 bytes, as reads from a socket would deliver them.
//
// Properties: a refusal is a 4xx/5xx with a message, after which nothing more is read (the
// connection closes); every answer is a well-formed status line with a JSON error when it is an
// error; a stream is only started for valid channels; a token never survives redaction.


#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "ssecast/auth/authenticator.hpp"
#include "ssecast/auth/credential_checker.hpp"
#include "ssecast/backend/memory/memory_storage.hpp"
#include "ssecast/fanout/broker.hpp"
#include "ssecast/fanout/hub.hpp"
#include "ssecast/config/config.hpp"
#include "ssecast/core/validation.hpp"
#include "ssecast/http/abuse_limits.hpp"
#include "ssecast/http/bearer_token.hpp"
#include "ssecast/http/client.hpp"
#include "ssecast/http/query_string.hpp"
#include "ssecast/http/request_credentials.hpp"
#include "ssecast/http/request_reader.hpp"
#include "ssecast/http/router.hpp"
#include "ssecast/http/server_state.hpp"
#include "ssecast/metrics/metrics.hpp"
#include "ssecast/metrics/server_counters.hpp"

namespace {

using namespace ssecast;

// The daemon's state as the handlers read it; fixed values, as for a daemon that just started.
class fixed_state final : public server_state {
  public:
    bool shutting_down() const override { return false; }
    bool draining() const override { return false; }
    std::size_t connections() const override { return 1; }
    std::size_t streams() const override { return 0; }
    std::chrono::steady_clock::duration uptime() const override { return std::chrono::seconds(1); }
    std::chrono::system_clock::time_point start_time() const override { return {}; }
    worker_totals workers_total() const override { return {}; }
};

// Everything a request meets, made once: the files of the credentials live in a temporary
// directory for the whole run.
struct world {
    world() {
        auto write = [](const char* name, const std::string& text) {
            return ssecast_fuzz::private_file("http", name, text);
        };
        settings.publish_tokens_file = write("tokens", "fuzz-key-0123456789abcdef news user:*\n");
        settings.jwt_secret_file =
            write("secret", "0123456789abcdef0123456789abcdef0123456789abcdef\n");
        settings.publish_auth = publish_auth::loopback_or_token;
        settings.private_channels =
            channel_patterns({std::get<channel_pattern>(channel_pattern::parse("user:*"))});
        settings.cors_origins = {"https://app.example"};
        if (auto problem = credentials.reload(
                {settings.publish_tokens_file, settings.jwt_secret_file, {}, {}}))
            ssecast_fuzz::property_violated(problem->c_str(), __FILE__, __LINE__);
        checker = std::make_unique<credential_checker>(credentials);
        if (auto problem = parse_networks("10.0.0.0/8", settings.trusted_proxies))
            ssecast_fuzz::property_violated(problem->c_str(), __FILE__, __LINE__);
        settings.publish_rate = 1000;
        settings.publish_burst = 1000;
        limits = std::make_unique<abuse_limits>(settings);
        routes = std::make_unique<router>(settings);
    }

    config settings;
    // Small, so that a run of millions of publishes stays within the fuzzer's memory limit.
    hub fanout{{}};
    memory_storage history{
        memory_storage_options{8, std::nullopt, 256, std::chrono::milliseconds(0), 1}, fanout};
    broker store{history, fanout};
    boost::asio::io_context io;  // where deferred answers would complete (memory: inline)
    authenticator credentials;
    std::unique_ptr<credential_checker> checker;
    std::unique_ptr<abuse_limits> limits;
    std::unique_ptr<router> routes;
    fixed_state state;
    server_counters counters;
    worker_metrics metrics;
};

world& the_world() {
    static world w;
    return w;
}

void check_reply(const reply& r) {
    auto code = static_cast<unsigned>(r.status);
    FUZZ_CHECK(code >= 200 && code < 600);
    std::string wire;
    append_wire(r, wire);
    FUZZ_CHECK(wire.rfind("HTTP/1.", 0) == 0);
    FUZZ_CHECK(wire.find("\r\n\r\n") != std::string::npos);
    if (code >= 400) {
        FUZZ_CHECK(!r.rejection.empty());
        auto body = nlohmann::json::parse(r.body, nullptr, false);
        FUZZ_CHECK(body.is_object() && body.contains("error"));
    }
}

// After redaction no query parameter named token keeps a value other than REDACTED.
void check_redaction(std::string_view target) {
    auto redacted = redact_token(target);
    auto params = parse_query(split_target(redacted).second);
    if (!params) return;
    for (const auto& [name, value] : *params) {
        if (name == token_parameter) FUZZ_CHECK(value == "REDACTED" || value.empty());
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    auto& w = the_world();
    std::size_t piece = 1 + data[0];
    auto bytes = ssecast_fuzz::as_text(data + 1, size - 1);
    // Loopback, a remote client, or a trusted proxy (whose X-Forwarded-For is then believed).
    static const char* peers[] = {"127.0.0.1", "203.0.113.7", "10.1.2.3"};
    auto peer = boost::asio::ip::make_address(peers[size % 3]);

    request_reader reader(w.settings.max_body);
    reader.start();
    for (std::size_t at = 0; at < bytes.size();) {
        auto n = std::min(piece, bytes.size() - at);
        auto room = reader.buffer().prepare(n);
        std::memcpy(room.data(), bytes.data() + at, n);
        reader.buffer().commit(n);
        at += n;
        // Every request the bytes so far hold, as the session takes them one after another.
        for (int requests = 0; requests < 1000; ++requests) {
            auto outcome = reader.parse();
            if (outcome == request_reader::outcome::need_more) break;
            if (outcome == request_reader::outcome::refused) {
                auto code = static_cast<unsigned>(reader.refusal().status);
                FUZZ_CHECK(code >= 400 && code < 600);
                FUZZ_CHECK(!reader.refusal().message.empty());
                return 0;  // the session answers and closes: nothing more is read
            }
            // What the router says of a request, or of a header alone (Expect: 100-continue).
            auto route = [&](const request& req, bool header_only) -> std::optional<answer> {
                check_redaction(req.target());
                auto who = resolve_client(peer, req, w.settings.trusted_proxies);
                request_credentials credentials(find_bearer_token(req, w.settings.jwt_cookie),
                                                *w.checker);
                handler_context ctx{req,       who,         w.store,   w.settings,
                                    w.state,   w.counters,  w.metrics, credentials,
                                    *w.limits, w.io.get_executor(), false, false};
                if (!header_only) return w.routes->dispatch(ctx);
                if (auto refusal = w.routes->precheck(ctx)) return answer(std::move(*refusal));
                return std::nullopt;
            };
            if (outcome == request_reader::outcome::expects_continue) {
                auto refused = route(reader.header(), true);
                if (!refused) continue;  // 100 Continue: the body follows
                check_reply(std::get<reply>(*refused));
                return 0;  // the final answer, then the session closes
            }
            auto req = reader.take();
            auto answered = *route(req, false);
            if (auto* later = std::get_if<deferred>(&answered)) {
                // The memory backend answers at once, inside start().
                std::optional<reply> late;
                later->start([&](reply r) { late = std::move(r); });
                FUZZ_CHECK(late.has_value());
                answered = std::move(*late);
            }
            if (auto* r = std::get_if<reply>(&answered)) {
                check_reply(*r);
                if (!r->keep_alive) return 0;
            } else {
                const auto& stream = std::get<stream_request>(answered);
                FUZZ_CHECK(!stream.channels.empty() &&
                           stream.channels.size() <= max_channels_per_request);
                for (const auto& ch : stream.channels) FUZZ_CHECK(!check_channel_name(ch));
                return 0;  // the connection is a stream now
            }
            reader.start();
        }
    }
    return 0;
}
