// email_smtp: a channel plugin that submits the message homeroom rendered (a complete RFC 5322
// message in hr_delivery.content) to an SMTP server. The plugin does no I/O: it asks the host for
// the submission (host_smtp_send, libcurl in the daemon) and maps the server's last reply to an
// outcome.
//
// Settings:
//   url          required: "smtp://host:port" (STARTTLS) or "smtps://host:port" (implicit TLS)
//   username     AUTH user; absent or "": no AUTH
//   password     AUTH password (write it as "${env:NAME}"); never logged
//   require_tls  "true" (default): refuse to send over smtp:// without STARTTLS. "false" allows a
//                plain-text connection, and exists for loopback tests only: never on a network.
//   verify_peer  "true" (default): verify the server's certificate
//   ca_file      a PEM bundle to verify against instead of the system's
//   timeout_ms   whole submission, default 30000
//   from         envelope sender (MAIL FROM) when the delivery has no return_path
//
// Outcomes: no answer (connect, TLS, timeout) -> RETRYABLE; 2xx -> ACCEPTED with the message's
// Message-ID as provider_id; 4xx -> RETRYABLE "451 <text>"; 5xx -> PERMANENT "550 <text>".
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "homeroom_plugin.h"
#include "homeroom_plugin.hpp"

namespace {

using homeroom::plugin::log;
using homeroom::plugin::report;

struct Settings {
  std::string url;
  std::string username;
  std::string password;
  bool require_tls = true;
  bool verify_peer = true;
  std::string ca_file;
  std::uint32_t timeout_ms = 30'000;
  std::string from;
};

struct EmailSmtp {
  const hr_host_api* host;
  Settings settings;
};

// One submission in flight: what the completion needs, owned by the heap until it runs (the host
// may call back on another thread, after on_send returned).
struct PendingSend {
  const hr_host_api* host;
  std::uint64_t send_token;
  std::string message_id;
};

// "smtp://host:port" or "smtps://host:port" (a port is required; an IPv6 host in brackets).
bool valid_url(std::string_view url) {
  std::string_view rest;
  if (url.rfind("smtp://", 0) == 0) {
    rest = url.substr(7);
  } else if (url.rfind("smtps://", 0) == 0) {
    rest = url.substr(8);
  } else {
    return false;
  }
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  const auto colon = rest.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == rest.size()) return false;
  const auto host = rest.substr(0, colon);
  const auto port = rest.substr(colon + 1);
  if (port.size() > 5) return false;
  unsigned value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value == 0 || value > 65535) return false;
  if (host.front() == '[') return host.back() == ']' && host.size() > 2;
  for (char c : host) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// Parses a boolean setting; returns false when the text is neither "true" nor "false".
bool parse_bool(std::string_view text, bool& out) {
  if (text == "true") {
    out = true;
  } else if (text == "false") {
    out = false;
  } else {
    return false;
  }
  return true;
}

// The Message-ID header of an RFC 5322 message ("<id@domain>"), or "".
std::string message_id_of(std::string_view message) {
  std::size_t pos = 0;
  while (pos < message.size()) {
    auto end = message.find("\r\n", pos);
    if (end == std::string_view::npos) end = message.size();
    const auto line = message.substr(pos, end - pos);
    if (line.empty()) break;  // end of the header section
    constexpr std::string_view kName = "message-id:";
    if (line.size() > kName.size()) {
      bool match = true;
      for (std::size_t i = 0; i < kName.size() && match; ++i) {
        char c = line[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        match = c == kName[i];
      }
      if (match) {
        auto value = line.substr(kName.size());
        while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
          value.remove_prefix(1);
        }
        while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) {
          value.remove_suffix(1);
        }
        return std::string(value);
      }
    }
    pos = end + 2;
  }
  return {};
}

