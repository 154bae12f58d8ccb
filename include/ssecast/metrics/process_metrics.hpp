#pragma once

#include <cstdint>
#include <optional>

#include "ssecast/metrics/metrics.hpp"

namespace ssecast {

// What the kernel says of this process, read from /proc when scraped. A value that cannot be
// read (another kernel, /proc not mounted) is left out, never shown as 0.
struct process_sample {
    std::optional<double> cpu_seconds;  // user and system time
    std::optional<double> resident_bytes;
    std::optional<double> start_time_seconds;  // Unix time
    std::optional<std::uint64_t> open_fds;
    std::optional<std::uint64_t> max_fds;  // the soft RLIMIT_NOFILE
};

// A few small /proc reads, and count_open_fds().
process_sample read_process_sample();

// The open descriptors of this process. Linux 6.2 and later count them in the size stat() gives
// /proc/self/fd: about 3 us with 19000 open, measured here. Older kernels (Debian 12's 6.1) say 0
// there, and walk_open_fds() lists the descriptor table instead: O(open descriptors), about 0.9 us
// of CPU each here (17 ms for 19000, so some 90 ms at 100000), once per scrape, on the event loop
// that answers it.
std::optional<std::uint64_t> count_open_fds();
std::optional<std::uint64_t> walk_open_fds();

// The process_* families with the names, types and HELP texts of Prometheus' own client
// libraries (their process collector), so that standard dashboards and alerts find them.
void write_process_metrics(exposition& out, const process_sample& sample);

}  // namespace ssecast
