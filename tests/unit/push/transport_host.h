// A plugin host for the loopback tests made of the daemon's real network client
// (homeroom::Transport, libcurl multi on its own thread) and a fake clock. Like the daemon's host
// it serialises every call into the plugin instance (on_send and transfer completions) under one
// lock, so the plugin never sees two threads at once; outcomes are collected for the test to wait
// on. Call stop() before the plugin instance is destroyed: it lets the transport finish.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "core/clock.h"
#include "fake_host.h"
#include "homeroom_plugin.h"
#include "http/transport.h"

namespace homeroom::testing {

class TransportHost {
 public:
  TransportHost() {
    api_.size = sizeof(hr_host_api);
    api_.abi_version = HOMEROOM_PLUGIN_ABI_VERSION;
    api_.host = this;
    api_.host_log = [](void* h, int32_t, const char* m) {
      auto& self = *static_cast<TransportHost*>(h);
      std::lock_guard lock(self.mu_);
      self.logs_.emplace_back(m);
    };
    api_.host_delivery_done = [](void* h, uint64_t token, const hr_outcome* o) {
      auto& self = *static_cast<TransportHost*>(h);
      std::lock_guard lock(self.mu_);
      self.outcomes_.push_back({token, o->kind, o->provider_id ? o->provider_id : "",
                                o->reason ? o->reason : "", o->retry_after_ms});
      self.cv_.notify_all();
    };
    api_.host_http_request = [](void* h, const hr_http_request* r, hr_transfer_done_fn done,
                                void* user) {
      auto& self = *static_cast<TransportHost*>(h);
      HttpRequest request;
      request.method = r->method;
      request.url = r->url;
      for (size_t i = 0; i < r->header_count; ++i)
        request.headers.emplace_back(r->headers[i].name, r->headers[i].value);
      request.body.assign(r->body, r->body_len);
      request.timeout = std::chrono::milliseconds(r->timeout_ms);
      for (size_t i = 0; i < r->secret_count; ++i) request.secrets.emplace_back(r->secrets[i]);
      self.transport_.http(std::move(request), [&self, done, user](TransferResult t) {
        std::lock_guard call(self.call_mu_);
        std::vector<hr_header> headers;
        for (const auto& [n, v] : t.headers) headers.push_back({n.c_str(), v.c_str()});
        hr_transfer_result result{};
        result.size = sizeof(result);
        result.transport_error = t.transport_error;
        result.error_text = t.error_text.c_str();
        result.status = static_cast<int32_t>(t.status);
        result.headers = headers.data();
        result.header_count = headers.size();
        result.body = t.body.c_str();
        result.body_len = t.body.size();
        result.retry_after_ms = t.retry_after_ms;
        done(user, &result);
      });
    };
    api_.host_smtp_send = nullptr;
    api_.host_now_ms = [](void* h) { return static_cast<TransportHost*>(h)->clock_.now(); };
    api_.host_status_update = nullptr;
  }
  TransportHost(const TransportHost&) = delete;
  TransportHost& operator=(const TransportHost&) = delete;

  const hr_host_api* api() const { return &api_; }
  Millis now() const { return clock_.now(); }

  // Calls into the plugin under the call lock (a completion may run inline: recursive).
  template <typename Fn>
  void call(Fn&& fn) {
    std::lock_guard call(call_mu_);
    fn();
  }

  // The outcomes once there are at least n of them (or what there is after 20 s).
  std::vector<RecordedOutcome> wait_outcomes(size_t n) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(20), [&] { return outcomes_.size() >= n; });
    return outcomes_;
  }

  std::string all_logs() {
    std::lock_guard lock(mu_);
    std::string out;
    for (const auto& l : logs_) out += l + "\n";
    return out;
  }

  void stop() { transport_.shutdown(std::chrono::seconds(5)); }

 private:
  FakeClock clock_;
  Transport transport_{clock_};
  std::recursive_mutex call_mu_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<RecordedOutcome> outcomes_;
  std::vector<std::string> logs_;
  hr_host_api api_{};
};

}  // namespace homeroom::testing
