#include "api/imports_api.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "api/import_json.h"
#include "api/store_awaitable.h"
#include "http/problem.h"
#include "roster/oneroster.h"

namespace homeroom::api {
namespace {

using http::problem;
using http::Response;
using nlohmann::json;

json counts_json(const store::ImportCounts& c) {
  return {{"created", c.created},
          {"updated", c.updated},
          {"unchanged", c.unchanged},
          {"deleted", c.deleted},
          {"unlinked", c.unlinked}};
}

// A 422 whose "errors" lists every bad row.
Response rows_problem(const std::vector<CsvError>& errors) {
  Response r = problem(Status::invalid(
      "oneroster", std::to_string(errors.size()) + (errors.size() == 1 ? " error" : " errors") +
                       " in the OneRoster files; nothing was imported"));
  json body = json::parse(r.body);
  body["errors"] = csv_errors_json(errors);
  r.body = body.dump();
  return r;
}

}  // namespace

boost::asio::awaitable<Response> imports_route(store::Store* store, Principal principal,
                                               std::vector<std::string> parts,
                                               http::Request request) {
  if (parts.size() != 3 || parts[2] != "oneroster") {
    co_return problem(Status::not_found("no such resource"));
  }
  if (principal.role != Role::kAdmin) co_return problem(Status::forbidden("only admins import"));
  if (request.method != "POST") co_return problem(405, "use POST");
  if (request.header("Content-Type").rfind("application/json", 0) != 0) {
    co_return problem(Status::malformed("expected Content-Type: application/json"));
  }
  auto body = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) co_return problem(Status::malformed("the body is not valid JSON"));
  auto upload = oneroster_upload_from_json(body);
  if (!upload.is_ok()) co_return problem(upload.status());

  std::vector<CsvError> errors;
  auto parsed = parse_oneroster(upload->files, &errors);
  if (!parsed.is_ok()) {
    if (errors.empty()) co_return problem(parsed.status());
    co_return rows_problem(errors);
  }
  const bool dry_run = upload->dry_run;
  StoreCall<Result<store::OneRosterSummary>> call = [store, data = std::move(*parsed),
                                                     dry_run](auto done) mutable {
    store->import_oneroster(std::move(data), dry_run, nullptr, std::move(done));
  };
  auto summary = co_await await_store(std::move(call));
  if (!summary.is_ok()) {
    if (summary.status().code() == Code::kInternal) {
      spdlog::error("oneroster import failed: {}", summary.status().to_string());
    }
    co_return problem(summary.status());
  }
  spdlog::info("oneroster import{}: {} schools, {} staff, {} guardians, {} students created",
               dry_run ? " (dry run)" : "", summary->schools.created, summary->staff.created,
               summary->guardians.created, summary->students.created);
  co_return http::json_response(200, {{"dry_run", dry_run},
                                      {"schools", counts_json(summary->schools)},
                                      {"staff", counts_json(summary->staff)},
                                      {"guardians", counts_json(summary->guardians)},
                                      {"students", counts_json(summary->students)},
                                      {"classes", counts_json(summary->classes)},
                                      {"enrollments", counts_json(summary->enrollments)},
                                      {"notes", summary->notes}});
}

}  // namespace homeroom::api
