#include "channels/plugin_host.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstddef>
#include <exception>

namespace homeroom {
namespace {

thread_local PluginHost::SyncScope* tl_sync_scope = nullptr;

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

PluginHost::PluginHost(std::string instance_name) : instance_name_(std::move(instance_name)) {
  api_.size = sizeof(hr_host_api);
  api_.abi_version = HOMEROOM_PLUGIN_ABI_VERSION;
  api_.host = this;
  api_.host_log = &PluginHost::host_log;
  api_.host_delivery_done = &PluginHost::host_delivery_done;
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
  while (!idle_.wait_for(lock, std::chrono::seconds(10), [this] { return in_flight_ == 0; })) {
    plugin_logger()->warn("{}: still waiting for {} send(s) to be reported before shutting down",
                          instance_name_, in_flight_);
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
