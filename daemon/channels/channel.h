// A Channel is one configured channel instance ("email", "sms-school-b", ...) backed by one
// instance of a plugin loaded through the C ABI (plugins/sdk/homeroom_plugin.h). It is the only
// thing the dispatcher sees of a plugin: a rendered delivery goes in, exactly one SendOutcome comes
// back.
//
// Threading: send() may be called from any thread; calls into the plugin instance are serialised
// (the ABI promises a plugin one caller at a time). `done` is never called while the Channel holds
// its own locks, so it may call send() again. It runs either on the thread that called send()
// (before send() returns, when the plugin answers at once) or later on whichever host thread the
// plugin reports from (a transport completion). An exception thrown by `done` is logged and
// dropped: it must not unwind through plugin (C) frames.
//
// Lifetime: a Channel keeps its plugin library loaded. Destroying it waits for every outstanding
// send to be reported and every transfer the plugin started to be completed, then destroys the
// plugin instance. Shut the Transport down (which completes every transfer) before destroying
// channels whose plugins may still be waiting for one.
//
// Host services: a plugin's host_http_request / host_smtp_send go to HostServices::transport (with
// none, they complete at once with transport_error and "no transport"); the plugin's completion
// callback runs on the transport thread while holding the instance's call lock. host_now_ms reads
// HostServices::clock (the system clock when null). Status updates a plugin reports from inside
// on_webhook reach HostServices::on_status after on_webhook returns, outside the call lock, before
// webhook() returns. Inbound messages it reports come back in WebhookResponse::inbound.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace homeroom {

class Clock;
class PluginLibrary;
class Transport;

// A provider's report about a message it accepted earlier (hr_status_update, copied).
struct ProviderStatus {
  std::string channel_instance;  // the reporting channel instance's name
  std::string provider_id;       // as the plugin returned it in SendOutcome::provider_id
  int status = 0;                // hr_provider_status: 1 sent .. 5 contact stopped
  std::string reason;
};

// What the daemon offers plugins besides logging and reporting; all optional. The transport and
// clock must outlive every Channel created with them.
struct HostServices {
  Transport* transport = nullptr;
  const Clock* clock = nullptr;
  std::function<void(const ProviderStatus&)> on_status;
};

// A request to /hooks/<instance>/<path>, as the HTTP layer received it.
struct WebhookRequest {
  std::string method;
  std::string path;        // what follows /hooks/<instance>/, e.g. "status"
  std::string public_url;  // the full URL as the provider called it (signatures cover it)
  std::string query;       // raw, without '?'
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// A message a person sent, as a plugin reported it from inside on_webhook (hr_inbound_message,
// copied). The host turns it into a conversations::InboundMessage (parsing it when is_mime).
struct InboundReport {
  std::string channel_instance;  // the reporting channel instance's name
  std::string channel;           // "sms" | "email"
  std::string provider_id;
  std::string from;
  std::string to;
  std::string body;  // the text, or with is_mime a whole RFC 5322 message
  bool is_mime = false;
  std::int64_t received_at_ms = 0;  // 0: unknown (the host uses the time it received it)
};

struct WebhookResponse {
  int status = 404;  // 404 when the plugin takes no webhooks
  std::string content_type;
  std::string body;
  // Messages people sent that the plugin reported (host_inbound); the caller must record them
  // before answering the provider with `status`.
  std::vector<InboundReport> inbound{};
};

// What the host hands a channel; mirrors hr_delivery.
struct RenderedDelivery {
  std::string delivery_id;  // stable across retries: plugins use it for idempotency
  std::string channel;      // "email" | "sms" | "push"
  std::string to;
  std::string subject;
  std::string body;
  std::string content;  // email: complete RFC 5322 message; sms: the text; push: JSON payload
  std::string language;
  std::string category;
  std::uint32_t attempt = 1;
  std::string status_callback_url;  // "<public_url>/hooks/<instance>/status", or ""
  std::string return_path;          // email envelope sender with a bounce token, or ""
  std::string from{};               // sms: the pool number to send from, or "" (the plugin's)
};

struct SendOutcome {
  Code code = Code::kOk;    // kOk (accepted), kRetryable, kThrottled, kContactStopped, kPermanent
  std::string provider_id;  // on success (may be empty)
  std::string reason;       // the provider's words on failure
  std::int64_t retry_after_ms = 0;  // > 0 when the provider said when to try again
};

using SendCallback = std::function<void(SendOutcome)>;

class Channel {
 public:
  struct State;  // defined in channel_state.h; built by PluginLibrary::create_channel

  explicit Channel(std::unique_ptr<State> state);
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;
  ~Channel();  // waits until no send is outstanding, then calls the plugin's on_destroy

  const std::string& name() const;  // instance name from config, e.g. "email"
  const std::string& plugin_name() const;
  const std::vector<std::string>& channels() const;  // from the plugin's descriptor
  bool delivers(std::string_view channel) const;
  const std::shared_ptr<PluginLibrary>& library() const;

  // Starts a send; `done` is called exactly once (see the threading note above).
  void send(const RenderedDelivery& delivery, SendCallback done);
  // Sends started whose `done` has not yet returned.
  std::size_t in_flight() const;
  // Hands a webhook to the plugin's on_webhook (404 when it has none); blocks for the call lock.
  WebhookResponse webhook(const WebhookRequest& request);

 private:
  std::unique_ptr<State> state_;
};

}  // namespace homeroom
