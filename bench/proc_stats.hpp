// Readings from /proc about the server under test and the machine: memory (VmRSS, and Pss which
// does not double-count pages shared between nginx's master and workers) and CPU time of a set of
// processes, the kernel's TCP socket memory (/proc/net/sockstat) and socket slab caches
// (/proc/slabinfo, root only), this process's own CPU time, and what the machine is.
#pragma once

#include <dirent.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace bench {

// Which processes make up the server: single pids, and pids counted with all their descendants
// (nginx: the master and its workers).
struct server_spec {
    std::vector<int> pids;
    std::vector<int> trees;
    bool empty() const { return pids.empty() && trees.empty(); }
};

inline bool read_file(const std::string& path, std::string& out) {
    std::ifstream in(path);
    if (!in) return false;
    std::ostringstream ss;
    ss << in.rdbuf();
    out = ss.str();
    return true;
}

// Parent pid from /proc/PID/stat (the field after the parenthesised command name).
inline int parent_of(int pid) {
    std::string stat;
    if (!read_file("/proc/" + std::to_string(pid) + "/stat", stat)) return -1;
    auto close = stat.rfind(')');
    if (close == std::string::npos) return -1;
    std::istringstream rest(stat.substr(close + 2));
    char state = 0;
    int ppid = -1;
    rest >> state >> ppid;
    return ppid;
}

inline std::vector<int> all_pids() {
    std::vector<int> pids;
    if (DIR* dir = opendir("/proc")) {
        while (dirent* e = readdir(dir)) {
            char* end = nullptr;
            long v = std::strtol(e->d_name, &end, 10);
            if (end && *end == '\0' && v > 0) pids.push_back(static_cast<int>(v));
        }
        closedir(dir);
    }
    return pids;
}

// The pids of the spec, resolved now (trees expanded to every living descendant).
inline std::vector<int> resolve(const server_spec& spec) {
    std::set<int> out(spec.pids.begin(), spec.pids.end());
    if (!spec.trees.empty()) {
        std::map<int, std::vector<int>> children;
        for (int pid : all_pids()) children[parent_of(pid)].push_back(pid);
        std::vector<int> todo(spec.trees.begin(), spec.trees.end());
        std::set<int> visited;
        while (!todo.empty()) {
            int pid = todo.back();
            todo.pop_back();
            if (!visited.insert(pid).second) continue;
            out.insert(pid);
            for (int child : children[pid]) todo.push_back(child);
        }
    }
    return {out.begin(), out.end()};
}

// "Key:   123 kB" from a /proc status-like file, in kB; -1 if absent.
inline std::int64_t kb_field(const std::string& text, const std::string& key) {
    auto at = text.find("\n" + key + ":");
    if (at == std::string::npos) {
        if (text.rfind(key + ":", 0) != 0) return -1;
        at = 0;
    } else {
        at += 1;
    }
    return std::strtoll(text.c_str() + at + key.size() + 1, nullptr, 10);
}

struct process_sample {
    bool ok = false;          // every pid could be read
    int processes = 0;
    std::int64_t rss_kb = 0;  // sum of VmRSS
    std::int64_t pss_kb = 0;  // sum of Pss (-1 if smaps_rollup is unreadable)
    double cpu_s = 0;         // sum of utime+stime
};

inline process_sample sample_processes(const server_spec& spec) {
    process_sample s;
    auto pids = resolve(spec);
    static const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
    s.ok = !pids.empty();
    for (int pid : pids) {
        auto base = "/proc/" + std::to_string(pid);
        std::string status, rollup, stat;
        if (!read_file(base + "/status", status) || !read_file(base + "/stat", stat)) {
            s.ok = false;
            continue;
        }
        ++s.processes;
        s.rss_kb += std::max<std::int64_t>(0, kb_field(status, "VmRSS"));
        if (s.pss_kb >= 0 && read_file(base + "/smaps_rollup", rollup)) {
            auto pss = kb_field(rollup, "Pss");
            s.pss_kb = pss >= 0 ? s.pss_kb + pss : -1;
        } else {
            s.pss_kb = -1;
        }
        auto close = stat.rfind(')');
        std::istringstream rest(stat.substr(close + 2));
        std::string field;
        // Fields after the name start at field 3 (state); utime and stime are 14 and 15.
        unsigned long long utime = 0, stime = 0;
        for (int i = 3; i <= 15 && rest >> field; ++i) {
            if (i == 14) utime = std::stoull(field);
            if (i == 15) stime = std::stoull(field);
        }
        s.cpu_s += static_cast<double>(utime + stime) / ticks;
    }
    return s;
}

