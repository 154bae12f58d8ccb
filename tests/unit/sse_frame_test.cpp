#include "ssecast/sse/sse_frame.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "sse_parser.hpp"

namespace {

using namespace std::chrono_literals;
using namespace std::string_literals;
using ssecast::encode_event;
using ssecast::sse_event;

// What a browser sees after line splitting: every CRLF, CR and LF becomes one LF.
std::string normalize_breaks(std::string_view data) {
    std::string out;
    for (std::size_t i = 0; i < data.size(); ++i) {
        if (data[i] == '\r') {
            out.push_back('\n');
            if (i + 1 < data.size() && data[i + 1] == '\n') ++i;
        } else {
            out.push_back(data[i]);
        }
    }
    return out;
}

std::vector<sse_test::event> parse_all(std::string_view bytes) {
    sse_test::parser p;
    p.feed(bytes);
    return p.take_events();
}

std::vector<sse_test::event> parse_bytewise(std::string_view bytes) {
    sse_test::parser p;
    for (char c : bytes) p.feed(std::string_view(&c, 1));
    return p.take_events();
}

// Encodes, parses (whole and one byte at a time) and checks the one event that comes out.
void expect_round_trip(std::string_view data, std::string_view type = {}) {
    auto bytes = encode_event({"1700000000000-7", type, data, std::nullopt});
    for (const auto& events : {parse_all(bytes), parse_bytewise(bytes)}) {
        ASSERT_EQ(events.size(), 1u) << testing::PrintToString(bytes);
        EXPECT_EQ(events[0].data, normalize_breaks(data)) << testing::PrintToString(bytes);
        EXPECT_EQ(events[0].type, type.empty() ? "message" : std::string(type));
        EXPECT_EQ(events[0].last_event_id, "1700000000000-7");
    }
}

// --- exact bytes -------------------------------------------------------------------------------

TEST(SseFrameEncode, IdAndData) {
    EXPECT_EQ(encode_event({"5-1", "", "hello", std::nullopt}), "id: 5-1\ndata: hello\n\n");
}

TEST(SseFrameEncode, EventType) {
    EXPECT_EQ(encode_event({"5-2", "greeting", "hi", std::nullopt}),
              "id: 5-2\nevent: greeting\ndata: hi\n\n");
}

TEST(SseFrameEncode, Retry) {
    EXPECT_EQ(encode_event({"5-3", "", "x", 2500}), "id: 5-3\nretry: 2500\ndata: x\n\n");
    EXPECT_EQ(encode_event({"5-3", "", "x", 0}), "id: 5-3\nretry: 0\ndata: x\n\n");
}

TEST(SseFrameEncode, AllFields) {
    EXPECT_EQ(encode_event({"9-10", "update", "a\nb", 1000}),
              "id: 9-10\nevent: update\nretry: 1000\ndata: a\ndata: b\n\n");
}

TEST(SseFrameEncode, EmptyDataStillHasADataLine) {
    EXPECT_EQ(encode_event({"1-1", "", "", std::nullopt}), "id: 1-1\ndata: \n\n");
}

TEST(SseFrameEncode, EveryLineBreakKindStartsANewDataLine) {
    EXPECT_EQ(encode_event({"1-1", "", "a\nb\rc\r\nd", std::nullopt}),
              "id: 1-1\ndata: a\ndata: b\ndata: c\ndata: d\n\n");
    EXPECT_EQ(encode_event({"1-1", "", "a\r", std::nullopt}), "id: 1-1\ndata: a\ndata: \n\n");
    EXPECT_EQ(encode_event({"1-1", "", "\n\r", std::nullopt}),
              "id: 1-1\ndata: \ndata: \ndata: \n\n");
    EXPECT_EQ(encode_event({"1-1", "", "\r\n", std::nullopt}), "id: 1-1\ndata: \ndata: \n\n");
}

TEST(SseFrameEncode, NoBareCarriageReturnOrLineFeedInsideALine) {
    auto bytes = encode_event({"1-1", "t", "x\ry\r\n\r\nz\n\rw\r", 5});
    // Every line break in the output is LF, and every line is a known field.
    EXPECT_EQ(bytes.find('\r'), std::string::npos);
    std::size_t start = 0;
    while (start < bytes.size()) {
        auto end = bytes.find('\n', start);
        ASSERT_NE(end, std::string::npos);
        auto line = std::string_view(bytes).substr(start, end - start);
        if (!line.empty()) {
            EXPECT_TRUE(line.starts_with("id: ") || line.starts_with("event: ") ||
                        line.starts_with("retry: ") || line.starts_with("data: "))
                << line;
        }
        start = end + 1;
    }
    EXPECT_TRUE(bytes.ends_with("\n\n"));
}

TEST(SseFrameEncode, MakeEventFrameHoldsTheEncodedEvent) {
    sse_event ev{"3-4", "kind", "payload\nline2", 42};
    auto f = ssecast::make_event_frame(ev);
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(*f, encode_event(ev));
}

TEST(SseFrameEncode, RetryFrameBytes) {
    auto f = ssecast::make_retry_frame(3000ms);
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(*f, "retry: 3000\n\n");
}

// --- round trips through a WHATWG parser ------------------------------------------------------

TEST(SseFrameRoundTrip, SimpleText) {
    expect_round_trip("hello world");
}

TEST(SseFrameRoundTrip, LineFeeds) {
    expect_round_trip("one\ntwo\nthree");
}

TEST(SseFrameRoundTrip, CarriageReturns) {
    expect_round_trip("one\rtwo\rthree");
}

TEST(SseFrameRoundTrip, CrLf) {
    expect_round_trip("one\r\ntwo\r\nthree");
}

TEST(SseFrameRoundTrip, MixedLineBreaks) {
    expect_round_trip("a\nb\rc\r\nd\n\re\r\rf\n\ng");
    EXPECT_EQ(normalize_breaks("a\nb\rc\r\nd\n\re"), "a\nb\nc\nd\n\ne");
}

TEST(SseFrameRoundTrip, LeadingAndTrailingLineBreaks) {
    expect_round_trip("\nabc");
    expect_round_trip("abc\n");
    expect_round_trip("\r\nabc\r\n");
    expect_round_trip("\rabc\r");
    expect_round_trip("\n\nabc\n\n");
    expect_round_trip("\n");
    expect_round_trip("\r");
    expect_round_trip("\r\n");
    expect_round_trip("\n\n\n");
}

TEST(SseFrameRoundTrip, EmptyDataIsDispatchedAsEmptyString) {
    expect_round_trip("");
}

TEST(SseFrameRoundTrip, DataStartingWithSpaces) {
    expect_round_trip(" leading space");
    expect_round_trip("  two spaces");
    expect_round_trip(" ");
    expect_round_trip("a\n b\n  c");
    expect_round_trip("\t tab then space");
}

TEST(SseFrameRoundTrip, DataStartingWithColon) {
    expect_round_trip(":not a comment");
    expect_round_trip("x\n: also not a comment\n:");
    expect_round_trip("id: 99-99");
    expect_round_trip("data: nested\n\nevent: fake\n\nretry: 1");
}

TEST(SseFrameRoundTrip, Unicode) {
    expect_round_trip("h\xC3\xA9llo w\xC3\xB6rld");                            // é ö
    expect_round_trip("\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E");                 // 日本語
    expect_round_trip("\xF0\x9F\x98\x80 \xF0\x9F\x9A\x80\n\xF0\x9F\x8E\x89");  // emoji
    expect_round_trip("\xE2\x80\xA8 U+2028 and U+2029 \xE2\x80\xA9 are not line breaks");
    expect_round_trip("\xC2\x85 NEL is not a line break either");
}

TEST(SseFrameRoundTrip, EmbeddedNul) {
    expect_round_trip("a\0b"s);
    expect_round_trip("\0"s);
    expect_round_trip("\0\n\0\r\0"s);
}

TEST(SseFrameRoundTrip, LongData) {
    std::string one_line(1 << 20, 'x');
    expect_round_trip(one_line);

    std::string many_lines;
    for (int i = 0; i < 20000; ++i) {
        many_lines += "line " + std::to_string(i);
        many_lines += (i % 3 == 0) ? "\n" : (i % 3 == 1) ? "\r" : "\r\n";
    }
    auto bytes = encode_event({"1-1", "", many_lines, std::nullopt});
    auto events = parse_all(bytes);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].data, normalize_breaks(many_lines));
}

