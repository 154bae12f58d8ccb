#include "ssecast/core/publish_request.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <variant>
#include <vector>

namespace {

using namespace std::string_literals;
using nlohmann::json;
using ssecast::invalid_request;
using ssecast::parse_publish_request;
using ssecast::publish_batch;
using strings = std::vector<std::string>;

publish_batch accepted(const std::string& body) {
    auto result = parse_publish_request(body);
    if (auto* bad = std::get_if<invalid_request>(&result)) {
        ADD_FAILURE() << "refused: " << bad->error << "\nbody: " << body;
        return {};
    }
    return std::get<publish_batch>(std::move(result));
}

std::string refused(const std::string& body) {
    auto result = parse_publish_request(body);
    if (!std::holds_alternative<invalid_request>(result)) {
        ADD_FAILURE() << "accepted: " << body;
        return {};
    }
    auto error = std::get<invalid_request>(result).error;
    EXPECT_FALSE(error.empty()) << body;
    return error;
}

#define EXPECT_REFUSED(body, fragment)                                                      \
    do {                                                                                    \
        auto error_ = refused(body);                                                        \
        EXPECT_NE(error_.find(fragment), std::string::npos)                                 \
            << "body: " << (body) << "\nerror: " << error_ << "\nexpected: " << (fragment); \
    } while (false)

// One event object as JSON text, with `data` and any extra members.
std::string event_body(json extra) {
    json e = {{"data", "x"}};
    for (auto& [k, v] : extra.items()) e[k] = v;
    return e.dump();
}

// --- accepted
// -------------------------------------------------------------------------------------

TEST(PublishRequest, SingleObjectWithEveryField) {
    auto batch =
        accepted(R"({"channel":"news","event":"update","data":"hello world","retry":5000})");
    EXPECT_FALSE(batch.is_array);
    ASSERT_EQ(batch.events.size(), 1u);
    const auto& e = batch.events[0];
    EXPECT_EQ(e.channels, strings({"news"}));
    EXPECT_EQ(e.type, "update");
    EXPECT_EQ(e.data, "hello world");
    ASSERT_TRUE(e.retry_ms.has_value());
    EXPECT_EQ(*e.retry_ms, 5000u);
}

TEST(PublishRequest, DefaultsWhenOnlyDataIsGiven) {
    auto batch = accepted(R"({"data":"x"})");
    ASSERT_EQ(batch.events.size(), 1u);
    EXPECT_FALSE(batch.is_array);
    EXPECT_EQ(batch.events[0].channels, strings({"default"}));
    EXPECT_EQ(batch.events[0].type, "");
    EXPECT_FALSE(batch.events[0].retry_ms.has_value());
}

TEST(PublishRequest, ChannelsArrayKeepsOrder) {
    auto batch = accepted(R"({"channels":["b","a","c/d"],"data":"x"})");
    ASSERT_EQ(batch.events.size(), 1u);
    EXPECT_EQ(batch.events[0].channels, strings({"b", "a", "c/d"}));
}

TEST(PublishRequest, DuplicateChannelNamesAreCollapsed) {
    auto batch = accepted(R"({"channels":["a","b","a","b","c"],"data":"x"})");
    ASSERT_EQ(batch.events.size(), 1u);
    EXPECT_EQ(batch.events[0].channels, strings({"a", "b", "c"}));
}

TEST(PublishRequest, ThirtyTwoChannelsAreAllowed) {
    json names = json::array();
    for (int i = 0; i < 32; ++i) names.push_back("c" + std::to_string(i));
    auto batch = accepted(event_body({{"channels", names}}));
    ASSERT_EQ(batch.events.size(), 1u);
    EXPECT_EQ(batch.events[0].channels.size(), 32u);
}

TEST(PublishRequest, ChannelNamesWithEveryAllowedCharacter) {
    auto name = "AZaz09_.:/@-"s;
    auto batch = accepted(event_body({{"channel", name}}));
    ASSERT_EQ(batch.events.size(), 1u);
    EXPECT_EQ(batch.events[0].channels, strings({name}));
    accepted(event_body({{"channel", std::string(128, 'c')}}));
}

TEST(PublishRequest, StringDataIsTakenVerbatim) {
    auto batch =
        accepted(R"({"data":"line1\nline2\r\n\"quoted\" \u00e9 \ud83d\ude00 \u0000 end"})");
    ASSERT_EQ(batch.events.size(), 1u);
    EXPECT_EQ(batch.events[0].data, "line1\nline2\r\n\"quoted\" \xC3\xA9 \xF0\x9F\x98\x80 \0 end"s);
    EXPECT_EQ(accepted(R"({"data":""})").events.at(0).data, "");
    EXPECT_EQ(accepted(R"({"data":"  spaced  "})").events.at(0).data, "  spaced  ");
}

