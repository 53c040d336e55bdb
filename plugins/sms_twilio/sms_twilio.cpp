// sms_twilio: sends SMS through Twilio's Messages API and reads its signed status callbacks.
//
// Any Twilio-compatible provider works (set `base`); the host makes every HTTP request, so the
// plugin is a translator: delivery -> form POST, answer -> outcome, callback -> status update.
//
// Settings:
//   account_sid            required; the account the Messages resource lives under
//   auth_token             required, secret: Basic auth password and the webhook signing key
//   from                   E.164 sender number; or
//   messaging_service_sid  a Messaging Service (one of the two is required; both may be given)
//   base                   default https://api.twilio.com
//   timeout_ms             per request; default: the host's
//
// Webhook paths under /hooks/<instance>/: "status" (StatusCallback) and "inbound" (the number's
// incoming-message webhook: From, To, Body, MessageSid), both verified by X-Twilio-Signature.
// An inbound message is reported through host_inbound and answered with an empty TwiML
// <Response/> (no automatic reply from Twilio). Anything else is 404.
#include <charconv>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "homeroom_plugin.h"
#include "homeroom_plugin.hpp"
#include "twilio_wire.h"

namespace {

using homeroom::plugin::log;
using homeroom::plugin::report;
using namespace homeroom::sms_twilio;

struct TwilioSms {
  const hr_host_api* host;
  std::string instance_name;
  std::string account_sid;
  std::string auth_token;
  std::string from;
  std::string messaging_service_sid;
  std::string messages_url;
  std::string authorization;  // "Basic ...": as secret as the token itself
  uint32_t timeout_ms = 0;
  // The last webhook answer: the ABI wants its strings alive until the next call.
  std::string webhook_body;
};

// One send in flight, owned by the transfer callback.
struct PendingSend {
  TwilioSms* sms;
  uint64_t token;
};

bool is_e164(std::string_view s) {
  if (s.size() < 3 || s.size() > 16 || s[0] != '+' || s[1] < '1' || s[1] > '9') return false;
  for (char c : s.substr(1)) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool is_alnum(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) {
      return false;
    }
  }
  return true;
}

void on_transfer_done(void* user, const hr_transfer_result* result) {
  std::unique_ptr<PendingSend> pending(static_cast<PendingSend*>(user));
  TwilioSms* sms = pending->sms;
  homeroom::plugin::guard(
      [&] {
        const bool has_retry_after =
            result->size >= offsetof(hr_transfer_result, retry_after_ms) + sizeof(int64_t);
        const SendOutcome outcome = classify_send_response(
            result->transport_error != 0, result->error_text != nullptr ? result->error_text : "",
            result->status,
            std::string_view(result->body != nullptr ? result->body : "",
                             result->body != nullptr ? result->body_len : 0),
            has_retry_after ? result->retry_after_ms : 0);
        if (outcome.kind != HR_OUTCOME_ACCEPTED) {
          log(sms->host, HR_LOG_DEBUG, "sms_twilio: " + sms->instance_name + ": " + outcome.reason);
        }
        report(sms->host, pending->token, outcome.kind, outcome.provider_id, outcome.reason,
               outcome.retry_after_ms);
      },
      [&](const char* what) {
        report(sms->host, pending->token, HR_OUTCOME_RETRYABLE, {},
               std::string("sms_twilio: ") + what);
      });
}

