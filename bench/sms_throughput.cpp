// sms_throughput: how fast can homeroom push SMS through sms_twilio, compared with the fastest the
// provider fake itself can go?
//
// (a) Starts tests/peers/twilio_fake.js on loopback and drives it with a libcurl-multi load client
//     (keep-alive, N requests in flight) posting the exact form sms_twilio sends: the fake's
//     maximum request rate, the median of three runs.
// (b) Starts the real homeroomd of this build (HOMEROOMD_PATH, the plugins beside it) with
//     sms_twilio pointed at the same fake, creates a school roster over the API, POSTs notes
//     totalling --deliveries SMS deliveries, all with one send_at (--lead-seconds ahead, after
//     the posting is done), waits until every one is sent, and prints deliveries/second (send_at
//     to the last "sent"), the ratio to (a) and homeroomd's peak RSS (VmHWM).
//
// The roster: --students students (default 1000), guardians alternating 1 and 2 per student
// (1500 distinct phone numbers, like siblings-free families with one or two parents), and as many
// notes per student, round-robin, as it takes to reach --deliveries. One note per student is the
// realistic unit of work (notes are per student); a few students with hundreds of guardians would
// measure the planner's fan-out instead, and one guardian each would need twice the POSTs.
//
// Prints figures, not pass/fail.
//   sms_throughput [--requests N] [--concurrency C] [--deliveries N] [--students N]
//                  [--batch-size N] [--poll-ms N]
#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include "daemon_harness.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace {

using Clock = std::chrono::steady_clock;
using homeroom::testing::Daemon;
using homeroom::testing::Process;
using homeroom::testing::TempDir;
using nlohmann::json;

constexpr const char* kSid = "ACbench0000000000000000000000000000";
constexpr const char* kToken = "bench-token";

struct Options {
  int requests = 20000;
  int concurrency = 64;
  int deliveries = 20000;
  int students = 1000;
  int batch_size = 0;     // 0: homeroomd's default
  int poll_ms = 0;        // 0: homeroomd's default
  int lead_seconds = 40;  // send_at = start of posting + this (must outlast the posting)
};

Options parse(int argc, char** argv) {
  Options o;
  const std::pair<const char*, int Options::*> flags[] = {
      {"--requests", &Options::requests},        {"--concurrency", &Options::concurrency},
      {"--deliveries", &Options::deliveries},    {"--students", &Options::students},
      {"--batch-size", &Options::batch_size},    {"--poll-ms", &Options::poll_ms},
      {"--lead-seconds", &Options::lead_seconds}};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    bool known = false;
    for (const auto& [name, field] : flags) {
      if (a == name && i + 1 < argc) {
        o.*field = std::atoi(argv[++i]);
        known = true;
      }
    }
    if (!known) {
      throw std::runtime_error(
          "usage: sms_throughput [--requests N] [--concurrency C] [--deliveries N] "
          "[--students N] [--batch-size N] [--poll-ms N] [--lead-seconds N]");
    }
  }
  if (o.requests <= 0 || o.concurrency <= 0 || o.deliveries <= 0 || o.students <= 1 ||
      o.batch_size < 0 || o.poll_ms < 0 || o.lead_seconds <= 0) {
    throw std::runtime_error("positive numbers only (and at least 2 students)");
  }
  return o;
}

// The fake, started on port 0; the port read back from its port file.
struct Fake {
  std::unique_ptr<Process> process;
  int port = 0;
};

