#include "channels/channel.h"

#include <algorithm>
#include <utility>

#include "channels/channel_state.h"

namespace homeroom {

Channel::Channel(std::unique_ptr<State> state) : state_(std::move(state)) {}

Channel::~Channel() {
  if (!state_) return;
  state_->host->wait_idle();
  std::lock_guard lock(state_->call_mu);
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
    std::lock_guard lock(s.call_mu);
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
    s.plugin->on_send(s.instance, token, &d);
  }
  // Reports the plugin made from inside on_send run here, with no lock held.
  scope.run_deferred();
}

}  // namespace homeroom
