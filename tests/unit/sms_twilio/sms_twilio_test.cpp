// Courier-style tables for the sms_twilio plugin: a delivery in -> the exact HTTP request out; a
// provider answer in -> the outcome out; a signed status callback in -> the status update out.
// The plugin is the real shared object, loaded with dlopen; the host is a fake that records what
// the plugin asks for and completes transfers with canned results.
#include <dlfcn.h>

#include <array>
#include <catch2/catch.hpp>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "homeroom_plugin.h"

namespace {

constexpr const char* kSid = "AC0123456789abcdef0123456789abcdef";
constexpr const char* kToken = "s3cr3t-t0ken";
// base64("AC0123456789abcdef0123456789abcdef:s3cr3t-t0ken"), computed outside the plugin.
constexpr const char* kBasic =
    "Basic QUMwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjpzM2NyM3QtdDBrZW4=";
constexpr const char* kHookUrl = "https://hr.example.org/hooks/sms/status";

struct RecordedRequest {
  std::string method;
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  uint32_t timeout_ms = 0;
  std::vector<std::string> secrets;
  hr_transfer_done_fn done = nullptr;
  void* user = nullptr;
};

struct RecordedOutcome {
  uint64_t token;
  int kind;
  std::string provider_id;
  std::string reason;
  int64_t retry_after_ms;
};

struct RecordedStatus {
  std::string provider_id;
  int status;
  std::string reason;
};

struct RecordedInbound {
  std::string channel, provider_id, from, to, body;
  int is_mime;
  int64_t received_at_ms;
};

// The fake host: records everything the plugin asks of it.
struct FakeHost {
  std::vector<std::string> logs;
  std::vector<RecordedRequest> requests;
  std::vector<RecordedOutcome> outcomes;
  std::vector<RecordedStatus> statuses;
  std::vector<RecordedInbound> inbound;
  hr_host_api api{};

  FakeHost() {
    api.size = sizeof(hr_host_api);
    api.abi_version = HOMEROOM_PLUGIN_ABI_VERSION;
    api.host = this;
    api.host_log = [](void* h, int32_t, const char* m) { self(h).logs.emplace_back(m); };
    api.host_delivery_done = [](void* h, uint64_t token, const hr_outcome* o) {
      self(h).outcomes.push_back({token, o->kind, o->provider_id ? o->provider_id : "",
                                  o->reason ? o->reason : "", o->retry_after_ms});
    };
    api.host_http_request = [](void* h, const hr_http_request* r, hr_transfer_done_fn done,
                               void* user) {
      RecordedRequest rec;
      rec.method = r->method;
      rec.url = r->url;
      for (size_t i = 0; i < r->header_count; ++i)
        rec.headers.emplace_back(r->headers[i].name, r->headers[i].value);
      rec.body.assign(r->body, r->body_len);
      rec.timeout_ms = r->timeout_ms;
      for (size_t i = 0; i < r->secret_count; ++i) rec.secrets.emplace_back(r->secrets[i]);
      rec.done = done;
      rec.user = user;
      self(h).requests.push_back(std::move(rec));
    };
    api.host_smtp_send = nullptr;
    api.host_now_ms = [](void*) -> int64_t { return 1'800'000'000'000; };
    api.host_status_update = [](void* h, const hr_status_update* u) {
      self(h).statuses.push_back({u->provider_id, u->status, u->reason ? u->reason : ""});
    };
    api.host_inbound = [](void* h, const hr_inbound_message* m) {
      self(h).inbound.push_back({m->channel, m->provider_id, m->from, m->to,
                                 std::string(m->body, m->body_len), m->is_mime, m->received_at_ms});
    };
  }
  static FakeHost& self(void* h) { return *static_cast<FakeHost*>(h); }
};

const hr_plugin* load_plugin() {
  static const hr_plugin* plugin = [] {
    const std::string path = std::string(HOMEROOM_PLUGIN_DIR) + "/sms_twilio.so";
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) FAIL("dlopen " << path << ": " << dlerror());
    auto entry = reinterpret_cast<hr_plugin_entry_fn>(dlsym(handle, HOMEROOM_PLUGIN_ENTRY_SYMBOL));
    REQUIRE(entry != nullptr);
    return entry(1, 1);
  }();
  REQUIRE(plugin != nullptr);
  return plugin;
}