Fake start_fake(const TempDir& dir) {
  const auto port_file = dir / "fake.port";
  Fake fake;
  fake.process = std::make_unique<Process>(
      std::vector<std::string>{HOMEROOM_NODE, HOMEROOM_SOURCE_DIR "/tests/peers/twilio_fake.js",
                               "--port-file", port_file.string(), "--sid", kSid, "--token", kToken,
                               "--quiet"},
      dir / "fake.log");
  const auto until = Clock::now() + std::chrono::seconds(20);
  while (!std::filesystem::exists(port_file)) {
    if (Clock::now() > until)
      throw std::runtime_error("fake did not start: " + fake.process->output());
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::ifstream(port_file) >> fake.port;
  return fake;
}

size_t discard(char*, size_t size, size_t n, void*) { return size * n; }

// Posts `requests` Messages API forms with `concurrency` in flight; returns requests/second of
// those answered 201.
double measure_fake_rate(int port, const Options& o) {
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/2010-04-01/Accounts/" +
                          kSid + "/Messages.json";
  const std::string body =
      "To=%2B15551230000&From=%2B15557654321"
      "&Body=Maya+finished+her+lab+report+early+and+helped+two+classmates."
      "&StatusCallback=https%3A%2F%2Fhr.example.org%2Fhooks%2Fsms%2Fstatus";
  const std::string userpwd = std::string(kSid) + ":" + kToken;
  CURLM* multi = curl_multi_init();
  curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, static_cast<long>(o.concurrency));
  curl_slist* headers =
      curl_slist_append(nullptr, "Content-Type: application/x-www-form-urlencoded");
  headers = curl_slist_append(headers, "Expect:");
  auto add = [&] {
    CURL* e = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_URL, url.c_str());
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(e, CURLOPT_USERPWD, userpwd.c_str());
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &discard);
    curl_multi_add_handle(multi, e);
  };
  int started = 0;
  int ok = 0;
  int failed = 0;
  const auto t0 = Clock::now();
  for (; started < o.concurrency && started < o.requests; ++started) add();
  int running = 0;
  do {
    curl_multi_perform(multi, &running);
    int left = 0;
    while (CURLMsg* m = curl_multi_info_read(multi, &left)) {
      if (m->msg != CURLMSG_DONE) continue;
      long code = 0;
      curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &code);
      (m->data.result == CURLE_OK && code == 201) ? ++ok : ++failed;
      curl_multi_remove_handle(multi, m->easy_handle);
      curl_easy_cleanup(m->easy_handle);
      if (started < o.requests) {
        add();
        ++started;
      }
    }
    curl_multi_poll(multi, nullptr, 0, 100, nullptr);
  } while (ok + failed < o.requests);
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  curl_slist_free_all(headers);
  curl_multi_cleanup(multi);
  std::printf("fake: %d requests (%d answered 201, %d failed) in %.2f s with %d in flight\n",
              o.requests, ok, failed, seconds, o.concurrency);
  return ok / seconds;
}

// One API request for the load client.
struct ApiRequest {
  std::string method;
  std::string path;
  std::string body;
  long expect = 200;
};

// Runs `requests` against homeroomd with `in_flight` at a time over keep-alive connections, in
// order of submission; throws on the first answer other than the expected one.
void run_api_requests(const Daemon& daemon, const std::string& token,
                      const std::vector<ApiRequest>& requests, int in_flight) {
  struct Easy {
    std::string url;
    std::string reply;
    std::size_t index = 0;
  };
  CURLM* multi = curl_multi_init();
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  headers = curl_slist_append(headers, ("Authorization: Bearer " + token).c_str());
  headers = curl_slist_append(headers, "Expect:");
  std::vector<Easy> slots(requests.size());
  std::size_t next = 0;
  std::size_t done = 0;
  auto add = [&] {
    const ApiRequest& r = requests[next];
    Easy& slot = slots[next];
    slot.url = daemon.url(r.path);
    slot.index = next++;
    CURL* e = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_URL, slot.url.c_str());
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r.method.c_str());
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, r.body.c_str());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, static_cast<long>(r.body.size()));
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(
        e, CURLOPT_WRITEFUNCTION, +[](char* data, size_t size, size_t n, void* user) {
          static_cast<std::string*>(user)->append(data, size * n);
          return size * n;
        });
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &slot.reply);
    curl_easy_setopt(e, CURLOPT_PRIVATE, &slot);
    curl_easy_setopt(e, CURLOPT_TIMEOUT, 60L);
    curl_multi_add_handle(multi, e);
  };
  while (next < requests.size() && next < static_cast<std::size_t>(in_flight)) add();
  std::string error;
  while (done < requests.size() && error.empty()) {
    int running = 0;
    curl_multi_perform(multi, &running);
    int left = 0;
    while (CURLMsg* m = curl_multi_info_read(multi, &left)) {
      if (m->msg != CURLMSG_DONE) continue;
      long code = 0;
      curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &code);
      Easy* slot = nullptr;
      curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &slot);
      const ApiRequest& r = requests[slot->index];
      if (m->data.result != CURLE_OK || code != r.expect) {
        error = r.method + " " + r.path + " -> " + std::to_string(code) + " " + slot->reply;
      }
      curl_multi_remove_handle(multi, m->easy_handle);
      curl_easy_cleanup(m->easy_handle);
      ++done;
      if (next < requests.size()) add();
    }
    curl_multi_poll(multi, nullptr, 0, 100, nullptr);
  }
  curl_slist_free_all(headers);
  curl_multi_cleanup(multi);
  if (!error.empty()) throw std::runtime_error(error);
}

