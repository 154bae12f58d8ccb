#include "ssecast/auth/jwt_verifier.hpp"

#include <jwt.h>
#include <openssl/err.h>

#include <algorithm>
#include <cstdint>
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>
#include <utility>

#include "ssecast/auth/base64url.hpp"

namespace ssecast {

namespace {

using json = nlohmann::json;
using std::chrono::system_clock;

auth_failure invalid(std::string message) {
    return {auth_failure_reason::invalid, std::move(message)};
}

// Text from the token, as shown in a message: printable ASCII only, and not too long.
std::string shown(std::string_view text) {
    constexpr std::size_t max_shown = 40;
    if (text.empty()) return "\"\"";
    std::string out;
    for (const char c : text.substr(0, max_shown)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
    if (text.size() > max_shown) out += "...";
    return out;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                              [&](char x, char y) { return lower(x) == lower(y); });
}

// libjwt's own value for the algorithm, found by its own name for it.
jwt_alg_t to_libjwt(jwt_algorithm algorithm) {
    return jwt_str_alg(std::string(to_string(algorithm)).c_str());
}

struct jwt_free_deleter {
    void operator()(jwt_t* jwt) const { jwt_free(jwt); }
};

// The range NumericDates are clamped to (see verified_jwt::expires).
constexpr double earliest_date = 0;
constexpr double latest_date = 7'258'118'400;  // 2200-01-01T00:00:00Z

system_clock::time_point numeric_date(const json& value) {
    // Fractions of a second are dropped: exp and nbf are compared with a leeway of seconds.
    const double seconds = std::clamp(value.get<double>(), earliest_date, latest_date);
    return system_clock::time_point(std::chrono::seconds(static_cast<std::int64_t>(seconds)));
}

std::string utc_text(system_clock::time_point time) {
    const std::time_t seconds = system_clock::to_time_t(time);
    std::tm parts{};
    gmtime_r(&seconds, &parts);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &parts);
    return text;
}

// The NumericDate claim `name`, nothing when absent, or why it is not a date.
std::variant<std::optional<system_clock::time_point>, auth_failure> date_claim(const json& claims,
                                                                               const char* name) {
    const auto claim = claims.find(name);
    if (claim == claims.end()) return std::nullopt;
    if (!claim->is_number()) {
        return invalid("claim " + std::string(name) + " is not a NumericDate (a number)");
    }
    return numeric_date(*claim);
}

std::optional<auth_failure> check_audience(const json& claims,
                                           const std::optional<std::string>& audience) {
    const auto aud = claims.find("aud");
    if (aud == claims.end()) {
        if (!audience) return std::nullopt;
        return invalid("token has no aud claim; audience \"" + *audience + "\" is required");
    }
    const bool strings_only =
        aud->is_string() ||
        (aud->is_array() &&
         std::all_of(aud->begin(), aud->end(), [](const json& v) { return v.is_string(); }));
    if (!strings_only) return invalid("claim aud is not a string or an array of strings");
    // RFC 7519 §4.1.3: a token meant for certain audiences is refused by anyone who cannot tell
    // whether it is one of them.
    if (!audience) return invalid("token has an aud claim but no audience is configured");
    const bool ours = aud->is_string()
                          ? aud->get_ref<const std::string&>() == *audience
                          : std::find(aud->begin(), aud->end(), json(*audience)) != aud->end();
    if (!ours) return invalid("token is not for audience \"" + *audience + "\"");
    return std::nullopt;
}

std::optional<auth_failure> check_issuer(const json& claims,
                                         const std::optional<std::string>& issuer) {
    const auto iss = claims.find("iss");
    if (iss != claims.end() && !iss->is_string()) return invalid("claim iss is not a string");
    if (!issuer) return std::nullopt;
    if (iss == claims.end()) {
        return invalid("token has no iss claim; issuer \"" + *issuer + "\" is required");
    }
    if (iss->get_ref<const std::string&>() != *issuer) {
        return invalid("token issuer is not \"" + *issuer + "\"");
    }
    return std::nullopt;
}

// The subject, which names the holder in logs: control characters could forge log lines.
std::variant<std::optional<std::string>, auth_failure> subject_claim(const json& claims) {
    const auto sub = claims.find("sub");
    if (sub == claims.end()) return std::nullopt;
    if (!sub->is_string()) return invalid("claim sub is not a string");
    const std::string& subject = sub->get_ref<const std::string&>();
    if (std::any_of(subject.begin(), subject.end(),
                    [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
        return invalid("claim sub contains a control character");
    }
    return subject;
}

std::variant<channel_patterns, auth_failure> pattern_list(const json& value,
                                                          const std::string& where) {
    if (!value.is_array())
        return invalid("claim " + where + " is not an array of channel patterns");
    std::vector<channel_pattern> patterns;
    for (std::size_t i = 0; i < value.size(); ++i) {
        const std::string item = "claim " + where + "[" + std::to_string(i) + "]";
        if (!value[i].is_string()) return invalid(item + " is not a string");
        auto parsed = channel_pattern::parse(value[i].get_ref<const std::string&>());
        if (auto* bad = std::get_if<invalid_pattern>(&parsed))
            return invalid(item + ": " + bad->message);
        patterns.push_back(std::get<channel_pattern>(std::move(parsed)));
    }
    return channel_patterns(std::move(patterns));
}

// The "ssecast" claim; unknown members are refused rather than ignored, so that a misspelt
// right fails loudly instead of silently granting less.
std::variant<access_rights, auth_failure> rights_claim(const json& claims) {
    access_rights rights;
    const auto claim = claims.find("ssecast");
    if (claim == claims.end()) return rights;
    if (!claim->is_object()) return invalid("claim ssecast is not an object");
    for (const auto& member : claim->items()) {
        channel_patterns* target = member.key() == "publish"     ? &rights.publish
                                   : member.key() == "subscribe" ? &rights.subscribe
                                                                 : nullptr;
        if (!target) {
            return invalid("claim ssecast has an unknown member " + shown(member.key()) +
                           " (expected publish, subscribe)");
        }
        auto patterns = pattern_list(member.value(), "ssecast." + member.key());
        if (auto* failure = std::get_if<auth_failure>(&patterns)) return std::move(*failure);
        *target = std::get<channel_patterns>(std::move(patterns));
    }
    return rights;
}

}  // namespace

jwt_verifier::jwt_verifier(jwt_keys keys, jwt_settings settings)
    : keys_(std::move(keys)), settings_(std::move(settings)) {}

std::variant<verified_jwt, auth_failure> jwt_verifier::verify(std::string_view token,
                                                              system_clock::time_point now) const {
    if (token.size() > max_jwt_size) {
        return invalid("token is longer than " + std::to_string(max_jwt_size) + " bytes");
    }
    const auto dots = static_cast<std::size_t>(std::count(token.begin(), token.end(), '.'));
    if (dots != 2) {
        return invalid("token has " + std::to_string(dots + 1) +
                       (dots == 0 ? " segment" : " segments") + ", a signed JWT has 3" +
                       (dots == 4 ? " (encrypted JWTs are not accepted)" : ""));
    }
    const std::size_t first = token.find('.');
    const std::size_t second = token.find('.', first + 1);
    const auto header = base64url_decode(token.substr(0, first));
    if (!header) return invalid("token header is not base64url");
    const auto payload = base64url_decode(token.substr(first + 1, second - first - 1));
    if (!payload) return invalid("token claims are not base64url");
    const std::string_view signature = token.substr(second + 1);
    if (!base64url_decode(signature)) return invalid("token signature is not base64url");

    auto algorithm = pinned_algorithm(*header);
    if (auto* failure = std::get_if<auth_failure>(&algorithm)) return std::move(*failure);
    // Parsed before the signature is checked only so that libjwt failing means a bad signature.
    const json claims = json::parse(*payload, nullptr, false);
    if (!claims.is_object()) return invalid("token claims are not a JSON object");
    if (signature.empty()) return invalid("token has no signature");
    if (auto failure = check_signature(token, std::get<jwt_algorithm>(algorithm))) return *failure;

    verified_jwt result;
    auto expires = date_claim(claims, "exp");
    if (auto* failure = std::get_if<auth_failure>(&expires)) return std::move(*failure);
    result.expires = std::get<0>(expires);
    if (result.expires && *result.expires <= now - settings_.leeway) {
        return auth_failure{auth_failure_reason::expired,
                            "token expired at " + utc_text(*result.expires)};
    }
    auto not_before = date_claim(claims, "nbf");
    if (auto* failure = std::get_if<auth_failure>(&not_before)) return std::move(*failure);
    if (const auto start = std::get<0>(not_before); start && *start > now + settings_.leeway) {
        return invalid("token is not valid before " + utc_text(*start));
    }
    if (auto failure = check_audience(claims, settings_.audience)) return *failure;
    if (auto failure = check_issuer(claims, settings_.issuer)) return *failure;
    auto subject = subject_claim(claims);
    if (auto* failure = std::get_if<auth_failure>(&subject)) return std::move(*failure);
    result.subject = std::get<0>(std::move(subject));
    auto rights = rights_claim(claims);
    if (auto* failure = std::get_if<auth_failure>(&rights)) return std::move(*failure);
    result.rights = std::get<access_rights>(std::move(rights));
    return result;
}

std::variant<jwt_algorithm, auth_failure> jwt_verifier::pinned_algorithm(
    std::string_view header_text) const {
    const json header = json::parse(header_text, nullptr, false);
    if (!header.is_object()) return invalid("token header is not a JSON object");
    const auto alg = header.find("alg");
    if (alg == header.end()) return invalid("token header has no alg");
    if (!alg->is_string()) return invalid("token header alg is not a string");
    const std::string& name = alg->get_ref<const std::string&>();
    const auto algorithm = parse_jwt_algorithm(name);
    if (!algorithm || !keys_.allows(*algorithm)) return invalid(refusal(name));
    if (const auto typ = header.find("typ"); typ != header.end()) {
        if (!typ->is_string() || !equals_ignoring_case(typ->get_ref<const std::string&>(), "JWT")) {
            return invalid("token header typ is not \"JWT\"");
        }
    }
    if (header.contains("crit")) {
        return invalid("token header crit is not accepted: no JWT extension is understood");
    }
    return *algorithm;
}

std::string jwt_verifier::refusal(std::string_view algorithm_name) const {
    if (equals_ignoring_case(algorithm_name, "none")) return "algorithm none is not accepted";
    std::string message = "algorithm " + shown(algorithm_name) + " is not accepted: ";
    if (keys_.empty()) return message + "no JWT key is configured";
    std::string allowed;
    for (const jwt_algorithm algorithm : all_jwt_algorithms) {
        if (!keys_.allows(algorithm)) continue;
        if (!allowed.empty()) allowed += ", ";
        allowed += to_string(algorithm);
    }
    message += "only " + allowed + " with the configured " +
               (keys_.secret && keys_.public_key ? "secret and public key"
                : keys_.secret                   ? "secret"
                                                 : "public key");
    // The one refusal an operator may not expect: the secret is too short for this HS*.
    if (const auto algorithm = parse_jwt_algorithm(algorithm_name);
        algorithm && uses_secret(*algorithm) && keys_.secret) {
        message += " (" + std::string(algorithm_name) + " needs a secret of at least " +
                   std::to_string(min_jwt_secret_size(*algorithm)) + " bytes)";
    }
    return message;
}

std::optional<auth_failure> jwt_verifier::check_signature(std::string_view token,
                                                          jwt_algorithm algorithm) const {
    // pinned_algorithm() let only algorithms through whose key is configured.
    const std::string_view key =
        uses_secret(algorithm) ? keys_.secret->bytes() : keys_.public_key->pem();
    const std::string terminated(token);  // libjwt wants a C string
    jwt_t* decoded = nullptr;
    const int error =
        jwt_decode(&decoded, terminated.c_str(), reinterpret_cast<const unsigned char*>(key.data()),
                   static_cast<int>(key.size()));
    const std::unique_ptr<jwt_t, jwt_free_deleter> owned(decoded);
    // libjwt leaves OpenSSL's reasons for a failed verification in this thread's error queue.
    ERR_clear_error();
    // libjwt reads "alg" again itself, case-insensitively: it must have verified with the
    // algorithm pinned here, not another one.
    if (error != 0 || !owned || jwt_get_alg(owned.get()) != to_libjwt(algorithm)) {
        return invalid("token signature is invalid");
    }
    return std::nullopt;
}

}  // namespace ssecast