TEST(SseFrameRoundTrip, EventTypeIsDelivered) {
    expect_round_trip("payload", "update");
    expect_round_trip("payload", "resync");
    expect_round_trip("payload", "a.b:c/d@e-f_g");
    expect_round_trip("payload", "\xF0\x9F\x98\x80");
}

TEST(SseFrameRoundTrip, NoEventTypeMeansMessage) {
    auto events = parse_all(encode_event({"1-1", "", "x", std::nullopt}));
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].type, "message");
}

TEST(SseFrameRoundTrip, RetryFieldReachesTheParser) {
    sse_test::parser p;
    p.feed(encode_event({"1-1", "", "x", 1234}));
    EXPECT_EQ(p.retry(), 1234u);
    EXPECT_EQ(p.take_events().size(), 1u);
}

TEST(SseFrameRoundTrip, ConsecutiveFramesStaySeparate) {
    std::string stream;
    stream += encode_event({"1-1", "a", "first\r", std::nullopt});
    stream += *ssecast::heartbeat_frame();
    stream += encode_event({"1-2", "", "\nsecond", std::nullopt});
    stream += *ssecast::make_retry_frame(500ms);
    stream += encode_event({"1-3", "b", "", 7});
    for (const auto& events : {parse_all(stream), parse_bytewise(stream)}) {
        ASSERT_EQ(events.size(), 3u);
        EXPECT_EQ(events[0].type, "a");
        EXPECT_EQ(events[0].data, "first\n");
        EXPECT_EQ(events[0].last_event_id, "1-1");
        EXPECT_EQ(events[1].type, "message");
        EXPECT_EQ(events[1].data, "\nsecond");
        EXPECT_EQ(events[1].last_event_id, "1-2");
        EXPECT_EQ(events[2].type, "b");
        EXPECT_EQ(events[2].data, "");
        EXPECT_EQ(events[2].last_event_id, "1-3");
    }
    sse_test::parser p;
    p.feed(stream);
    EXPECT_EQ(p.retry(), 7u);
    EXPECT_EQ(p.last_event_id(), "1-3");
}

