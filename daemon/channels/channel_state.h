// Channel's internals, shared between channel.cpp and plugin_loader.cpp (which builds them).
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "channels/channel.h"
#include "channels/plugin_host.h"
#include "channels/plugin_loader.h"
#include "homeroom_plugin.h"

namespace homeroom {

// Members are destroyed bottom-up: the plugin instance goes first (in ~Channel), then its host, and
// the library, declared first, is unloaded last.
struct Channel::State {
  std::shared_ptr<PluginLibrary> library;
  const hr_plugin* plugin = nullptr;
  std::string name;
  std::vector<std::string> channels;
  std::unique_ptr<PluginHost> host;
  void* instance = nullptr;  // calls into it: under host->call_mutex(), one at a time
};

}  // namespace homeroom