TEST(PublishRequest, NonStringDataIsCompactJsonOnOneLine) {
    struct sample {
        const char* body;
        const char* data;
    };
    const sample samples[] = {
        {R"({"data": {"a" : 1}})", R"({"a":1})"},
        {R"({"data": [ 1, "two", null, false ]})", R"([1,"two",null,false])"},
        {R"({"data": 42})", "42"},
        {R"({"data": -7})", "-7"},
        {R"({"data": 3.5})", "3.5"},
        {R"({"data": true})", "true"},
        {R"({"data": false})", "false"},
        {R"({"data": null})", "null"},
        {R"({"data": {}})", "{}"},
        {R"({"data": []})", "[]"},
        {R"({"data": {"text": "multi\nline\r\nvalue"}})", R"({"text":"multi\nline\r\nvalue"})"},
    };
    for (const auto& s : samples) {
        auto batch = accepted(s.body);
        ASSERT_EQ(batch.events.size(), 1u) << s.body;
        EXPECT_EQ(batch.events[0].data, s.data) << s.body;
        EXPECT_EQ(batch.events[0].data.find_first_of("\r\n"), std::string::npos) << s.body;
    }
}

TEST(PublishRequest, NestedObjectDataRoundTrips) {
    json payload = {{"user", {{"id", 7}, {"name", "\xC3\xA9lise"}}},
                    {"tags", {"a", "b"}},
                    {"nested", {{"deep", {{"x", nullptr}}}}}};
    auto batch = accepted(json{{"data", payload}}.dump(4));  // pretty-printed request
    ASSERT_EQ(batch.events.size(), 1u);
    const auto& data = batch.events[0].data;
    EXPECT_EQ(data.find('\n'), std::string::npos);
    EXPECT_EQ(data.find(": "), std::string::npos) << "not compact: " << data;
    EXPECT_EQ(json::parse(data), payload);
}

TEST(PublishRequest, NonStringDataKeepsThePublishersOrderAndNumbers) {
    // Written back as it came (only the whitespace goes): members are not sorted, numbers are not
    // reformatted, and escapes in keys and strings stay escapes.
    EXPECT_EQ(accepted(R"({"data": {"b": 1, "a": [1.0, 1e5, -0.25E-3, 18446744073709551615]}})")
                  .events.at(0)
                  .data,
              R"({"b":1,"a":[1.0,1e5,-0.25E-3,18446744073709551615]})");
    EXPECT_EQ(accepted(R"({"data": {"k\"\n": ["\u0001\t/"]}})").events.at(0).data,
              R"({"k\"\n":["\u0001\t/"]})");
}

TEST(PublishRequest, AFieldGivenTwiceIsRefused) {
    EXPECT_REFUSED(R"({"data":"x","data":"y"})", "field \"data\" is given twice");
    EXPECT_REFUSED(R"({"channel":"a","data":"x","channel":"b"})",
                   "field \"channel\" is given twice");
}

TEST(PublishRequest, RetryBounds) {
    EXPECT_EQ(accepted(event_body({{"retry", 0}})).events.at(0).retry_ms, 0u);
    EXPECT_EQ(accepted(event_body({{"retry", 86'400'000}})).events.at(0).retry_ms, 86'400'000u);
}

