// A one-line progress bar on stderr, drawn only when stderr is a terminal (scripts and logs get
// nothing from it). "importing  [#########.........]  1200/2400", optionally followed by a detail
// ("sent 1180, failed 20"). Thread-safe: update() may be called from a store's writer thread.
#pragma once

#include <cstddef>
#include <mutex>
#include <string>

namespace homeroom::ctl {

class ProgressBar {
 public:
  // `enabled`: draw at all (normally stderr_is_terminal()).
  explicit ProgressBar(bool enabled);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // Starts a new stage ("parsing files", "importing") at 0.
  void stage(std::string label);
  void update(std::size_t done, std::size_t total, std::string detail = "");
  // Ends the line (the next output starts on a fresh one).
  void finish();

  static bool stderr_is_terminal();

 private:
  void draw();  // holds mu_

  bool enabled_;
  std::mutex mu_;
  std::string label_;
  std::size_t done_ = 0;
  std::size_t total_ = 0;
  std::string detail_;
  bool drawn_ = false;
};

}  // namespace homeroom::ctl