using Settings = std::vector<std::pair<std::string, std::string>>;

Settings default_settings() {
  return {{"account_sid", kSid}, {"auth_token", kToken}, {"from", "+15557654321"}};
}

// on_create's result: the instance, or the error text.
struct Created {
  void* instance = nullptr;
  std::string error;
};

Created create(FakeHost& host, const Settings& settings) {
  std::vector<hr_kv> kvs;
  for (const auto& [k, v] : settings) kvs.push_back({k.c_str(), v.c_str()});
  hr_plugin_config config{sizeof(hr_plugin_config), "sms", kvs.data(), kvs.size()};
  Created out;
  std::array<char, 512> err{};
  if (load_plugin()->on_create(&host.api, &config, &out.instance, err.data(), err.size()) != 0) {
    out.error = err.data();
    out.instance = nullptr;
  }
  return out;
}

// An instance destroyed at scope end.
struct Instance {
  FakeHost host;
  void* instance = nullptr;
  explicit Instance(const Settings& settings = default_settings()) {
    auto c = create(host, settings);
    REQUIRE(c.error.empty());
    instance = c.instance;
  }
  ~Instance() { load_plugin()->on_destroy(instance); }
  Instance(const Instance&) = delete;
  Instance& operator=(const Instance&) = delete;

  void send(uint64_t token, const std::string& to, const std::string& text,
            const std::string& callback = kHookUrl) {
    hr_delivery d{};
    d.size = sizeof(hr_delivery);
    d.delivery_id = "d-1";
    d.channel = "sms";
    d.to = to.c_str();
    d.subject = "";
    d.body = text.c_str();
    d.content = text.c_str();
    d.content_len = text.size();
    d.language = "es";
    d.category = "note";
    d.attempt = 1;
    d.status_callback_url = callback.c_str();
    d.return_path = "";
    load_plugin()->on_send(instance, token, &d);
  }

  // Completes the last recorded transfer with a canned HTTP answer.
  void complete(int status, const std::string& body, int64_t retry_after_ms = 0,
                int transport_error = 0, const std::string& error_text = "") {
    REQUIRE(!host.requests.empty());
    const RecordedRequest& r = host.requests.back();
    const hr_header headers[] = {{"Content-Type", "application/json"}};
    hr_transfer_result result{};
    result.size = sizeof(hr_transfer_result);
    result.transport_error = transport_error;
    result.error_text = error_text.c_str();
    result.status = status;
    result.headers = headers;
    result.header_count = 1;
    result.body = body.c_str();
    result.body_len = body.size();
    result.retry_after_ms = retry_after_ms;
    r.done(r.user, &result);
  }

  struct Answer {
    int status;
    std::string body;
  };
  Answer webhook(const std::string& path, const std::string& url, const std::string& body,
                 const std::optional<std::string>& signature, const std::string& method = "POST") {
    std::vector<hr_header> headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
    if (signature) headers.push_back({"x-twilio-signature", signature->c_str()});
    hr_webhook_request req{};
    req.size = sizeof(hr_webhook_request);
    req.method = method.c_str();
    req.path = path.c_str();
    req.public_url = url.c_str();
    req.query = "";
    req.headers = headers.data();
    req.header_count = headers.size();
    req.body = body.c_str();
    req.body_len = body.size();
    hr_webhook_response resp{};
    resp.size = sizeof(hr_webhook_response);
    load_plugin()->on_webhook(instance, &req, &resp);
    return {resp.status, std::string(resp.body ? resp.body : "", resp.body_len)};
  }
};

std::string header(const RecordedRequest& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "<absent>";
}

// The signature the real npm `twilio` package computes (tests/peers/twilio_sign.js).
std::string twilio_npm_signature(const std::string& token, const std::string& url,
                                 const std::string& params_json) {
  auto quote = [](const std::string& s) {
    std::string out = "'";
    for (char c : s) {
      if (c == '\'') {
        out += "'\\''";
      } else {
        out += c;
      }
    }
    return out + "'";
  };
  const std::string cmd = "node " +
                          quote(std::string(HOMEROOM_SOURCE_DIR) + "/tests/peers/twilio_sign.js") +
                          " " + quote(token) + " " + quote(url) + " " + quote(params_json);
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(cmd.c_str(), "r"), pclose);
  REQUIRE(pipe != nullptr);
  std::string out;
  std::array<char, 256> buf{};
  while (size_t n = fread(buf.data(), 1, buf.size(), pipe.get())) out.append(buf.data(), n);
  REQUIRE(out.size() == 28);  // base64 of a 20-byte SHA-1 MAC
  return out;
}

