// The configured channel instances, by name and by the channel they deliver. Filled once at
// start-up (add), then read from any thread (find, for_channel, all): not safe to add while others
// read.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "channels/channel.h"
#include "core/status.h"

namespace homeroom {

class ChannelRegistry {
 public:
  // Refuses (kConflict) a second instance with the same name.
  Status add(std::unique_ptr<Channel> channel);
  Channel* find(std::string_view instance_name) const;  // nullptr if none
  // The first instance added that delivers `channel` ("email", "sms", "push"); nullptr if none.
  Channel* for_channel(std::string_view channel) const;
  std::vector<Channel*> all() const;  // in the order added

 private:
  std::vector<std::unique_ptr<Channel>> channels_;
};

// Loads `<plugin_dir>/<plugin>.so` and creates the instance `instance` with `settings`. Libraries
// are cached by path, so instances of one plugin share one loaded module (while any of them lives).
// Thread-safe. `services` is what the instance's plugin may use (see HostServices).
Result<std::unique_ptr<Channel>> load_channel(const std::filesystem::path& plugin_dir,
                                              const std::string& plugin,
                                              const std::string& instance,
                                              const std::map<std::string, std::string>& settings,
                                              const HostServices& services = {});

}  // namespace homeroom
