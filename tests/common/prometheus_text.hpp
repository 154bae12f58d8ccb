#pragma once

// A strict parser of the Prometheus text exposition format 0.0.4, for tests: it refuses what a
// Prometheus server would refuse, and a few things it would let pass but that are mistakes (a
// family split in two groups, a histogram whose buckets do not add up).

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace prom {

using label_set = std::map<std::string, std::string>;

struct sample {
    std::string name;  // as written, e.g. x_bucket
    label_set labels;
    double value = 0;
};

struct family {
    std::string name;
    std::string help;  // unescaped
    std::string type = "untyped";
    std::vector<sample> samples;
};

struct histogram {
    std::vector<std::pair<double, double>> buckets;  // (le, cumulative count), +Inf last
    double sum = 0;
    double count = 0;
};

class parse_error : public std::runtime_error {
  public:
    parse_error(std::size_t line, const std::string& what)
        : std::runtime_error("line " + std::to_string(line) + ": " + what) {}
};

inline bool is_metric_name(std::string_view s) {
    if (s.empty()) return false;
    auto first = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    };
    if (!first(s[0])) return false;
    return std::all_of(s.begin() + 1, s.end(),
                       [&](char c) { return first(c) || (c >= '0' && c <= '9'); });
}

inline bool is_label_name(std::string_view s) {
    if (s.empty() || s.rfind("__", 0) == 0) return false;  // __ is reserved
    auto first = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    };
    if (!first(s[0])) return false;
    return std::all_of(s.begin() + 1, s.end(),
                       [&](char c) { return first(c) || (c >= '0' && c <= '9'); });
}

// A float as Go's ParseFloat takes it in this format, minus its exotic spellings: digits with an
// optional fraction and exponent, or +Inf, -Inf, NaN.
inline std::optional<double> parse_value(std::string_view s) {
    if (s == "+Inf" || s == "Inf") return std::numeric_limits<double>::infinity();
    if (s == "-Inf") return -std::numeric_limits<double>::infinity();
    if (s == "NaN") return std::numeric_limits<double>::quiet_NaN();
    std::size_t i = 0;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    auto digits = [&] {
        auto start = i;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
        return i - start;
    };
    auto whole = digits();
    std::size_t fraction = 0;
    if (i < s.size() && s[i] == '.') {
        ++i;
        fraction = digits();
    }
    if (whole + fraction == 0) return std::nullopt;
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
        if (digits() == 0) return std::nullopt;
    }
    if (i != s.size()) return std::nullopt;
    std::string copy(s);
    errno = 0;
    double v = std::strtod(copy.c_str(), nullptr);
    if (errno == ERANGE && std::isinf(v)) return std::nullopt;
    return v;
}

class exposition {
  public:
    std::map<std::string, family> families;

    const family* find(const std::string& name) const {
        auto it = families.find(name);
        return it == families.end() ? nullptr : &it->second;
    }

    // The value of the one sample named `name` with exactly `with` as labels.
    std::optional<double> value(const std::string& name, const label_set& with = {}) const {
        for (const auto& [_, f] : families) {
            for (const auto& s : f.samples) {
                if (s.name == name && s.labels == with) return s.value;
            }
        }
        return std::nullopt;
    }
    // Like value(), for a sample that must be there.
    double at(const std::string& name, const label_set& with = {}) const {
        auto v = value(name, with);
        if (!v) throw std::out_of_range("no sample " + name);
        return *v;
    }

    histogram hist(const std::string& name) const {
        const auto* f = find(name);
        if (f == nullptr || f->type != "histogram") throw std::out_of_range("no histogram " + name);
        histogram h;
        for (const auto& s : f->samples) {
            if (s.name == name + "_bucket") {
                h.buckets.emplace_back(*parse_value(s.labels.at("le")), s.value);
            } else if (s.name == name + "_sum") {
                h.sum = s.value;
            } else if (s.name == name + "_count") {
                h.count = s.value;
            }
        }
        return h;
    }
};