TEST(PublishRequest, EventTypes) {
    EXPECT_EQ(accepted(event_body({{"event", "a"}})).events.at(0).type, "a");
    EXPECT_EQ(accepted(event_body({{"event", std::string(128, 't')}})).events.at(0).type,
              std::string(128, 't'));
    EXPECT_EQ(accepted(event_body({{"event", "Resync"}})).events.at(0).type, "Resync");
    EXPECT_EQ(accepted(event_body({{"event", "with space: and \xC3\xA9"}})).events.at(0).type,
              "with space: and \xC3\xA9");
}

TEST(PublishRequest, BatchKeepsOrder) {
    auto batch = accepted(
        R"([{"data":"1"},{"channel":"b","data":"2","event":"t"},{"channels":["c","d"],"data":"3"}])");
    EXPECT_TRUE(batch.is_array);
    ASSERT_EQ(batch.events.size(), 3u);
    EXPECT_EQ(batch.events[0].data, "1");
    EXPECT_EQ(batch.events[0].channels, strings({"default"}));
    EXPECT_EQ(batch.events[1].data, "2");
    EXPECT_EQ(batch.events[1].channels, strings({"b"}));
    EXPECT_EQ(batch.events[1].type, "t");
    EXPECT_EQ(batch.events[2].data, "3");
    EXPECT_EQ(batch.events[2].channels, strings({"c", "d"}));
}

TEST(PublishRequest, BatchOfOneIsStillAnArray) {
    auto batch = accepted(R"([{"data":"only"}])");
    EXPECT_TRUE(batch.is_array);
    ASSERT_EQ(batch.events.size(), 1u);
}

TEST(PublishRequest, BatchOfExactlyTheLimit) {
    json items = json::array();
    for (int i = 0; i < 1000; ++i) items.push_back({{"data", std::to_string(i)}});
    auto batch = accepted(items.dump());
    ASSERT_EQ(batch.events.size(), 1000u);
    EXPECT_EQ(batch.events[999].data, "999");
}

TEST(PublishRequest, WhitespaceAroundTheBodyIsFine) {
    EXPECT_EQ(accepted(" \n\t{\"data\":\"x\"}\r\n ").events.size(), 1u);
}

// --- refused
// --------------------------------------------------------------------------------------

TEST(PublishRequest, MalformedJson) {
    for (const char* body :
         {"", " ", "{", "}", "{\"data\":}", "{'data':'x'}", "{\"data\":\"x\"} x",
          "{\"data\":\"x\",}", "[{\"data\":\"x\"},]", "data=x", "{\"data\":\"x\"}{}"}) {
        EXPECT_REFUSED(body, "malformed JSON");
    }
}

TEST(PublishRequest, InvalidUtf8IsRefused) {
    EXPECT_REFUSED("{\"data\":\"\xFF\"}", "malformed JSON");
    EXPECT_REFUSED("{\"data\":\"\xC3\"}", "malformed JSON");          // truncated sequence
    EXPECT_REFUSED("{\"data\":\"\xC0\xAF\"}", "malformed JSON");      // overlong
    EXPECT_REFUSED("{\"data\":\"\xED\xA0\x80\"}", "malformed JSON");  // encoded surrogate
    EXPECT_REFUSED("{\"data\":\"\\ud800\"}", "malformed JSON");       // lone surrogate escape
    EXPECT_REFUSED("{\"da\xFFta\":\"x\"}", "malformed JSON");
    EXPECT_REFUSED("{\"channel\":\"\xE9\",\"data\":\"x\"}", "malformed JSON");  // Latin-1 é
}

TEST(PublishRequest, BodyMustBeAnObjectOrArray) {
    for (const char* body : {"42", "\"text\"", "null", "true", "3.5"}) {
        EXPECT_REFUSED(body, "must be a JSON object");
    }
}

TEST(PublishRequest, DataIsRequired) {
    EXPECT_REFUSED(R"({})", "\"data\" is required");
    EXPECT_REFUSED(R"({"channel":"a","event":"t"})", "\"data\" is required");
}

