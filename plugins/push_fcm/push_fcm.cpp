// push_fcm: delivers push notifications to Android/iOS apps through Firebase Cloud Messaging
// (HTTP v1 API). It signs in as a Google service account (OAuth 2 JWT bearer grant, RS256) and
// caches the access token until a minute before it expires; the host makes every HTTP request.
//
// Settings:
//   project_id            Firebase project id (required)
//   service_account_file  path to the service-account JSON (client_email, private_key, token_uri)
//   service_account_json  the same JSON inline (secret); exactly one of the two is required
//   token_url             overrides the service account's token_uri (e.g. a loopback fake)
//   fcm_base_url          default https://fcm.googleapis.com
//   timeout_ms            HTTP timeout (default: the host's)
//
// One token request at a time: sends that arrive while it is in flight wait for it, and all fail
// RETRYABLE if it fails. A 401 on a send drops the cached token, so the next send fetches one.
#include <algorithm>
#include <charconv>
#include <cstdint>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "homeroom_plugin.h"
#include "homeroom_plugin.hpp"
#include "push_crypto.h"

namespace {

namespace push = homeroom::push;
using homeroom::plugin::log;
using homeroom::plugin::report;
using nlohmann::json;

constexpr char kScope[] = "https://www.googleapis.com/auth/firebase.messaging";
constexpr char kDefaultTokenUrl[] = "https://oauth2.googleapis.com/token";
constexpr std::int64_t kTokenMarginMs = 60'000;

// A send waiting for an access token: its request body is ready.
struct QueuedSend {
  std::uint64_t token;
  std::string body;
};

struct Fcm {
  const hr_host_api* host;
  std::string project_id;
  std::string client_email;
  push::Pkey key;
  std::string token_url;
  std::string send_url;
  std::uint32_t timeout_ms = 0;

