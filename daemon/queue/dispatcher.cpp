#include "queue/dispatcher.h"

#include <spdlog/spdlog.h>

#include <future>

#include "core/redact.h"
#include "render/broadcast_text.h"
#include "render/sms_segments.h"

namespace homeroom::queue {
namespace {

// Outcomes come back one at a time. The dispatcher lets them gather (up to kRecordBatch, for at
// most kGatherOutcomes) into one record job: one transaction's page writes then serve hundreds
// of deliveries instead of a few, and the thread wakes once per batch, not once per outcome.
constexpr std::size_t kRecordBatch = 256;
constexpr auto kGatherOutcomes = std::chrono::milliseconds(5);

}  // namespace

Dispatcher::Dispatcher(store::Store& store, Routes routes, const Clock& clock,
                       DispatcherOptions options)
    : store_(store), routes_(std::move(routes)), clock_(clock), options_(std::move(options)) {
  const Millis now = clock_.now();
  for (const auto& [channel, rate] : options_.rate_per_second) {
    if (rate > 0) buckets_[channel] = std::make_unique<TokenBucket>(rate, now);
  }
  if (options_.sms_segments_per_second > 0) {
    sms_segments_ = std::make_unique<TokenBucket>(options_.sms_segments_per_second, now);
  }
}

Dispatcher::~Dispatcher() { stop(std::chrono::seconds(5)); }

void Dispatcher::start() {
  std::lock_guard lock(mu_);
  if (running_) return;
  running_ = true;
  thread_ = std::thread([this] { loop(); });
}

void Dispatcher::wake() {
  std::lock_guard lock(mu_);
  woken_ = true;
  cv_.notify_one();
}

void Dispatcher::stop(std::chrono::milliseconds drain_deadline) {
  {
    std::lock_guard lock(mu_);
    if (!running_) return;
    running_ = false;
    cv_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
  // Sends in flight report from channel threads; give them until the deadline.
  auto until = std::chrono::steady_clock::now() + drain_deadline;
  {
    std::unique_lock lock(mu_);
    cv_.wait_until(lock, until, [this] { return in_flight_.load() == 0; });
  }
  if (auto left = in_flight_.load()) {
    spdlog::warn(
        "dispatcher: {} sends still in flight at shutdown; they are retried after their "
        "lease expires",
        left);
  }
  flush_updates(/*wait=*/true);
}

Dispatcher::Stats Dispatcher::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void Dispatcher::loop() {
  for (;;) {
    flush_updates(/*wait=*/false);
    std::size_t leased = 0;
    {
      std::lock_guard lock(mu_);
      if (!running_) return;
    }
    if (in_flight_.load() < options_.max_in_flight) leased = lease_and_send();
    std::unique_lock lock(mu_);
    if (!running_) return;
    if (leased == static_cast<std::size_t>(options_.batch_size) && pending_.empty()) continue;
    auto wait = options_.poll_interval;
    if (Millis tokens = token_wait_ms_.load(); tokens > 0) {
      wait = std::min<std::chrono::milliseconds>(wait, std::chrono::milliseconds(tokens));
    }
    if (next_due_at_ > 0) {  // a send_at on time, not up to a poll interval late
      const Millis until_due = std::max<Millis>(next_due_at_ - clock_.now(), 1);
      wait = std::min<std::chrono::milliseconds>(wait, std::chrono::milliseconds(until_due));
    }
    cv_.wait_for(lock, wait, [this] { return !running_ || woken_ || !pending_.empty(); });
    if (!woken_ && running_ && !pending_.empty()) {
      cv_.wait_for(lock, kGatherOutcomes,
                   [this] { return !running_ || woken_ || pending_.size() >= kRecordBatch; });
    }
    woken_ = false;
  }
}

std::size_t Dispatcher::lease_and_send() {
  // A read first: when nothing is due, take no write lock at all.
  next_due_at_ = 0;
  auto due = store_.next_due();
  if (!due.is_ok()) {
    spdlog::error("dispatcher: {}", due.status().to_string());
    return 0;
  }
  if (!due->has_value()) return 0;
  if (**due > clock_.now()) {
    next_due_at_ = **due;
    return 0;
  }

  auto room = options_.max_in_flight - in_flight_.load();
  int limit = static_cast<int>(std::min<std::size_t>(room, options_.batch_size));
  // Each throttled channel takes no more than its tokens; individual deliveries go first, bulk
  // ones take turns across schools.
  const Millis now = clock_.now();
  store::LeaseLimits limits{limit, {}, bulk_after_};
  Millis token_wait = 0;
  for (const auto& channel : known_channels()) {
    int tokens = limit;
    Millis wait = 0;
    if (auto it = buckets_.find(channel); it != buckets_.end()) {
      tokens = std::min(tokens, it->second->available(now));
      wait = std::max(wait, it->second->wait_ms(now));
    }
    if (channel == "sms" && sms_segments_) {
      tokens = std::min(tokens, sms_segments_->available(now));
      wait = std::max(wait, sms_segments_->wait_ms(now));
    }
    if (tokens < limit) limits.per_channel[channel] = tokens;
    if (wait > 0) token_wait = token_wait == 0 ? wait : std::min(token_wait, wait);
  }
  token_wait_ms_.store(std::max<Millis>(token_wait, token_wait > 0 ? 5 : 0));
  std::promise<Result<std::vector<LeasedDelivery>>> leased;
  store_.lease_due(
      std::move(limits), options_.lease_ms,
      [&leased](Result<std::vector<LeasedDelivery>> r) { leased.set_value(std::move(r)); });
  auto batch = leased.get_future().get();
  if (!batch.is_ok()) {
    spdlog::error("dispatcher: lease failed: {}", batch.status().to_string());
    return 0;
  }
  {
    std::lock_guard lock(mu_);
    stats_.leased += batch->size();
  }
  // Shared by the sends' callbacks, which may outlive this call: each holds the batch, not a copy
  // of its delivery (two dozen strings).
  auto leased_batch = std::make_shared<const std::vector<LeasedDelivery>>(std::move(*batch));
  for (const auto& d : *leased_batch) {
    if (d.priority == 1) bulk_after_[d.channel] = d.school_id;
  }
  for (const auto& d : *leased_batch) send_one(d, leased_batch);
  return leased_batch->size();
}

void Dispatcher::send_one(const LeasedDelivery& delivery,
                          const std::shared_ptr<const std::vector<LeasedDelivery>>& batch) {
  auto route = routes_.find(delivery.channel);
  if (route == routes_.end() || route->second == nullptr) {
    on_outcome(delivery,
               SendOutcome{Code::kRetryable, "",
                           "no channel instance is configured for " + delivery.channel, 0});
    return;
  }
  // A broadcast copy carries its template: fill it in for this household now.
  LeasedDelivery filled;
  if (!delivery.template_contexts.empty()) {
    auto text = render::fill_broadcast_text(delivery, options_.render.from_name);
    if (!text.is_ok()) {
      on_outcome(delivery,
                 SendOutcome{Code::kPermanent, "", "template: " + text.status().message(), 0});
      return;
    }
    filled = delivery;
    filled.text = std::move(*text);
  }
  const LeasedDelivery& d = delivery.template_contexts.empty() ? delivery : filled;
  auto rendered = render::render_delivery(d, options_.render, clock_.now());
  if (!options_.render.public_url.empty()) {
    rendered.status_callback_url =
        options_.render.public_url + "/hooks/" + route->second->name() + "/status";
  }
  int segments = 0;
  if (delivery.channel == "sms") {
    segments = render::count_sms_segments(rendered.content).segments;
    if (segments > options_.max_sms_segments) {
      on_outcome(delivery,
                 SendOutcome{Code::kPermanent, "",
                             "the text needs " + std::to_string(segments) +
                                 " SMS segments; the limit is " +
                                 std::to_string(options_.max_sms_segments),
                             0},
                 segments);
      return;
    }
  }
  if (auto it = buckets_.find(delivery.channel); it != buckets_.end()) {
    it->second->take(1, clock_.now());
  }
  if (delivery.channel == "sms" && sms_segments_) sms_segments_->take(segments, clock_.now());
  in_flight_.fetch_add(1);
  // The callback may run before send() returns, or later on a channel thread.
  route->second->send(rendered, [this, batch, &delivery, segments](SendOutcome outcome) {
    on_outcome(delivery, outcome, segments);
    if (in_flight_.fetch_sub(1) == 1) {  // stop() waits for the last one
      std::lock_guard lock(mu_);
      cv_.notify_all();
    }
  });
}

void Dispatcher::on_outcome(const LeasedDelivery& delivery, const SendOutcome& outcome,
                            int segments) {
  if (outcome.code == Code::kThrottled) {
    // The provider's limit is lower than configured (or shared): slow down, recover gradually.
    if (auto it = buckets_.find(delivery.channel); it != buckets_.end()) {
      it->second->on_throttled(clock_.now());
    }
    if (delivery.channel == "sms" && sms_segments_) sms_segments_->on_throttled(clock_.now());
  }
  std::lock_guard lock(mu_);
  double jitter = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
  auto update = decide(delivery, outcome, clock_.now(), options_.retry, jitter);
  update.segments = segments;
  const std::string to = mask_address(delivery.address);
  switch (update.state) {
    case DeliveryState::kSent:
      ++stats_.sent;
      spdlog::info("delivery {} sent via {} to {} (attempt {})", delivery.id, delivery.channel, to,
                   delivery.attempt);
      break;
    case DeliveryState::kQueued:
      ++stats_.retried;
      spdlog::warn("delivery {} via {} to {}: {}", delivery.id, delivery.channel, to,
                   update.detail);
      break;
    case DeliveryState::kDead:
      ++stats_.dead;
      spdlog::error("delivery {} via {} to {} is dead: {}", delivery.id, delivery.channel, to,
                    update.detail);
      break;
    default:
      ++stats_.failed;
      spdlog::warn("delivery {} via {} to {} failed: {}", delivery.id, delivery.channel, to,
                   update.detail);
  }
  const std::size_t before = pending_.size();
  // The notes collected into a digest share its fate (each falls back on its own on failure).
  for (const auto& item : delivery.digest) {
    store::DeliveryUpdate companion = update;
    companion.id = item.delivery_id;
    companion.attempt = item.attempt;
    companion.segments = 0;
    pending_.push_back(std::move(companion));
  }
  pending_.push_back(std::move(update));
  // The dispatcher wants the first outcome (to start gathering) and a full batch (loop()).
  if (before == 0 || (before < kRecordBatch && pending_.size() >= kRecordBatch)) {
    cv_.notify_all();
  }
}

void Dispatcher::flush_updates(bool wait) {
  std::vector<store::DeliveryUpdate> updates;
  {
    std::lock_guard lock(mu_);
    updates.swap(pending_);
  }
  if (updates.empty()) return;
  auto done = std::make_shared<std::promise<Status>>();
  auto future = done->get_future();
  std::size_t n = updates.size();
  store_.record_updates(std::move(updates), [done, n](Status s) {
    // On failure the leases expire and the deliveries are tried again: nothing is lost.
    if (!s.is_ok()) spdlog::error("dispatcher: recording {} outcomes failed: {}", n, s.to_string());
    done->set_value(std::move(s));
  });
  if (wait) future.wait();
}

}  // namespace homeroom::queue
