// email_inbound: families' email replies, posted to homeroom by a mail provider. It sends nothing
// (on_send answers permanent): configure it as a receive_only instance beside the email sender.
//
// Webhook paths under /hooks/<instance>/:
//   mailgun         Mailgun's inbound route (forward("https://.../hooks/<instance>/mailgun")): an
//                   application/x-www-form-urlencoded post. Verified by `signature`, the hex
//                   HMAC-SHA256 of timestamp + token under the signing key; a timestamp further
//                   than max_age_seconds from now, or a token seen within that window, is refused.
//                   Uses body-mime when the route keeps MIME, else the fields (mailgun_form.h).
//                   multipart/form-data (Mailgun's form when a message has attachments) gets 415.
//   mime/<secret>   a raw RFC 5322 message as the body (message/rfc822, or a SendGrid-style raw
//                   parse relayed as-is); the secret in the URL is the credential.
// A request that fails verification gets 403 and reports nothing; a verified one is reported
// through host_inbound as a whole email (is_mime), which the host parses. Answers: 200 "ok";
// 406 for a verified post that carries no message (Mailgun does not retry a 406); 503 when the
// host takes no inbound messages.
//
// Settings:
//   signing_key      the Mailgun HTTP webhook signing key (secret); enables "mailgun"
//   mime_secret      at least 16 characters (secret); enables "mime/<secret>"
//   max_age_seconds  default 300: how old (or how far ahead) a Mailgun timestamp may be
// One of signing_key and mime_secret is required. Secrets are never logged.
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <array>
#include <charconv>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>

#include "homeroom_plugin.h"
#include "homeroom_plugin.hpp"
#include "http/message.h"
#include "mailgun_form.h"

