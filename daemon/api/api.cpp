#include "api/api.h"

#include <spdlog/spdlog.h>

#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include "api/conferences_api.h"
#include "api/delivery_json.h"
#include "api/imports_api.h"
#include "api/preferences_page.h"
#include "api/roster_json.h"
#include "api/store_awaitable.h"
#include "api/threads_api.h"
#include "api/unsubscribe_page.h"
#include "core/ids.h"
#include "core/redact.h"
#include "http/problem.h"
#include "roster/validate.h"

namespace homeroom::api {
namespace {

using http::problem;
using http::Request;
using http::Response;
using nlohmann::json;

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  std::size_t start = 1;
  while (start <= path.size()) {
    auto end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    parts.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

Response method_not_allowed(const std::string& allow) {
  auto r = problem(405, "use " + allow);
  r.headers.emplace_back("Allow", allow);
  return r;
}

Result<json> parse_body(const Request& request) {
  auto type = request.header("Content-Type");
  if (type.rfind("application/json", 0) != 0) {
    return Status(Code::kMalformed, "expected Content-Type: application/json");
  }
  auto j = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::malformed("the body is not valid JSON");
  return j;
}

// Per guardian, the deliveries in the order they were made (a fallback follows the failure it
// replaces), and the same read as one line for a teacher: "sms failed (contact stopped: ...) ->
// email sent". outcome: reached (a copy was sent or delivered), pending, suppressed, or unreached
// (every channel tried failed).
json guardian_chains(const std::vector<store::DeliveryView>& deliveries) {
  json out = json::array();
  std::map<std::string, std::size_t> index;
  for (const auto& d : deliveries) {
    auto [it, added] = index.emplace(d.guardian_id, out.size());
    if (added) {
      out.push_back({{"guardian_id", d.guardian_id}, {"chain", json::array()}, {"summary", ""}});
    }
    json& g = out[it->second];
    const bool ended_badly = d.state == DeliveryState::kFailed ||
                             d.state == DeliveryState::kSuppressed ||
                             d.state == DeliveryState::kDead;
    const std::string reason = ended_badly ? d.last_error : "";
    g["chain"].push_back({{"delivery_id", d.id},
                          {"channel", d.channel},
                          {"state", state_name(d.state)},
                          {"reason", reason}});
    std::string step = d.channel + " " + state_name(d.state);
    if (!reason.empty()) step += " (" + reason + ")";
    std::string summary = g["summary"];
    g["summary"] = summary.empty() ? step : summary + " -> " + step;
  }
  for (auto& g : out) {
    bool reached = false, pending = false, dead = false, failed = false;
    for (const auto& step : g["chain"]) {
      const std::string state = step["state"];
      reached = reached || state == "sent" || state == "delivered";
      pending = pending || state == "queued" || state == "scheduled" || state == "sending" ||
                state == "planned";
      dead = dead || state == "dead";
      failed = failed || state == "failed";
    }
    g["outcome"] = reached   ? "reached"
                   : pending ? "pending"
                   : dead    ? "dead"
                   : failed  ? "unreached"
                             : "suppressed";
  }
  return out;
}

json family_json(const store::ReachFamily& f) {
  return {{"guardian_id", f.guardian_id},
          {"guardian_name", f.guardian_name},
          {"student_id", f.student_id},
          {"student_name", f.student_name}};
}

}  // namespace

json delivery_json(const store::DeliveryView& d) {
  json events = json::array();
  for (const auto& e : d.events) {
    events.push_back({{"at", format_rfc3339(e.at)}, {"state", e.state}, {"detail", e.detail}});
  }
  json out = {{"id", d.id},
              {"guardian_id", d.guardian_id},
              {"channel", d.channel},
              {"to", mask_address(d.address)},
              {"language", d.language},
              {"state", state_name(d.state)},
              {"attempts", d.attempts},
              {"updated_at", format_rfc3339(d.updated_at)},
              {"events", events}};
  if (!d.provider_id.empty()) out["provider_id"] = d.provider_id;
  if (d.segments > 0) out["segments"] = d.segments;
  if (!d.fallback_of.empty()) out["fallback_of"] = d.fallback_of;
  if (!d.last_error.empty()) out["last_error"] = d.last_error;
  if (d.state == DeliveryState::kQueued || d.state == DeliveryState::kScheduled) {
    out["next_attempt_at"] = format_rfc3339(d.next_attempt_at);
  }
  return out;
}

Api::Api(store::Store& store, const Clock& clock, ApiOptions options)
    : store_(store), clock_(clock), options_(std::move(options)) {}

boost::asio::awaitable<Response> Api::handle(Request request) {
  try {
    co_return co_await route(std::move(request));
  } catch (const std::exception& e) {
    spdlog::error("api: unhandled exception: {}", e.what());
  }
  co_return problem(Status::internal("unhandled exception"));
}

Result<Principal> Api::authenticate(const Request& request) {
  auto header = request.header("Authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (header.size() <= kBearer.size() || header.compare(0, kBearer.size(), kBearer) != 0) {
    return Status::unauthenticated("send Authorization: Bearer <token>");
  }
  auto principal = store_.find_token(sha256_hex(header.substr(kBearer.size())));
  if (!principal.is_ok() && principal.status().code() == Code::kUnauthenticated) {
    return Status::unauthenticated("unknown or revoked token");
  }
  return principal;
}

boost::asio::awaitable<Response> Api::route(Request request) {
  const auto parts = split_path(request.path);
  const std::string& method = request.method;

  if (parts.size() == 1) {
    if (parts[0] == "healthz") co_return http::json_response(200, {{"status", "ok"}});
    if (parts[0] == "readyz") {
      if (draining_) co_return problem(503, "draining");
      auto counts = store_.delivery_counts();
      if (!counts.is_ok()) co_return problem(503, "store unavailable");
      co_return http::json_response(200, {{"status", "ready"}});
    }
    if (parts[0] == "metrics") co_return metrics();
  }
  if (parts.size() == 2 && parts[0] == "p" && !options_.preferences_secret.empty()) {
    co_return co_await preferences_page(&store_, clock_.now(), options_.preferences_secret,
                                        parts[1], std::move(request));
  }
  if (parts.size() == 2 && parts[0] == "u" && options_.unsubscribe != nullptr) {
    co_return co_await unsubscribe_page(options_.unsubscribe, parts[1], std::move(request));
  }
  if (parts.size() >= 3 && parts[0] == "hooks") {
    co_return co_await webhook(parts[1], std::move(request));
  }
  if (parts.empty() || parts[0] != "v1" || parts.size() < 2) {
    co_return problem(Status::not_found("no such resource"));
  }

  auto principal = authenticate(request);
  if (!principal.is_ok()) co_return problem(principal.status());

  const std::string& collection = parts[1];
  if (collection == "schools" || collection == "staff" || collection == "guardians" ||
      collection == "students") {
    if (parts.size() != 3) co_return problem(Status::not_found("no such resource"));
    if (principal->role != Role::kAdmin) {
      co_return problem(Status::forbidden("only admins manage the roster"));
    }
    if (auto s = validate_id("id", parts[2]); !s.is_ok()) {
      co_return problem(Status::not_found("no such " + collection + " id"));
    }
    if (method == "PUT") co_return co_await put_roster(collection, parts[2], std::move(request));
    if (method == "GET") co_return get_roster(collection, parts[2]);
    if (method == "DELETE") co_return co_await delete_roster(collection, parts[2]);
    co_return method_not_allowed("GET, PUT, DELETE");
  }
  if (collection == "messages") {
    if (parts.size() == 2) {
      if (method != "POST") co_return method_not_allowed("POST");
      co_return co_await post_message(*principal, std::move(request));
    }
    if (parts.size() == 3) {
      if (method != "GET") co_return method_not_allowed("GET");
      co_return get_message(*principal, parts[2]);
    }
  }
  if (collection == "threads" && parts.size() <= 4) {
    co_return co_await threads_route(options_.conversations, *principal, parts, std::move(request));
  }
  if (collection == "conferences") {
    co_return co_await conferences_route(options_.conferences, &store_, *principal, parts,
                                         std::move(request));
  }
  if (collection == "imports" && parts.size() == 3 && parts[2] == "conferences") {
    co_return co_await import_conferences(options_.conferences, *principal, std::move(request));
  }
  if (collection == "imports") {
    co_return co_await imports_route(&store_, *principal, parts, std::move(request));
  }
  if (collection == "broadcasts") {
    co_return co_await broadcasts(*principal, parts, std::move(request));
  }
  if (collection == "reports" && parts.size() == 3 && parts[2] == "reach") {
    if (method != "GET") co_return method_not_allowed("GET");
    co_return reach_report(*principal, request);
  }
  co_return problem(Status::not_found("no such resource"));
}

boost::asio::awaitable<Response> Api::put_roster(std::string kind, std::string id,
                                                 Request request) {
  auto body = parse_body(request);
  if (!body.is_ok()) co_return problem(body.status());
  if (auto it = body->find("id"); it != body->end() && (!it->is_string() || *it != id)) {
    co_return problem(Status::invalid("id", "does not match the id in the path"));
  }
  StoreCall<Status> call;
  std::optional<store::ReplySettings> reply_settings;
  if (kind == "schools") {
    auto school = school_from_json(id, *body);
    if (!school.is_ok()) co_return problem(school.status());
    call = [this, s = std::move(*school)](std::function<void(Status)> done) {
      store_.put_school(s, std::move(done));
    };
  } else if (kind == "staff") {
    // office_hours and forward_replies (threads_api.h) are kept beside the roster record.
    auto settings = take_reply_settings(*body);
    if (!settings.is_ok()) co_return problem(settings.status());
    reply_settings = std::move(*settings);
    auto staff = staff_from_json(id, *body);
    if (!staff.is_ok()) co_return problem(staff.status());
    call = [this, s = std::move(*staff)](std::function<void(Status)> done) {
      store_.put_staff(s, std::move(done));
    };
  } else if (kind == "guardians") {
    auto guardian = guardian_from_json(id, *body);
    if (!guardian.is_ok()) co_return problem(guardian.status());
    call = [this, g = std::move(*guardian)](std::function<void(Status)> done) {
      store_.put_guardian(g, std::move(done));
    };
  } else {
    auto student = student_from_json(id, *body);
    if (!student.is_ok()) co_return problem(student.status());
    call = [this, s = std::move(*student)](std::function<void(Status)> done) {
      store_.put_student(s, std::move(done));
    };
  }
  Status status = co_await await_store<Status>(std::move(call));
  if (!status.is_ok()) co_return problem(status);
  if (reply_settings && options_.conversations != nullptr) {
    StoreCall<Status> save = [c = options_.conversations, id,
                              rs = std::move(*reply_settings)](std::function<void(Status)> done) {
      c->put_reply_settings(id, rs, std::move(done));
    };
    status = co_await await_store<Status>(std::move(save));
    if (!status.is_ok()) co_return problem(status);
  }
  co_return get_roster(kind, id);
}

boost::asio::awaitable<Response> Api::delete_roster(std::string kind, std::string id) {
  StoreCall<Status> call = [this, kind, id](std::function<void(Status)> done) {
    if (kind == "schools") {
      store_.delete_school(id, std::move(done));
    } else if (kind == "staff") {
      store_.delete_staff(id, std::move(done));
    } else if (kind == "guardians") {
      store_.delete_guardian(id, std::move(done));
    } else {
      store_.delete_student(id, std::move(done));
    }
  };
  Status status = co_await await_store<Status>(std::move(call));
  if (!status.is_ok()) co_return problem(status);
  Response r;
  r.status = 204;
  r.content_type.clear();
  co_return r;
}

Response Api::get_roster(const std::string& kind, const std::string& id) {
  if (kind == "schools") {
    auto s = store_.get_school(id);
    return s.is_ok() ? http::json_response(200, to_json(*s)) : problem(s.status());
  }
  if (kind == "staff") {
    auto s = store_.get_staff(id);
    if (!s.is_ok()) return problem(s.status());
    json out = to_json(*s);
    if (options_.conversations != nullptr) {
      if (auto rs = options_.conversations->reply_settings(id); rs.is_ok()) {
        out.update(reply_settings_json(*rs));
      }
    }
    return http::json_response(200, out);
  }
  if (kind == "guardians") {
    auto g = store_.get_guardian(id);
    return g.is_ok() ? http::json_response(200, to_json(*g)) : problem(g.status());
  }
  auto s = store_.get_student(id);
  return s.is_ok() ? http::json_response(200, to_json(*s)) : problem(s.status());
}

boost::asio::awaitable<Response> Api::post_message(Principal principal, Request request) {
  auto body = parse_body(request);
  if (!body.is_ok()) co_return problem(body.status());
  auto message = message_from_json(*body);
  if (!message.is_ok()) co_return problem(message.status());

  if (!store_.get_student(message->student_id).is_ok()) {
    co_return problem(Status::invalid("student_id", "unknown student " + message->student_id));
  }
  if (message->legally_required && principal.role != Role::kAdmin) {
    co_return problem(Status::forbidden("only admins mark a message legally required"));
  }
  if (principal.role != Role::kAdmin) {
    auto teaches = store_.teaches(principal.staff_id, message->student_id);
    if (!teaches.is_ok()) co_return problem(teaches.status());
    if (!*teaches) {
      co_return problem(
          Status::forbidden("you may message only the families of students you teach"));
    }
  }

  std::optional<store::IdempotencyRef> idempotency;
  if (auto key = request.header("Idempotency-Key"); !key.empty()) {
    if (key.size() > 255)
      co_return problem(Status::invalid("Idempotency-Key", "at most 255 chars"));
    idempotency = store::IdempotencyRef{
        principal.token_id, key,
        sha256_hex(request.method + " " + request.path + "\n" + request.body)};
  }
  message->id = new_id("msg_");
  message->author_staff = principal.staff_id;

  const routing::PlannerOptions planner = options_.planner;
  store::PlanFn plan = [planner](const StudentRoster& roster, const NewMessage& m,
                                 Millis now) -> Result<std::vector<PlannedDelivery>> {
    return routing::plan_message(roster, m, now, planner);
  };
  store::RespondFn respond = [](const store::AcceptedMessage& accepted) {
    json deliveries = json::array();
    for (const auto& [id, d] : accepted.deliveries) {
      deliveries.push_back({{"id", id},
                            {"guardian_id", d.guardian_id},
                            {"channel", d.channel},
                            {"state", state_name(d.state)}});
    }
    return store::StoredResponse{
        202, json{{"id", accepted.message.id}, {"deliveries", deliveries}}.dump(), false};
  };
  StoreCall<Result<store::StoredResponse>> call =
      [this, m = std::move(*message), idempotency, plan,
       respond](std::function<void(Result<store::StoredResponse>)> done) {
        store_.accept_message(m, idempotency, plan, respond, std::move(done));
      };
  Result<store::StoredResponse> stored =
      co_await await_store<Result<store::StoredResponse>>(std::move(call));
  if (!stored.is_ok()) co_return problem(stored.status());
  if (!stored->replayed && options_.on_new_work) options_.on_new_work();

  Response r;
  r.status = stored->status;
  r.body = stored->body;
  auto id = json::parse(stored->body).value("id", "");
  r.headers.emplace_back("Location", "/v1/messages/" + id);
  if (stored->replayed) r.headers.emplace_back("Idempotent-Replayed", "true");
  spdlog::info("message {} accepted for student {} ({})", id, body->value("student_id", ""),
               stored->replayed ? "replayed" : "new");
  co_return r;
}

Response Api::get_message(const Principal& principal, const std::string& id) {
  auto view = store_.get_message(id);
  if (!view.is_ok()) return problem(view.status());
  if (principal.role != Role::kAdmin) {
    auto teaches = store_.teaches(principal.staff_id, view->message.student_id);
    if (!teaches.is_ok()) return problem(teaches.status());
    // Not 403: a teacher must not learn that a message about someone else's student exists.
    if (!*teaches) return problem(Status::not_found("message " + id + " not found"));
  }
  const auto& m = view->message;
  json deliveries = json::array();
  std::map<std::string, int> counts;
  for (const auto& d : view->deliveries) {
    deliveries.push_back(delivery_json(d));
    ++counts[state_name(d.state)];
  }
  json out = {{"id", m.id},
              {"student_id", m.student_id},
              {"category", m.category},
              {"body", m.body},
              {"translations", m.translations},
              {"created_at", format_rfc3339(view->created_at)},
              {"counts", counts},
              {"deliveries", deliveries},
              {"guardians", guardian_chains(view->deliveries)}};
  if (!m.author_staff.empty()) out["author_staff"] = m.author_staff;
  if (m.send_at) out["send_at"] = format_rfc3339(*m.send_at);
  if (m.legally_required) out["legally_required"] = true;
  return http::json_response(200, out);
}

Response Api::reach_report(const Principal& principal, const Request& request) {
  auto since_text = request.query_param("since");
  Millis since = 0;
  if (!since_text || !parse_rfc3339(*since_text, since)) {
    return problem(Status::invalid("since",
                                   "give the start of the period as RFC 3339, e.g. "
                                   "2026-11-16T00:00:00Z"));
  }
  // A teacher sees their own students and messages only.
  const std::string only = principal.role == Role::kAdmin ? "" : principal.staff_id;
  if (principal.role != Role::kAdmin && only.empty()) {
    return problem(Status::forbidden("a teacher token without a staff member has no report"));
  }
  auto report = store_.reach_report(since, only);
  if (!report.is_ok()) return problem(report.status());
  auto unreached_json = [](const std::vector<store::UnreachedFamily>& families) {
    json out = json::array();
    for (const auto& u : families) {
      json entry = family_json(u.family);
      entry["message_id"] = u.message_id;
      entry["last_channel"] = u.channel;
      entry["last_reason"] = u.reason;
      entry["failed_at"] = format_rfc3339(u.at);
      out.push_back(std::move(entry));
    }
    return out;
  };
  json teachers = json::array();
  for (const auto& t : report->teachers) {
    json no_message = json::array();
    for (const auto& f : t.no_message) no_message.push_back(family_json(f));
    json teacher = {{"staff_id", t.staff_id},
                    {"name", t.name},
                    {"no_message", no_message},
                    {"unreached", unreached_json(t.unreached)}};
    if (t.staff_id.empty()) teacher["staff_id"] = nullptr;
    teachers.push_back(std::move(teacher));
  }
  json body = {{"since", format_rfc3339(since)}, {"teachers", teachers}};
  if (principal.role == Role::kAdmin) {
    json schools = json::array();
    for (const auto& s : report->schools) {
      json school = {
          {"school_id", s.school_id}, {"name", s.name}, {"unreached", unreached_json(s.unreached)}};
      if (s.school_id.empty()) school["school_id"] = nullptr;
      schools.push_back(std::move(school));
    }
    body["schools"] = std::move(schools);
  }
  return http::json_response(200, body);
}

boost::asio::awaitable<Response> Api::webhook(std::string instance, Request request) {
  if (!options_.webhook) co_return problem(Status::not_found("no such resource"));
  auto result = options_.webhook(instance, request);
  if (!result) co_return problem(Status::not_found("no channel instance " + instance));
  // The provider hears "ok" only once what it told us is durable, so a crash makes it retry.
  for (auto& update : result->updates) {
    StoreCall<Status> call = [this, u = std::move(update)](std::function<void(Status)> done) {
      store_.record_provider_status(u, std::move(done));
    };
    Status status = co_await await_store<Status>(std::move(call));
    if (!status.is_ok()) {
      spdlog::error("webhook {}: recording a provider status failed: {}", instance,
                    status.to_string());
      co_return problem(Status::unavailable("try again"));
    }
  }
  if (!result->inbound.empty() && options_.inbound == nullptr) {
    spdlog::error("webhook {}: a family's message arrived but replies are not configured",
                  instance);
    co_return problem(Status::unavailable("replies are not configured"));
  }
  for (auto& message : result->inbound) {
    StoreCall<Status> call = [handler = options_.inbound,
                              m = std::move(message)](std::function<void(Status)> done) mutable {
      handler->handle(std::move(m), std::move(done));
    };
    Status status = co_await await_store<Status>(std::move(call));
    if (!status.is_ok()) {
      spdlog::error("webhook {}: recording a family's message failed: {}", instance,
                    status.to_string());
      co_return problem(Status::unavailable("try again"));
    }
  }
  co_return std::move(result->response);
}

Response Api::metrics() {
  std::string text;
  text += "# HELP homeroom_deliveries Deliveries by state.\n# TYPE homeroom_deliveries gauge\n";
  auto counts = store_.delivery_counts();
  if (counts.is_ok()) {
    for (const auto& [state, n] : *counts) {
      text += "homeroom_deliveries{state=\"" + state + "\"} " + std::to_string(n) + "\n";
    }
  }
  auto w = store_.writer().stats();
  text +=
      "# HELP homeroom_store_transactions_total Write transactions committed.\n"
      "# TYPE homeroom_store_transactions_total counter\n"
      "homeroom_store_transactions_total " +
      std::to_string(w.transactions) + "\n";
  text +=
      "# HELP homeroom_store_jobs_total Write jobs (requests) committed.\n"
      "# TYPE homeroom_store_jobs_total counter\n"
      "homeroom_store_jobs_total " +
      std::to_string(w.jobs) + "\n";
  if (options_.extra_metrics) text += options_.extra_metrics();
  Response r;
  r.content_type = "text/plain; version=0.0.4";
  r.body = std::move(text);
  return r;
}

}  // namespace homeroom::api
