#include "store/writer.h"

#include <SQLiteCpp/Exception.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <future>
#include <vector>

namespace homeroom::store {

Writer::Writer(std::unique_ptr<SQLite::Database> db, std::size_t max_batch)
    : db_(std::move(db)), max_batch_(max_batch), thread_([this] { loop(); }) {}

Writer::~Writer() { stop(); }

void Writer::submit(WriteJob job, WriteDone done) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      queue_.push_back({std::move(job), std::move(done)});
      cv_.notify_one();
      return;
    }
  }
  done(Status::unavailable("store is shutting down"));
}

Status Writer::run(WriteJob job) {
  std::promise<Status> result;
  auto future = result.get_future();
  submit(std::move(job), [&result](Status s) { result.set_value(std::move(s)); });
  return future.get();
}

void Writer::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
    cv_.notify_one();
  }
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

Writer::Stats Writer::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void Writer::loop() {
  for (;;) {
    std::deque<Pending> batch;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything queued is committed
      while (!queue_.empty() && batch.size() < max_batch_) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    commit_batch(batch);
  }
}

void Writer::commit_batch(std::deque<Pending>& batch) {
  std::vector<Status> results;
  results.reserve(batch.size());
  Status commit_status;
  try {
    db_->exec("BEGIN IMMEDIATE");
    for (auto& p : batch) {
      db_->exec("SAVEPOINT job");
      Status s;
      try {
        s = p.job(*db_);
      } catch (const SQLite::Exception& e) {
        s = Status::internal(std::string("database: ") + e.what());
      } catch (const std::exception& e) {
        s = Status::internal(e.what());
      }
      if (!s.is_ok()) db_->exec("ROLLBACK TO job");
      db_->exec("RELEASE job");
      results.push_back(std::move(s));
    }
    db_->exec("COMMIT");
  } catch (const std::exception& e) {
    spdlog::error("store: group commit of {} jobs failed: {}", batch.size(), e.what());
    commit_status = Status::unavailable(std::string("database commit failed: ") + e.what());
    try {
      if (!db_->getHandle() || sqlite3_get_autocommit(db_->getHandle()) == 0) {
        db_->exec("ROLLBACK");
      }
    } catch (const std::exception&) {
    }
  }
  {
    std::lock_guard lock(mu_);
    stats_.transactions += 1;
    stats_.jobs += batch.size();
  }
  for (std::size_t i = 0; i < batch.size(); ++i) {
    Status s = commit_status.is_ok() ? std::move(results[i]) : commit_status;
    if (batch[i].done) batch[i].done(std::move(s));
  }
}

}  // namespace homeroom::store
