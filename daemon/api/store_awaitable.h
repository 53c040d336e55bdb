// Awaiting the store's asynchronous writes from a coroutine. The store answers on its writer
// thread; the coroutine resumes on its own executor.
#pragma once

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <functional>
#include <memory>

namespace homeroom::api {

// `start` begins the store call and must call the callback it is given exactly once.
template <typename T>
using StoreCall = std::function<void(std::function<void(T)>)>;

template <typename T>
struct StoreInitiation {
  template <typename Handler>
  void operator()(Handler handler, StoreCall<T> start) const {
    auto shared = std::make_shared<Handler>(std::move(handler));
    auto executor = boost::asio::get_associated_executor(*shared);
    start([shared, executor](T result) {
      boost::asio::post(executor, [shared, result = std::move(result)]() mutable {
        (*shared)(std::move(result));
      });
    });
  }
};

// Written as a plain function returning the awaitable, not a coroutine, so no capturing lambda
// ever sits in a coroutine frame (GCC 12).
template <typename T>
auto await_store(StoreCall<T> start) {
  return boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&, void(T)>(
      StoreInitiation<T>{}, boost::asio::use_awaitable, std::move(start));
}

}  // namespace homeroom::api