// A JSON string literal for `s` (the table's bodies are UTF-8 with a few control characters).
std::string json_quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace

TEST_CASE("sms_twilio: descriptor") {
  const hr_plugin* p = load_plugin();
  CHECK(std::string(p->name) == "sms_twilio");
  CHECK(std::string(p->channels) == "sms");
  CHECK(p->on_webhook != nullptr);
}

TEST_CASE("sms_twilio: settings are validated, errors name the key") {
  struct Row {
    Settings settings;
    std::string error_contains;
  };
  const std::vector<Row> rows = {
      {{{"auth_token", kToken}, {"from", "+15557654321"}}, "account_sid"},
      {{{"account_sid", kSid}, {"from", "+15557654321"}}, "auth_token"},
      {{{"account_sid", kSid}, {"auth_token", kToken}}, "messaging_service_sid"},
      {{{"account_sid", kSid}, {"auth_token", kToken}, {"from", "5557654321"}}, "'from'"},
      {{{"account_sid", kSid}, {"auth_token", kToken}, {"from", "+15557654321"}, {"apikey", "x"}},
       "unknown setting 'apikey'"},
      {{{"account_sid", kSid},
        {"auth_token", kToken},
        {"from", "+15557654321"},
        {"base", "ftp://x"}},
       "'base'"},
      {{{"account_sid", kSid},
        {"auth_token", kToken},
        {"from", "+15557654321"},
        {"timeout_ms", "5s"}},
       "'timeout_ms'"},
      {{{"account_sid", "AC/../x"}, {"auth_token", kToken}, {"from", "+15557654321"}},
       "account_sid"},
  };
  for (const Row& row : rows) {
    FakeHost host;
    const Created c = create(host, row.settings);
    INFO(row.error_contains);
    CHECK(c.instance == nullptr);
    CHECK_THAT(c.error, Catch::Contains(row.error_contains));
    CHECK_THAT(c.error, !Catch::Contains(kToken));
  }
}

TEST_CASE("sms_twilio: a delivery becomes the exact Messages API request") {
  Instance sms(Settings{{"account_sid", kSid},
                        {"auth_token", kToken},
                        {"from", "+15557654321"},
                        {"base", "http://127.0.0.1:9999/"},
                        {"timeout_ms", "2500"}});
  sms.send(7, "+15551234567", "Hola José & 50%=¿sí? a+b 😀");
  REQUIRE(sms.host.requests.size() == 1);
  CHECK(sms.host.outcomes.empty());  // asynchronous: nothing reported before the answer
  const RecordedRequest& r = sms.host.requests[0];
  CHECK(r.method == "POST");
  CHECK(r.url ==
        std::string("http://127.0.0.1:9999/2010-04-01/Accounts/") + kSid + "/Messages.json");
  CHECK(header(r, "Authorization") == kBasic);
  CHECK(header(r, "Content-Type") == "application/x-www-form-urlencoded");
  CHECK(r.body ==
        "To=%2B15551234567&From=%2B15557654321"
        "&Body=Hola+Jos%C3%A9+%26+50%25%3D%C2%BFs%C3%AD%3F+a%2Bb+%F0%9F%98%80"
        "&StatusCallback=https%3A%2F%2Fhr.example.org%2Fhooks%2Fsms%2Fstatus");
  CHECK(r.timeout_ms == 2500);
  CHECK(std::find(r.secrets.begin(), r.secrets.end(), kToken) != r.secrets.end());
  sms.complete(201, R"({"sid":"SM1","status":"queued"})");
  REQUIRE(sms.host.outcomes.size() == 1);
  CHECK(sms.host.outcomes[0].token == 7);
}

