// spdlog for the whole daemon: one default logger (and the "plugin" logger plugins write to),
// to stderr or to a file that SIGHUP reopens after logrotate moved it.
#pragma once

#include <string>

#include "core/status.h"

namespace homeroom::app {

Status setup_logging(const std::string& level, const std::string& file);
// Reopens the log file, if logging to one. Safe from any thread.
void reopen_logs();

}  // namespace homeroom::app
