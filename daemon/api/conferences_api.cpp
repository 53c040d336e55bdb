#include "api/conferences_api.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "api/conference_json.h"
#include "api/delivery_json.h"
#include "api/import_json.h"
#include "api/store_awaitable.h"
#include "http/problem.h"
#include "roster/validate.h"

namespace homeroom::api {
namespace {

using http::problem;
using http::Response;
using nlohmann::json;

json view_json(const store::ConferenceView& v) {
  json out = to_json(v.conference);
  out["state"] = v.state;
  out["created_at"] = format_rfc3339(v.created_at);
  out["updated_at"] = format_rfc3339(v.updated_at);
  if (v.cancelled_at) out["cancelled_at"] = format_rfc3339(*v.cancelled_at);
  json reminders = json::array();
  for (const auto& r : v.reminders) {
    json deliveries = json::array();
    std::map<std::string, int> counts;
    for (const auto& d : r.deliveries) {
      deliveries.push_back(delivery_json(d));
      ++counts[state_name(d.state)];
    }
    json reminder = {{"message_id", r.message_id},
                     {"minutes_before", r.minutes_before},
                     {"starts_at", format_rfc3339(r.starts_at)},
                     {"timezone", r.timezone},
                     {"created_at", format_rfc3339(r.created_at)},
                     {"counts", counts},
                     {"deliveries", deliveries}};
    if (r.cancelled_at) reminder["cancelled_at"] = format_rfc3339(*r.cancelled_at);
    reminders.push_back(std::move(reminder));
  }
  out["reminders"] = std::move(reminders);
  return out;
}

// A teacher sees and changes only their own slots; to them another's does not exist.
bool may_see(const Principal& principal, const store::ConferenceView& v) {
  return principal.role == Role::kAdmin || v.conference.staff_id == principal.staff_id;
}

Response list_conferences(store::ConferenceStore* conferences, const Principal& principal,
                          const http::Request& request) {
  const std::string student = request.query_param("student_id").value_or("");
  std::string staff = request.query_param("staff_id").value_or("");
  if (principal.role != Role::kAdmin) {
    if (!staff.empty() && staff != principal.staff_id) {
      return problem(Status::forbidden("a teacher lists only their own conferences"));
    }
    staff = principal.staff_id;
  }
  if (student.empty() && staff.empty()) {
    return problem(Status::invalid("student_id", "give student_id or staff_id (or both)"));
  }
  auto found = conferences->list(student, staff);
  if (!found.is_ok()) return problem(found.status());
  json out = json::array();
  for (const auto& v : *found) out.push_back(view_json(v));
  return http::json_response(200, {{"conferences", out}});
}

boost::asio::awaitable<Response> put_conference(store::ConferenceStore* conferences,
                                                store::Store* store, Principal principal,
                                                std::string id, http::Request request) {
  if (request.header("Content-Type").rfind("application/json", 0) != 0) {
    co_return problem(Status::malformed("expected Content-Type: application/json"));
  }
  auto body = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) co_return problem(Status::malformed("the body is not valid JSON"));
  auto conference = conference_from_json(id, body);
  if (!conference.is_ok()) co_return problem(conference.status());
  if (principal.role != Role::kAdmin) {
    if (conference->staff_id != principal.staff_id) {
      co_return problem(Status::forbidden("a teacher schedules only their own conferences"));
    }
    if (auto existing = conferences->get(id); existing.is_ok() && !may_see(principal, *existing)) {
      co_return problem(Status::forbidden("conference " + id + " is another teacher's"));
    }
    // An unknown student is the store's 422; a known one must be this teacher's.
    if (store->get_student(conference->student_id).is_ok()) {
      auto teaches = store->teaches(principal.staff_id, conference->student_id);
      if (!teaches.is_ok()) co_return problem(teaches.status());
      if (!*teaches) {
        co_return problem(Status::forbidden("you may schedule only students you teach"));
      }
    }
  }
  StoreCall<Result<store::ConferencePut>> call = [conferences,
                                                  c = std::move(*conference)](auto done) mutable {
    conferences->put(std::move(c), std::move(done));
  };
  auto put = co_await await_store(std::move(call));
  if (!put.is_ok()) co_return problem(put.status());
  const char* change = put->change == store::ConferenceChange::kCreated   ? "created"
                       : put->change == store::ConferenceChange::kUpdated ? "updated"
                                                                          : "unchanged";
  spdlog::info("conference {} {} ({} reminders)", id, change, put->view.reminders.size());
  co_return http::json_response(200, view_json(put->view));
}

// A 422 whose "errors" lists every bad row ("conferences.csv:7 starts_at").
Response rows_problem(std::vector<CsvError> errors) {
  for (auto& e : errors) e.file = "conferences.csv";
  Response r = problem(Status::invalid(
      "conferences", std::to_string(errors.size()) + (errors.size() == 1 ? " error" : " errors") +
                         " in the CSV; nothing was imported"));
  json body = json::parse(r.body);
  body["errors"] = csv_errors_json(errors);
  r.body = body.dump();
  return r;
}

}  // namespace

