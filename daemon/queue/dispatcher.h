// The dispatcher moves deliveries from the durable queue to the channels.
//
// One thread leases due deliveries in batches (the lease is durable: a crash returns them to the
// queue when it expires), renders each, and hands it to its channel without waiting; channels
// report outcomes from any thread, and the dispatcher records them in batches through the store's
// group commit. Sends in flight are bounded by `max_in_flight`.
//
// stop() stops leasing, waits (up to a deadline) for every send in flight to report, records the
// outcomes durably, and joins. A send still in flight at the deadline keeps its lease and is
// retried after restart: delivery is at least once.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include <map>
#include <memory>

#include "channels/channel.h"
#include "queue/retry_policy.h"
#include "queue/token_bucket.h"
#include "render/renderer.h"
#include "store/store.h"

namespace homeroom::queue {

struct DispatcherOptions {
  int batch_size = 512;
  Millis lease_ms = 60'000;
  std::chrono::milliseconds poll_interval{250};
  std::size_t max_in_flight = 1024;
  RetryPolicy retry;
  render::RenderOptions render;
  // A text needing more SMS segments fails permanently instead of being sent.
  int max_sms_segments = 10;
  // Provider limits by channel ("sms", ...; one instance per channel): messages per second, and
  // for sms segments per second. Absent or <= 0: unlimited. See queue/token_bucket.h.
  std::map<std::string, double> rate_per_second{};
  double sms_segments_per_second = 0;
};

class Dispatcher {
 public:
  // `routes` maps a channel ("email", "sms", "push") to the instance that delivers it.
  using Routes = std::map<std::string, Channel*>;
  Dispatcher(store::Store& store, Routes routes, const Clock& clock, DispatcherOptions options);
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  void start();
  // New work was accepted: look now instead of at the next poll. Thread-safe.
  void wake();
  void stop(std::chrono::milliseconds drain_deadline);

  struct Stats {
    std::uint64_t leased = 0, sent = 0, retried = 0, failed = 0, dead = 0;
  };
  Stats stats() const;
  std::size_t in_flight() const { return in_flight_.load(); }

 private:
  void loop();
  std::size_t lease_and_send();
  // `delivery` is an element of `batch`, which the send's callback keeps alive.
  void send_one(const LeasedDelivery& delivery,
                const std::shared_ptr<const std::vector<LeasedDelivery>>& batch);
  void on_outcome(const LeasedDelivery& delivery, const SendOutcome& outcome, int segments = 0);
  void flush_updates(bool wait);

  store::Store& store_;
  const Routes routes_;
  const Clock& clock_;
  const DispatcherOptions options_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool running_ = false;
  bool woken_ = false;
  std::vector<store::DeliveryUpdate> pending_;
  Stats stats_;
  std::mt19937_64 rng_{std::random_device{}()};
  std::atomic<std::size_t> in_flight_{0};
  // Throttles, made in the constructor and never changed (each bucket locks itself).
  std::map<std::string, std::unique_ptr<TokenBucket>> buckets_;
  std::unique_ptr<TokenBucket> sms_segments_;
  // How long until a throttled channel with due work has a token again (0: none waits).
  std::atomic<Millis> token_wait_ms_{0};
  // Per channel, the school of the last bulk delivery leased: the next lease's round-robin
  // across schools starts after it (store::LeaseLimits::bulk_after). Dispatcher thread only.
  std::map<std::string, std::string> bulk_after_;
  // When the first delivery not yet due becomes due (0: none waits). Dispatcher thread only.
  Millis next_due_at_ = 0;
  std::thread thread_;
};

}  // namespace homeroom::queue