// Deliveries by state, from GET /metrics.
std::map<std::string, long> delivery_counts(Daemon& daemon, const std::string& token) {
  const auto r = daemon.call("GET", "/metrics", token);
  if (r.status != 200) throw std::runtime_error("GET /metrics -> " + std::to_string(r.status));
  std::map<std::string, long> out;
  std::istringstream in(r.body);
  const std::string prefix = "homeroom_deliveries{state=\"";
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(prefix, 0) != 0) continue;
    const auto quote = line.find('"', prefix.size());
    out[line.substr(prefix.size(), quote - prefix.size())] =
        std::atol(line.c_str() + line.rfind(' ') + 1);
  }
  return out;
}

long metric(Daemon& daemon, const std::string& token, const std::string& name) {
  const auto r = daemon.call("GET", "/metrics", token);
  std::istringstream in(r.body);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(name + " ", 0) == 0) return std::atol(line.c_str() + name.size() + 1);
  }
  return -1;
}

// When the last delivery was recorded as sent, from the delivery_events the daemon committed
// (read-only; WAL lets us read beside the running daemon).
std::chrono::system_clock::time_point last_sent_at(const TempDir& dir) {
  SQLite::Database db((dir.path() / "homeroom.db").string(), SQLite::OPEN_READONLY);
  SQLite::Statement q(db, "SELECT MAX(at) FROM delivery_events WHERE state = 'sent'");
  if (!q.executeStep() || q.getColumn(0).isNull()) throw std::runtime_error("no sent events");
  return std::chrono::system_clock::time_point(
      std::chrono::milliseconds(q.getColumn(0).getInt64()));
}

// User + system CPU time the process has used so far (from /proc/PID/stat).
double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));  // after "pid (comm) "
  std::string field;
  for (int i = 3; i < 14; ++i) fields >> field;  // state .. cmajflt: fields 3-13
  long utime = 0, stime = 0;
  fields >> utime >> stime;
  return double(utime + stime) / double(sysconf(_SC_CLK_TCK));
}

std::string peak_rss(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmHWM:", 0) == 0) {
      line.erase(0, line.find_first_not_of(" \t", 6));
      return line;
    }
  }
  return "unknown";
}

// +15552000000, +15552000001, ...: distinct valid E.164 numbers, one per guardian.
std::string phone(int guardian) { return "+1555" + std::to_string(2'000'000 + guardian); }

