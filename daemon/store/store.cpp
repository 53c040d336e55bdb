#include "store/store.h"

#include <SQLiteCpp/Exception.h>
#include <spdlog/spdlog.h>

#include "store/database.h"
#include "store/queries.h"

namespace homeroom::store {

// Read-only connections, one per concurrent reader, reused. WAL lets them read while the writer
// commits.
class ReadPool {
 public:
  explicit ReadPool(std::string path) : path_(std::move(path)) {}

  class Lease {
   public:
    Lease(ReadPool& pool, std::unique_ptr<SQLite::Database> db) : pool_(pool), db_(std::move(db)) {}
    ~Lease() { pool_.give_back(std::move(db_)); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    SQLite::Database& db() { return *db_; }

   private:
    ReadPool& pool_;
    std::unique_ptr<SQLite::Database> db_;
  };

  Lease acquire() {
    {
      std::lock_guard lock(mu_);
      if (!idle_.empty()) {
        auto db = std::move(idle_.back());
        idle_.pop_back();
        return Lease(*this, std::move(db));
      }
    }
    return Lease(*this, open_connection(path_, /*read_only=*/true));
  }

 private:
  void give_back(std::unique_ptr<SQLite::Database> db) {
    if (!db) return;
    std::lock_guard lock(mu_);
    if (idle_.size() < 16) idle_.push_back(std::move(db));
  }