TEST_CASE("sms_twilio: messaging service and no status callback") {
  Instance sms(Settings{{"account_sid", kSid},
                        {"auth_token", kToken},
                        {"messaging_service_sid", "MG0123456789abcdef0123456789abcdef"}});
  sms.send(1, "+447700900123", "Hi", "");
  REQUIRE(sms.host.requests.size() == 1);
  const RecordedRequest& r = sms.host.requests[0];
  CHECK(r.url ==
        std::string("https://api.twilio.com/2010-04-01/Accounts/") + kSid + "/Messages.json");
  CHECK(r.body ==
        "To=%2B447700900123&MessagingServiceSid=MG0123456789abcdef0123456789abcdef&Body=Hi");
  CHECK(r.timeout_ms == 0);
  sms.complete(500, "oops");
}

TEST_CASE("sms_twilio: provider answers map to outcomes") {
  struct Row {
    const char* name;
    int status;
    std::string body;
    int64_t retry_after_ms;
    int transport_error;
    int kind;
    std::string provider_id;
    std::string reason;
    int64_t want_retry_after_ms;
  };
  const std::vector<Row> rows = {
      {"201 with sid", 201, R"({"sid":"SMabc","status":"queued","to":"+15551234567"})", 0, 0,
       HR_OUTCOME_ACCEPTED, "SMabc", "", 0},
      {"200 with sid", 200, R"({"sid":"SMdef","status":"accepted"})", 0, 0, HR_OUTCOME_ACCEPTED,
       "SMdef", "", 0},
      {"201 without sid", 201, R"({"status":"queued"})", 0, 0, HR_OUTCOME_PERMANENT, "",
       "HTTP 201 without a message sid", 0},
      {"the top-level sid, not a nested one", 201,
       R"({"subresource_uris":{"media":"/m","sid":"MEnested"},"price":null,"sid":"SMtop","num_segments":"1","error_code":null})",
       0, 0, HR_OUTCOME_ACCEPTED, "SMtop", "", 0},
      {"only a nested sid", 201, R"({"subresource_uris":{"sid":"MEnested"},"tags":["sid"]})", 0, 0,
       HR_OUTCOME_PERMANENT, "", "HTTP 201 without a message sid", 0},
      {"a sid that is not a string", 201, R"({"sid":42})", 0, 0, HR_OUTCOME_PERMANENT, "",
       "HTTP 201 without a message sid", 0},
      {"truncated JSON before the sid", 201, R"({"status":"queued","sid":)", 0, 0,
       HR_OUTCOME_PERMANENT, "", "HTTP 201 without a message sid", 0},
      // Reading stops at the sid: Twilio took the message, and its sid matches the callbacks.
      {"truncated JSON after the sid", 201, R"({"sid":"SMabc","status":)", 0, 0,
       HR_OUTCOME_ACCEPTED, "SMabc", "", 0},
      {"21610 unsubscribed", 400,
       R"({"code":21610,"message":"Attempt to send to unsubscribed recipient","more_info":"https://www.twilio.com/docs/errors/21610","status":400})",
       0, 0, HR_OUTCOME_CONTACT_STOPPED, "", "21610: Attempt to send to unsubscribed recipient", 0},
      {"429 with Retry-After", 429,
       R"({"code":20429,"message":"Too Many Requests","more_info":"x","status":429})", 3000, 0,
       HR_OUTCOME_THROTTLED, "", "20429: Too Many Requests", 3000},
      {"429 without body", 429, "", 0, 0, HR_OUTCOME_THROTTLED, "", "HTTP 429", 0},
      {"code 20429 on another status", 400, R"({"code":20429,"message":"Too Many Requests"})", 1000,
       0, HR_OUTCOME_THROTTLED, "", "20429: Too Many Requests", 1000},
      {"500", 500, R"({"code":20500,"message":"Internal Server Error","status":500})", 0, 0,
       HR_OUTCOME_RETRYABLE, "", "20500: Internal Server Error", 0},
      {"503 html", 503, "<html>down</html>", 2000, 0, HR_OUTCOME_RETRYABLE, "", "HTTP 503", 2000},
      {"transport error", 0, "", 0, 7, HR_OUTCOME_RETRYABLE, "",
       "transport: connect: Connection refused", 0},
      {"21211 invalid To", 400,
       R"({"code":21211,"message":"The 'To' number +1555 is not a valid phone number.","more_info":"https://www.twilio.com/docs/errors/21211","status":400})",
       0, 0, HR_OUTCOME_PERMANENT, "", "21211: The 'To' number +1555 is not a valid phone number.",
       0},
      {"401 bad credentials", 401,
       R"({"code":20003,"message":"Authenticate","more_info":"https://www.twilio.com/docs/errors/20003","status":401})",
       0, 0, HR_OUTCOME_PERMANENT, "", "20003: Authenticate", 0},
      {"404 not json", 404, "Not Found", 0, 0, HR_OUTCOME_PERMANENT, "", "HTTP 404", 0},
  };
  for (const Row& row : rows) {
    INFO(row.name);
    Instance sms;
    sms.send(42, "+15551234567", "Hello");
    sms.complete(row.status, row.body, row.retry_after_ms, row.transport_error,
                 row.transport_error ? "connect: Connection refused" : "");
    REQUIRE(sms.host.outcomes.size() == 1);
    const RecordedOutcome& o = sms.host.outcomes[0];
    CHECK(o.token == 42);
    CHECK(o.kind == row.kind);
    CHECK(o.provider_id == row.provider_id);
    CHECK(o.reason == row.reason);
    CHECK(o.retry_after_ms == row.want_retry_after_ms);
  }
}