namespace detail {

// Whether a sample named `sample_name` belongs to the family `f`.
inline bool belongs(const family& f, const std::string& sample_name) {
    if (sample_name == f.name) return f.type != "histogram" && f.type != "summary";
    auto suffixed = [&](const char* suffix) { return sample_name == f.name + suffix; };
    if (f.type == "histogram") return suffixed("_bucket") || suffixed("_sum") || suffixed("_count");
    if (f.type == "summary") return suffixed("_sum") || suffixed("_count");
    return false;
}

inline std::string unescape(std::string_view s, bool quotes, std::size_t line) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '\\') {
            out += s[i];
            continue;
        }
        if (++i == s.size()) throw parse_error(line, "backslash at the end");
        if (s[i] == '\\') {
            out += '\\';
        } else if (s[i] == 'n') {
            out += '\n';
        } else if (s[i] == '"' && quotes) {
            out += '"';
        } else {
            throw parse_error(line, std::string("unknown escape \\") + s[i]);
        }
    }
    return out;
}

// Histograms here carry no label but le (all this daemon writes).
inline void check_histogram(const family& f, std::size_t line) {
    std::vector<std::pair<double, double>> buckets;
    std::optional<double> sum, count;
    for (const auto& s : f.samples) {
        if (s.name == f.name + "_bucket") {
            auto le = s.labels.find("le");
            if (le == s.labels.end() || s.labels.size() != 1)
                throw parse_error(line, f.name + ": a bucket needs exactly the label le");
            auto bound = parse_value(le->second);
            if (!bound || std::isnan(*bound)) throw parse_error(line, f.name + ": bad le");
            buckets.emplace_back(*bound, s.value);
        } else if (s.name == f.name + "_sum") {
            sum = s.value;
        } else {
            count = s.value;
        }
    }
    if (buckets.empty() || !std::isinf(buckets.back().first))
        throw parse_error(line, f.name + ": the last bucket must be le=\"+Inf\"");
    for (std::size_t i = 1; i < buckets.size(); ++i) {
        if (!(buckets[i].first > buckets[i - 1].first))
            throw parse_error(line, f.name + ": bucket bounds must increase");
        if (buckets[i].second < buckets[i - 1].second)
            throw parse_error(line, f.name + ": bucket counts must not decrease");
    }
    if (!sum || !count) throw parse_error(line, f.name + ": _sum and _count are required");
    if (*count != buckets.back().second)
        throw parse_error(line, f.name + ": _count differs from the +Inf bucket");
}

}  // namespace detail

