// The test parser of the exposition format refuses what it must: the metrics tests lean on it.

#include "prometheus_text.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

namespace {

void expect_refused(const std::string& text, const std::string& why) {
    EXPECT_THROW(prom::parse(text), prom::parse_error) << why << ":\n" << text;
}

const std::string good_histogram =
    "# HELP h_seconds A histogram.\n"
    "# TYPE h_seconds histogram\n"
    "h_seconds_bucket{le=\"0.1\"} 1\n"
    "h_seconds_bucket{le=\"1\"} 3\n"
    "h_seconds_bucket{le=\"+Inf\"} 4\n"
    "h_seconds_sum 5.5\n"
    "h_seconds_count 4\n";

TEST(PrometheusText, ParsesFamiliesLabelsAndValues) {
    auto e = prom::parse(
        "# HELP a_total Things, with a \\\\ and a\\nline.\n"
        "# TYPE a_total counter\n"
        "a_total 3\n"
        "# a comment\n"
        "\n"
        "# TYPE g gauge\n"
        "g{x=\"q\\\"uote\",y=\"back\\\\slash\",z=\"new\\nline\"} -1.5e3\n"
        "g{x=\"2\",} +Inf 1700000000000\n"
        "u:name NaN\n" +
        good_histogram);
    ASSERT_NE(e.find("a_total"), nullptr);
    EXPECT_EQ(e.find("a_total")->type, "counter");
    EXPECT_EQ(e.find("a_total")->help, "Things, with a \\ and a\nline.");
    EXPECT_EQ(e.at("a_total"), 3);
    EXPECT_EQ(e.at("g", {{"x", "q\"uote"}, {"y", "back\\slash"}, {"z", "new\nline"}}), -1500);
    EXPECT_TRUE(std::isinf(e.at("g", {{"x", "2"}})));
    EXPECT_EQ(e.find("u:name")->type, "untyped");
    EXPECT_TRUE(std::isnan(e.at("u:name")));
    auto h = e.hist("h_seconds");
    ASSERT_EQ(h.buckets.size(), 3u);
    EXPECT_EQ(h.buckets[1], std::make_pair(1.0, 3.0));
    EXPECT_EQ(h.sum, 5.5);
    EXPECT_EQ(h.count, 4);
}

TEST(PrometheusText, RefusesBadSyntax) {
    expect_refused("1abc 1\n", "name starting with a digit");
    expect_refused("a-b 1\n", "dash in a name");
    expect_refused("a{1x=\"v\"} 1\n", "label name starting with a digit");
    expect_refused("a{__x=\"v\"} 1\n", "reserved label name");
    expect_refused("a{x=v} 1\n", "unquoted label value");
    expect_refused("a{x=\"v} 1\n", "unterminated label value");
    expect_refused("a{x=\"\\t\"} 1\n", "unknown escape");
    expect_refused("a{x=\"v\",x=\"w\"} 1\n", "label twice");
    expect_refused("a{x=\"v\" y=\"w\"} 1\n", "no comma between labels");
    expect_refused("a\n", "no value");
    expect_refused("a one\n", "value not a number");
    expect_refused("a 0x10\n", "hex value");
    expect_refused("a inf\n", "lower-case inf");
    expect_refused("a 1 12.5\n", "fractional timestamp");
    expect_refused("a 1", "no final line feed");
    expect_refused("a 1\r\n", "CRLF");
    expect_refused("a 1\na 2\n", "the same series twice");
    expect_refused("# TYPE a gauge\n# TYPE a gauge\na 1\n", "TYPE twice");
    expect_refused("# HELP a x\n# HELP a y\na 1\n", "HELP twice");
    expect_refused("# TYPE a gauge\na 1\n# TYPE a gauge\n", "TYPE after samples");
    expect_refused("# TYPE a nonsense\na 1\n", "unknown type");
    expect_refused("# TYPE a counter\na -1\n", "negative counter");
    expect_refused("a{x=\"1\"} 1\nb 1\na{x=\"2\"} 1\n", "family in two groups");
}

TEST(PrometheusText, RefusesInconsistentHistograms) {
    auto with = [](const std::string& from, const std::string& to) {
        auto text = good_histogram;
        text.replace(text.find(from), from.size(), to);
        return text;
    };
    EXPECT_NO_THROW(prom::parse(good_histogram));
    expect_refused(with("h_seconds_bucket{le=\"+Inf\"} 4\n", ""), "no +Inf bucket");
    expect_refused(with("h_seconds_count 4", "h_seconds_count 5"), "+Inf bucket != count");
    expect_refused(with("le=\"1\"} 3", "le=\"1\"} 0"), "decreasing counts");
    expect_refused(with("le=\"1\"", "le=\"0.01\""), "decreasing bounds");
    expect_refused(with("h_seconds_sum 5.5\n", ""), "no _sum");
    expect_refused(with("h_seconds_count 4\n", ""), "no _count");
    expect_refused(with("{le=\"0.1\"}", "{le=\"0.1\",x=\"y\"}"), "extra label");
    expect_refused(with("h_seconds_bucket{le=\"0.1\"}", "h_seconds_bucket"), "bucket without le");
}

}  // namespace