struct kernel_sample {
    std::int64_t tcp_inuse = -1, tcp_orphan = -1, tcp_tw = -1, tcp_alloc = -1, tcp_mem_pages = -1;
    std::map<std::string, std::int64_t> slab_bytes;  // active objects x object size
};

inline kernel_sample sample_kernel() {
    kernel_sample k;
    std::string text;
    if (read_file("/proc/net/sockstat", text)) {
        auto at = text.find("TCP:");
        if (at != std::string::npos) {
            std::istringstream in(text.substr(at + 4, text.find('\n', at) - at - 4));
            std::string key;
            std::int64_t value = 0;
            while (in >> key >> value) {
                if (key == "inuse") k.tcp_inuse = value;
                else if (key == "orphan") k.tcp_orphan = value;
                else if (key == "tw") k.tcp_tw = value;
                else if (key == "alloc") k.tcp_alloc = value;
                else if (key == "mem") k.tcp_mem_pages = value;
            }
        }
    }
    if (read_file("/proc/slabinfo", text)) {
        static const std::set<std::string> wanted{"TCP", "sock_inode_cache", "eventpoll_epi",
                                                  "filp", "eventpoll_pwq"};
        std::istringstream in(text);
        std::string line;
        while (std::getline(in, line)) {
            std::istringstream fields(line);
            std::string name;
            std::int64_t active = 0, total = 0, size = 0;
            if (fields >> name >> active >> total >> size && wanted.count(name))
                k.slab_bytes[name] = active * size;
        }
    }
    return k;
}

inline std::int64_t page_size() { return sysconf(_SC_PAGESIZE); }

// CPU seconds the whole machine spent busy (all cores; /proc/stat, idle and iowait excluded), and
// stolen by the hypervisor: the difference to the server's and the bench's own CPU time over a
// phase is what other processes took, which makes a run on a shared machine unreliable.
struct machine_cpu {
    double busy_s = 0;
    double irq_s = 0;
    double steal_s = 0;
    // Every process's CPU seconds by pid, with its name and whether it is a kernel thread.
    struct proc {
        std::string name;
        bool kernel = false;
        double cpu_s = 0;
    };
    std::map<int, proc> procs;
};

inline machine_cpu sample_machine_cpu() {
    machine_cpu m;
    std::ifstream in("/proc/stat");
    std::string cpu;
    unsigned long long user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
    if (in >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal && cpu == "cpu") {
        static const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
        // irq/softirq time is kept apart (loopback packet processing shows up there; most of it
        // is also in the times of the processes it ran under).
        m.busy_s = static_cast<double>(user + nice + system) / ticks;
        m.irq_s = static_cast<double>(irq + softirq) / ticks;
        m.steal_s = static_cast<double>(steal) / ticks;
    }
    static const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
    for (int pid : all_pids()) {
        std::string stat;
        if (!read_file("/proc/" + std::to_string(pid) + "/stat", stat)) continue;
        auto open = stat.find('(');
        auto close = stat.rfind(')');
        if (open == std::string::npos || close == std::string::npos) continue;
        machine_cpu::proc p;
        p.name = stat.substr(open + 1, close - open - 1);
        std::istringstream rest(stat.substr(close + 2));
        std::string field;
        unsigned long long utime = 0, stime = 0;
        int ppid = -1;
        for (int i = 3; i <= 15 && rest >> field; ++i) {
            if (i == 4) ppid = std::atoi(field.c_str());
            if (i == 14) utime = std::stoull(field);
            if (i == 15) stime = std::stoull(field);
        }
        p.kernel = pid == 2 || ppid == 2;
        p.cpu_s = static_cast<double>(utime + stime) / ticks;
        m.procs[pid] = std::move(p);
    }
    return m;
}

