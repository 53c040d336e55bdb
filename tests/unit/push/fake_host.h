// A fake plugin host for the push plugin tests: an hr_host_api that records every HTTP request a
// plugin asks for (completed later by the test with a canned result), every outcome and log line,
// and serves a fake clock. Plus a loader for the real plugin shared objects.
#pragma once

#include <dlfcn.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "homeroom_plugin.h"

namespace homeroom::testing {

struct RecordedRequest {
  std::string method;
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  uint32_t timeout_ms = 0;
  std::vector<std::string> secrets;
  hr_transfer_done_fn done = nullptr;
  void* user = nullptr;
  bool completed = false;

  std::optional<std::string> header(const std::string& name) const {
    for (const auto& [n, v] : headers)
      if (n == name) return v;
    return std::nullopt;
  }
};

struct RecordedOutcome {
  uint64_t token;
  int32_t kind;
  std::string provider_id;
  std::string reason;
  int64_t retry_after_ms;
};

// A canned answer to one request.
struct CannedResult {
  CannedResult(int status_, std::string body_ = {},
               std::vector<std::pair<std::string, std::string>> headers_ = {},
               int64_t retry_after_ms_ = 0)
      : status(status_),
        body(std::move(body_)),
        headers(std::move(headers_)),
        retry_after_ms(retry_after_ms_) {}
  // No answer at all (connect, TLS, timeout): libcurl's code and text.
  static CannedResult transport_failure(int code, std::string text) {
    CannedResult r(0);
    r.transport_error = code;
    r.error_text = std::move(text);
    return r;
  }
  int status;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  int64_t retry_after_ms = 0;
  int transport_error = 0;
  std::string error_text;
};

class FakeHost {
 public:
  FakeHost() {
    api_.size = sizeof(hr_host_api);
    api_.abi_version = HOMEROOM_PLUGIN_ABI_VERSION;
    api_.host = this;
    api_.host_log = [](void* h, int32_t, const char* m) { self(h).logs.emplace_back(m); };
    api_.host_delivery_done = [](void* h, uint64_t token, const hr_outcome* o) {
      self(h).outcomes.push_back({token, o->kind, o->provider_id ? o->provider_id : "",
                                  o->reason ? o->reason : "", o->retry_after_ms});
    };
    api_.host_http_request = [](void* h, const hr_http_request* r, hr_transfer_done_fn done,
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
      FakeHost& host = self(h);
      host.requests.push_back(std::move(rec));
      if (host.on_request) host.on_request(host.requests.size() - 1);
    };
    api_.host_smtp_send = nullptr;
    api_.host_now_ms = [](void* h) { return self(h).now_ms; };
    api_.host_status_update = nullptr;
  }
  FakeHost(const FakeHost&) = delete;
  FakeHost& operator=(const FakeHost&) = delete;

  const hr_host_api* api() const { return &api_; }

  // Completes request `i` with `canned` (each request exactly once).
  void complete(size_t i, const CannedResult& canned) {
    RecordedRequest& r = requests.at(i);
    if (r.completed) throw std::logic_error("request completed twice");
    r.completed = true;
    std::vector<hr_header> headers;
    for (const auto& [n, v] : canned.headers) headers.push_back({n.c_str(), v.c_str()});
    hr_transfer_result result{};
    result.size = sizeof(hr_transfer_result);
    result.transport_error = canned.transport_error;
    result.error_text = canned.error_text.c_str();
    result.status = canned.status;
    result.headers = headers.data();
    result.header_count = headers.size();
    result.body = canned.body.c_str();
    result.body_len = canned.body.size();
    result.retry_after_ms = canned.retry_after_ms;
    r.done(r.user, &result);
  }

  // Fails every request still open (the ABI destroys an instance only when none is): call it
  // before the plugin instance goes away.
  void drain() {
    on_request = nullptr;
    for (size_t i = 0; i < requests.size(); ++i) {
      if (!requests[i].completed) complete(i, CannedResult::transport_failure(42, "test over"));
    }
  }

  size_t open_requests() const {
    size_t n = 0;
    for (const auto& r : requests) n += r.completed ? 0 : 1;
    return n;
  }

  std::string all_logs() const {
    std::string out;
    for (const auto& l : logs) out += l + "\n";
    return out;
  }

  int64_t now_ms = 1'700'000'000'000;
  std::deque<RecordedRequest> requests;  // a deque: references stay valid as requests arrive
  std::vector<RecordedOutcome> outcomes;
  std::vector<std::string> logs;
  // Called after each request is recorded (e.g. to complete it at once, as a real host may).
  std::function<void(size_t)> on_request;

 private:
  static FakeHost& self(void* h) { return *static_cast<FakeHost*>(h); }
  hr_host_api api_{};
};

// A plugin shared object, loaded with dlopen, and one instance of it.
class LoadedPlugin {
 public:
  explicit LoadedPlugin(const std::string& name) {
    const std::string path = std::string(HOMEROOM_PLUGIN_DIR) + "/" + name + ".so";
    handle_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle_ == nullptr) throw std::runtime_error(std::string("dlopen: ") + dlerror());
    auto entry = reinterpret_cast<hr_plugin_entry_fn>(dlsym(handle_, HOMEROOM_PLUGIN_ENTRY_SYMBOL));
    if (entry == nullptr) throw std::runtime_error("no entry symbol in " + path);
    descriptor_ = entry(1, 1);
    if (descriptor_ == nullptr) throw std::runtime_error("plugin refused ABI 1");
  }
  ~LoadedPlugin() {
    if (instance_ != nullptr) descriptor_->on_destroy(instance_);
    if (handle_ != nullptr) dlclose(handle_);
  }
  LoadedPlugin(const LoadedPlugin&) = delete;
  LoadedPlugin& operator=(const LoadedPlugin&) = delete;

  const hr_plugin& descriptor() const { return *descriptor_; }

  // Creates the instance; returns "" or on_create's error message.
  std::string create(const hr_host_api* host, const std::map<std::string, std::string>& settings) {
    std::vector<hr_kv> kvs;
    for (const auto& [k, v] : settings) kvs.push_back({k.c_str(), v.c_str()});
    hr_plugin_config config{};
    config.size = sizeof(hr_plugin_config);
    config.instance_name = "test";
    config.settings = kvs.data();
    config.settings_count = kvs.size();
    char err[512] = {0};
    void* instance = nullptr;
    if (descriptor_->on_create(host, &config, &instance, err, sizeof(err)) != 0) return err;
    instance_ = instance;
    return {};
  }

  void send(uint64_t token, const std::string& to, const std::string& content,
            const std::string& category = "note") {
    hr_delivery d{};
    d.size = sizeof(hr_delivery);
    d.delivery_id = "d1";
    d.channel = "push";
    d.to = to.c_str();
    d.subject = "";
    d.body = "Field trip tomorrow";
    d.content = content.data();
    d.content_len = content.size();
    d.language = "en";
    d.category = category.c_str();
    d.attempt = 1;
    d.status_callback_url = "";
    d.return_path = "";
    descriptor_->on_send(instance_, token, &d);
  }

 private:
  void* handle_ = nullptr;
  const hr_plugin* descriptor_ = nullptr;
  void* instance_ = nullptr;
};

}  // namespace homeroom::testing