namespace {

using homeroom::plugin::log;
using namespace homeroom::email_inbound;

// How many recent Mailgun tokens are remembered against replays (a bound on memory; tokens older
// than max_age are refused by their timestamp anyway).
constexpr std::size_t kMaxRememberedTokens = 10'000;

struct EmailInbound {
  const hr_host_api* host = nullptr;
  std::string instance_name;
  std::string signing_key;
  std::string mime_secret;
  std::int64_t max_age_ms = 300'000;
  // Tokens of accepted Mailgun posts, oldest first, with their timestamps (ms).
  std::deque<std::pair<std::int64_t, std::string>> token_order;
  std::unordered_set<std::string> tokens;
  std::string answer;  // the last webhook answer's body: alive until the next call
};

void respond(EmailInbound* in, hr_webhook_response* response, int32_t status,
             std::string_view body) {
  in->answer = body;
  response->status = status;
  response->content_type = body.empty() ? "" : "text/plain";
  response->body = in->answer.c_str();
  response->body_len = in->answer.size();
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

// Constant time in the secret's content: both sides are hashed first, so neither their lengths
// nor their prefixes show in the timing.
bool secret_matches(std::string_view offered, std::string_view secret) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> a{};
  std::array<unsigned char, SHA256_DIGEST_LENGTH> b{};
  SHA256(reinterpret_cast<const unsigned char*>(offered.data()), offered.size(), a.data());
  SHA256(reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), b.data());
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::int64_t now_ms(const EmailInbound* in) {
  return in->host->host_now_ms != nullptr ? in->host->host_now_ms(in->host->host) : 0;
}

// Forgets tokens whose timestamps left the window, and the oldest beyond the bound.
void prune_tokens(EmailInbound* in, std::int64_t now) {
  while (!in->token_order.empty() && (in->token_order.front().first < now - in->max_age_ms ||
                                      in->token_order.size() > kMaxRememberedTokens)) {
    in->tokens.erase(in->token_order.front().second);
    in->token_order.pop_front();
  }
}

void report(EmailInbound* in, const std::string& provider_id, const std::string& to,
            const std::string& raw, hr_webhook_response* response) {
  if (!homeroom::plugin::report_inbound(in->host, "email", provider_id, "", to, raw, true)) {
    log(in->host, HR_LOG_ERROR,
        "email_inbound: " + in->instance_name + ": the host takes no inbound messages");
    respond(in, response, 503, "");
    return;
  }
  respond(in, response, 200, "ok\n");
}

void on_mailgun(EmailInbound* in, const hr_webhook_request* request,
                hr_webhook_response* response) {
  const std::string_view type = header_value(*request, "Content-Type");
  if (type.find("multipart/form-data") != std::string_view::npos) {
    respond(in, response, 415, "send application/x-www-form-urlencoded\n");
    return;
  }
  const MailgunPost post = read_mailgun_post(homeroom::http::parse_form(
      std::string_view(request->body != nullptr ? request->body : "", request->body_len)));
  if (!mailgun_signature_ok(in->signing_key, post)) {
    log(in->host, HR_LOG_WARN,
        "email_inbound: " + in->instance_name + ": mailgun post refused: wrong signature");
    respond(in, response, 403, "");
    return;
  }
  std::int64_t timestamp_s = 0;
  const auto [end, ec] = std::from_chars(
      post.timestamp.data(), post.timestamp.data() + post.timestamp.size(), timestamp_s);
  const std::int64_t now = now_ms(in);
  const bool fresh = ec == std::errc{} && end == post.timestamp.data() + post.timestamp.size() &&
                     timestamp_s >= 0 && timestamp_s < (std::int64_t{1} << 40) &&
                     timestamp_s * 1000 >= now - in->max_age_ms &&
                     timestamp_s * 1000 <= now + in->max_age_ms;
  if (!fresh) {
    log(in->host, HR_LOG_WARN,
        "email_inbound: " + in->instance_name + ": mailgun post refused: stale timestamp");
    respond(in, response, 403, "");
    return;
  }
  prune_tokens(in, now);
  if (in->tokens.count(post.token) != 0) {
    log(in->host, HR_LOG_WARN,
        "email_inbound: " + in->instance_name + ": mailgun post refused: replayed token");
    respond(in, response, 403, "");
    return;
  }
  if (post.body_mime.empty() && post.sender.empty() && post.from.empty()) {
    respond(in, response, 406, "no message in the post\n");
    return;
  }
  const std::string raw = email_from_post(post);
  report(in, post.message_id, post.recipient, raw, response);
  // Remember the token only once the post was taken: a refused one may come again.
  if (response->status == 200) {
    in->token_order.emplace_back(timestamp_s * 1000, post.token);
    in->tokens.insert(post.token);
  }
}

void on_mime(EmailInbound* in, std::string_view secret, const hr_webhook_request* request,
             hr_webhook_response* response) {
  if (in->mime_secret.empty() || !secret_matches(secret, in->mime_secret)) {
    log(in->host, HR_LOG_WARN,
        "email_inbound: " + in->instance_name + ": mime post refused: wrong secret");
    respond(in, response, 403, "");
    return;
  }
  if (request->body == nullptr || request->body_len == 0) {
    respond(in, response, 406, "no message in the post\n");
    return;
  }
  report(in, "", "", std::string(request->body, request->body_len), response);
}

void on_webhook(void* instance, const hr_webhook_request* request, hr_webhook_response* response) {
  auto* in = static_cast<EmailInbound*>(instance);
  homeroom::plugin::guard(
      [&] {
        const std::string_view path(request->path != nullptr ? request->path : "");
        constexpr std::string_view kMime = "mime/";
        const bool mailgun = path == "mailgun" && !in->signing_key.empty();
        const bool mime = path.substr(0, kMime.size()) == kMime;
        if (!mailgun && !mime) {
          respond(in, response, 404, "");
          return;
        }
        if (std::string_view(request->method) != "POST") {
          respond(in, response, 405, "");
          return;
        }
        if (mailgun) {
          on_mailgun(in, request, response);
        } else {
          on_mime(in, path.substr(kMime.size()), request, response);
        }
      },
      [&](const char* what) {
        log(in->host, HR_LOG_ERROR, std::string("email_inbound: webhook: ") + what);
        respond(in, response, 500, "");
      });
}

int32_t on_create(const hr_host_api* host, const hr_plugin_config* config, void** instance,
                  char* err, size_t err_len) {
  using homeroom::plugin::set_error;
  using homeroom::plugin::setting;
  return homeroom::plugin::guard(
      [&]() -> int32_t {
        if (auto key = homeroom::plugin::unknown_setting(
                config, {"signing_key", "mime_secret", "max_age_seconds"})) {
          set_error(err, err_len,
                    "unknown setting '" + std::string(*key) +
                        "' (email_inbound knows: signing_key, mime_secret, max_age_seconds)");
          return 1;
        }
        auto in = std::make_unique<EmailInbound>();
        in->host = host;
        in->instance_name = config->instance_name != nullptr ? config->instance_name : "";
        in->signing_key = std::string(setting(config, "signing_key").value_or(""));
        in->mime_secret = std::string(setting(config, "mime_secret").value_or(""));
        if (in->signing_key.empty() && in->mime_secret.empty()) {
          set_error(err, err_len, "setting 'signing_key' or 'mime_secret' is required");
          return 1;
        }
        if (!in->mime_secret.empty() &&
            (in->mime_secret.size() < 16 ||
             in->mime_secret.find_first_of("/?#% ") != std::string::npos)) {
          set_error(err, err_len,
                    "setting 'mime_secret' must be at least 16 characters, without / ? # % or "
                    "spaces");
          return 1;
        }
        if (auto age = setting(config, "max_age_seconds")) {
          std::int64_t value = 0;
          const auto [end, ec] = std::from_chars(age->data(), age->data() + age->size(), value);
          if (ec != std::errc{} || end != age->data() + age->size() || value < 1 ||
              value > 86'400) {
            set_error(err, err_len, "setting 'max_age_seconds' must be a number in 1..86400");
            return 1;
          }
          in->max_age_ms = value * 1000;
        }
        *instance = in.release();
        return 0;
      },
      [&](const char* what) -> int32_t {
        set_error(err, err_len, std::string("email_inbound: ") + what);
        return 1;
      });
}

void on_send(void* instance, uint64_t send_token, const hr_delivery* /*delivery*/) {
  auto* in = static_cast<EmailInbound*>(instance);
  homeroom::plugin::report(in->host, send_token, HR_OUTCOME_PERMANENT, {},
                           "this instance only receives");
}

void on_destroy(void* instance) { delete static_cast<EmailInbound*>(instance); }

const hr_plugin kDescriptor = {
    sizeof(hr_plugin), HOMEROOM_PLUGIN_ABI_VERSION,
    "email_inbound",   "email",
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
