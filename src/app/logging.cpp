#include "ssecast/app/logging.hpp"

#include <spdlog/async.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <ctime>
#include <nlohmann/json.hpp>
#include <string_view>

namespace ssecast {

namespace {

// journald reads a line's priority from this prefix and strips it.
std::string_view syslog_prefix(spdlog::level::level_enum level) {
    switch (level) {
        case spdlog::level::trace:
        case spdlog::level::debug:
            return SD_DEBUG;
        case spdlog::level::warn:
            return SD_WARNING;
        case spdlog::level::err:
            return SD_ERR;
        case spdlog::level::critical:
            return SD_CRIT;
        default:
            return SD_INFO;
    }
}

std::string_view level_name(spdlog::level::level_enum level) {
    auto name = spdlog::level::to_string_view(level);
    return {name.data(), name.size()};
}

// systemd sets JOURNAL_STREAM to "DEVICE:INODE" of the stream it connects to stderr. A process
// whose stderr was redirected elsewhere may still inherit the variable, hence the comparison.
bool stderr_is_journal() {
    const char* value = std::getenv("JOURNAL_STREAM");
    if (value == nullptr) return false;
    std::string_view text(value);
    auto colon = text.find(':');
    if (colon == std::string_view::npos) return false;
    auto number = [](std::string_view digits, unsigned long long& out) {
        auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), out);
        return ec == std::errc{} && end == digits.data() + digits.size();
    };
    unsigned long long device = 0;
    unsigned long long inode = 0;
    struct stat st {};
    return number(text.substr(0, colon), device) && number(text.substr(colon + 1), inode) &&
           fstat(STDERR_FILENO, &st) == 0 && st.st_dev == device && st.st_ino == inode;
}

// The "%*" flag of the text pattern.
class syslog_prefix_flag : public spdlog::custom_flag_formatter {
  public:
    void format(const spdlog::details::log_msg& msg, const std::tm&,
                spdlog::memory_buf_t& dest) override {
        auto prefix = syslog_prefix(msg.level);
        dest.append(prefix.data(), prefix.data() + prefix.size());
    }
    std::unique_ptr<custom_flag_formatter> clone() const override {
        return std::make_unique<syslog_prefix_flag>();
    }
};

// A pattern cannot escape the message, so JSON lines are written whole here. Time is UTC,
// RFC 3339 with milliseconds; bytes that are not UTF-8 become U+FFFD so the line stays JSON.
class json_formatter : public spdlog::formatter {
  public:
    explicit json_formatter(bool journal) : journal_(journal) {}

    void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
        auto since_epoch = msg.time.time_since_epoch();
        auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
        auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch - seconds);
        std::time_t t = seconds.count();
        std::tm utc{};
        gmtime_r(&t, &utc);
        nlohmann::ordered_json line = {
            {"time", fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", utc.tm_year + 1900,
                                 utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                                 millis.count())},
            {"level", level_name(msg.level)},
            {"message", std::string_view(msg.payload.data(), msg.payload.size())},
        };
        if (journal_) {
            auto prefix = syslog_prefix(msg.level);
            dest.append(prefix.data(), prefix.data() + prefix.size());
        }
        auto text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        text += '\n';
        dest.append(text.data(), text.data() + text.size());
    }
    std::unique_ptr<spdlog::formatter> clone() const override {
        return std::make_unique<json_formatter>(journal_);
    }

  private:
    bool journal_;
};

}  // namespace

void setup_logging(spdlog::level::level_enum level, log_format format) {
    // Lines are written by spdlog's own thread so a slow log reader never blocks the event loop;
    // the queue is bounded and drops the oldest lines rather than block when it is full.
    spdlog::init_thread_pool(8192, 1);
    auto logger = spdlog::create_async_nb<spdlog::sinks::stderr_sink_mt>("ssecast");
    bool journal = stderr_is_journal();
    if (format == log_format::json) {
        logger->set_formatter(std::make_unique<json_formatter>(journal));
    } else {
        auto text = std::make_unique<spdlog::pattern_formatter>();
        text->add_flag<syslog_prefix_flag>('*').set_pattern(journal ? "%*%l %v"
                                                                    : "%Y-%m-%dT%H:%M:%S.%e %l %v");
        logger->set_formatter(std::move(text));
    }
    spdlog::set_default_logger(logger);
    set_log_level(level);
}

void set_log_level(spdlog::level::level_enum level) {
    spdlog::set_level(level);
}

void stop_logging() {
    // spdlog::shutdown() drops the logger before it joins the thread that writes the lines, so the
    // logger may die on that thread, or here with nothing (that ThreadSanitizer sees) ordering it
    // after the thread's last line. Held here, it outlives the join and goes afterwards.
    auto logger = spdlog::default_logger();
    spdlog::shutdown();
    logger.reset();
}

}  // namespace ssecast
