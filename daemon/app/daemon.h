// The composition root: builds every module from the config, owns them, and runs until SIGTERM.
#pragma once

#include <filesystem>
#include <memory>

#include "config/config.h"

namespace homeroom::app {

// Runs homeroomd with `config`; `exe_dir` locates the default plugin folder. Returns the process
// exit code: 0 after a clean drain on SIGTERM/SIGINT, non-zero when start-up failed.
int run_daemon(const Config& config, const std::filesystem::path& exe_dir);

}  // namespace homeroom::app