TEST_CASE("sms_twilio: the auth token never reaches the log") {
  Instance sms;
  sms.send(1, "+15551234567", "Hello");
  sms.complete(401, R"({"code":20003,"message":"Authenticate"})");
  sms.send(2, "+15551234567", "Hello");
  sms.complete(0, "", 0, 28, "timeout");
  sms.webhook("status", kHookUrl, "MessageSid=SM1&MessageStatus=sent", std::string("bad"));
  sms.webhook("status", kHookUrl, "MessageSid=SM1&MessageStatus=sent", std::nullopt);
  CHECK_FALSE(sms.host.logs.empty());  // the log was exercised, so the check below means something
  const std::string basic_credential = std::string(kBasic).substr(6);
  for (const std::string& line : sms.host.logs) {
    INFO(line);
    CHECK_THAT(line, !Catch::Contains(kToken));
    CHECK_THAT(line, !Catch::Contains(basic_credential));
  }
}

TEST_CASE("sms_twilio: status callbacks signed by the npm twilio package are accepted") {
  struct Row {
    const char* message_status;
    const char* error_code;  // "" for none
    int want_status;         // 0: nothing reported
    std::string want_reason;
  };
  const std::vector<Row> rows = {
      {"sent", "", HR_STATUS_SENT, "sent"},
      {"delivered", "", HR_STATUS_DELIVERED, "delivered"},
      {"undelivered", "30003", HR_STATUS_UNDELIVERED, "undelivered 30003"},
      {"failed", "30008", HR_STATUS_UNDELIVERED, "failed 30008"},
      {"undelivered", "21610", HR_STATUS_CONTACT_STOPPED, "undelivered 21610"},
      {"failed", "21610", HR_STATUS_CONTACT_STOPPED, "failed 21610"},
      {"queued", "", 0, ""},
      {"accepted", "", 0, ""},
      {"sending", "", 0, ""},
  };
  for (const Row& row : rows) {
    INFO(row.message_status << " " << row.error_code);
    Instance sms;
    std::string json = std::string(R"({"AccountSid":")") + kSid +
                       R"(","MessageSid":"SM9f0e","SmsSid":"SM9f0e","MessageStatus":")" +
                       row.message_status +
                       R"(","To":"+15551234567","From":"+15557654321","ApiVersion":"2010-04-01")";
    std::string body = std::string("AccountSid=") + kSid +
                       "&MessageSid=SM9f0e&SmsSid=SM9f0e&MessageStatus=" + row.message_status +
                       "&To=%2B15551234567&From=%2B15557654321&ApiVersion=2010-04-01";
    if (*row.error_code != '\0') {
      json += std::string(R"(,"ErrorCode":")") + row.error_code + "\"";
      body += std::string("&ErrorCode=") + row.error_code;
    }
    json += "}";
    const std::string signature = twilio_npm_signature(kToken, kHookUrl, json);
    const auto answer = sms.webhook("status", kHookUrl, body, signature);
    CHECK((answer.status == 204 || answer.status == 200));
    if (row.want_status == 0) {
      CHECK(sms.host.statuses.empty());
    } else {
      REQUIRE(sms.host.statuses.size() == 1);
      CHECK(sms.host.statuses[0].provider_id == "SM9f0e");
      CHECK(sms.host.statuses[0].status == row.want_status);
      CHECK(sms.host.statuses[0].reason == row.want_reason);
    }
  }
}

