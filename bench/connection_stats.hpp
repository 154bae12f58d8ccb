// Why connections failed or ended, counted by cause so that a limit that was hit (descriptors,
// source ports, the server's own connection limit, a full accept backlog) is reported as such and
// never shows up as "the server is slow".
#pragma once

#include <cerrno>
#include <cstdint>
#include <array>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

namespace bench {

enum class failure : std::uint8_t {
    emfile,          // socket(): per-process (EMFILE) or system (ENFILE) descriptor limit
    eaddrnotavail,   // bind()/connect(): no free source port for this source address
    refused,         // ECONNREFUSED: not listening, or the accept queue overflowed
    connect_timeout, // no answer to the SYN within --connect-timeout
    response_timeout,// connected, but no HTTP response head within --connect-timeout
    reset,           // ECONNRESET/EPIPE before the response head
    closed_early,    // the server closed before the response head
    http_status,     // a response other than 200 (by status in http_statuses)
    server_limit,    // ssecast's "connection limit reached" answer (200, comment, close)
    kernel_memory,   // ENOBUFS/ENOMEM
    other,
    count
};

inline const char* failure_name(failure f) {
    switch (f) {
        case failure::emfile: return "emfile";
        case failure::eaddrnotavail: return "eaddrnotavail";
        case failure::refused: return "refused";
        case failure::connect_timeout: return "connect_timeout";
        case failure::response_timeout: return "response_timeout";
        case failure::reset: return "reset";
        case failure::closed_early: return "closed_before_response";
        case failure::http_status: return "http_status";
        case failure::server_limit: return "server_connection_limit";
        case failure::kernel_memory: return "kernel_memory";
        case failure::other: return "other";
        case failure::count: break;
    }
    return "?";
}

inline failure classify_errno(int err) {
    switch (err) {
        case EMFILE:
        case ENFILE: return failure::emfile;
        case EADDRNOTAVAIL:
        case EADDRINUSE: return failure::eaddrnotavail;
        case ECONNREFUSED: return failure::refused;
        case ETIMEDOUT: return failure::connect_timeout;
        case ECONNRESET:
        case EPIPE: return failure::reset;
        case ENOBUFS:
        case ENOMEM: return failure::kernel_memory;
        default: return failure::other;
    }
}

struct connection_stats {
    std::uint64_t attempted = 0;
    std::uint64_t established = 0;  // got "200" and a stream
    std::array<std::uint64_t, static_cast<std::size_t>(failure::count)> failed{};
    std::map<int, std::uint64_t> http_statuses;
    // Streams that ended while the benchmark still wanted them.
    std::uint64_t ended_by_server_eof = 0;    // orderly close (FIN)
    std::uint64_t ended_by_server_reset = 0;  // RST (ssecast's slow-consumer cut-off is abortive)
    std::string first_other_error;

    void fail(failure f) { ++failed[static_cast<std::size_t>(f)]; }
    std::uint64_t failed_total() const {
        std::uint64_t n = 0;
        for (auto v : failed) n += v;
        return n;
    }

    void merge(const connection_stats& o) {
        attempted += o.attempted;
        established += o.established;
        for (std::size_t i = 0; i < failed.size(); ++i) failed[i] += o.failed[i];
        for (const auto& [code, n] : o.http_statuses) http_statuses[code] += n;
        ended_by_server_eof += o.ended_by_server_eof;
        ended_by_server_reset += o.ended_by_server_reset;
        if (first_other_error.empty()) first_other_error = o.first_other_error;
    }

    nlohmann::json to_json() const {
        nlohmann::json f = nlohmann::json::object();
        for (std::size_t i = 0; i < failed.size(); ++i)
            f[failure_name(static_cast<failure>(i))] = failed[i];
        nlohmann::json statuses = nlohmann::json::object();
        for (const auto& [code, n] : http_statuses) statuses[std::to_string(code)] = n;
        return {{"attempted", attempted},
                {"established", established},
                {"failed", failed_total()},
                {"failed_by_reason", f},
                {"http_statuses", statuses},
                {"ended_by_server_eof", ended_by_server_eof},
                {"ended_by_server_reset", ended_by_server_reset},
                {"first_other_error", first_other_error}};
    }

    static connection_stats from_json(const nlohmann::json& j) {
        connection_stats s;
        s.attempted = j.at("attempted");
        s.established = j.at("established");
        for (std::size_t i = 0; i < s.failed.size(); ++i)
            s.failed[i] = j.at("failed_by_reason").value(failure_name(static_cast<failure>(i)), std::uint64_t{0});
        for (const auto& [code, n] : j.at("http_statuses").items()) s.http_statuses[std::stoi(code)] = n;
        s.ended_by_server_eof = j.at("ended_by_server_eof");
        s.ended_by_server_reset = j.at("ended_by_server_reset");
        s.first_other_error = j.at("first_other_error");
        return s;
    }
};

}  // namespace bench