TEST(PublishRequest, ChannelMustBeAString) {
    EXPECT_REFUSED(R"({"channel":5,"data":"x"})", "\"channel\" must be a string");
    EXPECT_REFUSED(R"({"channel":null,"data":"x"})", "\"channel\" must be a string");
    EXPECT_REFUSED(R"({"channel":["a"],"data":"x"})", "\"channel\" must be a string");
}

TEST(PublishRequest, InvalidChannelNames) {
    EXPECT_REFUSED(event_body({{"channel", "a b"}}), "channel name may only contain");
    EXPECT_REFUSED(event_body({{"channel", "\xC3\xA9"}}), "channel name may only contain");
    EXPECT_REFUSED(event_body({{"channel", "a%20b"}}), "channel name may only contain");
    EXPECT_REFUSED(event_body({{"channel", "a\nb"}}), "channel name may only contain");
    EXPECT_REFUSED(event_body({{"channel", "a\0b"s}}), "channel name may only contain");
    EXPECT_REFUSED(event_body({{"channel", std::string(129, 'c')}}), "longer than 128");
    EXPECT_REFUSED(event_body({{"channel", ""}}), "channel name is empty");
    EXPECT_REFUSED(event_body({{"channels", {"ok", "not ok"}}}), "channel name may only contain");
    EXPECT_REFUSED(event_body({{"channels", {"ok", ""}}}), "channel name is empty");
}

TEST(PublishRequest, ChannelAndChannelsTogether) {
    EXPECT_REFUSED(R"({"channel":"a","channels":["b"],"data":"x"})", "not both");
    EXPECT_REFUSED(R"({"channel":"a","channels":["a"],"data":"x"})", "not both");
}

TEST(PublishRequest, ChannelsMustBeANonEmptyArrayOfStrings) {
    EXPECT_REFUSED(R"({"channels":[],"data":"x"})", "non-empty array");
    EXPECT_REFUSED(R"({"channels":"a","data":"x"})", "non-empty array");
    EXPECT_REFUSED(R"({"channels":{"a":1},"data":"x"})", "non-empty array");
    EXPECT_REFUSED(R"({"channels":null,"data":"x"})", "non-empty array");
    EXPECT_REFUSED(R"({"channels":["a",1],"data":"x"})", "array of strings");
    EXPECT_REFUSED(R"({"channels":[["a"]],"data":"x"})", "array of strings");
}

TEST(PublishRequest, AtMostThirtyTwoChannels) {
    json names = json::array();
    for (int i = 0; i < 33; ++i) names.push_back("c" + std::to_string(i));
    EXPECT_REFUSED(event_body({{"channels", names}}), "at most 32");
}

TEST(PublishRequest, InvalidEventTypes) {
    EXPECT_REFUSED(event_body({{"event", "a\rb"}}), "CR, LF or NUL");
    EXPECT_REFUSED(event_body({{"event", "a\nb"}}), "CR, LF or NUL");
    EXPECT_REFUSED(event_body({{"event", "a\0b"s}}), "CR, LF or NUL");
    EXPECT_REFUSED(event_body({{"event", "\n"}}), "CR, LF or NUL");
    EXPECT_REFUSED(event_body({{"event", ""}}), "event type is empty");
    EXPECT_REFUSED(event_body({{"event", std::string(129, 't')}}), "longer than 128");
    EXPECT_REFUSED(event_body({{"event", "resync"}}), "reserved");
}

TEST(PublishRequest, EventTypeMustBeAString) {
    EXPECT_REFUSED(event_body({{"event", 5}}), "\"event\" must be a string");
    EXPECT_REFUSED(event_body({{"event", nullptr}}), "\"event\" must be a string");
    EXPECT_REFUSED(event_body({{"event", {"x"}}}), "\"event\" must be a string");
    EXPECT_REFUSED(event_body({{"event", true}}), "\"event\" must be a string");
}

