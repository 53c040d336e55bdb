#include "channels/plugin_loader.h"

#include <dlfcn.h>
#include <spdlog/spdlog.h>

#include <array>
#include <cstddef>
#include <system_error>
#include <utility>
#include <vector>

#include "channels/channel_state.h"

namespace homeroom {
namespace {

constexpr std::uint32_t kAbiMin = HOMEROOM_PLUGIN_ABI_VERSION;
constexpr std::uint32_t kAbiMax = HOMEROOM_PLUGIN_ABI_VERSION;

std::vector<std::string> split_channels(const char* list) {
  std::vector<std::string> out;
  std::string_view rest = list;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) out.emplace_back(item);
  }
  return out;
}

// Why `d` is unusable as a v1 descriptor, or "" when it is fine.
std::string descriptor_problem(const hr_plugin& d) {
  if (d.size < sizeof(hr_plugin)) {
    return "has a descriptor of " + std::to_string(d.size) + " bytes; ABI v1's is " +
           std::to_string(sizeof(hr_plugin));
  }
  if (d.name == nullptr || d.name[0] == '\0') return "has a descriptor with no name";
  if (d.channels == nullptr || split_channels(d.channels).empty()) {
    return "declares no channels";
  }
  if (d.on_create == nullptr) return "has no on_create function";
  if (d.on_send == nullptr) return "has no on_send function";
  if (d.on_destroy == nullptr) return "has no on_destroy function";
  return {};
}

}  // namespace

Result<std::shared_ptr<PluginLibrary>> PluginLibrary::open(const std::filesystem::path& path) {
  const std::string file = path.string();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return Status::not_found("plugin " + file + " does not exist");
  }
  void* handle = ::dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = ::dlerror();  // NOLINT(concurrency-mt-unsafe): glibc keeps it per thread
    return Status::invalid("plugin", "cannot load plugin " + file + ": " +
                                         (why != nullptr ? why : "unknown dlopen error"));
  }
  // From here on `handle` must be closed on every refusal.
  auto refuse = [&](const std::string& message) -> Result<std::shared_ptr<PluginLibrary>> {
    ::dlclose(handle);
    return Status::invalid("plugin", message);
  };
  void* symbol = ::dlsym(handle, HOMEROOM_PLUGIN_ENTRY_SYMBOL);
  if (symbol == nullptr) {
    return refuse("plugin " + file +
                  " has no " HOMEROOM_PLUGIN_ENTRY_SYMBOL " function; is it a homeroom plugin?");
  }
  // POSIX guarantees a data pointer from dlsym converts to a function pointer.
  auto entry = reinterpret_cast<hr_plugin_entry_fn>(symbol);  // NOLINT
  const hr_plugin* descriptor = entry(kAbiMin, kAbiMax);
  if (descriptor == nullptr) {
    return refuse("plugin " + file + " speaks no ABI version in " + std::to_string(kAbiMin) + ".." +
                  std::to_string(kAbiMax));
  }
  if (descriptor->size < offsetof(hr_plugin, abi_version) + sizeof(descriptor->abi_version)) {
    return refuse("plugin " + file + " has a descriptor of " + std::to_string(descriptor->size) +
                  " bytes");
  }
  if (descriptor->abi_version < kAbiMin || descriptor->abi_version > kAbiMax) {
    return refuse("plugin " + file + " speaks ABI version " +
                  std::to_string(descriptor->abi_version) + "; homeroomd speaks " +
                  (kAbiMin == kAbiMax ? std::to_string(kAbiMin)
                                      : std::to_string(kAbiMin) + ".." + std::to_string(kAbiMax)));
  }
  if (auto problem = descriptor_problem(*descriptor); !problem.empty()) {
    return refuse("plugin " + file + " " + problem);
  }
  spdlog::info("loaded plugin {} (ABI v{}) from {}", descriptor->name, descriptor->abi_version,
               file);
  return std::shared_ptr<PluginLibrary>(new PluginLibrary(path, handle, descriptor));
}

PluginLibrary::PluginLibrary(std::filesystem::path path, void* handle, const hr_plugin* descriptor)
    : path_(std::move(path)), handle_(handle), descriptor_(descriptor), name_(descriptor->name) {}

PluginLibrary::~PluginLibrary() {
  if (handle_ != nullptr) ::dlclose(handle_);
}

Result<std::unique_ptr<Channel>> PluginLibrary::create_channel(
    std::string instance_name, const std::map<std::string, std::string>& settings,
    const HostServices& services) {
  std::vector<hr_kv> kvs;
  kvs.reserve(settings.size());
  for (const auto& [key, value] : settings) kvs.push_back(hr_kv{key.c_str(), value.c_str()});

  auto state = std::make_unique<Channel::State>();
  state->library = shared_from_this();
  state->plugin = descriptor_;
  state->name = std::move(instance_name);
  state->channels = split_channels(descriptor_->channels);
  state->host = std::make_unique<PluginHost>(state->name, services);

  hr_plugin_config config{};
  config.size = sizeof(hr_plugin_config);
  config.instance_name = state->name.c_str();
  config.settings = kvs.data();
  config.settings_count = kvs.size();

  std::array<char, 1024> err{};
  void* instance = nullptr;
  const std::int32_t rc =
      descriptor_->on_create(state->host->api(), &config, &instance, err.data(), err.size());
  err.back() = '\0';
  if (rc != 0) {
    std::string message = err.data();
    if (message.empty()) message = "plugin " + name_ + " refused the settings and gave no reason";
    return Status::invalid("channels." + state->name, "channels." + state->name + ": " + message);
  }
  state->instance = instance;
  spdlog::info("channel {}: plugin {}, delivers {}", state->name, name_, descriptor_->channels);
  return std::make_unique<Channel>(std::move(state));
}

}  // namespace homeroom
