// How fast does a district-wide broadcast get accepted and planned, how much memory does it take,
// and do teachers' notes still go out promptly while it drains through a throttled provider?
//
// Starts tests/peers/twilio_fake.js and the homeroomd of this build with sms_twilio pointed at it
// and [channels.sms] rate_per_second = --rate (100). The roster (--guardians 100,000 guardians
// with one SMS number each, for 70% as many students: the first 30% of students have two
// guardians; a third of the families read Spanish) is BULK-LOADED straight into the SQLite file
// before homeroomd starts (one transaction, the tables' own columns), not sent through the API:
// the roster API is not what is measured here. Then:
//   1. POST /v1/broadcasts to all students (a template per language): time to the 202;
//   2. polls GET /v1/broadcasts/{id} until state "planned": time until every delivery is durably
//      planned (from the POST), and homeroomd's peak RSS (VmHWM) at that point;
//   3. for --drain-seconds (30) the broadcast drains through the fake at the throttle while a
//      teacher posts a note every 200 ms; then waits for the notes and prints their latency (POST
//      to the store's "sent" event) p50/p99/max, the bulk SMS sent and their rate, and the peak
//      RSS at the end. Draining all of a 100,000-copy broadcast at 100/s takes 17 minutes; pass
//      --drain-seconds 1100 to watch all of it.
// Figures, not pass/fail. Build with the release preset to measure.
#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>

#include "daemon_harness.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace {

using Steady = std::chrono::steady_clock;
using homeroom::testing::Daemon;
using homeroom::testing::Process;
using homeroom::testing::TempDir;
using nlohmann::json;

constexpr const char* kSid = "ACbench0000000000000000000000000000";
constexpr const char* kToken = "bench-token";

struct Options {
  int guardians = 100'000;
  int rate = 100;
  int drain_seconds = 30;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    const int v = std::atoi(argv[i + 1]);
    if (a == "--guardians")
      o.guardians = v;
    else if (a == "--rate")
      o.rate = v;
    else if (a == "--drain-seconds")
      o.drain_seconds = v;
    else
      throw std::runtime_error(
          "usage: broadcast_fanout [--guardians N] [--rate N] "
          "[--drain-seconds N]");
  }
  return o;
}

int start_fake(const TempDir& dir, std::unique_ptr<Process>& process) {
  const auto port_file = dir / "fake.port";
  process = std::make_unique<Process>(
      std::vector<std::string>{HOMEROOM_NODE, HOMEROOM_SOURCE_DIR "/tests/peers/twilio_fake.js",
                               "--port-file", port_file.string(), "--sid", kSid, "--token", kToken,
                               "--quiet"},
      dir / "fake.log");
  const auto until = Steady::now() + std::chrono::seconds(20);
  while (!std::filesystem::exists(port_file)) {
    if (Steady::now() > until) throw std::runtime_error("fake did not start");
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  int port = 0;
  std::ifstream(port_file) >> port;
  return port;
}

std::string peak_rss(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return line.substr(line.find_first_not_of(" \t", 6));
  }
  return "unknown";
}

