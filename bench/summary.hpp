// The human summary of a run, printed on stderr from the same JSON the machine reads.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

namespace bench {

inline std::string human_bytes(double bytes) {
    const char* unit[] = {"B", "KiB", "MiB", "GiB"};
    int u = 0;
    while (bytes >= 1024 && u < 3) {
        bytes /= 1024;
        ++u;
    }
    char buf[64];
    std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", bytes, unit[u]);
    return buf;
}

inline void print_summary(const nlohmann::json& r, std::FILE* out) {
    auto num = [](const nlohmann::json& j, const char* key) -> double {
        if (!j.contains(key) || !j.at(key).is_number()) return 0;
        return j.at(key).get<double>();
    };
    const auto& cfg = r.at("config");
    std::fprintf(out, "ssecast-bench %s -> %s %s:%d%s%s\n", r.at("mode").get<std::string>().c_str(),
                 r.at("target").get<std::string>().c_str(), cfg.at("host").get<std::string>().c_str(),
                 cfg.at("port").get<int>(), r.at("label").get<std::string>().empty() ? "" : "  ",
                 r.at("label").get<std::string>().c_str());
    if (r.contains("connections")) {
        const auto& c = r.at("connections");
        std::fprintf(out,
                     "  subscribers  %.0f requested, %.0f established, %.0f failed, in %.2f s "
                     "(%.0f process(es) x %.0f thread(s), %.0f source address(es))\n",
                     num(cfg, "subscribers"), num(c, "established"), num(c, "failed"), num(c, "connect_s"),
                     num(cfg, "processes"), num(cfg, "threads"), num(cfg, "source_addresses"));
    }
    if (r.contains("publish")) {
        const auto& p = r.at("publish");
        const auto& lat = p.at("answer_latency_ms");
        std::fprintf(out,
                     "  publish      %.0f ok, %.0f rejected, %.0f lost in flight, over %.2f s: %.0f "
                     "requests/s (target rate %s); answer p50 %.3f ms p99 %.3f ms max %.3f ms\n",
                     num(p, "ok"), num(p, "rejected"), num(p, "lost_in_flight"), num(p, "duration_s"),
                     num(p, "requests_per_s"),
                     num(cfg, "rate") > 0 ? (std::to_string(static_cast<long>(num(cfg, "rate"))) + "/s").c_str()
                                          : "flat out",
                     num(lat, "p50"), num(lat, "p99"), num(lat, "max"));
    }
    if (r.contains("delivery")) {
        const auto& d = r.at("delivery");
        const auto& lat = d.at("latency_ms");
        std::fprintf(out, "  delivery     %.0f expected, %.0f received, %.0f lost (%.4f %%), %.0f deliveries/s\n",
                     num(d, "expected"), num(d, "received"), num(d, "lost"), 100 * num(d, "loss_ratio"),
                     num(d, "delivered_per_s"));
        std::fprintf(out, "  latency      p50 %.2f ms  p99 %.2f ms  p99.9 %.2f ms  max %.2f ms  (%.0f samples)\n",
                     num(lat, "p50"), num(lat, "p99"), num(lat, "p999"), num(lat, "max"), num(lat, "count"));
    }
    if (r.contains("storm")) {
        const auto& s = r.at("storm");
        std::fprintf(out,
                     "  storm        %.0f reconnected of %.0f, %.0f caught up in %.3f s (p50 %.3f s, p99 "
                     "%.3f s); %.0f of %.0f backlog deliveries lost, %.0f duplicates, %.0f resyncs\n",
                     num(s, "reconnected"), num(s, "targets"), num(s, "caught_up"), num(s, "catch_up_s"),
                     num(s.at("catch_up_ms"), "p50") / 1000, num(s.at("catch_up_ms"), "p99") / 1000,
                     num(s, "lost"), num(s, "expected"), num(s, "duplicates"), num(s, "resyncs"));
    }
    if (r.contains("server") && !r.at("server").at("pids").empty()) {
        const auto& s = r.at("server");
        const auto& rss = s.at("rss_kb");
        std::fprintf(out, "  server RSS   before %s, idle %s, under load max %s  ->  %.0f bytes per idle subscriber",
                     human_bytes(num(rss, "before") * 1024).c_str(), human_bytes(num(rss, "idle") * 1024).c_str(),
                     human_bytes(num(rss, "load_max") * 1024).c_str(), num(s, "bytes_per_idle_subscriber"));
        std::fprintf(out, " (Pss: %.0f)\n", num(s, "pss_bytes_per_idle_subscriber"));
        std::fprintf(out, "  server CPU   %.2f s while connecting, %.2f s under load (%.2f cores)\n",
                     num(s.at("cpu_s"), "connect"), num(s.at("cpu_s"), "load"), num(s, "load_cores"));
    }
    if (r.contains("kernel")) {
        const auto& k = r.at("kernel");
        std::fprintf(out, "  kernel       TCP mem before %s, idle %s, load %s; socket slabs %.0f B per connection (both ends)\n",
                     human_bytes(num(k.at("before"), "tcp_mem_bytes")).c_str(),
                     human_bytes(num(k.at("idle"), "tcp_mem_bytes")).c_str(),
                     human_bytes(num(k.at("load"), "tcp_mem_bytes")).c_str(),
                     num(k, "slab_bytes_per_connection_both_ends"));
    }
    if (r.contains("bench_cpu")) {
        const auto& b = r.at("bench_cpu");
        std::fprintf(out, "  bench CPU    %.2f s under load (%.2f cores; user %.2f s, sys %.2f s), %.2f s in all\n",
                     num(b.at("load"), "user_s") + num(b.at("load"), "sys_s"), num(b, "load_cores"),
                     num(b.at("load"), "user_s"), num(b.at("load"), "sys_s"),
                     num(b.at("total"), "user_s") + num(b.at("total"), "sys_s"));
    }
    const auto& hits = r.at("limits_hit");
    if (hits.empty()) {
        std::fprintf(out, "  limits hit   none\n");
    } else {
        for (const auto& h : hits) std::fprintf(out, "  LIMIT HIT    %s\n", h.get<std::string>().c_str());
    }
}

}  // namespace bench
