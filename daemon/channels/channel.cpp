#include "channels/channel.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstddef>
#include <exception>
#include <utility>
#include <vector>

#include "channels/channel_state.h"

namespace homeroom {

Channel::Channel(std::unique_ptr<State> state) : state_(std::move(state)) {}

Channel::~Channel() {
  if (!state_) return;
  state_->host->wait_idle();
  PluginHost::CallScope call(*state_->host);
  state_->plugin->on_destroy(state_->instance);
  state_->instance = nullptr;
}

const std::string& Channel::name() const { return state_->name; }
const std::string& Channel::plugin_name() const { return state_->library->name(); }
const std::vector<std::string>& Channel::channels() const { return state_->channels; }
const std::shared_ptr<PluginLibrary>& Channel::library() const { return state_->library; }

bool Channel::delivers(std::string_view channel) const {
  return std::find(state_->channels.begin(), state_->channels.end(), channel) !=
         state_->channels.end();
}

std::size_t Channel::in_flight() const { return state_->host->in_flight(); }

void Channel::send(const RenderedDelivery& delivery, SendCallback done) {
  State& s = *state_;
  PluginHost::SyncScope scope(*s.host);
  {
    PluginHost::CallScope call(*s.host);
    const std::uint64_t token = s.host->begin(std::move(done));
    hr_delivery d{};
    d.size = sizeof(hr_delivery);
    d.delivery_id = delivery.delivery_id.c_str();
    d.channel = delivery.channel.c_str();
    d.to = delivery.to.c_str();
    d.subject = delivery.subject.c_str();
    d.body = delivery.body.c_str();
    d.content = delivery.content.c_str();
    d.content_len = delivery.content.size();
    d.language = delivery.language.c_str();
    d.category = delivery.category.c_str();
    d.attempt = delivery.attempt;
    d.status_callback_url = delivery.status_callback_url.c_str();
    d.return_path = delivery.return_path.c_str();
    d.from = delivery.from.c_str();
    s.plugin->on_send(s.instance, token, &d);
  }
  // Reports the plugin made from inside on_send run here, with no lock held.
  scope.run_deferred();
}

WebhookResponse Channel::webhook(const WebhookRequest& request) {
  State& s = *state_;
  WebhookResponse out;
  const bool has_hook =
      s.plugin->size >= offsetof(hr_plugin, on_webhook) + sizeof(s.plugin->on_webhook) &&
      s.plugin->on_webhook != nullptr;
  if (!has_hook) return out;

  std::vector<hr_header> headers;
  headers.reserve(request.headers.size());
  for (const auto& [name, value] : request.headers) {
    headers.push_back(hr_header{name.c_str(), value.c_str()});
  }
  hr_webhook_request r{};
  r.size = sizeof(hr_webhook_request);
  r.method = request.method.c_str();
  r.path = request.path.c_str();
  r.public_url = request.public_url.c_str();
  r.query = request.query.c_str();
  r.headers = headers.data();
  r.header_count = headers.size();
  r.body = request.body.c_str();
  r.body_len = request.body.size();

  std::vector<ProviderStatus> statuses;
  PluginHost::SyncScope scope(*s.host);
  {
    PluginHost::CallScope call(*s.host);
    hr_webhook_response response{};
    response.size = sizeof(hr_webhook_response);
    s.host->begin_webhook();
    s.plugin->on_webhook(s.instance, &r, &response);
    statuses = s.host->end_webhook();
    out.inbound = s.host->take_inbound();
    // The plugin's strings stay valid until its next call: copy them while we hold the lock.
    out.status = response.status >= 100 && response.status <= 599 ? response.status : 500;
    if (response.content_type != nullptr) out.content_type = response.content_type;
    if (response.body != nullptr) out.body.assign(response.body, response.body_len);
  }
  scope.run_deferred();
  const auto& on_status = s.host->services().on_status;
  for (const auto& status : statuses) {
    try {
      if (on_status) on_status(status);
    } catch (const std::exception& e) {
      // Not recorded: a 500 makes the provider send it again.
      spdlog::error("{}: recording a provider status failed: {}", s.name, e.what());
      out = WebhookResponse{500, "", ""};
    }
  }
  return out;
}

}  // namespace homeroom
