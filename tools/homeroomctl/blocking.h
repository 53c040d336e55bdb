// The Store answers writes through callbacks on its writer thread; a CLI just waits for them.
#pragma once

#include <future>
#include <utility>

#include "core/status.h"

namespace homeroom::ctl {

// `call(done)` starts an asynchronous Store write; returns what `done` received.
template <typename Answer, typename Call>
Answer wait_for(Call call) {
  std::promise<Answer> answer;
  auto future = answer.get_future();
  call([&answer](Answer a) { answer.set_value(std::move(a)); });
  return future.get();
}

}  // namespace homeroom::ctl