// The server's reply text, trimmed of line ends (and of the code, if the host left it in).
std::string reply_text(const hr_transfer_result& r) {
  std::string text(r.body != nullptr ? r.body : "", r.body != nullptr ? r.body_len : 0);
  while (!text.empty() && (text.back() == '\r' || text.back() == '\n' || text.back() == ' ')) {
    text.pop_back();
  }
  return text;
}

void on_smtp_done(void* user, const hr_transfer_result* result) {
  std::unique_ptr<PendingSend> pending(static_cast<PendingSend*>(user));
  homeroom::plugin::guard(
      [&] {
        const hr_transfer_result& r = *result;
        if (r.transport_error != 0) {
          const std::string why = r.error_text != nullptr && *r.error_text != '\0'
                                      ? r.error_text
                                      : "SMTP transport error";
          report(pending->host, pending->send_token, HR_OUTCOME_RETRYABLE, {}, why);
          return;
        }
        const std::string text = reply_text(r);
        const std::string code = std::to_string(r.status);
        const std::string reason = text.empty() ? code : code + " " + text;
        if (r.status >= 200 && r.status < 300) {
          report(pending->host, pending->send_token, HR_OUTCOME_ACCEPTED, pending->message_id);
        } else if (r.status >= 400 && r.status < 500) {
          report(pending->host, pending->send_token, HR_OUTCOME_RETRYABLE, {}, reason,
                 r.retry_after_ms);
        } else if (r.status >= 500 && r.status < 600) {
          report(pending->host, pending->send_token, HR_OUTCOME_PERMANENT, {}, reason);
        } else {
          report(pending->host, pending->send_token, HR_OUTCOME_RETRYABLE, {},
                 "unexpected SMTP reply " + reason);
        }
      },
      [&](const char* what) {
        report(pending->host, pending->send_token, HR_OUTCOME_RETRYABLE, {},
               std::string("email_smtp: ") + what);
      });
}