// CPU seconds that processes other than `mine` used between two samples, by process name
// (user-space processes and kernel threads apart; a process that ended in between is missed).
struct other_cpu {
    double user_space_s = 0;
    double kernel_threads_s = 0;
    std::map<std::string, double> by_name;  // user-space only
};

inline other_cpu cpu_of_others(const machine_cpu& a, const machine_cpu& b, const std::set<int>& mine) {
    other_cpu o;
    for (const auto& [pid, p] : b.procs) {
        if (mine.count(pid)) continue;
        auto before = a.procs.find(pid);
        // (Kernel workers rename themselves after their current work queue: match by pid only.)
        double used = p.cpu_s - (before != a.procs.end() ? before->second.cpu_s : 0.0);
        if (used <= 0) continue;
        if (p.kernel) {
            o.kernel_threads_s += used;
        } else {
            o.user_space_s += used;
            o.by_name[p.name] += used;
        }
    }
    return o;
}

inline nlohmann::json to_json(const kernel_sample& k) {
    nlohmann::json slab = nlohmann::json::object();
    std::int64_t total = 0;
    for (const auto& [name, bytes] : k.slab_bytes) {
        slab[name] = bytes;
        total += bytes;
    }
    return {{"tcp_inuse", k.tcp_inuse},
            {"tcp_orphan", k.tcp_orphan},
            {"tcp_tw", k.tcp_tw},
            {"tcp_alloc", k.tcp_alloc},
            {"tcp_mem_pages", k.tcp_mem_pages},
            {"tcp_mem_bytes", k.tcp_mem_pages < 0 ? -1 : k.tcp_mem_pages * page_size()},
            {"slab_bytes", slab},
            {"slab_bytes_total", k.slab_bytes.empty() ? -1 : total}};
}

struct cpu_times {
    double user_s = 0, sys_s = 0;
    double total() const { return user_s + sys_s; }
};

inline cpu_times own_cpu(int who = RUSAGE_SELF) {
    rusage ru{};
    getrusage(who, &ru);
    auto sec = [](timeval tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6; };
    return {sec(ru.ru_utime), sec(ru.ru_stime)};
}

inline nlohmann::json machine_info() {
    utsname u{};
    uname(&u);
    std::string model;
    std::string cpuinfo;
    if (read_file("/proc/cpuinfo", cpuinfo)) {
        auto at = cpuinfo.find("model name");
        if (at != std::string::npos) {
            auto colon = cpuinfo.find(':', at);
            model = cpuinfo.substr(colon + 2, cpuinfo.find('\n', colon) - colon - 2);
        }
    }
    rlimit lim{};
    getrlimit(RLIMIT_NOFILE, &lim);
    return {{"cores", std::thread::hardware_concurrency()},
            {"online_cpus", sysconf(_SC_NPROCESSORS_ONLN)},
            {"cpu_model", model},
            {"kernel", std::string(u.sysname) + " " + u.release},
            {"page_size", page_size()},
            {"nofile_soft", static_cast<std::int64_t>(lim.rlim_cur)},
            {"nofile_hard", static_cast<std::int64_t>(lim.rlim_max)}};
}

// Raises the soft open-files limit to the hard one; returns the limit now in force.
inline std::int64_t raise_nofile_limit() {
    rlimit lim{};
    if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return -1;
    if (lim.rlim_cur < lim.rlim_max) {
        lim.rlim_cur = lim.rlim_max;
        setrlimit(RLIMIT_NOFILE, &lim);
        getrlimit(RLIMIT_NOFILE, &lim);
    }
    return static_cast<std::int64_t>(lim.rlim_cur);
}

}  // namespace bench