boost::asio::awaitable<Response> conferences_route(store::ConferenceStore* conferences,
                                                   store::Store* store, Principal principal,
                                                   std::vector<std::string> parts,
                                                   http::Request request) {
  if (conferences == nullptr) co_return problem(Status::not_found("no such resource"));
  if (principal.role != Role::kAdmin && principal.staff_id.empty()) {
    co_return problem(
        Status::forbidden("a teacher token without a staff member has no conferences"));
  }
  const std::string& method = request.method;
  if (parts.size() == 2) {
    if (method != "GET") co_return problem(405, "use GET");
    co_return list_conferences(conferences, principal, request);
  }
  if (parts.size() != 3 || !validate_id("id", parts[2]).is_ok()) {
    co_return problem(Status::not_found("no such resource"));
  }
  const std::string id = parts[2];
  if (method == "PUT") {
    co_return co_await put_conference(conferences, store, std::move(principal), id,
                                      std::move(request));
  }
  if (method != "GET" && method != "DELETE") co_return problem(405, "use GET, PUT or DELETE");
  auto view = conferences->get(id);
  if (!view.is_ok() || !may_see(principal, *view)) {
    co_return problem(view.is_ok() ? Status::not_found("conference " + id + " not found")
                                   : view.status());
  }
  if (method == "DELETE") {
    StoreCall<Result<store::ConferenceView>> call = [conferences, id](auto done) {
      conferences->cancel(id, std::move(done));
    };
    view = co_await await_store(std::move(call));
    if (!view.is_ok()) co_return problem(view.status());
    spdlog::info("conference {} cancelled", id);
  }
  co_return http::json_response(200, view_json(*view));
}

boost::asio::awaitable<Response> import_conferences(store::ConferenceStore* conferences,
                                                    Principal principal, http::Request request) {
  if (conferences == nullptr) co_return problem(Status::not_found("no such resource"));
  if (principal.role != Role::kAdmin) co_return problem(Status::forbidden("only admins import"));
  if (request.method != "POST") co_return problem(405, "use POST");
  if (request.header("Content-Type").rfind("text/csv", 0) != 0) {
    co_return problem(Status::malformed("expected Content-Type: text/csv"));
  }
  const std::string dry = request.query_param("dry_run").value_or("false");
  if (dry != "true" && dry != "false") {
    co_return problem(Status::invalid("dry_run", "expected true or false"));
  }
  const bool dry_run = dry == "true";
  std::vector<CsvError> errors;
  auto rows = parse_conference_csv(request.body, "conferences.csv", &errors);
  if (!rows.is_ok()) co_return rows_problem(std::move(errors));
  StoreCall<Result<store::ConferenceImportSummary>> call = [conferences, rows = std::move(*rows),
                                                            dry_run](auto done) mutable {
    conferences->import(std::move(rows), dry_run, std::move(done));
  };
  auto summary = co_await await_store(std::move(call));
  if (!summary.is_ok()) co_return problem(summary.status());
  if (!summary->errors.empty()) co_return rows_problem(std::move(summary->errors));
  spdlog::info("conference import{}: {} created, {} updated, {} unchanged",
               dry_run ? " (dry run)" : "", summary->created, summary->updated, summary->unchanged);
  co_return http::json_response(200, {{"dry_run", dry_run},
                                      {"created", summary->created},
                                      {"updated", summary->updated},
                                      {"unchanged", summary->unchanged},
                                      {"reminders", summary->reminders}});
}

}  // namespace homeroom::api
