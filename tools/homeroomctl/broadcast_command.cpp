#include "broadcast_command.h"

#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "blocking.h"
#include "http/transport.h"
#include "progress_bar.h"

namespace homeroom::ctl {
namespace {

using nlohmann::json;

// The states GET /v1/broadcasts/{id} counts, in the order a delivery moves through them.
constexpr const char* kStates[] = {"planned",   "scheduled", "queued",     "sending", "sent",
                                   "delivered", "failed",    "suppressed", "dead"};
constexpr const char* kPending[] = {"planned", "scheduled", "queued", "sending"};

std::int64_t count_of(const json& view, const char* state) {
  const json& counts = view.value("counts", json::object());
  auto it = counts.find(state);
  return it != counts.end() && it->is_number_integer() ? it->get<std::int64_t>() : 0;
}

// "planned 0, scheduled 0, queued 12, ..." (dead only when there is any).
std::string counts_text(const json& view) {
  std::string out;
  for (const char* state : kStates) {
    const std::int64_t n = count_of(view, state);
    if (std::string(state) == "dead" && n == 0) continue;
    if (!out.empty()) out += ", ";
    out += std::string(state) + " " + std::to_string(n);
  }
  return out;
}

std::int64_t pending(const json& view) {
  std::int64_t n = 0;
  for (const char* state : kPending) n += count_of(view, state);
  return n;
}

// What homeroomd's problem+json says, else the body's start.
std::string problem_detail(const std::string& body) {
  auto problem = json::parse(body, nullptr, false);
  if (problem.is_object()) {
    for (const char* key : {"detail", "title"}) {
      if (auto it = problem.find(key); it != problem.end() && it->is_string()) {
        return it->get<std::string>();
      }
    }
  }
  return body.substr(0, 200);
}

// GET the broadcast: the view, or the message that ends the watch.
Result<json> fetch(Transport& transport, const std::string& url, const std::string& token,
                   const std::string& id) {
  HttpRequest request;
  request.method = "GET";
  request.url = url;
  request.headers = {{"Authorization", "Bearer " + token}, {"Accept", "application/json"}};
  request.timeout = std::chrono::seconds(30);
  request.secrets = {token};
  auto r = wait_for<TransferResult>(
      [&](auto done) { transport.http(std::move(request), std::move(done)); });
  if (r.transport_error != 0) {
    return Status::unavailable("cannot reach homeroomd at " + url + ": " + r.error_text);
  }
  if (r.status == 404) return Status::not_found("broadcast " + id + " not found (GET " + url + ")");
  if (r.status == 401) {
    return Status::invalid("--token",
                           "homeroomd refused the token (401): give an admin token "
                           "with --token or $HOMEROOM_TOKEN");
  }
  if (r.status == 403) {
    return Status::invalid("--token",
                           "the token is not an admin's (403): broadcasts are for "
                           "admin tokens");
  }
  if (r.status != 200) {
    return Status::unavailable("GET " + url + " answered " + std::to_string(r.status) + ": " +
                               problem_detail(r.body));
  }
  auto view = json::parse(r.body, nullptr, false);
  if (!view.is_object() || !view.contains("state")) {
    return Status::unavailable("GET " + url + " answered something that is not a broadcast");
  }
  return view;
}

}  // namespace

int watch_broadcast(const BroadcastWatchOptions& options, const std::string& api) {
  SystemClock clock;
  Transport transport(clock);
  const std::string url = api + "/v1/broadcasts/" + options.id;
  const bool tty = ProgressBar::stderr_is_terminal();
  ProgressBar bar(tty);
  bar.stage(options.id);
  std::string last_line;
  const auto interval = std::chrono::milliseconds(
      std::max<std::int64_t>(1, static_cast<std::int64_t>(options.interval_seconds * 1000)));
  for (;;) {
    auto view = fetch(transport, url, options.token, options.id);
    if (!view) {
      bar.finish();
      std::cerr << "homeroomctl: " << view.status().message() << "\n";
      return 1;
    }
    const std::string state = view->value("state", "");
    const std::int64_t total = view->value("deliveries", std::int64_t{0});
    const std::int64_t done = total - pending(*view);
    const std::string counts = counts_text(*view);
    bar.update(static_cast<std::size_t>(std::max<std::int64_t>(done, 0)),
               static_cast<std::size_t>(total), counts);
    // "broadcast planned, 12/20 deliveries final: planned 0, scheduled 0, queued 6, ..."
    std::string line = "broadcast " + state;
    if (state == "planning") {
      const json& students = view->value("students", json::object());
      line += " (students " + std::to_string(students.value("planned", std::int64_t{0})) + "/" +
              std::to_string(students.value("total", std::int64_t{0})) + ")";
    }
    line +=
        ", " + std::to_string(done) + "/" + std::to_string(total) + " deliveries final: " + counts;
    if (!tty && line != last_line) std::cout << line << std::endl;
    last_line = line;
    const bool finished = state == "planned" && pending(*view) == 0;
    if (finished || state == "cancelled") {
      bar.finish();
      std::cout << "broadcast " << options.id << (finished ? " finished: " : " was cancelled: ")
                << total << (total == 1 ? " delivery: " : " deliveries: ") << counts << std::endl;
      return 0;
    }
    std::this_thread::sleep_for(interval);
  }
}

}  // namespace homeroom::ctl
