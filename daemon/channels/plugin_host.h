// The host side of one plugin instance: the hr_host_api it is given and the book of its sends in
// flight. Internal to channels/. The hr_host_api's `host` pointer is this object, so it must
// outlive the plugin instance (Channel::State owns it and destroys it after on_destroy).
//
// Sends are identified by tokens from a per-instance counter. A report for a token that was never
// issued is logged as an error and dropped; a second report for a token is logged and dropped.
// Callbacks run outside every lock here; in_flight() counts a send until its callback has returned,
// which is what wait_idle() waits for, together with the transfers the plugin started.
//
// The call lock (call_mutex) serialises every call into the plugin instance: on_send, on_webhook,
// on_destroy and transfer completions. CallScope holds it and marks the thread as inside a call of
// this instance, so a completion that arrives on that same thread (no transport, or a transport
// already shut down, answers at once) runs without locking again.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "channels/channel.h"
#include "homeroom_plugin.h"
#include "http/transport.h"

namespace spdlog {
class logger;
}

namespace homeroom {

// The spdlog logger "plugin" (created from the default logger's sinks if nobody registered it).
std::shared_ptr<spdlog::logger> plugin_logger();

// Maps the plugin's report to a SendOutcome, reading only the fields outcome->size covers. A
// missing outcome or an unknown kind is a plugin bug, reported as kPermanent with a reason saying
// so.
SendOutcome outcome_from_plugin(const hr_outcome* outcome);

class PluginHost {
 public:
  PluginHost(std::string instance_name, HostServices services = {});
  PluginHost(const PluginHost&) = delete;
  PluginHost& operator=(const PluginHost&) = delete;

  const hr_host_api* api() const { return &api_; }
  const std::string& instance_name() const { return instance_name_; }

  // Registers a send about to be handed to the plugin; returns its token.
  std::uint64_t begin(SendCallback done);
  std::size_t in_flight() const;
  // Transfers started by the plugin whose completion has not yet returned.
  std::size_t transfers_in_flight() const;
  // Blocks until every send begun has been reported and its callback has returned, and every
  // transfer has completed.
  void wait_idle();

  std::mutex& call_mutex() { return call_mu_; }

  // Holds the call lock (unless this thread already holds it for this host) for one call into the
  // plugin instance.
  class CallScope {
   public:
    explicit CallScope(PluginHost& host);
    CallScope(const CallScope&) = delete;
    CallScope& operator=(const CallScope&) = delete;
    ~CallScope();

   private:
    const PluginHost* previous_;
    std::unique_lock<std::mutex> lock_;
  };

  // While a webhook is being handled: collects the plugin's host_status_update and host_inbound
  // reports.
  void begin_webhook();
  std::vector<ProviderStatus> end_webhook();
  // The host_inbound reports of the webhook that just ended (call after end_webhook()).
  std::vector<InboundReport> take_inbound();
  const HostServices& services() const { return services_; }

  // While a SyncScope for this host is alive on a thread, reports made on that thread (i.e. from
  // inside on_send) are queued, and run by run_deferred() once the caller has left its locks.
  class SyncScope {
   public:
    explicit SyncScope(PluginHost& host);
    SyncScope(const SyncScope&) = delete;
    SyncScope& operator=(const SyncScope&) = delete;
    ~SyncScope();
    void run_deferred();

   private:
    friend class PluginHost;
    PluginHost& host_;
    SyncScope* previous_;
    std::vector<std::pair<SendCallback, SendOutcome>> reports_;
  };

 private:
  static void host_log(void* host, std::int32_t level, const char* message) noexcept;
  static void host_delivery_done(void* host, std::uint64_t send_token,
                                 const hr_outcome* outcome) noexcept;

  static void host_http_request(void* host, const hr_http_request* request,
                                hr_transfer_done_fn done, void* user) noexcept;
  static void host_smtp_send(void* host, const hr_smtp_request* request, hr_transfer_done_fn done,
                             void* user) noexcept;
  static std::int64_t host_now_ms(void* host) noexcept;
  static void host_status_update(void* host, const hr_status_update* update) noexcept;
  static void host_inbound(void* host, const hr_inbound_message* message) noexcept;

  void complete(std::uint64_t token, SendOutcome outcome);
  void run_callback(SendCallback& done, SendOutcome outcome);
  void begin_transfer();
  template <typename Start>
  void start_transfer(hr_transfer_done_fn done, void* user, const TransferResult& refused,
                      Start&& start);
  // Runs the plugin's completion under the call lock, then stops counting the transfer.
  void finish_transfer(hr_transfer_done_fn done, void* user, const TransferResult& result);

  hr_host_api api_{};
  std::string instance_name_;
  HostServices services_;
  std::mutex call_mu_;
  bool in_webhook_ = false;               // guarded by call_mu_
  std::vector<ProviderStatus> statuses_;  // guarded by call_mu_
  std::vector<InboundReport> inbound_;    // guarded by call_mu_
  std::size_t transfers_ = 0;             // guarded by mu_
  mutable std::mutex mu_;
  std::condition_variable idle_;
  std::map<std::uint64_t, SendCallback> pending_;
  std::uint64_t next_token_ = 1;
  std::size_t in_flight_ = 0;
};

}  // namespace homeroom
