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
// send to be reported, then destroys the plugin instance.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace homeroom {

class PluginLibrary;

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

 private:
  std::unique_ptr<State> state_;
};

}  // namespace homeroom
