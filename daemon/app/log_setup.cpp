#include "app/log_setup.h"

#include <spdlog/details/file_helper.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <memory>
#include <mutex>

namespace homeroom::app {
namespace {

// A file sink that can reopen its file (spdlog's basic_file_sink cannot).
class ReopenableFileSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit ReopenableFileSink(const std::string& path) { file_.open(path, false); }
  void reopen() {
    std::lock_guard lock(mutex_);
    file_.reopen(false);
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    file_.write(formatted);
  }
  void flush_() override { file_.flush(); }

 private:
  spdlog::details::file_helper file_;
};

// stderr, flushed when spdlog says (spdlog's stderr sink flushes every line: a write(2) per
// delivery sent, on the thread that logged it).
class BufferedStderrSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  BufferedStderrSink() {
    static char buffer[64 * 1024];  // C's stderr is unbuffered
    std::setvbuf(stderr, buffer, _IOFBF, sizeof buffer);
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    std::fwrite(formatted.data(), 1, formatted.size(), stderr);
  }
  void flush_() override { std::fflush(stderr); }
};

std::shared_ptr<ReopenableFileSink> g_file_sink;

}  // namespace

Status setup_logging(const std::string& level, const std::string& file) {
  spdlog::sink_ptr sink;
  try {
    if (file.empty()) {
      sink = std::make_shared<BufferedStderrSink>();
    } else {
      g_file_sink = std::make_shared<ReopenableFileSink>(file);
      sink = g_file_sink;
    }
  } catch (const spdlog::spdlog_ex& e) {
    return Status::invalid("log.file", e.what());
  }
  auto level_value = spdlog::level::from_str(level);
  for (const char* name : {"homeroomd", "plugin"}) {
    spdlog::drop(name);
    auto logger = std::make_shared<spdlog::logger>(name, sink);
    logger->set_level(level_value);
    logger->flush_on(spdlog::level::warn);
    if (std::string(name) == "homeroomd") {
      spdlog::set_default_logger(logger);
    } else {
      spdlog::register_logger(logger);
    }
  }
  // Warnings flush at once; info lines (one per delivery) at most a second later, so a busy
  // dispatcher does not pay a write(2) per line.
  spdlog::flush_every(std::chrono::seconds(1));
  return {};
}

void reopen_logs() {
  if (g_file_sink) g_file_sink->reopen();
  spdlog::info("logs reopened");
}

}  // namespace homeroom::app
