// outbox: a channel plugin that "delivers" by writing each delivery as a file into a folder, so the
// whole flow runs with no provider account (development, demos, tests, air-gapped pilots).
//
//   email      -> <dir>/<delivery_id>.eml   the RFC 5322 message, byte for byte
//   sms, push  -> <dir>/<delivery_id>.json  the delivery's fields as JSON
//
// Files are written atomically and durably (tmp file, fsync, rename, fsync of the directory), so a
// crash never leaves half a file and a retry of a delivery overwrites its file instead of adding
// one.
//
// Settings: dir (required; created with its parents if missing).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <new>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "homeroom_plugin.h"
#include "homeroom_plugin.hpp"

namespace {

namespace fs = std::filesystem;
using homeroom::plugin::log;
using homeroom::plugin::report;

struct Outbox {
  const hr_host_api* host;
  fs::path dir;
};

// An I/O step that failed: what was being done, and errno.
struct IoError {
  std::string what;
  int error = 0;
  std::string message() const { return what + ": " + std::generic_category().message(error); }
};

// Closes a file descriptor on every path out.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  // Closes now, reporting the error (NFS and some filesystems report write errors only here).
  int close() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// 0, or the errno of the failed step.
int fsync_dir(const fs::path& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return errno;
  return ::fsync(fd.get()) == 0 ? 0 : errno;
}

// Writes `data` to dir/name atomically; returns the failed step, if any.
std::optional<IoError> write_file_atomically(const fs::path& dir, const std::string& name,
                                             std::string_view data) {
  const fs::path final_path = dir / name;
  const fs::path tmp_path = dir / (name + ".tmp");
  auto fail = [&](const char* what) {  // const char*: no allocation may touch errno first
    const int error = errno;
    ::unlink(tmp_path.c_str());
    return IoError{std::string(what) + " " + tmp_path.string(), error};
  };
  Fd fd(::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640));
  if (fd.get() < 0) {
    const int error = errno;
    return IoError{"create " + tmp_path.string(), error};
  }
  if (!write_all(fd.get(), data)) return fail("write");
  if (::fsync(fd.get()) != 0) return fail("fsync");
  if (fd.close() != 0) return fail("close");
  if (::rename(tmp_path.c_str(), final_path.c_str()) != 0) return fail("rename");
  if (const int error = fsync_dir(dir); error != 0) return IoError{"fsync " + dir.string(), error};
  return std::nullopt;
}

// A delivery id becomes a file name: allow only what cannot escape the folder.
bool safe_file_stem(std::string_view id) {
  if (id.empty() || id.size() > 200 || id.front() == '.') return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

std::string delivery_json(const hr_delivery& d) {
  const nlohmann::json doc = {
      {"delivery_id", d.delivery_id},
      {"channel", d.channel},
      {"to", d.to},
      {"subject", d.subject},
      {"body", d.body},
      {"language", d.language},
      {"category", d.category},
      {"attempt", d.attempt},
      {"content", std::string(d.content, d.content_len)},
  };
  return doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

// Creates `dir` if needed and proves it writable; returns why not, or "".
std::string prepare_dir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return "cannot create it: " + ec.message();
  if (!fs::is_directory(dir, ec)) return "it is not a directory";
  std::string probe = (dir / ".outbox-probe-XXXXXX").string();
  const int fd = ::mkstemp(probe.data());
  if (fd < 0) return "cannot write into it: " + std::generic_category().message(errno);
  ::close(fd);
  ::unlink(probe.c_str());
  return {};
}

int32_t on_create(const hr_host_api* host, const hr_plugin_config* config, void** instance,
                  char* err, size_t err_len) {
  using homeroom::plugin::set_error;
  return homeroom::plugin::guard(
      [&]() -> int32_t {
        if (auto key = homeroom::plugin::unknown_setting(config, {"dir"})) {
          set_error(err, err_len,
                    "unknown setting '" + std::string(*key) + "' (outbox knows: dir)");
          return 1;
        }
        const auto dir = homeroom::plugin::setting(config, "dir");
        if (!dir || dir->empty()) {
          set_error(err, err_len, "setting 'dir' is required: the folder to write deliveries into");
          return 1;
        }
        if (auto problem = prepare_dir(fs::path(*dir)); !problem.empty()) {
          set_error(err, err_len, "setting 'dir' (" + std::string(*dir) + "): " + problem);
          return 1;
        }
        // Resolved now: the daemon's working directory is no business of the files' location.
        *instance = new Outbox{host, fs::absolute(fs::path(*dir))};
        return 0;
      },
      [&](const char* what) -> int32_t {
        set_error(err, err_len, std::string("outbox: ") + what);
        return 1;
      });
}

void on_send(void* instance, uint64_t send_token, const hr_delivery* delivery) {
  auto* outbox = static_cast<Outbox*>(instance);
  homeroom::plugin::guard(
      [&] {
        const std::string_view channel = delivery->channel;
        const std::string_view id = delivery->delivery_id;
        if (!safe_file_stem(id)) {
          report(outbox->host, send_token, HR_OUTCOME_PERMANENT, {},
                 "outbox: delivery id is not usable as a file name");
          return;
        }
        std::string name;
        std::string data;
        if (channel == "email") {
          name = std::string(id) + ".eml";
          data.assign(delivery->content, delivery->content_len);
        } else if (channel == "sms" || channel == "push") {
          name = std::string(id) + ".json";
          data = delivery_json(*delivery);
        } else {
          report(outbox->host, send_token, HR_OUTCOME_PERMANENT, {},
                 "outbox does not deliver channel '" + std::string(channel) + "'");
          return;
        }
        if (auto error = write_file_atomically(outbox->dir, name, data)) {
          log(outbox->host, HR_LOG_DEBUG, "outbox: " + error->message());
          report(outbox->host, send_token, HR_OUTCOME_RETRYABLE, {}, error->message());
          return;
        }
        log(outbox->host, HR_LOG_DEBUG, "outbox: wrote " + name);
        report(outbox->host, send_token, HR_OUTCOME_ACCEPTED, name);
      },
      [&](const char* what) {
        report(outbox->host, send_token, HR_OUTCOME_RETRYABLE, {}, std::string("outbox: ") + what);
      });
}

void on_destroy(void* instance) { delete static_cast<Outbox*>(instance); }

const hr_plugin kDescriptor = {
    sizeof(hr_plugin), HOMEROOM_PLUGIN_ABI_VERSION,
    "outbox",          "email,sms,push",
    &on_create,        &on_send,
    &on_destroy,
    nullptr,  // on_webhook: the outbox gets no provider callbacks
};

}  // namespace

extern "C" const hr_plugin* homeroom_plugin_entry(uint32_t host_min_abi, uint32_t host_max_abi) {
  if (host_min_abi > HOMEROOM_PLUGIN_ABI_VERSION || host_max_abi < HOMEROOM_PLUGIN_ABI_VERSION) {
    return nullptr;
  }
  return &kDescriptor;
}
