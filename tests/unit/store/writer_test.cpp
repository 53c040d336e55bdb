#include <SQLiteCpp/Statement.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <thread>
#include <vector>

#include "store/database.h"
#include "store/writer.h"
#include "support/temp_dir.h"

using namespace homeroom;
using homeroom::testing::TempDir;

namespace {

std::unique_ptr<SQLite::Database> open_scratch(const TempDir& dir) {
  auto db = store::open_connection((dir / "w.db").string(), false);
  db->exec("CREATE TABLE t (v INTEGER NOT NULL UNIQUE) STRICT");
  return db;
}

int count_rows(const TempDir& dir) {
  auto db = store::open_connection((dir / "w.db").string(), true);
  SQLite::Statement q(*db, "SELECT COUNT(*) FROM t");
  q.executeStep();
  return q.getColumn(0).getInt();
}

store::WriteJob insert(int v) {
  return [v](SQLite::Database& db) {
    SQLite::Statement q(db, "INSERT INTO t (v) VALUES (?)");
    q.bind(1, v);
    q.exec();
    return Status{};
  };
}

}  // namespace

TEST_CASE("concurrent writes share transactions (group commit) and all become durable") {
  TempDir dir;
  store::Writer writer(open_scratch(dir));
  constexpr int kThreads = 8, kPerThread = 250;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        if (writer.run(insert(t * kPerThread + i)).is_ok()) ++ok;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(ok == kThreads * kPerThread);
  CHECK(count_rows(dir) == kThreads * kPerThread);
  auto stats = writer.stats();
  CHECK(stats.jobs == kThreads * kPerThread);
  // With 8 writers waiting on each other, batches must have formed.
  CHECK(stats.transactions < stats.jobs);
}

TEST_CASE("a failing job is rolled back alone - its batch neighbours commit") {
  TempDir dir;
  store::Writer writer(open_scratch(dir));
  std::atomic<int> answered{0};
  std::vector<Status> results(3);
  auto record = [&](int i) {
    return [&, i](Status s) {
      results[i] = std::move(s);
      ++answered;
    };
  };
  writer.submit(insert(1), record(0));
  writer.submit(
      [](SQLite::Database& db) {
        insert(2)(db);
        insert(1)(db);  // UNIQUE violation: throws after writing 2
        return Status{};
      },
      record(1));
  writer.submit(
      [](SQLite::Database& db) {
        insert(3)(db);
        return Status::invalid("x", "refused");  // non-ok: rolled back
      },
      record(2));
  writer.stop();
  REQUIRE(answered == 3);
  CHECK(results[0].is_ok());
  CHECK(results[1].code() == Code::kInternal);
  CHECK(results[2].code() == Code::kInvalidArgument);
  CHECK(count_rows(dir) == 1);  // neither 2 nor 3 survived
}

TEST_CASE("after stop, a submitted job is answered unavailable") {
  TempDir dir;
  store::Writer writer(open_scratch(dir));
  writer.stop();
  CHECK(writer.run(insert(1)).code() == Code::kUnavailable);
}
