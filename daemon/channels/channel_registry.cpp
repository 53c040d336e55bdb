#include "channels/channel_registry.h"

#include <algorithm>
#include <mutex>
#include <utility>

#include "channels/plugin_loader.h"

namespace homeroom {

Status ChannelRegistry::add(std::unique_ptr<Channel> channel) {
  if (channel == nullptr) return Status::internal("no channel to add");
  if (find(channel->name()) != nullptr) {
    return Status::conflict("channel instance " + channel->name() + " is configured twice");
  }
  channels_.push_back(std::move(channel));
  return Status::ok();
}

Channel* ChannelRegistry::find(std::string_view instance_name) const {
  for (const auto& channel : channels_) {
    if (channel->name() == instance_name) return channel.get();
  }
  return nullptr;
}

Channel* ChannelRegistry::for_channel(std::string_view channel) const {
  for (const auto& instance : channels_) {
    if (instance->delivers(channel)) return instance.get();
  }
  return nullptr;
}

std::vector<Channel*> ChannelRegistry::all() const {
  std::vector<Channel*> out;
  out.reserve(channels_.size());
  for (const auto& channel : channels_) out.push_back(channel.get());
  return out;
}

namespace {

// A plugin name from config becomes a file name: keep it to a plain word.
bool plain_plugin_name(const std::string& plugin) {
  return !plugin.empty() && std::all_of(plugin.begin(), plugin.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

Result<std::shared_ptr<PluginLibrary>> open_cached(const std::filesystem::path& path) {
  static std::mutex mu;
  static std::map<std::filesystem::path, std::weak_ptr<PluginLibrary>> cache;
  std::lock_guard lock(mu);
  std::error_code ec;
  auto key = std::filesystem::weakly_canonical(path, ec);
  if (ec) key = path;
  if (auto it = cache.find(key); it != cache.end()) {
    if (auto library = it->second.lock()) return library;
  }
  auto library = PluginLibrary::open(path);
  if (library) cache[key] = library.value();
  return library;
}

}  // namespace

Result<std::unique_ptr<Channel>> load_channel(const std::filesystem::path& plugin_dir,
                                              const std::string& plugin,
                                              const std::string& instance,
                                              const std::map<std::string, std::string>& settings,
                                              const HostServices& services) {
  if (!plain_plugin_name(plugin)) {
    return Status::invalid("channels." + instance + ".plugin",
                           "channels." + instance + ": plugin name '" + plugin +
                               "' may hold only letters, digits, '_' and '-'");
  }
  auto library = open_cached(plugin_dir / (plugin + ".so"));
  if (!library) return library.status();
  return library.value()->create_channel(instance, settings, services);
}

}  // namespace homeroom