TEST_CASE("sms_twilio: repeated keys and encoded values are signed as twilio does") {
  Instance sms;
  const std::string url = std::string(kHookUrl) + "?instance=a%20b&x=1";
  const std::string json =
      R"({"MessageSid":"SM1","MessageStatus":"delivered","Tag":["zeta","alpha","zeta"],"Note":"a b+c&d=é"})";
  const std::string body =
      "Tag=zeta&MessageSid=SM1&Tag=alpha&MessageStatus=delivered&Note=a+b%2Bc%26d%3D%C3%A9&Tag="
      "zeta";
  const auto answer = sms.webhook("status", url, body, twilio_npm_signature(kToken, url, json));
  CHECK(answer.status == 204);
  REQUIRE(sms.host.statuses.size() == 1);
  CHECK(sms.host.statuses[0].status == HR_STATUS_DELIVERED);
}

TEST_CASE("sms_twilio: a tampered or unsigned callback gets 403 and reports nothing") {
  const std::string json =
      R"({"MessageSid":"SM1","MessageStatus":"delivered","To":"+15551234567"})";
  const std::string body = "MessageSid=SM1&MessageStatus=delivered&To=%2B15551234567";
  const std::string good = twilio_npm_signature(kToken, kHookUrl, json);
  struct Row {
    const char* name;
    std::string url;
    std::string body;
    std::optional<std::string> signature;
  };
  const std::vector<Row> rows = {
      {"tampered value", kHookUrl, "MessageSid=SM1&MessageStatus=failed&To=%2B15551234567", good},
      {"added param", kHookUrl, body + "&ErrorCode=21610", good},
      {"removed param", kHookUrl, "MessageSid=SM1&MessageStatus=delivered", good},
      {"other sid", kHookUrl, "MessageSid=SM2&MessageStatus=delivered&To=%2B15551234567", good},
      {"other url", "https://hr.example.org/hooks/sms2/status", body, good},
      {"http instead of https", "http://hr.example.org/hooks/sms/status", body, good},
      {"missing header", kHookUrl, body, std::nullopt},
      {"empty header", kHookUrl, body, std::string()},
      {"truncated signature", kHookUrl, body, good.substr(0, 27)},
      {"signed with another token", kHookUrl, body,
       twilio_npm_signature("other-token", kHookUrl, json)},
  };
  {
    Instance sms;  // the untampered request passes, so the rows below fail for their own reason
    CHECK(sms.webhook("status", kHookUrl, body, good).status == 204);
    CHECK(sms.host.statuses.size() == 1);
  }
  for (const Row& row : rows) {
    INFO(row.name);
    Instance sms;
    CHECK(sms.webhook("status", row.url, row.body, row.signature).status == 403);
    CHECK(sms.host.statuses.empty());
  }
}

TEST_CASE("sms_twilio: unknown webhook paths are 404") {
  Instance sms;
  CHECK(sms.webhook("inbound/x", kHookUrl, "", std::nullopt).status == 404);
  CHECK(sms.webhook("", kHookUrl, "", std::nullopt).status == 404);
  CHECK(sms.host.statuses.empty());
}