int32_t on_create(const hr_host_api* host, const hr_plugin_config* config, void** instance,
                  char* err, size_t err_len) {
  using homeroom::plugin::set_error;
  using homeroom::plugin::setting;
  return homeroom::plugin::guard(
      [&]() -> int32_t {
        if (auto key = homeroom::plugin::unknown_setting(
                config, {"account_sid", "auth_token", "from", "messaging_service_sid", "base",
                         "timeout_ms"})) {
          set_error(err, err_len,
                    "unknown setting '" + std::string(*key) +
                        "' (sms_twilio knows: account_sid, auth_token, from, "
                        "messaging_service_sid, base, timeout_ms)");
          return 1;
        }
        auto sms = std::make_unique<TwilioSms>();
        sms->host = host;
        sms->instance_name = config->instance_name != nullptr ? config->instance_name : "";
        sms->account_sid = std::string(setting(config, "account_sid").value_or(""));
        sms->auth_token = std::string(setting(config, "auth_token").value_or(""));
        sms->from = std::string(setting(config, "from").value_or(""));
        sms->messaging_service_sid =
            std::string(setting(config, "messaging_service_sid").value_or(""));
        std::string base(setting(config, "base").value_or("https://api.twilio.com"));
        if (!is_alnum(sms->account_sid)) {
          set_error(err, err_len,
                    "setting 'account_sid' is required (letters and digits, e.g. AC...)");
          return 1;
        }
        if (sms->auth_token.empty()) {
          set_error(err, err_len, "setting 'auth_token' is required");
          return 1;
        }
        if (sms->from.empty() && sms->messaging_service_sid.empty()) {
          set_error(err, err_len,
                    "setting 'from' (an E.164 number) or 'messaging_service_sid' is required");
          return 1;
        }
        if (!sms->from.empty() && !is_e164(sms->from)) {
          set_error(
              err, err_len,
              "setting 'from' must be an E.164 number like +15551234567, not '" + sms->from + "'");
          return 1;
        }
        if (!sms->messaging_service_sid.empty() && !is_alnum(sms->messaging_service_sid)) {
          set_error(err, err_len, "setting 'messaging_service_sid' must be letters and digits");
          return 1;
        }
        while (!base.empty() && base.back() == '/') base.pop_back();
        if (base.rfind("https://", 0) != 0 && base.rfind("http://", 0) != 0) {
          set_error(err, err_len, "setting 'base' must be an http:// or https:// URL");
          return 1;
        }
        if (auto t = setting(config, "timeout_ms")) {
          uint32_t value = 0;
          const auto [end, ec] = std::from_chars(t->data(), t->data() + t->size(), value);
          if (ec != std::errc{} || end != t->data() + t->size() || value == 0) {
            set_error(err, err_len,
                      "setting 'timeout_ms' must be a positive number of milliseconds");
            return 1;
          }
          sms->timeout_ms = value;
        }
        sms->messages_url = base + "/2010-04-01/Accounts/" + sms->account_sid + "/Messages.json";
        sms->authorization = basic_auth(sms->account_sid, sms->auth_token);
        *instance = sms.release();
        return 0;
      },
      [&](const char* what) -> int32_t {
        set_error(err, err_len, std::string("sms_twilio: ") + what);
        return 1;
      });
}

void on_send(void* instance, uint64_t send_token, const hr_delivery* delivery) {
  auto* sms = static_cast<TwilioSms*>(instance);
  homeroom::plugin::guard(
      [&] {
        if (std::string_view(delivery->channel) != "sms") {
          report(sms->host, send_token, HR_OUTCOME_PERMANENT, {},
                 "sms_twilio does not deliver channel '" + std::string(delivery->channel) + "'");
          return;
        }
        FormParams form = {{"To", delivery->to}};
        // The delivery's own sender (a school's pool number) wins over the configured one.
        const bool has_from = delivery->size >= offsetof(hr_delivery, from) + sizeof(const char*) &&
                              delivery->from != nullptr && delivery->from[0] != '\0';
        if (has_from) {
          form.emplace_back("From", delivery->from);
        } else if (!sms->from.empty()) {
          form.emplace_back("From", sms->from);
        }
        if (!sms->messaging_service_sid.empty()) {
          form.emplace_back("MessagingServiceSid", sms->messaging_service_sid);
        }
        form.emplace_back("Body", std::string(delivery->content, delivery->content_len));
        const bool has_callback =
            delivery->size >= offsetof(hr_delivery, status_callback_url) + sizeof(const char*) &&
            delivery->status_callback_url != nullptr && delivery->status_callback_url[0] != '\0';
        if (has_callback) form.emplace_back("StatusCallback", delivery->status_callback_url);
        const std::string body = form_encode(form);

        const hr_header headers[] = {
            {"Authorization", sms->authorization.c_str()},
            {"Content-Type", "application/x-www-form-urlencoded"},
            {"Accept", "application/json"},
        };
        const char* const secrets[] = {sms->auth_token.c_str(), sms->authorization.c_str()};
        hr_http_request request{};
        request.size = sizeof(hr_http_request);
        request.method = "POST";
        request.url = sms->messages_url.c_str();
        request.headers = headers;
        request.header_count = std::size(headers);
        request.body = body.data();
        request.body_len = body.size();
        request.timeout_ms = sms->timeout_ms;
        request.secrets = secrets;
        request.secret_count = std::size(secrets);
        log(sms->host, HR_LOG_DEBUG,
            "sms_twilio: " + sms->instance_name + ": POST Messages.json for delivery " +
                delivery->delivery_id);
        auto pending = std::make_unique<PendingSend>(PendingSend{sms, send_token});
        // The callback owns `pending` from here on, even when it runs before this call returns.
        sms->host->host_http_request(sms->host->host, &request, &on_transfer_done,
                                     pending.release());
      },
      [&](const char* what) {
        report(sms->host, send_token, HR_OUTCOME_RETRYABLE, {}, std::string("sms_twilio: ") + what);
      });
}