TEST(SseFrameHeartbeat, IsACommentThatDispatchesNothing) {
    const auto& beat = ssecast::heartbeat_frame();
    ASSERT_NE(beat, nullptr);
    ASSERT_FALSE(beat->empty());
    EXPECT_EQ(beat->front(), ':');
    EXPECT_TRUE(beat->ends_with("\n"));

    sse_test::parser p;
    p.feed(*beat);
    p.feed(*beat);
    EXPECT_TRUE(p.take_events().empty());
    EXPECT_EQ(p.comments().size(), 2u);
    EXPECT_EQ(p.last_event_id(), "");
    EXPECT_FALSE(p.retry().has_value());
}

TEST(SseFrameHeartbeat, DoesNotDisturbAnEventAroundIt) {
    sse_test::parser p;
    p.feed(encode_event({"1-1", "", "x", std::nullopt}));
    p.feed(*ssecast::heartbeat_frame());
    auto events = p.take_events();
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].data, "x");
    EXPECT_EQ(p.last_event_id(), "1-1");
}

TEST(SseFrameHeartbeat, IsSharedAndStable) {
    const auto& a = ssecast::heartbeat_frame();
    const auto& b = ssecast::heartbeat_frame();
    EXPECT_EQ(a.get(), b.get());
}

TEST(SseFrameRetry, SetsTheParsersReconnectionTime) {
    for (auto delay : {0ms, 1ms, 3000ms, 86'400'000ms}) {
        sse_test::parser p;
        p.feed(*ssecast::make_retry_frame(delay));
        ASSERT_TRUE(p.retry().has_value());
        EXPECT_EQ(*p.retry(), static_cast<std::uint64_t>(delay.count()));
        EXPECT_TRUE(p.take_events().empty());
        EXPECT_EQ(p.last_event_id(), "");
    }
}

