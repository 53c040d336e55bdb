// homeroomd: the homeroom daemon. See README.md and docs/operations.md.
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <iostream>

#include "app/daemon.h"
#include "app/log_setup.h"
#include "config/config.h"

int main(int argc, char** argv) {
  CLI::App cli{"homeroomd: the homeroom school-to-family messaging gateway"};
  std::string config_path;
  bool check_only = false;
  cli.add_option("-c,--config", config_path,
                 "TOML configuration file (default: the embedded config/homeroom.toml)");
  cli.add_flag("--check-config", check_only, "validate the configuration and exit");
  CLI11_PARSE(cli, argc, argv);

  auto config = config_path.empty() ? homeroom::parse_config(homeroom::embedded_default_config(),
                                                             "<embedded default>")
                                    : homeroom::load_config(config_path);
  if (config_path.empty()) config_path = "<embedded default>";
  if (!config.is_ok()) {
    std::cerr << "homeroomd: " << config.status().message() << "\n";
    return 2;
  }
  if (check_only) {
    std::cout << config_path << ": ok\n";
    return 0;
  }
  if (auto s = homeroom::app::setup_logging(config->log.level, config->log.file); !s.is_ok()) {
    std::cerr << "homeroomd: " << config_path << ": " << s.to_string() << "\n";
    return 2;
  }
  std::error_code ec;
  auto exe = std::filesystem::canonical("/proc/self/exe", ec);
  return homeroom::app::run_daemon(*config, ec ? std::filesystem::path(".") : exe.parent_path());
}
