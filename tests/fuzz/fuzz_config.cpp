// Fuzzes parse_config: any bytes must give a Config or an error, never a crash, and the result
// must keep the promises config.h makes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "config/config.h"

namespace {

void require(bool condition) {
  if (!condition) std::abort();
}

// Deterministic: variables with an even-length name are set.
std::optional<std::string> fake_env(const std::string& name) {
  if (name.size() % 2 == 1) return std::nullopt;
  return "value-of-" + name;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto result = homeroom::parse_config(text, "fuzz.toml", fake_env);
  if (!result.is_ok()) {
    const auto& status = result.status();
    require(status.code() == homeroom::Code::kMalformed ||
            status.code() == homeroom::Code::kInvalidArgument);
    require(status.message().rfind("fuzz.toml", 0) == 0);
    require(status.code() != homeroom::Code::kInvalidArgument || !status.field().empty());
    return 0;
  }
  const homeroom::Config& config = *result;
  require(!config.channels.empty());
  require(!config.store.path.empty());
  require(config.queue.batch_size >= 1 && config.queue.batch_size <= 10000);
  require(config.queue.backoff_base <= config.queue.backoff_max);
  std::set<std::string> channels;
  for (const auto& instance : config.channels) {
    require(!instance.name.empty() && !instance.plugin.empty());
    require(channels.insert(instance.channel).second);
  }
  return 0;
}
