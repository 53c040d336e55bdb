// The bulk lease takes turns across schools (migration 0014, store/queue_store.cpp BulkLease):
// broadcasts planned through the real store and planner, leased batch by batch the way the
// dispatcher does (each lease starting after the school served last), and the lease's queries
// checked with EXPLAIN QUERY PLAN to stay seeks and range scans on their partial indexes.
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <catch2/catch.hpp>
#include <future>
#include <thread>

#include "core/ids.h"
#include "routing/delivery_planner.h"
#include "store/queries.h"
#include "store/store.h"
#include "support/temp_dir.h"

using namespace homeroom;
using homeroom::testing::TempDir;

namespace {

constexpr Millis kNoon = 1'767'225'600'000 + 12 * 3'600'000;  // 2026-01-01T12:00Z: no quiet hours

// The planner with its defaults, as store callbacks (free functions: GCC 12 crashed on a
// PlannerOptions{} inside these lambdas).
const routing::PlannerOptions& planner() {
  static const routing::PlannerOptions kOptions;
  return kOptions;
}
std::vector<PlannedDelivery> plan_broadcast(const std::vector<StudentRoster>& audience,
                                            const NewMessage& m, Millis now) {
  return routing::plan_send(audience, m, now, planner());
}
Result<std::vector<PlannedDelivery>> plan_note(const StudentRoster& roster, const NewMessage& m,
                                               Millis now) {
  return routing::plan_message(roster, m, now, planner());
}
store::StoredResponse accepted_note(const store::AcceptedMessage& a) {
  return store::StoredResponse{202, a.message.id, false};
}
store::StoredResponse accepted_broadcast(const std::string& id, std::int64_t) {
  return store::StoredResponse{202, id, false};
}

template <typename T, typename Call>
T wait_for(Call call) {
  std::promise<T> p;
  call([&p](T r) { p.set_value(std::move(r)); });
  return p.get_future().get();
}

struct Schools {
  TempDir dir;
  FakeClock clock{kNoon};
  std::unique_ptr<store::Store> store;
  int phones = 0;
  // What the dispatcher passes from one lease to the next.
  std::map<std::string, std::string> bulk_after;

  Schools() {
    auto opened = store::Store::open(dir / "homeroom.db", clock);
    REQUIRE(opened.is_ok());
    store = std::move(*opened);
  }

  void school(const std::string& id) {
    School s;
    s.id = id;
    s.name = "School " + id;
    REQUIRE(wait_for<Status>([&](auto done) { store->put_school(s, done); }).is_ok());
  }

  // A school with `n` families and its broadcast to all of them, planned.
  void school_broadcast(const std::string& id, int n) {
    school(id);
    families(id, n);
    broadcast("schools", {id});
  }

  // `n` students of `school` ("" for none), each with a guardian of their own reached by SMS.
  void families(const std::string& school, int n) {
    for (int i = 0; i < n; ++i) {
      const std::string id = (school.empty() ? std::string("none") : school) + std::to_string(i);
      Guardian g;
      g.id = "g" + id;
      g.given_name = "Ana";
      g.family_name = "Diaz";
      g.contacts = {{"sms", "+1555200" + std::to_string(1000 + phones++)}};
      REQUIRE(wait_for<Status>([&](auto done) { store->put_guardian(g, done); }).is_ok());
      Student s;
      s.id = "s" + id;
      s.given_name = "Maya";
      s.family_name = "Diaz";
      s.guardians = {{g.id, "mother", true}};
      s.school_id = school;
      REQUIRE(wait_for<Status>([&](auto done) { store->put_student(s, done); }).is_ok());
    }
  }

