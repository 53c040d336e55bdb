// POST/GET/DELETE /v1/broadcasts (docs/api.md): admin only. Accepting is one store job; the
// deliveries are planned afterwards in chunks (Store::fan_out) and counted by GET.
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "api/api.h"
#include "api/broadcast_json.h"
#include "api/store_awaitable.h"
#include "core/ids.h"
#include "http/problem.h"

namespace homeroom::api {
namespace {

using http::problem;
using http::Response;
using nlohmann::json;

json broadcast_json(const store::BroadcastView& v) {
  json counts = json::object();
  for (DeliveryState s :
       {DeliveryState::kPlanned, DeliveryState::kScheduled, DeliveryState::kQueued,
        DeliveryState::kSending, DeliveryState::kSent, DeliveryState::kDelivered,
        DeliveryState::kFailed, DeliveryState::kSuppressed, DeliveryState::kDead}) {
    auto it = v.counts.find(state_name(s));
    counts[state_name(s)] = it == v.counts.end() ? 0 : it->second;
  }
  json reasons = json::object();
  for (const auto& [state, by_reason] : v.reasons) {
    json list = json::array();
    for (const auto& [reason, n] : by_reason) list.push_back({{"reason", reason}, {"count", n}});
    reasons[state] = std::move(list);
  }
  json out = {{"id", v.id},
              {"state", v.state},
              {"category", v.category},
              {"audience", json::parse(v.audience_json, nullptr, false)},
              {"created_at", format_rfc3339(v.created_at)},
              {"students", {{"total", v.students_total}, {"planned", v.students_planned}}},
              {"deliveries", v.deliveries},
              {"counts", counts},
              {"reasons", reasons}};
  if (!v.author_staff.empty()) out["author_staff"] = v.author_staff;
  if (v.send_at) out["send_at"] = format_rfc3339(*v.send_at);
  if (v.planned_at) out["planned_at"] = format_rfc3339(*v.planned_at);
  if (v.cancelled_at) out["cancelled_at"] = format_rfc3339(*v.cancelled_at);
  return out;
}

}  // namespace

store::BroadcastPlanFn Api::broadcast_planner() const {
  const routing::PlannerOptions planner = options_.planner;
  return [planner](const std::vector<StudentRoster>& audience, const NewMessage& m, Millis now) {
    return routing::plan_send(audience, m, now, planner);
  };
}

void Api::resume_broadcasts() {
  store_.resume_fan_outs(options_.broadcast_chunk_students, broadcast_planner(),
                         options_.on_new_work);
}

boost::asio::awaitable<Response> Api::broadcasts(Principal principal,
                                                 std::vector<std::string> parts,
                                                 http::Request request) {
  if (principal.role != Role::kAdmin) {
    co_return problem(Status::forbidden("only admins send broadcasts"));
  }
  const std::string& method = request.method;
  if (parts.size() == 2) {
    if (method != "POST") co_return problem(405, "use POST");
    co_return co_await post_broadcast(std::move(principal), std::move(request));
  }
  if (parts.size() != 3) co_return problem(Status::not_found("no such resource"));
  const std::string id = parts[2];
  if (method == "DELETE") {
    StoreCall<Status> call = [this, id](std::function<void(Status)> done) {
      store_.cancel_broadcast(id, std::move(done));
    };
    Status status = co_await await_store<Status>(std::move(call));
    if (!status.is_ok()) co_return problem(status);
    spdlog::info("broadcast {} cancelled", id);
  } else if (method != "GET") {
    co_return problem(405, "use GET or DELETE");
  }
  auto view = store_.get_broadcast(id);
  if (!view.is_ok()) co_return problem(view.status());
  co_return http::json_response(200, broadcast_json(*view));
}

boost::asio::awaitable<Response> Api::post_broadcast(Principal principal, http::Request request) {
  if (request.header("Content-Type").rfind("application/json", 0) != 0) {
    co_return problem(Status(Code::kMalformed, "expected Content-Type: application/json"));
  }
  auto body = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) co_return problem(Status::malformed("the body is not valid JSON"));
  auto parsed = broadcast_from_json(body);
  if (!parsed.is_ok()) co_return problem(parsed.status());

  std::optional<store::IdempotencyRef> idempotency;
  if (auto key = request.header("Idempotency-Key"); !key.empty()) {
    if (key.size() > 255) {
      co_return problem(Status::invalid("Idempotency-Key", "at most 255 chars"));
    }
    idempotency = store::IdempotencyRef{
        principal.token_id, key,
        sha256_hex(request.method + " " + request.path + "\n" + request.body)};
  }
  store::NewBroadcast b;
  b.id = new_id("bc_");
  b.author_staff = principal.staff_id;
  b.category = parsed->category;
  b.templates = std::move(parsed->templates);
  b.default_language = options_.planner.default_language;
  b.variables = std::move(parsed->variables);
  b.needed_variables = std::move(parsed->needed_variables);
  b.send_at = parsed->send_at;
  b.audience_kind = parsed->audience_kind;
  b.audience_values = std::move(parsed->audience_values);
  b.audience_json = body["audience"].dump();

  store::BroadcastRespondFn respond = [](const std::string& id, std::int64_t students) {
    return store::StoredResponse{
        202,
        json{{"id", id}, {"state", "planning"}, {"students", students}, {"counts", json::object()}}
            .dump(),
        false};
  };
  StoreCall<Result<store::StoredResponse>> call =
      [this, b = std::move(b), idempotency,
       respond](std::function<void(Result<store::StoredResponse>)> done) {
        store_.accept_broadcast(b, idempotency, respond, std::move(done));
      };
  Result<store::StoredResponse> stored =
      co_await await_store<Result<store::StoredResponse>>(std::move(call));
  if (!stored.is_ok()) co_return problem(stored.status());
  const std::string id = json::parse(stored->body).value("id", "");
  if (!stored->replayed) {
    store_.fan_out(id, options_.broadcast_chunk_students, broadcast_planner(),
                   options_.on_new_work);
  }
  Response r;
  r.status = stored->status;
  r.body = stored->body;
  r.headers.emplace_back("Location", "/v1/broadcasts/" + id);
  if (stored->replayed) r.headers.emplace_back("Idempotent-Replayed", "true");
  spdlog::info("broadcast {} accepted ({})", id, stored->replayed ? "replayed" : "new");
  co_return r;
}

}  // namespace homeroom::api