TEST(PublishRequest, InvalidRetry) {
    const std::string expected = "\"retry\" must be an integer from 0 to 86400000";
    EXPECT_REFUSED(R"({"data":"x","retry":-1})", expected);
    EXPECT_REFUSED(R"({"data":"x","retry":1.5})", expected);
    EXPECT_REFUSED(R"({"data":"x","retry":1000.0})", expected);
    EXPECT_REFUSED(R"({"data":"x","retry":"1000"})", expected);
    EXPECT_REFUSED(R"({"data":"x","retry":null})", expected);
    EXPECT_REFUSED(R"({"data":"x","retry":true})", expected);
    EXPECT_REFUSED(R"({"data":"x","retry":86400001})", expected);
    EXPECT_REFUSED(R"({"data":"x","retry":4294967296})", expected);  // would wrap to 0 in 32 bits
    EXPECT_REFUSED(R"({"data":"x","retry":18446744073709551615})", expected);
    EXPECT_REFUSED(R"({"data":"x","retry":1e30})", expected);
}

TEST(PublishRequest, UnknownFieldIsNamed) {
    EXPECT_REFUSED(R"({"data":"x","id":"1-1"})", "unknown field \"id\"");
    EXPECT_REFUSED(R"({"data":"x","Data":"y"})", "unknown field \"Data\"");
    EXPECT_REFUSED(R"({"data":"x","chanel":"a"})", "unknown field \"chanel\"");
}

TEST(PublishRequest, EmptyBatch) {
    EXPECT_REFUSED("[]", "batch is empty");
}

TEST(PublishRequest, BatchOverTheLimit) {
    json items = json::array();
    for (int i = 0; i < 1001; ++i) items.push_back({{"data", "x"}});
    EXPECT_REFUSED(items.dump(), "more than 1000");
}

TEST(PublishRequest, BadBatchElementIsNamedByIndex) {
    auto error = refused(R"([{"data":"0"},{"data":"1"},{"channel":"a"},{"data":"3"}])");
    EXPECT_EQ(error.rfind("event 2: ", 0), 0u) << error;
    EXPECT_NE(error.find("\"data\" is required"), std::string::npos) << error;

    EXPECT_REFUSED(R"([{"data":"0"},{"data":"1","retry":-5}])", "event 1: \"retry\"");
    EXPECT_REFUSED(R"([{"data":"0","event":"resync"}])", "event 0: ");
    EXPECT_REFUSED(R"([{"data":"0"},42])", "event 1: event must be a JSON object");
    EXPECT_REFUSED(R"([[{"data":"0"}]])", "event 0: event must be a JSON object");
    EXPECT_REFUSED(R"([{"data":"0"},{"data":"1","bogus":1}])", "event 1: unknown field \"bogus\"");
}

// A body of 200 KB (well under the largest --max-body, 64 MiB) whose data is 100000 nested
// arrays. Whether it is accepted or refused, parsing it must not crash the daemon. Run in a child
// process, because the failure is a stack overflow.
[[noreturn]] void parse_deeply_nested_data() {
    constexpr std::size_t depth = 100'000;
    auto body = "{\"data\":" + std::string(depth, '[') + std::string(depth, ']') + "}";
    auto result = parse_publish_request(body);
    std::exit(result.index() <= 1 ? 0 : 1);
}

TEST(PublishRequestDeathTest, DeeplyNestedDataDoesNotCrash) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(parse_deeply_nested_data(), ::testing::ExitedWithCode(0), "");
}

}  // namespace

TEST(PublishRequest, NestingIsLimitedTo64Levels) {
    auto nested = [](std::size_t depth) {
        return "{\"data\":" + std::string(depth - 1, '[') + std::string(depth - 1, ']') + "}";
    };
    EXPECT_TRUE(
        std::holds_alternative<ssecast::publish_batch>(ssecast::parse_publish_request(nested(64))));
    auto refused = ssecast::parse_publish_request(nested(65));
    ASSERT_TRUE(std::holds_alternative<ssecast::invalid_request>(refused));
    EXPECT_NE(std::get<ssecast::invalid_request>(refused).error.find("nested deeper than 64"),
              std::string::npos);
    // Brackets inside strings are text, not nesting.
    auto text = "{\"data\":\"" + std::string(1000, '[') + "\"}";
    EXPECT_TRUE(
        std::holds_alternative<ssecast::publish_batch>(ssecast::parse_publish_request(text)));
}