TEST_CASE("sms_twilio: inbound messages signed by the npm twilio package are reported") {
  constexpr const char* kInboundUrl = "https://hr.example.org/hooks/sms/inbound";
  struct Row {
    const char* name;
    std::string body_value;  // Body as the family typed it
    std::string body_form;   // ... form-encoded
    std::string extra_json;  // more fields, as JSON members with a leading comma
    std::string extra_form;  // ... form-encoded with a leading '&'
  };
  const std::vector<Row> rows = {
      {"plain text", "Thanks, see you Tuesday!", "Thanks%2C+see+you+Tuesday%21", "", ""},
      {"a keyword", "STOP", "STOP", "", ""},
      {"unicode and symbols", "Gracias 😀 a+b&c=d", "Gracias+%F0%9F%98%80+a%2Bb%26c%3Dd", "", ""},
      {"multi-line", "line one\nline two", "line+one%0Aline+two", "", ""},
      {"a picture with no text", "", "", R"(,"NumMedia":"1","MediaUrl0":"https://x.example/m")",
       "&NumMedia=1&MediaUrl0=https%3A%2F%2Fx.example%2Fm"},
  };
  for (const Row& row : rows) {
    INFO(row.name);
    Instance sms;
    const std::string json = std::string(R"({"AccountSid":")") + kSid +
                             R"(","MessageSid":"SMin42","SmsSid":"SMin42","From":"+15551234567",)" +
                             R"("To":"+15557654321","Body":)" + json_quote(row.body_value) +
                             R"(,"NumSegments":"1")" + row.extra_json + "}";
    const std::string body = std::string("AccountSid=") + kSid +
                             "&MessageSid=SMin42&SmsSid=SMin42&From=%2B15551234567"
                             "&To=%2B15557654321&Body=" +
                             row.body_form + "&NumSegments=1" + row.extra_form;
    const auto answer =
        sms.webhook("inbound", kInboundUrl, body, twilio_npm_signature(kToken, kInboundUrl, json));
    CHECK(answer.status == 200);
    CHECK(answer.body == R"(<?xml version="1.0" encoding="UTF-8"?><Response/>)");
    REQUIRE(sms.host.inbound.size() == 1);
    const RecordedInbound& in = sms.host.inbound[0];
    CHECK(in.channel == "sms");
    CHECK(in.provider_id == "SMin42");
    CHECK(in.from == "+15551234567");
    CHECK(in.to == "+15557654321");
    CHECK(in.body == row.body_value);
    CHECK(in.is_mime == 0);
    CHECK(in.received_at_ms == 0);
    CHECK(sms.host.statuses.empty());
    for (const auto& line : sms.host.logs) CHECK_THAT(line, !Catch::Contains(kToken));
  }
}

TEST_CASE("sms_twilio: a forged or malformed inbound message is refused and reports nothing") {
  constexpr const char* kInboundUrl = "https://hr.example.org/hooks/sms/inbound";
  const std::string json =
      R"({"MessageSid":"SMin1","From":"+15551234567","To":"+15557654321","Body":"hi"})";
  const std::string body = "MessageSid=SMin1&From=%2B15551234567&To=%2B15557654321&Body=hi";
  const std::string good = twilio_npm_signature(kToken, kInboundUrl, json);
  struct Row {
    const char* name;
    std::string url;
    std::string body;
    std::optional<std::string> signature;
    int want_status;
  };
  const std::vector<Row> rows = {
      {"the signed request", kInboundUrl, body, good, 200},
      {"tampered body", kInboundUrl,
       "MessageSid=SMin1&From=%2B15551234567&To=%2B15557654321&Body=STOP", good, 403},
      {"other sender", kInboundUrl,
       "MessageSid=SMin1&From=%2B15550000000&To=%2B15557654321&Body=hi", good, 403},
      {"signed for the status path", "https://hr.example.org/hooks/sms/status", body, good, 403},
      {"missing signature", kInboundUrl, body, std::nullopt, 403},
      {"signed with another token", kInboundUrl, body,
       twilio_npm_signature("other-token", kInboundUrl, json), 403},
      {"no MessageSid", kInboundUrl, "From=%2B15551234567&Body=hi",
       twilio_npm_signature(kToken, kInboundUrl, R"({"From":"+15551234567","Body":"hi"})"), 400},
  };
  for (const Row& row : rows) {
    INFO(row.name);
    Instance sms;
    CHECK(sms.webhook("inbound", row.url, row.body, row.signature).status == row.want_status);
    CHECK(sms.host.inbound.size() == (row.want_status == 200 ? 1U : 0U));
  }
}

TEST_CASE("sms_twilio: a host without host_inbound gets 503, so Twilio retries") {
  constexpr const char* kInboundUrl = "https://hr.example.org/hooks/sms/inbound";
  const std::string json = R"({"MessageSid":"SMin1","From":"+15551234567","Body":"hi"})";
  const std::string body = "MessageSid=SMin1&From=%2B15551234567&Body=hi";
  Instance sms;
  sms.host.api.size = static_cast<uint32_t>(offsetof(hr_host_api, host_inbound));
  CHECK(sms.webhook("inbound", kInboundUrl, body, twilio_npm_signature(kToken, kInboundUrl, json))
            .status == 503);
  CHECK(sms.host.inbound.empty());
}
