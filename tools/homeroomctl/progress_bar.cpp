#include "progress_bar.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <utility>

namespace homeroom::ctl {

ProgressBar::ProgressBar(bool enabled) : enabled_(enabled) {}

ProgressBar::~ProgressBar() { finish(); }

bool ProgressBar::stderr_is_terminal() { return isatty(STDERR_FILENO) == 1; }

void ProgressBar::stage(std::string label) {
  std::lock_guard lock(mu_);
  label_ = std::move(label);
  done_ = 0;
  total_ = 0;
  detail_.clear();
  draw();
}

void ProgressBar::update(std::size_t done, std::size_t total, std::string detail) {
  std::lock_guard lock(mu_);
  done_ = done;
  total_ = total;
  detail_ = std::move(detail);
  draw();
}

void ProgressBar::finish() {
  std::lock_guard lock(mu_);
  if (enabled_ && drawn_) std::fputc('\n', stderr);
  drawn_ = false;
}

void ProgressBar::draw() {
  if (!enabled_) return;
  constexpr std::size_t kWidth = 30;
  const std::size_t filled = total_ == 0 ? 0 : std::min(kWidth, kWidth * done_ / total_);
  std::string bar(filled, '#');
  bar.append(kWidth - filled, '.');
  std::fprintf(stderr, "\r%-14s [%s] %zu/%zu%s%s\033[K", label_.c_str(), bar.c_str(), done_, total_,
               detail_.empty() ? "" : "  ", detail_.c_str());
  std::fflush(stderr);
  drawn_ = true;
}

}  // namespace homeroom::ctl