  // A broadcast to `audience` ({"schools": [...]} or {"students": [...]}), planned completely.
  std::string broadcast(const std::string& kind, std::vector<std::string> values) {
    store::NewBroadcast b;
    b.id = new_id("msg_");
    b.category = "reminder";
    b.templates["en"] = "Picture day, {{student.given_name}}.";
    b.audience_kind = kind;
    b.audience_values = std::move(values);
    b.audience_json = "{}";
    auto accepted = wait_for<Result<store::StoredResponse>>(
        [&](auto done) { store->accept_broadcast(b, std::nullopt, accepted_broadcast, done); });
    REQUIRE(accepted.is_ok());
    store->fan_out(b.id, 2000, plan_broadcast, [] {});
    for (int i = 0; i < 500; ++i) {
      auto view = store->get_broadcast(b.id);
      REQUIRE(view.is_ok());
      if (view->state == "planned") return b.id;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    FAIL("broadcast " << b.id << " was not planned");
    return b.id;
  }

  void note(const std::string& student) {
    NewMessage m;
    m.id = new_id("msg_");
    m.student_id = student;
    m.category = "note";
    m.body = "Maya helped two classmates.";
    auto r = wait_for<Result<store::StoredResponse>>(
        [&](auto done) { store->accept_message(m, std::nullopt, plan_note, accepted_note, done); });
    REQUIRE(r.is_ok());
  }

  // One lease of up to `n`, as the dispatcher makes it. Returns "note" for an individual
  // delivery, else the school whose turn it was ("-" for none).
  std::vector<std::string> lease(int n) {
    store::LeaseLimits limits{n, {}, bulk_after};
    auto leased = wait_for<Result<std::vector<LeasedDelivery>>>(
        [&](auto done) { store->lease_due(limits, 60'000, done); });
    REQUIRE(leased.is_ok());
    std::vector<std::string> out;
    for (const auto& d : *leased) {
      if (d.priority == 1) bulk_after[d.channel] = d.school_id;
      out.push_back(d.priority == 0 ? "note" : d.school_id.empty() ? "-" : d.school_id);
    }
    return out;
  }
};

std::vector<std::string> join(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

}  // namespace

TEST_CASE("bulk deliveries take turns across schools, one lease after another") {
  Schools f;
  // A's broadcast is planned first: in due order all of it would go before B's.
  f.school_broadcast("A", 30);
  f.school_broadcast("B", 3);
  f.families("", 2);
  f.broadcast("students", {"snone0", "snone1"});

  std::vector<std::string> order;
  for (int i = 0; i < 6; ++i) order = join(order, f.lease(2));
  // Each lease starts after the school served last; a school with nothing left is passed over.
  CHECK(order ==
        std::vector<std::string>{"-", "A", "B", "-", "A", "B", "A", "B", "A", "A", "A", "A"});
  // Then A alone, until its 30 are out.
  std::vector<std::string> rest;
  for (int i = 0; i < 30; ++i) rest = join(rest, f.lease(2));
  CHECK(rest == std::vector<std::string>(30 - 7, "A"));
}

TEST_CASE("a school with fewer due deliveries leaves its share of a batch to the others") {
  Schools f;
  f.school_broadcast("A", 30);
  f.school_broadcast("B", 3);
  CHECK(f.lease(10) == std::vector<std::string>{"A", "B", "A", "B", "A", "B", "A", "A", "A", "A"});
  CHECK(f.lease(4) == std::vector<std::string>{"A", "A", "A", "A"});
}

TEST_CASE("individual notes go ahead of every school's bulk") {
  Schools f;
  f.school_broadcast("A", 10);
  f.school_broadcast("B", 10);
  CHECK(f.lease(2) == std::vector<std::string>{"A", "B"});
  f.note("sB5");
  f.note("sA7");
  CHECK(f.lease(3) == std::vector<std::string>{"note", "note", "A"});
}

TEST_CASE("more schools than a batch has room for: the next batch goes on where it stopped") {
  Schools f;
  for (const char* id : {"A", "B", "C", "D", "E"}) {
    f.school(id);
    f.families(id, 2);
  }
  f.broadcast("schools", {"A", "B", "C", "D", "E"});
  const auto first = f.lease(3);
  const auto second = f.lease(3);
  const auto third = f.lease(4);
  CHECK(first == std::vector<std::string>{"A", "B", "C"});
  CHECK(second == std::vector<std::string>{"D", "E", "A"});
  CHECK(third == std::vector<std::string>{"B", "C", "D", "E"});
}

TEST_CASE("the lease's queries are seeks and range scans on their partial indexes") {
  Schools f;
  f.school_broadcast("A", 3);
  SQLite::Database db((f.dir / "homeroom.db").string(), SQLite::OPEN_READONLY);
  auto plan = [&db](const char* sql) {
    SQLite::Statement q(db, std::string("EXPLAIN QUERY PLAN ") + sql);
    std::string out;
    while (q.executeStep()) out += q.getColumn(3).getString() + "\n";
    return out;
  };
  const std::string individual = plan(store::kIndividualDueSql);
  INFO(individual);
  CHECK(individual.find("SEARCH deliveries USING INDEX deliveries_due (channel=? AND "
                        "priority=? AND next_attempt_at<?)") != std::string::npos);
  const std::string first = plan(store::kBulkFirstSchoolSql);
  INFO(first);
  CHECK(first.find("SEARCH deliveries USING INDEX deliveries_due_bulk (channel=?)") !=
        std::string::npos);
  const std::string next = plan(store::kBulkNextSchoolSql);
  INFO(next);
  CHECK(next.find("SEARCH deliveries USING INDEX deliveries_due_bulk (channel=? AND "
                  "school_id>?)") != std::string::npos);
  const std::string rows = plan(store::kBulkRowsSql);
  INFO(rows);
  CHECK(rows.find("SEARCH deliveries USING INDEX deliveries_due_bulk (channel=? AND school_id=? "
                  "AND next_attempt_at<?)") != std::string::npos);
  for (const auto& p : {individual, first, next, rows}) {
    CHECK(p.find("TEMP B-TREE") == std::string::npos);
    CHECK(p.find("SCAN") == std::string::npos);
  }
}