// Reads the settings; returns the error message, or "".
std::string read_settings(const hr_plugin_config* config, Settings& s) {
  using homeroom::plugin::setting;
  if (auto key = homeroom::plugin::unknown_setting(
          config, {"url", "username", "password", "require_tls", "verify_peer", "ca_file",
                   "timeout_ms", "from"})) {
    return "unknown setting '" + std::string(*key) +
           "' (email_smtp knows: url, username, password, require_tls, verify_peer, ca_file, "
           "timeout_ms, from)";
  }
  const auto url = setting(config, "url");
  if (!url || url->empty()) {
    return "setting 'url' is required: smtp://host:port (STARTTLS) or smtps://host:port";
  }
  if (!valid_url(*url)) {
    // The URL is not echoed: a mistyped one may carry credentials.
    return "setting 'url' must be smtp://host:port (STARTTLS) or smtps://host:port";
  }
  s.url = *url;
  s.username = setting(config, "username").value_or("");
  s.password = setting(config, "password").value_or("");
  if (!s.password.empty() && s.username.empty()) {
    return "setting 'password' needs 'username'";
  }
  for (auto [key, field] :
       {std::pair{"require_tls", &s.require_tls}, std::pair{"verify_peer", &s.verify_peer}}) {
    if (auto v = setting(config, key); v && !parse_bool(*v, *field)) {
      return "setting '" + std::string(key) + "' must be true or false";
    }
  }
  s.ca_file = setting(config, "ca_file").value_or("");
  if (auto v = setting(config, "timeout_ms")) {
    std::uint64_t value = 0;
    bool ok = !v->empty() && v->size() <= 9;
    for (char c : *v) {
      ok = ok && c >= '0' && c <= '9';
      if (ok) value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (!ok || value == 0 || value > 3'600'000) {
      return "setting 'timeout_ms' must be an integer between 1 and 3600000";
    }
    s.timeout_ms = static_cast<std::uint32_t>(value);
  }
  s.from = setting(config, "from").value_or("");
  return {};
}

int32_t on_create(const hr_host_api* host, const hr_plugin_config* config, void** instance,
                  char* err, size_t err_len) {
  using homeroom::plugin::set_error;
  return homeroom::plugin::guard(
      [&]() -> int32_t {
        if (host == nullptr || host->size < sizeof(hr_host_api) ||
            host->host_smtp_send == nullptr) {
          set_error(err, err_len, "email_smtp needs a host that offers host_smtp_send");
          return 1;
        }
        Settings settings;
        if (auto problem = read_settings(config, settings); !problem.empty()) {
          set_error(err, err_len, problem);
          return 1;
        }
        log(host, HR_LOG_DEBUG,
            std::string("email_smtp: ready (") +
                (config->instance_name ? config->instance_name : "") + ", " +
                (settings.require_tls ? "TLS required" : "TLS not required") + ")");
        *instance = new EmailSmtp{host, std::move(settings)};
        return 0;
      },
      [&](const char* what) -> int32_t {
        set_error(err, err_len, std::string("email_smtp: ") + what);
        return 1;
      });
}

void on_send(void* instance, uint64_t send_token, const hr_delivery* delivery) {
  auto* self = static_cast<EmailSmtp*>(instance);
  homeroom::plugin::guard(
      [&] {
        if (std::string_view(delivery->channel) != "email") {
          report(self->host, send_token, HR_OUTCOME_PERMANENT, {},
                 "email_smtp does not deliver channel '" + std::string(delivery->channel) + "'");
          return;
        }
        const std::string_view content(delivery->content, delivery->content_len);
        const bool has_return_path = delivery->size >= sizeof(hr_delivery) &&
                                     delivery->return_path != nullptr &&
                                     *delivery->return_path != '\0';
        const std::string mail_from =
            has_return_path ? std::string(delivery->return_path) : self->settings.from;
        if (mail_from.empty()) {
          report(self->host, send_token, HR_OUTCOME_PERMANENT, {},
                 "email_smtp: no envelope sender (set 'from', or the daemon's email.reply_domain)");
          return;
        }
        auto pending = std::make_unique<PendingSend>(
            PendingSend{self->host, send_token, message_id_of(content)});
        const Settings& s = self->settings;
        const char* recipients[] = {delivery->to};
        hr_smtp_request request{};
        request.size = sizeof(hr_smtp_request);
        request.url = s.url.c_str();
        request.username = s.username.c_str();
        request.password = s.password.c_str();
        request.require_tls = s.require_tls ? 1 : 0;
        request.verify_peer = s.verify_peer ? 1 : 0;
        request.ca_file = s.ca_file.c_str();
        request.mail_from = mail_from.c_str();
        request.recipients = recipients;
        request.recipient_count = 1;
        request.message = delivery->content;
        request.message_len = delivery->content_len;
        request.timeout_ms = s.timeout_ms;
        // The host owns `pending` from here: on_smtp_done runs exactly once and deletes it.
        self->host->host_smtp_send(self->host->host, &request, &on_smtp_done, pending.release());
      },
      [&](const char* what) {
        report(self->host, send_token, HR_OUTCOME_RETRYABLE, {},
               std::string("email_smtp: ") + what);
      });
}

void on_destroy(void* instance) { delete static_cast<EmailSmtp*>(instance); }

const hr_plugin kDescriptor = {
    sizeof(hr_plugin), HOMEROOM_PLUGIN_ABI_VERSION, "email_smtp", "email", &on_create, &on_send,
    &on_destroy,
    nullptr,  // on_webhook: bounces and replies arrive by mail, not by webhook
};

}  // namespace

extern "C" const hr_plugin* homeroom_plugin_entry(uint32_t host_min_abi, uint32_t host_max_abi) {
  if (host_min_abi > HOMEROOM_PLUGIN_ABI_VERSION || host_max_abi < HOMEROOM_PLUGIN_ABI_VERSION) {
    return nullptr;
  }
  return &kDescriptor;
}
