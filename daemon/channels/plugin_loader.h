// Loads channel plugins: shared modules that speak the C ABI in plugins/sdk/homeroom_plugin.h.
//
// PluginLibrary::open dlopens a module (RTLD_NOW | RTLD_LOCAL), asks it for a descriptor in the ABI
// range this daemon speaks and validates it; every refusal is an error value whose message names
// the file and says what is wrong, because the reader is an administrator who just edited a config
// file. A PluginLibrary is shared: every Channel created from it holds a shared_ptr, so the module
// stays loaded while any instance lives. Safe for concurrent use once opened.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "channels/channel.h"
#include "core/status.h"
#include "homeroom_plugin.h"

namespace homeroom {

class PluginLibrary : public std::enable_shared_from_this<PluginLibrary> {
 public:
  static Result<std::shared_ptr<PluginLibrary>> open(const std::filesystem::path& path);

  PluginLibrary(const PluginLibrary&) = delete;
  PluginLibrary& operator=(const PluginLibrary&) = delete;
  ~PluginLibrary();  // dlclose

  const std::filesystem::path& path() const { return path_; }
  const std::string& name() const { return name_; }  // the descriptor's name, e.g. "outbox"
  const hr_plugin& descriptor() const { return *descriptor_; }

  // Creates one plugin instance configured by `settings` (the instance's settings table). On
  // failure the message is the plugin's own, prefixed with "channels.<instance_name>: ".
  Result<std::unique_ptr<Channel>> create_channel(
      std::string instance_name, const std::map<std::string, std::string>& settings,
      const HostServices& services = {});

 private:
  PluginLibrary(std::filesystem::path path, void* handle, const hr_plugin* descriptor);

  std::filesystem::path path_;
  void* handle_;
  const hr_plugin* descriptor_;
  std::string name_;
};

}  // namespace homeroom
