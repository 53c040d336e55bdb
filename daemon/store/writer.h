// The single writer. Every change to the database goes through one thread that owns the only
// read-write connection and groups whatever jobs are waiting into ONE transaction (group commit):
// thousands of concurrent API requests share one fsync, and each is answered only after the
// transaction holding it is durable.
//
// A job runs inside its own SAVEPOINT: a job that returns a non-ok Status (or throws) is rolled
// back alone, and the others in its batch still commit. `done` runs on the writer thread after the
// COMMIT returned (or failed, in which case every job in the batch gets the error); keep it short
// and hand real work to another executor.
#pragma once

#include <SQLiteCpp/Database.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "core/status.h"

namespace homeroom::store {

using WriteJob = std::function<Status(SQLite::Database&)>;
using WriteDone = std::function<void(Status)>;

class Writer {
 public:
  explicit Writer(std::unique_ptr<SQLite::Database> db, std::size_t max_batch = 1024);
  ~Writer();  // finishes queued jobs, then joins
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Thread-safe. After stop() a submitted job is answered kUnavailable at once.
  void submit(WriteJob job, WriteDone done);
  // Blocking convenience for tools and tests: submit and wait for the commit.
  Status run(WriteJob job);
  // Commits what is queued, then stops the thread. Idempotent.
  void stop();

  struct Stats {
    std::uint64_t transactions = 0;
    std::uint64_t jobs = 0;
  };
  Stats stats() const;

 private:
  struct Pending {
    WriteJob job;
    WriteDone done;
  };
  void loop();
  void commit_batch(std::deque<Pending>& batch);

  std::unique_ptr<SQLite::Database> db_;
  const std::size_t max_batch_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  Stats stats_;
  std::thread thread_;
};

}  // namespace homeroom::store