  std::string path_;
  std::mutex mu_;
  std::vector<std::unique_ptr<SQLite::Database>> idle_;
};

namespace {

Status from_exception(const std::exception& e) {
  return Status::internal(std::string("database: ") + e.what());
}

template <typename T>
Result<T> found(std::optional<T> value, const std::string& what, const std::string& id) {
  if (!value) return Status::not_found(what + " " + id + " not found");
  return std::move(*value);
}

}  // namespace

Result<std::unique_ptr<Store>> Store::open(const std::filesystem::path& path, const Clock& clock) {
  try {
    if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
    auto db = open_connection(path.string(), /*read_only=*/false);
    migrate(*db);
    auto writer = std::make_unique<Writer>(std::move(db));
    return std::unique_ptr<Store>(new Store(path, clock, std::move(writer)));
  } catch (const std::exception& e) {
    return Status::unavailable("cannot open database " + path.string() + ": " + e.what());
  }
}

Store::Store(std::filesystem::path path, const Clock& clock, std::unique_ptr<Writer> writer)
    : path_(std::move(path)),
      clock_(clock),
      writer_(std::move(writer)),
      readers_(std::make_unique<ReadPool>(path_.string())) {}

Store::~Store() { close(); }

void Store::close() { writer_->stop(); }

template <typename Fn>
auto Store::read(Fn&& fn) -> decltype(fn(std::declval<SQLite::Database&>())) {
  try {
    auto lease = readers_->acquire();
    return fn(lease.db());
  } catch (const std::exception& e) {
    return from_exception(e);
  }
}

void Store::put_school(School school, StatusDone done) {
  writer_->submit([this, school = std::move(school)](
                      SQLite::Database& db) { return store::put_school(db, school, clock_.now()); },
                  std::move(done));
}

void Store::delete_school(std::string id, StatusDone done) {
  writer_->submit(
      [id = std::move(id)](SQLite::Database& db) { return delete_row(db, "schools", id); },
      std::move(done));
}

Result<School> Store::get_school(const std::string& id) {
  return read([&](SQLite::Database& db) { return found(store::get_school(db, id), "school", id); });
}

void Store::put_staff(Staff staff, StatusDone done) {
  writer_->submit([this, staff = std::move(staff)](
                      SQLite::Database& db) { return store::put_staff(db, staff, clock_.now()); },
                  std::move(done));
}

void Store::put_guardian(Guardian guardian, StatusDone done) {
  writer_->submit(
      [this, guardian = std::move(guardian)](SQLite::Database& db) {
        return store::put_guardian(db, guardian, clock_.now());
      },
      std::move(done));
}

void Store::put_student(Student student, StatusDone done) {
  writer_->submit(
      [this, student = std::move(student)](SQLite::Database& db) {
        return store::put_student(db, student, clock_.now());
      },
      std::move(done));
}

void Store::delete_staff(std::string id, StatusDone done) {
  writer_->submit(
      [id = std::move(id)](SQLite::Database& db) { return delete_row(db, "staff", id); },
      std::move(done));
}

void Store::delete_guardian(std::string id, StatusDone done) {
  writer_->submit(
      [id = std::move(id)](SQLite::Database& db) { return delete_row(db, "guardians", id); },
      std::move(done));
}

void Store::delete_student(std::string id, StatusDone done) {
  writer_->submit(
      [id = std::move(id)](SQLite::Database& db) { return delete_row(db, "students", id); },
      std::move(done));
}

Result<Staff> Store::get_staff(const std::string& id) {
  return read([&](SQLite::Database& db) { return found(store::get_staff(db, id), "staff", id); });
}

Result<Guardian> Store::get_guardian(const std::string& id) {
  return read(
      [&](SQLite::Database& db) { return found(store::get_guardian(db, id), "guardian", id); });
}

Result<Student> Store::get_student(const std::string& id) {
  return read(
      [&](SQLite::Database& db) { return found(store::get_student(db, id), "student", id); });
}

Result<bool> Store::teaches(const std::string& staff_id, const std::string& student_id) {
  return read([&](SQLite::Database& db) -> Result<bool> {
    return store::teaches(db, staff_id, student_id);
  });
}

void Store::import_roster(RosterImport data, std::string source_name, Done<ImportSummary> done) {
  auto result = std::make_shared<Result<ImportSummary>>(Status::internal("not run"));
  writer_->submit(
      [this, data = std::move(data), source_name = std::move(source_name),
       result](SQLite::Database& db) {
        *result = store::import_roster(db, data, source_name, clock_.now());
        return result->status();
      },
      [result, done = std::move(done)](Status s) {
        done(s.is_ok() ? std::move(*result) : Result<ImportSummary>(std::move(s)));
      });
}

void Store::create_token(std::string token_hash, Role role, std::string staff_id,
                         Done<std::string> done) {
  auto id = std::make_shared<std::string>();
  writer_->submit(
      [this, token_hash = std::move(token_hash), role, staff_id = std::move(staff_id),
       id](SQLite::Database& db) -> Status {
        if (!staff_id.empty() && !store::get_staff(db, staff_id)) {
          return Status::invalid("staff", "unknown staff id " + staff_id);
        }
        *id = insert_token(db, token_hash, role, staff_id, clock_.now());
        return {};
      },
      [id, done = std::move(done)](Status s) {
        done(s.is_ok() ? Result<std::string>(std::move(*id)) : Result<std::string>(std::move(s)));
      });
}

Result<Principal> Store::find_token(const std::string& token_hash) {
  return read([&](SQLite::Database& db) -> Result<Principal> {
    auto p = store::find_token(db, token_hash);
    if (!p) return Status::unauthenticated("unknown or revoked token");
    return *p;
  });
}

void Store::accept_message(NewMessage message, std::optional<IdempotencyRef> idempotency,
                           PlanFn plan, RespondFn respond, Done<StoredResponse> done) {
  auto result = std::make_shared<Result<StoredResponse>>(Status::internal("not run"));
  writer_->submit(
      [this, message = std::move(message), idempotency = std::move(idempotency),
       plan = std::move(plan), respond = std::move(respond), result](SQLite::Database& db) {
        *result = store::accept_message(db, message, idempotency, plan, respond, clock_.now());
        return result->status();
      },
      [result, done = std::move(done)](Status s) {
        done(s.is_ok() ? std::move(*result) : Result<StoredResponse>(std::move(s)));
      });
}

Result<MessageView> Store::get_message(const std::string& id) {
  return read(
      [&](SQLite::Database& db) { return found(store::get_message(db, id), "message", id); });
}

void Store::lease_due(int limit, Millis lease_ms, Done<std::vector<LeasedDelivery>> done) {
  auto leased = std::make_shared<std::vector<LeasedDelivery>>();
  writer_->submit(
      [this, limit, lease_ms, leased](SQLite::Database& db) {
        Millis now = clock_.now();
        *leased = store::lease_due(db, LeaseLimits{limit, {}}, now, now + lease_ms);
        return Status{};
      },
      [leased, done = std::move(done)](Status s) {
        done(s.is_ok() ? Result<std::vector<LeasedDelivery>>(std::move(*leased))
                       : Result<std::vector<LeasedDelivery>>(std::move(s)));
      });
}

void Store::lease_due(LeaseLimits limits, Millis lease_ms, Done<std::vector<LeasedDelivery>> done) {
  auto leased = std::make_shared<std::vector<LeasedDelivery>>();
  writer_->submit(
      [this, limits = std::move(limits), lease_ms, leased](SQLite::Database& db) {
        Millis now = clock_.now();
        *leased = store::lease_due(db, limits, now, now + lease_ms);
        return Status{};
      },
      [leased, done = std::move(done)](Status s) {
        done(s.is_ok() ? Result<std::vector<LeasedDelivery>>(std::move(*leased))
                       : Result<std::vector<LeasedDelivery>>(std::move(s)));
      });
}

void Store::accept_broadcast(NewBroadcast broadcast, std::optional<IdempotencyRef> idempotency,
                             BroadcastRespondFn respond, Done<StoredResponse> done) {
  auto result = std::make_shared<Result<StoredResponse>>(Status::internal("not run"));
  writer_->submit(
      [this, broadcast = std::move(broadcast), idempotency = std::move(idempotency),
       respond = std::move(respond), result](SQLite::Database& db) {
        *result = store::accept_broadcast(db, broadcast, idempotency, respond, clock_.now());
        return result->is_ok() ? Status{} : result->status();
      },
      [result, done = std::move(done)](Status s) {
        done(s.is_ok() ? std::move(*result) : Result<StoredResponse>(std::move(s)));
      });
}

void Store::fan_out(std::string id, int chunk_students, BroadcastPlanFn plan,
                    std::function<void()> on_chunk) {
  auto more = std::make_shared<bool>(false);
  writer_->submit(
      [this, id, chunk_students, plan, more](SQLite::Database& db) {
        auto& memo = fanout_memos_[id];
        if (!memo) memo = new_fanout_memo();
        *more = store::plan_broadcast_chunk(db, id, chunk_students, plan, *memo, clock_.now());
        if (!*more) fanout_memos_.erase(id);
        return Status{};
      },
      [this, id, chunk_students, plan, on_chunk, more](Status s) {
        if (!s.is_ok()) {
          // The memo may hold what was rolled back: rebuilt from the database on restart.
          fanout_memos_.erase(id);
          spdlog::error("broadcast {}: planning stopped: {} (resumed at the next start)", id,
                        s.to_string());
          return;
        }
        if (on_chunk) on_chunk();
        if (*more) fan_out(id, chunk_students, plan, on_chunk);
      });
}

void Store::resume_fan_outs(int chunk_students, BroadcastPlanFn plan,
                            std::function<void()> on_chunk) {
  auto ids = read([](SQLite::Database& db) -> Result<std::vector<std::string>> {
    return store::broadcasts_planning(db);
  });
  if (!ids.is_ok()) {
    spdlog::error("broadcasts: cannot resume planning: {}", ids.status().to_string());
    return;
  }
  for (auto& id : *ids) {
    spdlog::info("broadcast {}: resuming planning", id);
    fan_out(std::move(id), chunk_students, plan, on_chunk);
  }
}

Result<BroadcastView> Store::get_broadcast(const std::string& id) {
  return read(
      [&](SQLite::Database& db) { return found(store::get_broadcast(db, id), "broadcast", id); });
}

void Store::cancel_broadcast(std::string id, StatusDone done) {
  writer_->submit(
      [this, id = std::move(id)](SQLite::Database& db) {
        return store::cancel_broadcast(db, id, clock_.now());
      },
      std::move(done));
}

void Store::record_updates(std::vector<DeliveryUpdate> updates, StatusDone done) {
  writer_->submit(
      [this, updates = std::move(updates)](SQLite::Database& db) {
        store::record_updates(db, updates, clock_.now(), available_channels());
        return Status{};
      },
      std::move(done));
}

void Store::record_provider_status(ProviderStatusUpdate update, StatusDone done) {
  writer_->submit(
      [this, update = std::move(update)](SQLite::Database& db) {
        store::record_provider_status(db, update, clock_.now(), available_channels());
        return Status{};
      },
      std::move(done));
}

void Store::set_available_channels(std::set<std::string> channels) {
  std::lock_guard lock(channels_mu_);
  available_channels_ = std::move(channels);
}

std::set<std::string> Store::available_channels() const {
  std::lock_guard lock(channels_mu_);
  return available_channels_;
}

Result<ReachReport> Store::reach_report(Millis since, const std::string& only_staff) {
  return read([&](SQLite::Database& db) -> Result<ReachReport> {
    return store::reach_report(db, since, only_staff);
  });
}

Result<std::string> Store::secret(const std::string& name) {
  auto value = std::make_shared<std::string>();
  Status s = writer_->run([this, name, value](SQLite::Database& db) {
    *value = get_or_create_secret(db, name, clock_.now());
    return Status{};
  });
  if (!s.is_ok()) return s;
  return *value;
}

Result<std::optional<Millis>> Store::next_due() {
  return read(
      [](SQLite::Database& db) -> Result<std::optional<Millis>> { return store::next_due(db); });
}

Result<std::map<std::string, std::int64_t>> Store::delivery_counts() {
  return read([](SQLite::Database& db) -> Result<std::map<std::string, std::int64_t>> {
    return store::delivery_counts(db);
  });
}

}  // namespace homeroom::store
