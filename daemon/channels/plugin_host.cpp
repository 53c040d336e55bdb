#include "channels/plugin_host.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstddef>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "core/clock.h"

namespace homeroom {
namespace {

thread_local PluginHost::SyncScope* tl_sync_scope = nullptr;
thread_local const PluginHost* tl_in_call = nullptr;  // the host whose call lock this thread holds

// A plugin's string, or "" for NULL.
std::string str(const char* s) { return s != nullptr ? std::string(s) : std::string(); }

// True when a plugin struct of `size` bytes holds the member at `offset` of `field_size` bytes.
bool has_field(std::uint32_t size, std::size_t offset, std::size_t field_size) {
  return size >= offset + field_size;
}
#define HR_HAS(ptr, type, field) \
  has_field((ptr)->size, offsetof(type, field), sizeof(static_cast<type*>(nullptr)->field))

// True when `outcome` is big enough to hold `field` (a member at `offset` of `field_size` bytes).
bool covers(const hr_outcome& outcome, std::size_t offset, std::size_t field_size) {
  return outcome.size >= offset + field_size;
}

}  // namespace

std::shared_ptr<spdlog::logger> plugin_logger() {
  if (auto logger = spdlog::get("plugin")) return logger;
  static std::mutex create_mu;
  std::lock_guard lock(create_mu);
  if (auto logger = spdlog::get("plugin")) return logger;
  auto logger = spdlog::default_logger()->clone("plugin");
  spdlog::register_logger(logger);
  return logger;
}

SendOutcome outcome_from_plugin(const hr_outcome* outcome) {
  SendOutcome out;
  if (outcome == nullptr) {
    out.code = Code::kPermanent;
    out.reason = "plugin reported no outcome";
    return out;
  }
  if (!covers(*outcome, offsetof(hr_outcome, kind), sizeof(outcome->kind))) {
    out.code = Code::kPermanent;
    out.reason = "plugin reported an outcome of " + std::to_string(outcome->size) + " bytes";
    return out;
  }
  if (covers(*outcome, offsetof(hr_outcome, provider_id), sizeof(outcome->provider_id)) &&
      outcome->provider_id != nullptr) {
    out.provider_id = outcome->provider_id;
  }
  if (covers(*outcome, offsetof(hr_outcome, reason), sizeof(outcome->reason)) &&
      outcome->reason != nullptr) {
    out.reason = outcome->reason;
  }
  if (covers(*outcome, offsetof(hr_outcome, retry_after_ms), sizeof(outcome->retry_after_ms)) &&
      outcome->retry_after_ms > 0) {
    out.retry_after_ms = outcome->retry_after_ms;
  }
  switch (outcome->kind) {
    case HR_OUTCOME_ACCEPTED:
      out.code = Code::kOk;
      break;
    case HR_OUTCOME_RETRYABLE:
      out.code = Code::kRetryable;
      break;
    case HR_OUTCOME_THROTTLED:
      out.code = Code::kThrottled;
      break;
    case HR_OUTCOME_CONTACT_STOPPED:
      out.code = Code::kContactStopped;
      break;
    case HR_OUTCOME_PERMANENT:
      out.code = Code::kPermanent;
      break;
    case HR_OUTCOME_CONTACT_GONE:
      out.code = Code::kContactGone;
      break;
    default:
      out.code = Code::kPermanent;
      out.reason = "plugin reported unknown outcome kind " + std::to_string(outcome->kind) +
                   (out.reason.empty() ? "" : ": " + out.reason);
      out.provider_id.clear();
      out.retry_after_ms = 0;
      break;
  }
  return out;
}

PluginHost::PluginHost(std::string instance_name, HostServices services)
    : instance_name_(std::move(instance_name)), services_(std::move(services)) {
  api_.size = sizeof(hr_host_api);
  api_.abi_version = HOMEROOM_PLUGIN_ABI_VERSION;
  api_.host = this;
  api_.host_log = &PluginHost::host_log;
  api_.host_delivery_done = &PluginHost::host_delivery_done;
  api_.host_http_request = &PluginHost::host_http_request;
  api_.host_smtp_send = &PluginHost::host_smtp_send;
  api_.host_now_ms = &PluginHost::host_now_ms;
  api_.host_status_update = &PluginHost::host_status_update;
  api_.host_inbound = &PluginHost::host_inbound;
}

PluginHost::CallScope::CallScope(PluginHost& host) : previous_(tl_in_call) {
  if (tl_in_call != &host) lock_ = std::unique_lock(host.call_mu_);
  tl_in_call = &host;
}

PluginHost::CallScope::~CallScope() { tl_in_call = previous_; }

void PluginHost::begin_webhook() {
  in_webhook_ = true;
  statuses_.clear();
  inbound_.clear();
}

std::vector<InboundReport> PluginHost::take_inbound() { return std::move(inbound_); }

std::vector<ProviderStatus> PluginHost::end_webhook() {
  in_webhook_ = false;
  return std::move(statuses_);
}

std::size_t PluginHost::transfers_in_flight() const {
  std::lock_guard lock(mu_);
  return transfers_;
}

void PluginHost::begin_transfer() {
  std::lock_guard lock(mu_);
  ++transfers_;
}

// Counts the transfer, then either reports `refused` at once (it names why the transfer cannot
// start) or hands `start` the callback that reports the transport's result.
template <typename Start>
void PluginHost::start_transfer(hr_transfer_done_fn done, void* user, const TransferResult& refused,
                                Start&& start) {
  begin_transfer();
  if (!refused.error_text.empty()) {
    finish_transfer(done, user, refused);
    return;
  }
  start([this, done, user](TransferResult result) { finish_transfer(done, user, result); });
}

void PluginHost::finish_transfer(hr_transfer_done_fn done, void* user,
                                 const TransferResult& result) {
  std::vector<hr_header> headers;
  headers.reserve(result.headers.size());
  for (const auto& [name, value] : result.headers) {
    headers.push_back(hr_header{name.c_str(), value.c_str()});
  }
  hr_transfer_result r{};
  r.size = sizeof(hr_transfer_result);
  r.transport_error = result.transport_error;
  r.error_text = result.error_text.c_str();
  r.status = static_cast<std::int32_t>(result.status);
  r.headers = headers.data();
  r.header_count = headers.size();
  r.body = result.body.c_str();
  r.body_len = result.body.size();
  r.retry_after_ms = result.retry_after_ms;
  if (tl_in_call == this) {
    // Completed at once, inside a call into the plugin (no transport, or one shut down): the
    // enclosing call holds the lock and runs the plugin's reports when it is done.
    if (done != nullptr) done(user, &r);
  } else {
    // Reports the plugin makes from its completion run after the call lock is released.
    SyncScope scope(*this);
    {
      CallScope call(*this);
      if (done != nullptr) done(user, &r);
    }
    scope.run_deferred();
  }
  // Notify under the lock: once it is released, wait_idle() may return and destroy this object.
  std::lock_guard lock(mu_);
  --transfers_;
  idle_.notify_all();
}

// Called from plugin (C) frames: nothing may throw out of these.
void PluginHost::host_http_request(void* host, const hr_http_request* request,
                                   hr_transfer_done_fn done, void* user) noexcept {
  auto* self = static_cast<PluginHost*>(host);
  if (self == nullptr) return;
  try {
    TransferResult refused;
    refused.transport_error = kTransportRefused;
    if (request == nullptr || !HR_HAS(request, hr_http_request, url) || request->url == nullptr) {
      refused.error_text = "bad request: no URL";
    }
    HttpRequest r;
    if (refused.error_text.empty()) {
      if (HR_HAS(request, hr_http_request, method)) r.method = str(request->method);
      r.url = request->url;
      if (HR_HAS(request, hr_http_request, header_count) && request->headers != nullptr) {
        for (std::size_t i = 0; i < request->header_count; ++i) {
          if (request->headers[i].name == nullptr) continue;
          r.headers.emplace_back(request->headers[i].name, str(request->headers[i].value));
        }
      }
      if (HR_HAS(request, hr_http_request, body_len) && request->body != nullptr) {
        r.body.assign(request->body, request->body_len);
      }
      if (HR_HAS(request, hr_http_request, timeout_ms)) {
        r.timeout = std::chrono::milliseconds(request->timeout_ms);
      }
      if (HR_HAS(request, hr_http_request, secret_count) && request->secrets != nullptr) {
        for (std::size_t i = 0; i < request->secret_count; ++i) {
          if (request->secrets[i] != nullptr) r.secrets.emplace_back(request->secrets[i]);
        }
      }
      if (self->services_.transport == nullptr) refused.error_text = "no transport";
    }
    self->start_transfer(done, user, refused, [&](TransferCallback on_result) {
      self->services_.transport->http(std::move(r), std::move(on_result));
    });
  } catch (const std::exception& e) {
    plugin_logger()->error("{}: host_http_request failed: {}", self->instance_name_, e.what());
  } catch (...) {
    plugin_logger()->error("{}: host_http_request failed", self->instance_name_);
  }
}

void PluginHost::host_smtp_send(void* host, const hr_smtp_request* request,
                                hr_transfer_done_fn done, void* user) noexcept {
  auto* self = static_cast<PluginHost*>(host);
  if (self == nullptr) return;
  try {
    TransferResult refused;
    refused.transport_error = kTransportRefused;
    if (request == nullptr || !HR_HAS(request, hr_smtp_request, timeout_ms) ||
        request->url == nullptr) {
      refused.error_text = "bad request: short hr_smtp_request or no URL";
    }
    SmtpRequest r;
    if (refused.error_text.empty()) {
      r.url = request->url;
      r.username = str(request->username);
      r.password = str(request->password);
      r.require_tls = request->require_tls != 0;
      r.verify_peer = request->verify_peer != 0;
      r.ca_file = str(request->ca_file);
      r.mail_from = str(request->mail_from);
      if (request->recipients != nullptr) {
        for (std::size_t i = 0; i < request->recipient_count; ++i) {
          if (request->recipients[i] != nullptr) r.recipients.emplace_back(request->recipients[i]);
        }
      }
      if (request->message != nullptr) r.message.assign(request->message, request->message_len);
      r.timeout = std::chrono::milliseconds(request->timeout_ms);
      if (self->services_.transport == nullptr) refused.error_text = "no transport";
    }
    self->start_transfer(done, user, refused, [&](TransferCallback on_result) {
      self->services_.transport->smtp(std::move(r), std::move(on_result));
    });
  } catch (const std::exception& e) {
    plugin_logger()->error("{}: host_smtp_send failed: {}", self->instance_name_, e.what());
  } catch (...) {
    plugin_logger()->error("{}: host_smtp_send failed", self->instance_name_);
  }
}

std::int64_t PluginHost::host_now_ms(void* host) noexcept {
  const auto* self = static_cast<PluginHost*>(host);
  if (self != nullptr && self->services_.clock != nullptr) return self->services_.clock->now();
  return SystemClock().now();
}

void PluginHost::host_status_update(void* host, const hr_status_update* update) noexcept {
  auto* self = static_cast<PluginHost*>(host);
  if (self == nullptr) return;
  try {
    // Only on_webhook may report, and it runs under the call lock on this thread.
    if (tl_in_call != self || !self->in_webhook_) {
      plugin_logger()->error("{}: host_status_update outside on_webhook; ignoring it",
                             self->instance_name_);
      return;
    }
    if (update == nullptr || !HR_HAS(update, hr_status_update, reason) ||
        update->provider_id == nullptr || update->status < HR_STATUS_SENT ||
        update->status > HR_STATUS_CONTACT_STOPPED) {
      plugin_logger()->error("{}: malformed status update; ignoring it", self->instance_name_);
      return;
    }
    self->statuses_.push_back(ProviderStatus{self->instance_name_, update->provider_id,
                                             update->status, str(update->reason)});
  } catch (const std::exception& e) {
    plugin_logger()->error("{}: host_status_update failed: {}", self->instance_name_, e.what());
  } catch (...) {
    plugin_logger()->error("{}: host_status_update failed", self->instance_name_);
  }
}

void PluginHost::host_inbound(void* host, const hr_inbound_message* message) noexcept {
  auto* self = static_cast<PluginHost*>(host);
  if (self == nullptr) return;
  try {
    if (tl_in_call != self || !self->in_webhook_) {
      plugin_logger()->error("{}: host_inbound outside on_webhook; ignoring it",
                             self->instance_name_);
      return;
    }
    if (message == nullptr || !HR_HAS(message, hr_inbound_message, received_at_ms) ||
        message->channel == nullptr || message->provider_id == nullptr ||
        message->from == nullptr || (message->body == nullptr && message->body_len != 0)) {
      plugin_logger()->error("{}: malformed inbound message; ignoring it", self->instance_name_);
      return;
    }
    InboundReport r;
    r.channel_instance = self->instance_name_;
    r.channel = message->channel;
    r.provider_id = message->provider_id;
    r.from = message->from;
    r.to = str(message->to);
    if (message->body != nullptr) r.body.assign(message->body, message->body_len);
    r.is_mime = message->is_mime != 0;
    r.received_at_ms = message->received_at_ms;
    self->inbound_.push_back(std::move(r));
  } catch (const std::exception& e) {
    plugin_logger()->error("{}: host_inbound failed: {}", self->instance_name_, e.what());
  } catch (...) {
    plugin_logger()->error("{}: host_inbound failed", self->instance_name_);
  }
}

std::uint64_t PluginHost::begin(SendCallback done) {
  std::lock_guard lock(mu_);
  const std::uint64_t token = next_token_++;
  pending_.emplace(token, std::move(done));
  ++in_flight_;
  return token;
}

std::size_t PluginHost::in_flight() const {
  std::lock_guard lock(mu_);
  return in_flight_;
}

void PluginHost::wait_idle() {
  std::unique_lock lock(mu_);
  while (!idle_.wait_for(lock, std::chrono::seconds(10),
                         [this] { return in_flight_ == 0 && transfers_ == 0; })) {
    plugin_logger()->warn(
        "{}: still waiting for {} send(s) and {} transfer(s) to finish before shutting down",
        instance_name_, in_flight_, transfers_);
  }
}

// Called from plugin (C) frames: nothing may throw out of here.
void PluginHost::host_log(void* host, std::int32_t level, const char* message) noexcept {
  try {
    auto* self = static_cast<PluginHost*>(host);
    const char* who = self != nullptr ? self->instance_name_.c_str() : "(unknown instance)";
    const char* text = message != nullptr ? message : "(null)";
    auto logger = plugin_logger();
    switch (level) {
      case HR_LOG_DEBUG:
        logger->debug("{}: {}", who, text);
        break;
      case HR_LOG_INFO:
        logger->info("{}: {}", who, text);
        break;
      case HR_LOG_WARN:
        logger->warn("{}: {}", who, text);
        break;
      case HR_LOG_ERROR:
        logger->error("{}: {}", who, text);
        break;
      default:
        logger->warn("{}: (log level {}) {}", who, level, text);
        break;
    }
  } catch (...) {  // NOLINT(bugprone-empty-catch): a failed log line must not kill the plugin
  }
}

void PluginHost::host_delivery_done(void* host, std::uint64_t send_token,
                                    const hr_outcome* outcome) noexcept {
  try {
    auto* self = static_cast<PluginHost*>(host);
    if (self == nullptr) {
      plugin_logger()->error("a plugin reported send {} with no host pointer; ignoring it",
                             send_token);
      return;
    }
    self->complete(send_token, outcome_from_plugin(outcome));
  } catch (const std::exception& e) {
    plugin_logger()->error("reporting send {} failed: {}", send_token, e.what());
  } catch (...) {
    plugin_logger()->error("reporting send {} failed", send_token);
  }
}

void PluginHost::complete(std::uint64_t token, SendOutcome outcome) {
  SendCallback done;
  {
    std::lock_guard lock(mu_);
    auto it = pending_.find(token);
    if (it == pending_.end()) {
      if (token != 0 && token < next_token_) {
        plugin_logger()->warn("{}: send {} reported twice; ignoring the second report",
                              instance_name_, token);
      } else {
        plugin_logger()->error("{}: reported unknown send token {}; ignoring it", instance_name_,
                               token);
      }
      return;
    }
    done = std::move(it->second);
    pending_.erase(it);
  }
  if (tl_sync_scope != nullptr && &tl_sync_scope->host_ == this) {
    tl_sync_scope->reports_.emplace_back(std::move(done), std::move(outcome));
    return;
  }
  run_callback(done, std::move(outcome));
}

void PluginHost::run_callback(SendCallback& done, SendOutcome outcome) {
  try {
    if (done) done(std::move(outcome));
  } catch (const std::exception& e) {
    plugin_logger()->error("{}: a send callback threw: {}", instance_name_, e.what());
  } catch (...) {
    plugin_logger()->error("{}: a send callback threw", instance_name_);
  }
  done = nullptr;  // release captures before the send stops counting as in flight
  // Notify under the lock: once it is released, wait_idle() may return and destroy this object.
  std::lock_guard lock(mu_);
  if (--in_flight_ == 0) idle_.notify_all();
}

PluginHost::SyncScope::SyncScope(PluginHost& host) : host_(host), previous_(tl_sync_scope) {
  tl_sync_scope = this;
}

PluginHost::SyncScope::~SyncScope() {
  if (tl_sync_scope == this) tl_sync_scope = previous_;
  run_deferred();
}

void PluginHost::SyncScope::run_deferred() {
  // Leave the scope first: a callback that sends again must not have its reports queued here.
  if (tl_sync_scope == this) tl_sync_scope = previous_;
  auto reports = std::move(reports_);
  reports_.clear();
  for (auto& [done, outcome] : reports) host_.run_callback(done, std::move(outcome));
}

}  // namespace homeroom
