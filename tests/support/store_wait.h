// Runs one of the store's asynchronous calls and waits for its answer (the writer thread calls
// back): `call` gets the callback to hand to the store.
#pragma once

#include <future>
#include <utility>

#include "core/status.h"

namespace homeroom::testing {

template <typename T, typename Call>
Result<T> wait_for(Call call) {
  std::promise<Result<T>> p;
  call([&p](Result<T> r) { p.set_value(std::move(r)); });
  return p.get_future().get();
}

template <typename Call>
Status wait_status(Call call) {
  std::promise<Status> p;
  call([&p](Status s) { p.set_value(std::move(s)); });
  return p.get_future().get();
}

}  // namespace homeroom::testing
