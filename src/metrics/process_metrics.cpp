#include "ssecast/metrics/process_metrics.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

namespace ssecast {

namespace {

std::optional<std::string> read_small_file(const char* path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) return std::nullopt;
    return text;
}

std::optional<std::uint64_t> to_uint(std::string_view digits) {
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size())
        return std::nullopt;
    return value;
}

// The space-separated fields of /proc/self/stat after the command name, which is in parentheses
// and may itself hold spaces and parentheses: the first one here is field 3 (state) of proc(5).
std::vector<std::string_view> stat_fields(std::string_view stat) {
    std::vector<std::string_view> fields;
    auto close = stat.rfind(')');
    if (close == std::string_view::npos) return fields;
    stat.remove_prefix(close + 1);
    while (!stat.empty()) {
        auto start = stat.find_first_not_of(" \n");
        if (start == std::string_view::npos) break;
        stat.remove_prefix(start);
        auto end = std::min(stat.find_first_of(" \n"), stat.size());
        fields.push_back(stat.substr(0, end));
        stat.remove_prefix(end);
    }
    return fields;
}

// proc(5) field N, counted from 1 as the manual does.
std::optional<std::uint64_t> stat_field(const std::vector<std::string_view>& fields,
                                        std::size_t n) {
    if (n < 3 || n - 3 >= fields.size()) return std::nullopt;
    return to_uint(fields[n - 3]);
}

// The boot time in Unix seconds ("btime" in /proc/stat).
std::optional<std::uint64_t> boot_time() {
    auto stat = read_small_file("/proc/stat");
    if (!stat) return std::nullopt;
    std::string_view text = *stat;
    constexpr std::string_view key = "\nbtime ";
    auto at = text.find(key);
    if (at == std::string_view::npos) return std::nullopt;
    text.remove_prefix(at + key.size());
    return to_uint(text.substr(0, text.find('\n')));
}

// Unix seconds: the boot time, plus the clock ticks from boot to the start (field 22).
std::optional<double> start_time(const std::vector<std::string_view>& fields, double tick) {
    auto started = stat_field(fields, 22);  // clock ticks after boot
    auto booted = boot_time();
    if (!started || !booted) return std::nullopt;
    return static_cast<double>(*booted) + static_cast<double>(*started) / tick;
}

}  // namespace

std::optional<std::uint64_t> walk_open_fds() {
    DIR* dir = opendir("/proc/self/fd");
    if (dir == nullptr) return std::nullopt;
    int own = dirfd(dir);
    std::uint64_t count = 0;
    while (const dirent* entry = readdir(dir)) {
        auto fd = to_uint(entry->d_name);
        // "." and "..", and the descriptor this walk itself holds, are not counted.
        if (fd && *fd != static_cast<std::uint64_t>(own)) ++count;
    }
    closedir(dir);
    return count;
}

std::optional<std::uint64_t> count_open_fds() {
    struct stat fds {};
    // A process always has descriptors open: 0 means a kernel that does not count them here.
    if (stat("/proc/self/fd", &fds) == 0 && fds.st_size > 0)
        return static_cast<std::uint64_t>(fds.st_size);
    return walk_open_fds();
}

process_sample read_process_sample() {
    process_sample sample;
    const auto tick = static_cast<double>(sysconf(_SC_CLK_TCK));
    if (auto stat = read_small_file("/proc/self/stat"); stat && tick > 0) {
        auto fields = stat_fields(*stat);
        auto user = stat_field(fields, 14);
        auto system = stat_field(fields, 15);
        if (user && system) sample.cpu_seconds = static_cast<double>(*user + *system) / tick;
        // Fixed for the life of the process: worked out once.
        static const std::optional<double> started = start_time(fields, tick);
        sample.start_time_seconds = started;
    }
    if (auto statm = read_small_file("/proc/self/statm")) {
        // "size resident shared ...", in pages.
        std::string_view text = *statm;
        auto first = text.find(' ');
        if (first != std::string_view::npos) {
            text.remove_prefix(first + 1);
            auto pages = to_uint(text.substr(0, text.find(' ')));
            auto page = sysconf(_SC_PAGESIZE);
            if (pages && page > 0)
                sample.resident_bytes = static_cast<double>(*pages) * static_cast<double>(page);
        }
    }
    sample.open_fds = count_open_fds();
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0) sample.max_fds = limit.rlim_cur;
    return sample;
}

void write_process_metrics(exposition& out, const process_sample& sample) {
    if (sample.cpu_seconds) {
        out.real_counter("process_cpu_seconds_total",
                         "Total user and system CPU time spent in seconds.", *sample.cpu_seconds);
    }
    if (sample.open_fds) {
        out.gauge("process_open_fds", "Number of open file descriptors.",
                  static_cast<double>(*sample.open_fds));
    }
    if (sample.max_fds) {
        out.gauge("process_max_fds", "Maximum number of open file descriptors.",
                  static_cast<double>(*sample.max_fds));
    }
    if (sample.resident_bytes) {
        out.gauge("process_resident_memory_bytes", "Resident memory size in bytes.",
                  *sample.resident_bytes);
    }
    if (sample.start_time_seconds) {
        out.gauge("process_start_time_seconds",
                  "Start time of the process since unix epoch in seconds.",
                  *sample.start_time_seconds);
    }
}

}  // namespace ssecast
