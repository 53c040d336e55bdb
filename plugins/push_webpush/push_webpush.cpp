// push_webpush: delivers push notifications to browsers through their push service (Web Push,
// RFC 8030). The payload is encrypted for the subscription (RFC 8291, aes128gcm) and the request
// is signed with the school's VAPID key (RFC 8292). The host makes the HTTP request.
//
// Settings:
//   vapid_public_key   base64url uncompressed P-256 point (what browsers subscribe with)
//   vapid_private_key  base64url 32-byte scalar (secret: never logged; passed to the host as one)
//   subject            mailto: or https: URL the push service may contact (required)
//   ttl_seconds        how long the push service keeps an undelivered message (default 86400)
//   timeout_ms         HTTP timeout (default: the host's)
//
// Outcomes: 201/202 accepted (provider id: Location, else the endpoint's last path segment);
// 404/410 contact gone; 413 permanent; 429 throttled; 5xx and transport errors retryable; other
// 4xx permanent.
#include <cctype>
#include <charconv>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "homeroom_plugin.h"
#include "homeroom_plugin.hpp"
#include "push_crypto.h"
#include "webpush_message.h"

namespace {

namespace push = homeroom::push;
using homeroom::plugin::report;

constexpr std::int64_t kJwtLifetimeSeconds = 12 * 60 * 60;

struct WebPush {
  const hr_host_api* host;
  push::Pkey vapid_key;
  std::string public_key_b64;
  std::string private_key_b64;
  std::string subject;
  std::uint32_t ttl_seconds = 86400;
  std::uint32_t timeout_ms = 0;
};

// One request in flight; owned by the host's completion callback.
struct Pending {
  WebPush* plugin;
  std::uint64_t token;
  std::string endpoint;
};

std::optional<std::uint32_t> parse_u32(std::string_view text) {
  std::uint32_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

std::string header_value(const hr_transfer_result& r, std::string_view name) {
  for (std::size_t i = 0; i < r.header_count; ++i) {
    const std::string_view n = r.headers[i].name != nullptr ? r.headers[i].name : "";
    if (n.size() != name.size()) continue;
    bool same = true;
    for (std::size_t k = 0; k < n.size() && same; ++k) {
      same = std::tolower(static_cast<unsigned char>(n[k])) ==
             std::tolower(static_cast<unsigned char>(name[k]));
    }
    if (same) return r.headers[i].value != nullptr ? r.headers[i].value : "";
  }
  return {};
}

std::string last_path_segment(std::string_view url) {
  const std::size_t query = url.find_first_of("?#");
  if (query != std::string_view::npos) url = url.substr(0, query);
  while (!url.empty() && url.back() == '/') url.remove_suffix(1);
  const std::size_t slash = url.rfind('/');
  return std::string(slash == std::string_view::npos ? url : url.substr(slash + 1));
}

// A provider's body, shortened for an outcome reason.
std::string body_excerpt(const hr_transfer_result& r) {
  std::string text(r.body != nullptr ? r.body : "", r.body != nullptr ? r.body_len : 0);
  if (text.size() > 300) text = text.substr(0, 300) + "...";
  return text;
}

void on_transfer_done(void* user, const hr_transfer_result* result) {
  std::unique_ptr<Pending> pending(static_cast<Pending*>(user));
  const hr_host_api* host = pending->plugin->host;
  const std::uint64_t token = pending->token;
  homeroom::plugin::guard(
      [&] {
        const hr_transfer_result& r = *result;
        if (r.transport_error != 0) {
          report(host, token, HR_OUTCOME_RETRYABLE, {},
                 std::string("push service unreachable: ") +
                     (r.error_text != nullptr ? r.error_text : ""));
          return;
        }
        const int status = r.status;
        if (status == 201 || status == 202) {
          std::string id = header_value(r, "Location");
          if (id.empty()) id = last_path_segment(pending->endpoint);
          report(host, token, HR_OUTCOME_ACCEPTED, id);
        } else if (status == 404 || status == 410) {
          report(host, token, HR_OUTCOME_CONTACT_GONE, {},
                 "push subscription expired or unsubscribed (HTTP " + std::to_string(status) + ")");
        } else if (status == 413) {
          report(host, token, HR_OUTCOME_PERMANENT, {}, "payload too large (HTTP 413)");
        } else if (status == 429) {
          report(host, token, HR_OUTCOME_THROTTLED, {}, "push service rate limit (HTTP 429)",
                 r.retry_after_ms);
        } else if (status >= 500) {
          report(host, token, HR_OUTCOME_RETRYABLE, {},
                 "push service error HTTP " + std::to_string(status) + ": " + body_excerpt(r),
                 r.retry_after_ms);
        } else {
          report(host, token, HR_OUTCOME_PERMANENT, {},
                 "push service refused HTTP " + std::to_string(status) + ": " + body_excerpt(r));
        }
      },
      [&](const char* what) {
        report(host, token, HR_OUTCOME_RETRYABLE, {}, std::string("push_webpush: ") + what);
      });
}

int32_t on_create(const hr_host_api* host, const hr_plugin_config* config, void** instance,
                  char* err, size_t err_len) {
  using homeroom::plugin::set_error;
  using homeroom::plugin::setting;
  return homeroom::plugin::guard(
      [&]() -> int32_t {
        if (auto key = homeroom::plugin::unknown_setting(
                config, {"vapid_public_key", "vapid_private_key", "subject", "ttl_seconds",
                         "timeout_ms"})) {
          set_error(err, err_len,
                    "unknown setting '" + std::string(*key) +
                        "' (push_webpush knows: vapid_public_key, vapid_private_key, subject, "
                        "ttl_seconds, timeout_ms)");
          return 1;
        }
        auto plugin = std::make_unique<WebPush>();
        plugin->host = host;
        const auto pub = setting(config, "vapid_public_key");
        const auto pub_point = pub ? push::base64url_decode(*pub) : std::nullopt;
        if (!pub_point || pub_point->size() != 65 || (*pub_point)[0] != '\x04') {
          set_error(err, err_len,
                    "setting 'vapid_public_key' is required: the base64url uncompressed P-256 "
                    "point (65 bytes)");
          return 1;
        }
        const auto priv = setting(config, "vapid_private_key");
        const auto scalar = priv ? push::base64url_decode(*priv) : std::nullopt;
        if (!scalar || scalar->size() != 32) {
          set_error(err, err_len,
                    "setting 'vapid_private_key' is required: the base64url 32-byte P-256 private "
                    "key");
          return 1;
        }
        try {
          plugin->vapid_key = push::p256_private_from_scalar(*scalar);
        } catch (const push::CryptoError&) {
          set_error(err, err_len, "setting 'vapid_private_key' is not a valid P-256 private key");
          return 1;
        }
        if (push::p256_public_point(plugin->vapid_key.get()) != *pub_point) {
          set_error(err, err_len,
                    "setting 'vapid_private_key' does not belong to 'vapid_public_key'");
          return 1;
        }
        plugin->public_key_b64 = push::base64url_encode(*pub_point);
        plugin->private_key_b64 = std::string(*priv);
        const auto subject = setting(config, "subject");
        if (!subject || !(subject->rfind("mailto:", 0) == 0 || subject->rfind("https:", 0) == 0) ||
            subject->size() < 8) {
          set_error(err, err_len,
                    "setting 'subject' is required: a mailto: or https: URL the push service may "
                    "contact");
          return 1;
        }
        plugin->subject = std::string(*subject);
        if (const auto ttl = setting(config, "ttl_seconds")) {
          const auto value = parse_u32(*ttl);
          if (!value) {
            set_error(err, err_len, "setting 'ttl_seconds' must be a whole number of seconds");
            return 1;
          }
          plugin->ttl_seconds = *value;
        }
        if (const auto timeout = setting(config, "timeout_ms")) {
          const auto value = parse_u32(*timeout);
          if (!value) {
            set_error(err, err_len, "setting 'timeout_ms' must be a whole number of milliseconds");
            return 1;
          }
          plugin->timeout_ms = *value;
        }
        if (host == nullptr || host->size < sizeof(hr_host_api) ||
            host->host_http_request == nullptr || host->host_now_ms == nullptr) {
          set_error(err, err_len,
                    "push_webpush needs a host with host_http_request and host_now_ms");
          return 1;
        }
        *instance = plugin.release();
        return 0;
      },
      [&](const char* what) -> int32_t {
        set_error(err, err_len, std::string("push_webpush: ") + what);
        return 1;
      });
}

void on_send(void* instance, uint64_t send_token, const hr_delivery* delivery) {
  auto* plugin = static_cast<WebPush*>(instance);
  homeroom::plugin::guard(
      [&] {
        std::string why;
        const auto sub = push::parse_subscription(delivery->to, why);
        if (!sub) {
          report(plugin->host, send_token, HR_OUTCOME_PERMANENT, {}, why);
          return;
        }
        const std::string_view payload(delivery->content, delivery->content_len);
        if (payload.size() > push::kMaxPlaintext) {
          report(plugin->host, send_token, HR_OUTCOME_PERMANENT, {},
                 "payload too large: " + std::to_string(payload.size()) + " bytes, at most " +
                     std::to_string(push::kMaxPlaintext));
          return;
        }
        const push::Pkey ephemeral = push::p256_generate();
        const std::string body =
            push::encrypt_aes128gcm(*sub, payload, ephemeral.get(), push::random_bytes(16));
        const std::int64_t now_s = plugin->host->host_now_ms(plugin->host->host) / 1000;
        const std::string authorization = push::vapid_authorization(
            push::url_origin(sub->endpoint), now_s + kJwtLifetimeSeconds, plugin->subject,
            plugin->vapid_key.get(), plugin->public_key_b64);
        const std::string ttl = std::to_string(plugin->ttl_seconds);
        const char* urgency = std::string_view(delivery->category) == "urgent" ? "high" : "normal";
        const hr_header headers[] = {
            {"Authorization", authorization.c_str()},
            {"TTL", ttl.c_str()},
            {"Content-Encoding", "aes128gcm"},
            {"Content-Type", "application/octet-stream"},
            {"Urgency", urgency},
        };
        // The JWT is a bearer credential for 12 hours: as secret as the key that made it.
        const std::string jwt = authorization.substr(8, authorization.find(',') - 8);
        const char* secrets[] = {plugin->private_key_b64.c_str(), jwt.c_str()};
        hr_http_request request{};
        request.size = sizeof(hr_http_request);
        request.method = "POST";
        request.url = sub->endpoint.c_str();
        request.headers = headers;
        request.header_count = std::size(headers);
        request.body = body.data();
        request.body_len = body.size();
        request.timeout_ms = plugin->timeout_ms;
        request.secrets = secrets;
        request.secret_count = std::size(secrets);
        auto pending = std::make_unique<Pending>(Pending{plugin, send_token, sub->endpoint});
        homeroom::plugin::log(plugin->host, HR_LOG_DEBUG,
                              "push_webpush: POST to " + push::url_origin(sub->endpoint));
        plugin->host->host_http_request(plugin->host->host, &request, &on_transfer_done,
                                        pending.release());
      },
      [&](const char* what) {
        report(plugin->host, send_token, HR_OUTCOME_RETRYABLE, {},
               std::string("push_webpush: ") + what);
      });
}

void on_destroy(void* instance) { delete static_cast<WebPush*>(instance); }

const hr_plugin kDescriptor = {
    sizeof(hr_plugin), HOMEROOM_PLUGIN_ABI_VERSION, "push_webpush", "push", &on_create, &on_send,
    &on_destroy,
    nullptr,  // on_webhook: push services send no callbacks
};

}  // namespace

extern "C" const hr_plugin* homeroom_plugin_entry(uint32_t host_min_abi, uint32_t host_max_abi) {
  if (host_min_abi > HOMEROOM_PLUGIN_ABI_VERSION || host_max_abi < HOMEROOM_PLUGIN_ABI_VERSION) {
    return nullptr;
  }
  return &kDescriptor;
}