// The roster straight into the database homeroomd will open (its migrations already applied).
int bulk_load(const std::filesystem::path& db_path, int guardians) {
  SQLite::Database db(db_path.string(), SQLite::OPEN_READWRITE);
  db.exec("PRAGMA foreign_keys=ON");
  SQLite::Transaction tx(db);
  const std::int64_t now = 1'700'000'000'000;
  db.exec(
      "INSERT INTO staff (id, name, email, role, updated_at) VALUES ('t1', 'Ms. Lee', "
      "'lee@school.example.org', 'teacher', 0)");
  SQLite::Statement g(db,
                      "INSERT INTO guardians (id, given_name, family_name, language, timezone, "
                      "preferences, updated_at) VALUES (?, ?, 'Diaz', ?, 'UTC', "
                      "'{\"channels\":[\"sms\"]}', ?)");
  SQLite::Statement c(db,
                      "INSERT INTO contact_points (guardian_id, position, channel, address) "
                      "VALUES (?, 0, 'sms', ?)");
  for (int i = 0; i < guardians; ++i) {
    const std::string id = "g" + std::to_string(i);
    g.bind(1, id);
    g.bind(2, "P" + std::to_string(i));
    g.bind(3, i % 3 == 0 ? "es" : "en");
    g.bind(4, now);
    g.exec();
    g.reset();
    c.bind(1, id);
    c.bind(2, "+1555" + std::to_string(2'000'000 + i));
    c.exec();
    c.reset();
  }
  const int students = guardians * 7 / 10;
  const int second = guardians - students;  // students 0..second-1 have a second guardian
  SQLite::Statement s(db,
                      "INSERT INTO students (id, given_name, family_name, grade, updated_at) "
                      "VALUES (?, ?, 'Diaz', ?, ?)");
  SQLite::Statement l(db,
                      "INSERT INTO student_guardians (student_id, guardian_id, position, "
                      "relationship, contact_allowed) VALUES (?, ?, ?, '', 1)");
  for (int i = 0; i < students; ++i) {
    const std::string id = "s" + std::to_string(i);
    s.bind(1, id);
    s.bind(2, "K" + std::to_string(i));
    s.bind(3, std::to_string(i % 12 + 1));
    s.bind(4, now);
    s.exec();
    s.reset();
    for (int k = 0; k < (i < second ? 2 : 1); ++k) {
      l.bind(1, id);
      l.bind(2, "g" + std::to_string(k == 0 ? i : students + i));
      l.bind(3, k);
      l.exec();
      l.reset();
    }
  }
  db.exec(
      "INSERT INTO student_staff (student_id, staff_id) SELECT id, 't1' FROM students "
      "WHERE rowid <= 200");
  tx.commit();
  return students;
}

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options o = parse(argc, argv);
    TempDir dir;
    std::unique_ptr<Process> fake;
    const int port = start_fake(dir, fake);
    Daemon daemon(dir,
                  "[queue]\nbatch_size = 256\n[channels.sms]\nplugin = \"sms_twilio\"\n"
                  "channel = \"sms\"\nrate_per_second = " +
                      std::to_string(o.rate) + "\n[channels.sms.settings]\naccount_sid = \"" +
                      kSid + "\"\nauth_token = \"" + kToken +
                      "\"\nfrom = \"+15557654321\"\nbase = \"http://127.0.0.1:" +
                      std::to_string(port) + "\"\n");
    const std::string admin = daemon.token(homeroom::Role::kAdmin);  // creates the schema
    const auto load_start = Steady::now();
    const int students = bulk_load(dir / "homeroom.db", o.guardians);
    std::printf("roster: %d guardians, %d students bulk-loaded into SQLite in %.2f s\n",
                o.guardians, students,
                std::chrono::duration<double>(Steady::now() - load_start).count());
    const std::string lee = daemon.token(homeroom::Role::kTeacher, "t1");
    daemon.start();

    const json body = {
        {"audience", {{"all", true}}},
        {"category", "reminder"},
        {"template",
         {{"en",
           "Dear {{guardian.given_name}}, conferences for {{student.given_name}} are on "
           "Thursday. {{staff.name}}"},
          {"es",
           "Estimado/a {{guardian.given_name}}, las conferencias de "
           "{{student.given_name}} son el jueves. {{staff.name}}"}}}};
    const auto post_start = Steady::now();
    auto r = daemon.call("POST", "/v1/broadcasts", admin, body);
    const double accept_s = std::chrono::duration<double>(Steady::now() - post_start).count();
    if (r.status != 202) throw std::runtime_error("POST /v1/broadcasts -> " + r.body);
    const std::string id = json::parse(r.body)["id"];
    std::printf("accepted (202) in %.3f s (target < 1 s)\n", accept_s);

    json view;
    for (;;) {
      view = json::parse(daemon.call("GET", "/v1/broadcasts/" + id, admin).body);
      if (view["state"] == "planned") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    const double planned_s = std::chrono::duration<double>(Steady::now() - post_start).count();
    std::printf(
        "fully planned in %.2f s after the POST (target < 5 s): %lld deliveries, "
        "%lld suppressed\n",
        planned_s, view["deliveries"].get<long long>(),
        view["counts"]["suppressed"].get<long long>());
    std::printf("homeroomd peak RSS after planning: %s (target < 200 MiB)\n",
                peak_rss(daemon.process().pid()).c_str());

    // Drain while a teacher posts a note every 200 ms.
    std::vector<std::pair<std::string, std::int64_t>> notes;  // (message id, posted at)
    const long sent_before = view["counts"]["sent"].get<long>();
    const auto drain_start = Steady::now();
    int n = 0;
    while (Steady::now() - drain_start < std::chrono::seconds(o.drain_seconds)) {
      const std::int64_t at = wall_ms();
      auto note = daemon.call("POST", "/v1/messages", lee,
                              {{"student_id", "s" + std::to_string(n++ % 200)},
                               {"category", "note"},
                               {"body", "Great work on the lab report today."}});
      if (note.status != 202) throw std::runtime_error("POST /v1/messages -> " + note.body);
      notes.emplace_back(json::parse(note.body)["id"], at);
      std::this_thread::sleep_until(drain_start + std::chrono::milliseconds(200) * n);
    }
    view = json::parse(daemon.call("GET", "/v1/broadcasts/" + id, admin).body);
    const double drain_s = std::chrono::duration<double>(Steady::now() - drain_start).count();
    const long bulk_sent = view["counts"]["sent"].get<long>() - sent_before;
    std::this_thread::sleep_for(std::chrono::seconds(3));  // the last notes

    std::vector<double> latency;
    int unsent = 0;
    {
      SQLite::Database db((dir / "homeroom.db").string(), SQLite::OPEN_READONLY);
      SQLite::Statement q(db,
                          "SELECT MIN(e.at) FROM deliveries d JOIN delivery_events e ON "
                          "e.delivery_id = d.id AND e.state = 'sent' WHERE d.message_id = ?");
      for (const auto& [message, at] : notes) {
        q.bind(1, message);
        if (q.executeStep() && !q.getColumn(0).isNull()) {
          latency.push_back(double(q.getColumn(0).getInt64() - at) / 1000.0);
        } else {
          ++unsent;
        }
        q.reset();
      }
    }
    std::sort(latency.begin(), latency.end());
    auto pct = [&](double p) {
      return latency.empty()
                 ? 0.0
                 : latency[std::min(latency.size() - 1, std::size_t(p * double(latency.size())))];
    };
    std::printf("drain: %ld bulk SMS sent in %.1f s (%.1f/s, throttle %d/s)\n", bulk_sent, drain_s,
                double(bulk_sent) / drain_s, o.rate);
    std::printf(
        "notes: %zu posted, %d not sent; latency p50 %.3f s, p99 %.3f s, max %.3f s "
        "(target p99 < 2 s)\n",
        notes.size(), unsent, pct(0.50), pct(0.99), latency.empty() ? 0.0 : latency.back());
    std::printf("homeroomd peak RSS at the end: %s\n", peak_rss(daemon.process().pid()).c_str());
    fake->signal(SIGTERM);
    fake->wait_exit(std::chrono::seconds(5));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "broadcast_fanout: %s\n", e.what());
    return 1;
  }
}