std::string_view header_value(const hr_webhook_request& request, std::string_view name) {
  for (std::size_t i = 0; i < request.header_count; ++i) {
    const std::string_view key = request.headers[i].name != nullptr ? request.headers[i].name : "";
    if (key.size() != name.size()) continue;
    bool same = true;
    for (std::size_t j = 0; j < key.size() && same; ++j) {
      const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
      same = lower(key[j]) == lower(name[j]);
    }
    if (same) return request.headers[i].value != nullptr ? request.headers[i].value : "";
  }
  return {};
}

std::string_view param(const FormParams& params, std::string_view key) {
  for (const auto& [k, v] : params) {
    if (k == key) return v;
  }
  return {};
}

void respond(hr_webhook_response* response, int32_t status) {
  response->status = status;
  response->content_type = "";
  response->body = "";
  response->body_len = 0;
}

constexpr std::string_view kEmptyTwiml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>";

// A message a family texted to homeroom's number, already verified.
void on_inbound(TwilioSms* sms, const FormParams& params, hr_webhook_response* response) {
  const std::string sid(param(params, "MessageSid"));
  const std::string from(param(params, "From"));
  if (sid.empty() || from.empty()) {
    respond(response, 400);
    return;
  }
  if (!homeroom::plugin::report_inbound(sms->host, "sms", sid, from,
                                        std::string(param(params, "To")), param(params, "Body"),
                                        false)) {
    log(sms->host, HR_LOG_ERROR,
        "sms_twilio: " + sms->instance_name + ": the host takes no inbound messages");
    respond(response, 503);
    return;
  }
  response->status = 200;
  response->content_type = "text/xml";
  response->body = kEmptyTwiml.data();
  response->body_len = kEmptyTwiml.size();
}

void on_webhook(void* instance, const hr_webhook_request* request, hr_webhook_response* response) {
  auto* sms = static_cast<TwilioSms*>(instance);
  homeroom::plugin::guard(
      [&] {
        const std::string_view path(request->path);
        if (path != "status" && path != "inbound") {
          respond(response, 404);
          return;
        }
        if (std::string_view(request->method) != "POST") {
          respond(response, 405);
          return;
        }
        const FormParams params = form_decode(
            std::string_view(request->body != nullptr ? request->body : "", request->body_len));
        const std::string_view offered = header_value(*request, "X-Twilio-Signature");
        const std::string expected = twilio_signature(
            sms->auth_token, request->public_url != nullptr ? request->public_url : "", params);
        if (!signature_matches(offered, expected)) {
          log(sms->host, HR_LOG_WARN,
              "sms_twilio: " + sms->instance_name + ": " + std::string(path) +
                  " webhook refused: missing or wrong X-Twilio-Signature");
          respond(response, 403);
          return;
        }
        if (path == "inbound") {
          on_inbound(sms, params, response);
          return;
        }
        const std::string sid(param(params, "MessageSid"));
        const std::string error_code(param(params, "ErrorCode"));
        const std::string message_status(param(params, "MessageStatus"));
        const int status = status_from_callback(message_status, error_code);
        if (!sid.empty() && status != 0) {
          const std::string reason =
              error_code.empty() ? message_status : message_status + " " + error_code;
          hr_status_update update{};
          update.size = sizeof(hr_status_update);
          update.provider_id = sid.c_str();
          update.status = status;
          update.reason = reason.c_str();
          sms->host->host_status_update(sms->host->host, &update);
        }
        respond(response, 204);
      },
      [&](const char* what) {
        log(sms->host, HR_LOG_ERROR, std::string("sms_twilio: webhook: ") + what);
        respond(response, 500);
      });
}

void on_destroy(void* instance) { delete static_cast<TwilioSms*>(instance); }

const hr_plugin kDescriptor = {
    sizeof(hr_plugin), HOMEROOM_PLUGIN_ABI_VERSION,
    "sms_twilio",      "sms",
    &on_create,        &on_send,
    &on_destroy,       &on_webhook,
};

}  // namespace

extern "C" const hr_plugin* homeroom_plugin_entry(uint32_t host_min_abi, uint32_t host_max_abi) {
  if (host_min_abi > HOMEROOM_PLUGIN_ABI_VERSION || host_max_abi < HOMEROOM_PLUGIN_ABI_VERSION) {
    return nullptr;
  }
  return &kDescriptor;
}