  std::string access_token;  // "" when none is cached
  std::int64_t access_token_fresh_until_ms = 0;
  bool token_in_flight = false;
  std::vector<QueuedSend> waiting;
};

struct SendPending {
  Fcm* plugin;
  std::uint64_t token;
  std::string access_token;  // the token this send used, so a 401 drops only that one
};

std::int64_t now_ms(const Fcm& p) { return p.host->host_now_ms(p.host->host); }

std::optional<std::uint32_t> parse_u32(std::string_view text) {
  std::uint32_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

std::string body_of(const hr_transfer_result& r) {
  return {r.body != nullptr ? r.body : "", r.body != nullptr ? r.body_len : 0};
}

std::string excerpt(std::string text) {
  if (text.size() > 300) text = text.substr(0, 300) + "...";
  return text;
}

// What an FCM error body says: google.rpc.Status plus FcmError details.
struct FcmError {
  std::string status;      // e.g. "INVALID_ARGUMENT"
  std::string error_code;  // e.g. "UNREGISTERED"
  std::string message;
};

FcmError parse_fcm_error(const std::string& body) {
  FcmError out;
  const json doc = json::parse(body, nullptr, false);
  if (!doc.is_object() || !doc.contains("error") || !doc["error"].is_object()) {
    out.message = excerpt(body);
    return out;
  }
  const json& e = doc["error"];
  if (e.contains("status") && e["status"].is_string()) out.status = e["status"];
  if (e.contains("message") && e["message"].is_string()) out.message = e["message"];
  if (e.contains("details") && e["details"].is_array()) {
    for (const json& d : e["details"]) {
      if (d.is_object() && d.contains("errorCode") && d["errorCode"].is_string()) {
        out.error_code = d["errorCode"];
      }
    }
  }
  return out;
}

void on_send_done(void* user, const hr_transfer_result* result);
void on_token_done(void* user, const hr_transfer_result* result);

void post_message(Fcm& p, std::uint64_t token, const std::string& body) {
  const std::string authorization = "Bearer " + p.access_token;
  const hr_header headers[] = {
      {"Authorization", authorization.c_str()},
      {"Content-Type", "application/json; charset=UTF-8"},
  };
  const char* secrets[] = {p.access_token.c_str()};
  hr_http_request request{};
  request.size = sizeof(hr_http_request);
  request.method = "POST";
  request.url = p.send_url.c_str();
  request.headers = headers;
  request.header_count = std::size(headers);
  request.body = body.data();
  request.body_len = body.size();
  request.timeout_ms = p.timeout_ms;
  request.secrets = secrets;
  request.secret_count = std::size(secrets);
  auto pending = std::make_unique<SendPending>(SendPending{&p, token, p.access_token});
  p.host->host_http_request(p.host->host, &request, &on_send_done, pending.release());
}

// Starts the one token request, with `first` as its first waiter. Everything that can throw
// (signing) happens before the send is queued, so a failure leaves nothing behind to report twice.
void request_token(Fcm& p, QueuedSend first) {
  const std::int64_t now_s = now_ms(p) / 1000;
  const json header = {{"alg", "RS256"}, {"typ", "JWT"}};
  const json claims = {{"iss", p.client_email},
                       {"scope", kScope},
                       {"aud", p.token_url},
                       {"iat", now_s},
                       {"exp", now_s + 3600}};
  const std::string assertion = push::jwt_sign("RS256", header.dump(), claims.dump(), p.key.get());
  // A JWT is base64url and dots: nothing in it needs form-encoding.
  const std::string body =
      "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=" + assertion;
  const hr_header headers[] = {{"Content-Type", "application/x-www-form-urlencoded"}};
  const char* secrets[] = {assertion.c_str()};
  hr_http_request request{};
  request.size = sizeof(hr_http_request);
  request.method = "POST";
  request.url = p.token_url.c_str();
  request.headers = headers;
  request.header_count = std::size(headers);
  request.body = body.data();
  request.body_len = body.size();
  request.timeout_ms = p.timeout_ms;
  request.secrets = secrets;
  request.secret_count = std::size(secrets);
  log(p.host, HR_LOG_DEBUG, "push_fcm: requesting an access token for " + p.client_email);
  p.waiting.push_back(std::move(first));
  p.token_in_flight = true;
  p.host->host_http_request(p.host->host, &request, &on_token_done, &p);
}

// Fails every waiting send (the token request failed); the host may re-enter, so move them first.
void fail_waiting(Fcm& p, const std::string& reason) {
  std::vector<QueuedSend> waiting = std::move(p.waiting);
  p.waiting.clear();
  for (const QueuedSend& q : waiting) report(p.host, q.token, HR_OUTCOME_RETRYABLE, {}, reason);
}

void on_token_done(void* user, const hr_transfer_result* result) {
  Fcm& p = *static_cast<Fcm*>(user);
  p.token_in_flight = false;
  homeroom::plugin::guard(
      [&] {
        const hr_transfer_result& r = *result;
        if (r.transport_error != 0) {
          fail_waiting(p, std::string("FCM token endpoint unreachable: ") +
                              (r.error_text != nullptr ? r.error_text : ""));
          return;
        }
        const std::string body = body_of(r);
        const json doc = json::parse(body, nullptr, false);
        if (r.status != 200 || !doc.is_object() || !doc.contains("access_token") ||
            !doc["access_token"].is_string() || doc["access_token"].get<std::string>().empty()) {
          std::string reason = "FCM token request failed: HTTP " + std::to_string(r.status);
          if (doc.is_object() && doc.contains("error") && doc["error"].is_string()) {
            reason += " " + doc["error"].get<std::string>();
            if (doc.contains("error_description") && doc["error_description"].is_string()) {
              reason += ": " + doc["error_description"].get<std::string>();
            }
          }
          log(p.host, HR_LOG_WARN, "push_fcm: " + reason);
          fail_waiting(p, reason);
          return;
        }
        std::int64_t expires_in = 3600;
        if (doc.contains("expires_in") && doc["expires_in"].is_number_integer()) {
          // Clamped: a nonsense lifetime must neither overflow nor pin a token for days.
          expires_in = std::clamp<std::int64_t>(doc["expires_in"].get<std::int64_t>(), 0, 86400);
        }
        p.access_token = doc["access_token"].get<std::string>();
        p.access_token_fresh_until_ms = now_ms(p) + expires_in * 1000 - kTokenMarginMs;
        std::vector<QueuedSend> waiting = std::move(p.waiting);
        p.waiting.clear();
        for (const QueuedSend& q : waiting) {
          // Each waiter is reported exactly once, whatever happens to the others.
          homeroom::plugin::guard([&] { post_message(p, q.token, q.body); },
                                  [&](const char* what) {
                                    report(p.host, q.token, HR_OUTCOME_RETRYABLE, {},
                                           std::string("push_fcm: ") + what);
                                  });
        }
      },
      [&](const char* what) { fail_waiting(p, std::string("push_fcm: ") + what); });
}

void on_send_done(void* user, const hr_transfer_result* result) {
  std::unique_ptr<SendPending> pending(static_cast<SendPending*>(user));
  Fcm& p = *pending->plugin;
  const std::uint64_t token = pending->token;
  homeroom::plugin::guard(
      [&] {
        const hr_transfer_result& r = *result;
        if (r.transport_error != 0) {
          report(p.host, token, HR_OUTCOME_RETRYABLE, {},
                 std::string("FCM unreachable: ") + (r.error_text != nullptr ? r.error_text : ""));
          return;
        }
        const std::string body = body_of(r);
        if (r.status == 200) {
          const json doc = json::parse(body, nullptr, false);
          std::string name;
          if (doc.is_object() && doc.contains("name") && doc["name"].is_string())
            name = doc["name"];
          report(p.host, token, HR_OUTCOME_ACCEPTED, name);
          return;
        }
        const FcmError e = parse_fcm_error(body);
        const std::string what = "FCM HTTP " + std::to_string(r.status) +
                                 (e.error_code.empty() ? "" : " " + e.error_code) +
                                 (e.status.empty() ? "" : " " + e.status) +
                                 (e.message.empty() ? "" : ": " + e.message);
        if (r.status == 404 || e.error_code == "UNREGISTERED") {
          report(p.host, token, HR_OUTCOME_CONTACT_GONE, {}, what);
        } else if (r.status == 429 || e.error_code == "QUOTA_EXCEEDED") {
          report(p.host, token, HR_OUTCOME_THROTTLED, {}, what, r.retry_after_ms);
        } else if (r.status == 401) {
          if (p.access_token == pending->access_token) {
            p.access_token.clear();
            p.access_token_fresh_until_ms = 0;
          }
          report(p.host, token, HR_OUTCOME_RETRYABLE, {}, what);
        } else if (r.status >= 500 || e.error_code == "UNAVAILABLE" || e.error_code == "INTERNAL" ||
                   e.status == "UNAVAILABLE" || e.status == "INTERNAL") {
          report(p.host, token, HR_OUTCOME_RETRYABLE, {}, what, r.retry_after_ms);
        } else {
          report(p.host, token, HR_OUTCOME_PERMANENT, {}, what);
        }
      },
      [&](const char* what) {
        report(p.host, token, HR_OUTCOME_RETRYABLE, {}, std::string("push_fcm: ") + what);
      });
}

// The FCM v1 request body for one delivery, or "" with `why` set.
std::string message_body(const hr_delivery& d, std::string& why) {
  const json to = json::parse(std::string_view(d.to), nullptr, false);
  if (!to.is_object()) {
    why = "push contact is not a JSON object";
    return {};
  }
  if (!to.contains("fcm_token")) {
    why = to.contains("endpoint") ? "not an FCM token (a Web Push subscription: deliver it with "
                                    "push_webpush)"
                                  : "not an FCM token: the push contact has no fcm_token";
    return {};
  }
  if (!to["fcm_token"].is_string() || to["fcm_token"].get<std::string>().empty()) {
    why = "not an FCM token: fcm_token is not a non-empty string";
    return {};
  }
  const json content = json::parse(std::string_view(d.content, d.content_len), nullptr, false);
  if (!content.is_object()) {
    why = "push content is not a JSON object";
    return {};
  }
  auto text = [&](const char* key, std::string fallback) {
    return content.contains(key) && content[key].is_string() ? content[key].get<std::string>()
                                                             : fallback;
  };
  json data = json::object();
  data["category"] = text("category", d.category);
  data["lang"] = text("lang", d.language);
  if (const std::string tag = text("tag", ""); !tag.empty()) data["tag"] = tag;
  const bool urgent = std::string_view(d.category) == "urgent";
  const json message = {
      {"message",
       {{"token", to["fcm_token"]},
        {"notification", {{"title", text("title", "")}, {"body", text("body", d.body)}}},
        {"data", data},
        {"android", {{"priority", urgent ? "high" : "normal"}}}}}};
  return message.dump(-1, ' ', false, json::error_handler_t::replace);
}

bool valid_project_id(std::string_view id) {
  if (id.empty() || id.size() > 100) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == ':' || c == '_';
    if (!ok) return false;
  }
  return true;
}

int32_t on_create(const hr_host_api* host, const hr_plugin_config* config, void** instance,
                  char* err, size_t err_len) {
  using homeroom::plugin::set_error;
  using homeroom::plugin::setting;
  return homeroom::plugin::guard(
      [&]() -> int32_t {
        if (auto key = homeroom::plugin::unknown_setting(
                config, {"project_id", "service_account_file", "service_account_json", "token_url",
                         "fcm_base_url", "timeout_ms"})) {
          set_error(err, err_len,
                    "unknown setting '" + std::string(*key) +
                        "' (push_fcm knows: project_id, service_account_file, "
                        "service_account_json, token_url, fcm_base_url, timeout_ms)");
          return 1;
        }
        auto p = std::make_unique<Fcm>();
        p->host = host;
        const auto project = setting(config, "project_id");
        if (!project || !valid_project_id(*project)) {
          set_error(err, err_len, "setting 'project_id' is required: the Firebase project id");
          return 1;
        }
        p->project_id = std::string(*project);
        const auto file = setting(config, "service_account_file");
        const auto inline_json = setting(config, "service_account_json");
        if (file.has_value() == inline_json.has_value()) {
          set_error(err, err_len,
                    "exactly one of settings 'service_account_file' and 'service_account_json' "
                    "is required");
          return 1;
        }
        const char* source = file ? "service_account_file" : "service_account_json";
        std::string text;
        if (file) {
          std::ifstream in{std::string(*file)};
          if (!in) {
            set_error(
                err, err_len,
                "setting 'service_account_file' (" + std::string(*file) + "): cannot read it");
            return 1;
          }
          std::stringstream ss;
          ss << in.rdbuf();
          text = ss.str();
        } else {
          text = std::string(*inline_json);
        }
        // Never echo the document: it holds the private key.
        const json sa = json::parse(text, nullptr, false);
        if (!sa.is_object() || !sa.contains("client_email") || !sa["client_email"].is_string() ||
            !sa.contains("private_key") || !sa["private_key"].is_string()) {
          set_error(err, err_len,
                    "setting '" + std::string(source) +
                        "': not a service-account JSON with client_email and private_key");
          return 1;
        }
        p->client_email = sa["client_email"];
        try {
          p->key = push::private_key_from_pem(sa["private_key"].get<std::string>());
        } catch (const push::CryptoError&) {
          set_error(err, err_len,
                    "setting '" + std::string(source) + "': private_key is not a PEM private key");
          return 1;
        }
        if (!push::is_rsa(p->key.get())) {
          set_error(err, err_len,
                    "setting '" + std::string(source) + "': private_key is not an RSA key");
          return 1;
        }
        if (const auto url = setting(config, "token_url")) {
          p->token_url = std::string(*url);
        } else if (sa.contains("token_uri") && sa["token_uri"].is_string()) {
          p->token_url = sa["token_uri"];
        } else {
          p->token_url = kDefaultTokenUrl;
        }
        if (p->token_url.rfind("https://", 0) != 0 && p->token_url.rfind("http://", 0) != 0) {
          set_error(err, err_len, "setting 'token_url' must be an http(s) URL");
          return 1;
        }
        std::string base(setting(config, "fcm_base_url").value_or("https://fcm.googleapis.com"));
        while (!base.empty() && base.back() == '/') base.pop_back();
        if (base.rfind("https://", 0) != 0 && base.rfind("http://", 0) != 0) {
          set_error(err, err_len, "setting 'fcm_base_url' must be an http(s) URL");
          return 1;
        }
        p->send_url = base + "/v1/projects/" + p->project_id + "/messages:send";
        if (const auto timeout = setting(config, "timeout_ms")) {
          const auto value = parse_u32(*timeout);
          if (!value) {
            set_error(err, err_len, "setting 'timeout_ms' must be a whole number of milliseconds");
            return 1;
          }
          p->timeout_ms = *value;
        }
        if (host == nullptr || host->size < sizeof(hr_host_api) ||
            host->host_http_request == nullptr || host->host_now_ms == nullptr) {
          set_error(err, err_len, "push_fcm needs a host with host_http_request and host_now_ms");
          return 1;
        }
        *instance = p.release();
        return 0;
      },
      [&](const char* what) -> int32_t {
        set_error(err, err_len, std::string("push_fcm: ") + what);
        return 1;
      });
}

void on_send(void* instance, uint64_t send_token, const hr_delivery* delivery) {
  Fcm& p = *static_cast<Fcm*>(instance);
  homeroom::plugin::guard(
      [&] {
        std::string why;
        std::string body = message_body(*delivery, why);
        if (body.empty()) {
          report(p.host, send_token, HR_OUTCOME_PERMANENT, {}, why);
          return;
        }
        if (!p.access_token.empty() && now_ms(p) < p.access_token_fresh_until_ms) {
          post_message(p, send_token, body);
          return;
        }
        p.access_token.clear();
        if (p.token_in_flight) {
          p.waiting.push_back(QueuedSend{send_token, std::move(body)});
        } else {
          request_token(p, QueuedSend{send_token, std::move(body)});
        }
      },
      [&](const char* what) {
        report(p.host, send_token, HR_OUTCOME_RETRYABLE, {}, std::string("push_fcm: ") + what);
      });
}

void on_destroy(void* instance) { delete static_cast<Fcm*>(instance); }

const hr_plugin kDescriptor = {
    sizeof(hr_plugin), HOMEROOM_PLUGIN_ABI_VERSION, "push_fcm", "push", &on_create, &on_send,
    &on_destroy,
    nullptr,  // on_webhook: FCM sends no callbacks
};

}  // namespace

extern "C" const hr_plugin* homeroom_plugin_entry(uint32_t host_min_abi, uint32_t host_max_abi) {
  if (host_min_abi > HOMEROOM_PLUGIN_ABI_VERSION || host_max_abi < HOMEROOM_PLUGIN_ABI_VERSION) {
    return nullptr;
  }
  return &kDescriptor;
}