// Throws parse_error naming the line and the problem.
inline exposition parse(std::string_view text) {
    exposition out;
    if (!text.empty() && text.back() != '\n') throw parse_error(0, "the last line has no LF");
    std::set<std::string> closed;  // families whose group has ended
    std::set<std::pair<std::string, label_set>> seen;
    std::set<std::string> typed;
    std::string current;  // family of the current group
    std::size_t line_no = 0;
    auto finish_group = [&](std::size_t line) {
        if (current.empty()) return;
        auto& f = out.families.at(current);
        if (f.type == "histogram" && !f.samples.empty()) detail::check_histogram(f, line);
        closed.insert(current);
        current.clear();
    };
    auto open_family = [&](const std::string& name, std::size_t line) -> family& {
        if (name != current) {
            finish_group(line);
            if (closed.count(name) != 0)
                throw parse_error(line, name + ": the family appears in two groups");
            current = name;
            out.families[name].name = name;
        }
        return out.families[name];
    };

    while (!text.empty()) {
        ++line_no;
        auto eol = text.find('\n');
        auto line = text.substr(0, eol);
        text.remove_prefix(eol + 1);
        if (line.find('\r') != std::string_view::npos) throw parse_error(line_no, "CR in a line");
        if (line.empty()) continue;
        if (line[0] == '#') {
            auto rest = line.substr(1);
            auto word = [&]() -> std::string_view {
                if (rest.empty() || rest[0] != ' ') return {};
                rest.remove_prefix(1);
                auto end = rest.find(' ');
                auto w = rest.substr(0, end);
                rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
                return w;
            };
            auto keyword = word();
            if (keyword != "HELP" && keyword != "TYPE") continue;  // a comment
            auto name = std::string(word());
            if (!is_metric_name(name)) throw parse_error(line_no, "bad metric name '" + name + "'");
            auto& f = open_family(name, line_no);
            if (keyword == "HELP") {
                if (!f.help.empty()) throw parse_error(line_no, name + ": HELP twice");
                if (rest.empty() || rest[0] != ' ')
                    throw parse_error(line_no, name + ": no HELP text");
                f.help = detail::unescape(rest.substr(1), false, line_no);
                if (f.help.empty()) throw parse_error(line_no, name + ": empty HELP");
            } else {
                auto type = std::string(word());
                if (!rest.empty()) throw parse_error(line_no, name + ": junk after TYPE");
                static const std::set<std::string> types = {"counter", "gauge", "histogram",
                                                            "summary", "untyped"};
                if (types.count(type) == 0) throw parse_error(line_no, "unknown type " + type);
                if (!f.samples.empty()) throw parse_error(line_no, name + ": TYPE after samples");
                if (!typed.insert(name).second) throw parse_error(line_no, name + ": TYPE twice");
                f.type = type;
            }
            continue;
        }

        // name{label="value",...} value [timestamp]
        std::size_t i = 0;
        while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
        auto name = std::string(line.substr(0, i));
        if (!is_metric_name(name)) throw parse_error(line_no, "bad metric name '" + name + "'");
        sample s;
        s.name = name;
        if (i < line.size() && line[i] == '{') {
            ++i;
            while (true) {
                if (i < line.size() && line[i] == '}') {
                    ++i;
                    break;
                }
                auto eq = line.find('=', i);
                if (eq == std::string_view::npos) throw parse_error(line_no, "label without =");
                auto label = std::string(line.substr(i, eq - i));
                if (!is_label_name(label))
                    throw parse_error(line_no, "bad label name '" + label + "'");
                i = eq + 1;
                if (i >= line.size() || line[i] != '"')
                    throw parse_error(line_no, "label value not quoted");
                auto start = ++i;
                while (i < line.size() && line[i] != '"') i += line[i] == '\\' ? 2 : 1;
                if (i >= line.size()) throw parse_error(line_no, "unterminated label value");
                auto value = detail::unescape(line.substr(start, i - start), true, line_no);
                if (!s.labels.emplace(label, value).second)
                    throw parse_error(line_no, "label " + label + " twice");
                ++i;
                if (i < line.size() && line[i] == ',') {
                    ++i;
                } else if (i >= line.size() || line[i] != '}') {
                    throw parse_error(line_no, "expected , or } after a label");
                }
            }
        }
        if (i >= line.size() || line[i] != ' ') throw parse_error(line_no, "no value");
        auto rest = line.substr(i + 1);
        auto space = rest.find(' ');
        auto value = parse_value(rest.substr(0, space));
        if (!value) throw parse_error(line_no, "bad value '" + std::string(rest) + "'");
        if (space != std::string_view::npos) {
            auto stamp = rest.substr(space + 1);
            if (!stamp.empty() && stamp[0] == '-') stamp.remove_prefix(1);
            if (stamp.empty() || !std::all_of(stamp.begin(), stamp.end(),
                                              [](char c) { return c >= '0' && c <= '9'; }))
                throw parse_error(line_no, "bad timestamp (milliseconds, an integer)");
        }
        s.value = *value;

        // The sample joins the current family when its name fits; else it is a new, untyped one.
        if (current.empty() || !detail::belongs(out.families.at(current), name)) {
            open_family(name, line_no);
        }
        auto& f = out.families.at(current);
        if (f.type == "counter" && !(s.value >= 0))
            throw parse_error(line_no, name + ": a counter must be >= 0");
        if (f.type == "histogram" && (name != f.name + "_sum") && !(s.value >= 0))
            throw parse_error(line_no, name + ": a count must be >= 0");
        if (!seen.emplace(name, s.labels).second)
            throw parse_error(line_no, name + ": the same series twice");
        f.samples.push_back(std::move(s));
    }
    finish_group(line_no);
    return out;
}

}  // namespace prom
