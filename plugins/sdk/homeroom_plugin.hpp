// A small header-only helper for writing homeroom channel plugins in C++ against the C ABI in
// homeroom_plugin.h. It adds nothing to the ABI: settings lookup, outcome reporting with the size
// filled in, safe error messages for on_create, and a guard so no exception crosses the boundary.
//
//   int32_t on_create(const hr_host_api* host, const hr_plugin_config* config, void** instance,
//                     char* err, size_t err_len) {
//     using namespace homeroom::plugin;
//     return guard([&]() -> int32_t { ...; return 0; },
//                  [&](const char* what) -> int32_t { set_error(err, err_len, what); return 1; });
//   }
// plugins/outbox/outbox.cpp is a complete example.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "homeroom_plugin.h"

namespace homeroom::plugin {

// The value of setting `key`, or nullopt when it is absent.
inline std::optional<std::string_view> setting(const hr_plugin_config* config,
                                               std::string_view key) {
  if (config == nullptr || config->size < sizeof(hr_plugin_config)) return std::nullopt;
  for (std::size_t i = 0; i < config->settings_count; ++i) {
    const hr_kv& kv = config->settings[i];
    if (kv.key != nullptr && key == kv.key) {
      return std::string_view(kv.value != nullptr ? kv.value : "");
    }
  }
  return std::nullopt;
}

// The first setting whose key is not in `known`, so on_create can refuse it by name.
inline std::optional<std::string_view> unknown_setting(
    const hr_plugin_config* config, std::initializer_list<std::string_view> known) {
  if (config == nullptr || config->size < sizeof(hr_plugin_config)) return std::nullopt;
  for (std::size_t i = 0; i < config->settings_count; ++i) {
    const std::string_view key = config->settings[i].key != nullptr ? config->settings[i].key : "";
    bool found = false;
    for (std::string_view k : known) found = found || k == key;
    if (!found) return key;
  }
  return std::nullopt;
}

// Writes `message` into on_create's err buffer, truncated and always NUL-terminated.
inline void set_error(char* err, std::size_t err_len, const std::string& message) noexcept {
  if (err == nullptr || err_len == 0) return;
  std::snprintf(err, err_len, "%s", message.c_str());
}

inline void log(const hr_host_api* host, hr_log_level level, const std::string& message) noexcept {
  if (host != nullptr && host->host_log != nullptr)
    host->host_log(host->host, level, message.c_str());
}

// Reports the outcome of send `token`; empty strings are passed as NULL.
inline void report(const hr_host_api* host, std::uint64_t token, hr_outcome_kind kind,
                   const std::string& provider_id = {}, const std::string& reason = {},
                   std::int64_t retry_after_ms = 0) noexcept {
  if (host == nullptr || host->host_delivery_done == nullptr) return;
  hr_outcome outcome{};
  outcome.size = sizeof(hr_outcome);
  outcome.kind = kind;
  outcome.provider_id = provider_id.empty() ? nullptr : provider_id.c_str();
  outcome.reason = reason.empty() ? nullptr : reason.c_str();
  outcome.retry_after_ms = retry_after_ms;
  host->host_delivery_done(host->host, token, &outcome);
}

// True when the host offers host_inbound (hosts older than it give a shorter hr_host_api).
inline bool host_takes_inbound(const hr_host_api* host) noexcept {
  return host != nullptr &&
         host->size >= offsetof(hr_host_api, host_inbound) + sizeof(host->host_inbound) &&
         host->host_inbound != nullptr;
}

// Reports a message a person sent (from inside on_webhook); false when the host cannot take it
// (then answer the provider 503, so it tries again later).
inline bool report_inbound(const hr_host_api* host, const std::string& channel,
                           const std::string& provider_id, const std::string& from,
                           const std::string& to, std::string_view body, bool is_mime,
                           std::int64_t received_at_ms = 0) noexcept {
  if (!host_takes_inbound(host)) return false;
  hr_inbound_message m{};
  m.size = sizeof(hr_inbound_message);
  m.channel = channel.c_str();
  m.provider_id = provider_id.c_str();
  m.from = from.c_str();
  m.to = to.c_str();
  m.body = body.empty() ? "" : body.data();
  m.body_len = body.size();
  m.is_mime = is_mime ? 1 : 0;
  m.received_at_ms = received_at_ms;
  host->host_inbound(host->host, &m);
  return true;
}

// Runs `body`; if it throws, returns on_error(what) instead. Wrap every on_* function in one.
template <typename Body, typename OnError>
auto guard(Body&& body, OnError&& on_error) noexcept -> decltype(body()) {
  try {
    return body();
  } catch (const std::exception& e) {
    return on_error(e.what());
  } catch (...) {
    return on_error("unknown exception");
  }
}

}  // namespace homeroom::plugin