std::string rfc3339(std::chrono::system_clock::time_point t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// (b): returns deliveries/second from send_at (every delivery due) to the last "sent".
double measure_daemon_rate(const TempDir& dir, int fake_port, const Options& o) {
  std::string queue = "[queue]\nmax_attempts = 3\n";
  if (o.batch_size > 0) queue += "batch_size = " + std::to_string(o.batch_size) + "\n";
  if (o.poll_ms > 0) queue += "poll_interval_ms = " + std::to_string(o.poll_ms) + "\n";
  Daemon daemon(dir, queue + "[channels.sms]\nplugin = \"sms_twilio\"\nchannel = \"sms\"\n" +
                         "[channels.sms.settings]\naccount_sid = \"" + kSid +
                         "\"\nauth_token = \"" + kToken +
                         "\"\nfrom = \"+15557654321\"\nbase = \"http://127.0.0.1:" +
                         std::to_string(fake_port) + "\"\n");
  const std::string admin = daemon.token(homeroom::Role::kAdmin);
  daemon.start();

  // The roster: guardians alternate 1 and 2 per student.
  std::vector<ApiRequest> roster;
  roster.push_back({"PUT", "/v1/staff/t1", json{{"name", "Ms. Lee"}}.dump()});
  std::vector<std::vector<int>> guardians_of(static_cast<std::size_t>(o.students));
  int guardians = 0;
  for (int s = 0; s < o.students; ++s) {
    for (int k = 0; k < 1 + s % 2; ++k) {
      const int g = guardians++;
      guardians_of[s].push_back(g);
      roster.push_back({"PUT", "/v1/guardians/g" + std::to_string(g),
                        json{{"given_name", "Ana"},
                             {"family_name", "Diaz"},
                             {"language", "en"},
                             {"contacts", {{{"channel", "sms"}, {"address", phone(g)}}}},
                             {"preferences", {{"channels", {"sms"}}}}}
                            .dump()});
    }
  }
  run_api_requests(daemon, admin, roster, 16);
  roster.clear();
  for (int s = 0; s < o.students; ++s) {
    json links = json::array();
    for (int g : guardians_of[s]) links.push_back({{"id", "g" + std::to_string(g)}});
    roster.push_back({"PUT", "/v1/students/s" + std::to_string(s),
                      json{{"given_name", "Maya"},
                           {"family_name", "Diaz"},
                           {"staff", {"t1"}},
                           {"guardians", links}}
                          .dump()});
  }
  run_api_requests(daemon, admin, roster, 16);

  // Notes round-robin over the students until exactly o.deliveries deliveries are planned, all
  // scheduled for one instant: the dispatcher then finds every delivery due at once, and the
  // figure is the sending alone, not the API taking 13,000 POSTs while it sends.
  const auto send_at = std::chrono::ceil<std::chrono::seconds>(std::chrono::system_clock::now()) +
                       std::chrono::seconds(o.lead_seconds);
  const std::string send_at_text = rfc3339(send_at);
  std::vector<ApiRequest> notes;
  int planned = 0;
  for (int s = 0; planned < o.deliveries; s = (s + 1) % o.students) {
    const int n = static_cast<int>(guardians_of[s].size());
    if (planned + n > o.deliveries) continue;
    planned += n;
    notes.push_back({"POST", "/v1/messages",
                     json{{"student_id", "s" + std::to_string(s)},
                          {"category", "note"},
                          {"send_at", send_at_text},
                          {"body",
                           "Maya finished her lab report early and helped two "
                           "classmates. Note " +
                               std::to_string(notes.size())}}
                         .dump(),
                     202});
  }
  std::printf("homeroomd: %d students, %d guardians, %zu notes -> %d SMS deliveries\n", o.students,
              guardians, notes.size(), planned);

  const auto t0 = Clock::now();
  const auto wall0 = std::chrono::system_clock::now();
  run_api_requests(daemon, admin, notes, 16);
  const double posted = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("homeroomd: %zu notes posted in %.2f s (16 in flight, %.0f notes/s)\n", notes.size(),
              posted, double(notes.size()) / posted);
  const long transactions0 = metric(daemon, admin, "homeroom_store_transactions_total");
  const long jobs0 = metric(daemon, admin, "homeroom_store_jobs_total");
  // The clock starts at send_at when every delivery was still waiting for it; otherwise (posting
  // outlasted send_at, or the daemon sent before it) at the first POST: then the figure is
  // end to end, ingest included.
  std::chrono::system_clock::time_point start = send_at;
  const auto waiting = delivery_counts(daemon, admin);
  if (std::chrono::system_clock::now() >= send_at || waiting.count("scheduled") == 0 ||
      waiting.at("scheduled") < planned) {
    std::printf(
        "homeroomd: WARNING not all deliveries waited for send_at (%s after posting): timing "
        "from the first POST, ingest included\n",
        json(waiting).dump().c_str());
    start = wall0;
  }
  // CPU from send_at on: the idle wait before it (with its own /metrics polls) is not sending.
  if (start == send_at) std::this_thread::sleep_until(send_at - std::chrono::milliseconds(100));
  const double cpu0 = cpu_seconds(daemon.process().pid());
  const auto until = std::chrono::system_clock::now() + std::chrono::minutes(10);
  std::map<std::string, long> counts;
  for (;;) {
    counts = delivery_counts(daemon, admin);
    if (counts["sent"] >= planned) break;
    if (counts["failed"] + counts["dead"] > 0) {
      throw std::runtime_error("deliveries failed: " + json(counts).dump() + "\n" +
                               daemon.process().output().substr(0, 4000));
    }
    if (std::chrono::system_clock::now() > until) {
      throw std::runtime_error("not all sent in 10 minutes: " + json(counts).dump());
    }
    // Polling only notices completion; the time comes from the store's own event log below.
    // Seldom: each GET /metrics counts the deliveries table through, beside the sending.
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  const double seconds = std::chrono::duration<double>(last_sent_at(dir) - start).count();
  std::printf("homeroomd: all %ld sent in %.2f s (from %s)\n", counts["sent"], seconds,
              start == send_at ? "send_at" : "the first POST");
  const long transactions = metric(daemon, admin, "homeroom_store_transactions_total");
  const long jobs = metric(daemon, admin, "homeroom_store_jobs_total");
  std::printf(
      "homeroomd: while sending, the store committed %ld transactions for %ld jobs (%.1f jobs per "
      "transaction)\n",
      transactions - transactions0, jobs - jobs0,
      transactions > transactions0 ? double(jobs - jobs0) / double(transactions - transactions0)
                                   : 0.0);
  // CPU time, unlike the rate, does not depend on what else the machine is doing.
  const double cpu = cpu_seconds(daemon.process().pid()) - cpu0;
  std::printf("homeroomd: %.2f CPU seconds while sending (%.0f us per delivery)\n", cpu,
              cpu * 1e6 / double(planned));
  std::printf("homeroomd peak RSS (VmHWM): %s\n", peak_rss(daemon.process().pid()).c_str());
  daemon.process().signal(SIGTERM);
  daemon.process().wait_exit(std::chrono::seconds(30));
  return planned / seconds;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options o = parse(argc, argv);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    TempDir dir;
    Fake fake = start_fake(dir);
    measure_fake_rate(fake.port, Options{std::min(2000, o.requests), o.concurrency});  // warm-up
    // The median of three runs: one run of 20,000 lasts well under a second on a fast machine,
    // and a neighbour's burst of work would move a single figure by a third.
    std::vector<double> fake_rates;
    for (int run = 0; run < 3; ++run) fake_rates.push_back(measure_fake_rate(fake.port, o));
    std::sort(fake_rates.begin(), fake_rates.end());
    const double fake_rate = fake_rates[1];
    std::printf("fake maximum: %.0f requests/s (median of %.0f, %.0f, %.0f)\n", fake_rate,
                fake_rates[0], fake_rates[1], fake_rates[2]);
    const double daemon_rate = measure_daemon_rate(dir, fake.port, o);
    std::printf("homeroomd -> sms_twilio -> fake: %.0f deliveries/s\n", daemon_rate);
    std::printf("ratio: %.2f (target >= 0.50)\n", daemon_rate / fake_rate);
    fake.process->signal(SIGTERM);
    fake.process->wait_exit(std::chrono::seconds(5));
    curl_global_cleanup();
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sms_throughput: %s\n", e.what());
    return 1;
  }
}