// --- the test parser itself follows WHATWG ------------------------------------------------------

TEST(SseTestParser, IdContainingNulIsIgnored) {
    sse_test::parser p;
    p.feed("id: good\ndata: one\n\n");
    p.feed("id: ba\0d\ndata: two\n\n"s);
    auto events = p.take_events();
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].last_event_id, "good");
    EXPECT_EQ(events[1].last_event_id, "good");
    EXPECT_EQ(p.last_event_id(), "good");
}

TEST(SseTestParser, EmptyIdClearsAndIdPersists) {
    sse_test::parser p;
    p.feed("id: 1\ndata: a\n\ndata: b\n\nid\ndata: c\n\n");
    auto events = p.take_events();
    ASSERT_EQ(events.size(), 3u);
    EXPECT_EQ(events[0].last_event_id, "1");
    EXPECT_EQ(events[1].last_event_id, "1");
    EXPECT_EQ(events[2].last_event_id, "");
}

TEST(SseTestParser, AcceptsCrLfAndCrLfLineEndings) {
    sse_test::parser p;
    p.feed("data: lf1\ndata: lf2\n\n");
    p.feed("data: cr1\rdata: cr2\r\r");
    p.feed("data: crlf1\r\ndata: crlf2\r\n\r\n");
    p.feed("data: mix1\rdata: mix2\r\n\n");
    auto events = p.take_events();
    ASSERT_EQ(events.size(), 4u);
    EXPECT_EQ(events[0].data, "lf1\nlf2");
    EXPECT_EQ(events[1].data, "cr1\ncr2");
    EXPECT_EQ(events[2].data, "crlf1\ncrlf2");
    EXPECT_EQ(events[3].data, "mix1\nmix2");
}

TEST(SseTestParser, CrLfSplitAcrossChunksIsOneLineBreak) {
    sse_test::parser p;
    p.feed("data: x\r");
    p.feed("\ndata: y\r");
    p.feed("\n\r");
    p.feed("\n");
    auto events = p.take_events();
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].data, "x\ny");
}

TEST(SseTestParser, FieldRules) {
    sse_test::parser p;
    // One space stripped, not two; no space needed; unknown and mis-cased fields ignored; a line
    // with no colon is a field with an empty value.
    p.feed("data:  two\ndata:none\nDATA: upper\nfoo: bar\ndata\n\n");
    p.feed("event: e1\ndata: x\n\n");
    p.feed("retry: 12x\nretry: 250\nretry: -5\nretry: 1 \n");
    p.feed("event: e2\n\n");  // no data: nothing dispatched, type reset
    p.feed("data: y\n\n");
    p.feed("data: half");  // never terminated: never dispatched
    auto events = p.take_events();
    ASSERT_EQ(events.size(), 3u);
    EXPECT_EQ(events[0].data, " two\nnone\n");
    EXPECT_EQ(events[0].type, "message");
    EXPECT_EQ(events[1].type, "e1");
    EXPECT_EQ(events[2].type, "message");
    EXPECT_EQ(events[2].data, "y");
    EXPECT_EQ(p.retry(), 250u);
}

TEST(SseTestParser, LeadingBomIsDroppedOnce) {
    sse_test::parser p;
    p.feed("\xEF\xBB\xBF");
    p.feed(
        "data: a\n\n\xEF\xBB\xBF"
        "data: b\n\n");
    auto events = p.take_events();
    ASSERT_EQ(events.size(), 1u);  // the second BOM makes an unknown field name
    EXPECT_EQ(events[0].data, "a");
}

}  // namespace
