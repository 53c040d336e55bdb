#include "api/threads_api.h"

#include <spdlog/spdlog.h>

#include "api/store_awaitable.h"
#include "core/redact.h"
#include "http/problem.h"
#include "roster/validate.h"

namespace homeroom::api {
namespace {

using http::problem;
using http::Request;
using http::Response;
using nlohmann::json;

constexpr std::size_t kMaxReplyBytes = 4000;

bool valid_clock(const std::string& text) {
  if (text.size() != 5 || text[2] != ':') return false;
  for (int i : {0, 1, 3, 4}) {
    if (text[static_cast<std::size_t>(i)] < '0' || text[static_cast<std::size_t>(i)] > '9') {
      return false;
    }
  }
  const int h = (text[0] - '0') * 10 + (text[1] - '0');
  const int m = (text[3] - '0') * 10 + (text[4] - '0');
  return h < 24 && m < 60;
}

json summary_json(const store::ThreadSummary& t) {
  json out = {{"id", t.id},
              {"kind", t.kind},
              {"unread", t.unread},
              {"updated_at", format_rfc3339(t.updated_at)}};
  if (!t.school_id.empty()) out["school_id"] = t.school_id;
  if (!t.staff_id.empty()) out["staff_id"] = t.staff_id;
  if (!t.staff_name.empty()) out["staff_name"] = t.staff_name;
  if (!t.student_id.empty()) out["student_id"] = t.student_id;
  if (!t.student_name.empty()) out["student_name"] = t.student_name;
  if (!t.guardian_id.empty()) out["guardian_id"] = t.guardian_id;
  if (!t.guardian_name.empty()) out["guardian_name"] = t.guardian_name;
  if (!t.last_channel.empty()) {
    out["last_channel"] = t.last_channel;
    out["last_address"] = mask_address(t.last_address);
  }
  return out;
}

json message_json(const store::ThreadMessageView& m) {
  json out = {{"id", m.id},
              {"direction", m.direction},
              {"body", m.body},
              {"at", format_rfc3339(m.created_at)}};
  if (!m.channel.empty()) out["channel"] = m.channel;
  if (m.direction == "in" && m.original != m.body) out["original"] = m.original;
  if (!m.author_staff.empty()) out["author_staff"] = m.author_staff;
  if (!m.message_id.empty()) out["message_id"] = m.message_id;
  if (!m.delivery_id.empty()) out["delivery_id"] = m.delivery_id;
  if (!m.delivery_state.empty()) out["state"] = m.delivery_state;
  if (m.read_at) out["read_at"] = format_rfc3339(*m.read_at);
  return out;
}

Response list(store::ConversationStore& conversations, const Principal& principal) {
  if (principal.role != Role::kAdmin && principal.staff_id.empty()) {
    return problem(Status::forbidden("a teacher token without a staff member has no threads"));
  }
  auto threads = conversations.list_threads(principal);
  if (!threads.is_ok()) return problem(threads.status());
  json out = json::array();
  for (const auto& t : *threads) out.push_back(summary_json(t));
  return http::json_response(200, {{"threads", out}});
}

}  // namespace

Result<std::optional<store::ReplySettings>> take_reply_settings(json& body) {
  if (!body.is_object()) return std::optional<store::ReplySettings>{};
  const bool has_hours = body.contains("office_hours");
  const bool has_forward = body.contains("forward_replies");
  if (!has_hours && !has_forward) return std::optional<store::ReplySettings>{};
  store::ReplySettings s;
  if (has_forward) {
    const json& f = body["forward_replies"];
    if (!f.is_boolean()) return Status::invalid("forward_replies", "expected true or false");
    s.forward_replies = f.get<bool>();
    body.erase("forward_replies");
  }
  if (has_hours) {
    const json& h = body["office_hours"];
    if (!h.is_null()) {
      if (!h.is_object()) {
        return Status::invalid("office_hours",
                               "expected {\"days\":[1,2,3,4,5],\"start\":\"08:00\",\"end\":"
                               "\"16:00\"} or null");
      }
      for (const auto& [key, _] : h.items()) {
        if (key != "days" && key != "start" && key != "end") {
          return Status::invalid("office_hours." + key, "unknown field");
        }
      }
      store::OfficeHours hours;
      auto days = h.find("days");
      if (days == h.end() || !days->is_array() || days->empty() || days->size() > 7) {
        return Status::invalid("office_hours.days",
                               "expected ISO weekdays, 1 (Monday) to 7 (Sunday)");
      }
      for (const auto& d : *days) {
        if (!d.is_number_integer() || d.get<int>() < 1 || d.get<int>() > 7) {
          return Status::invalid("office_hours.days",
                                 "expected ISO weekdays, 1 (Monday) to 7 (Sunday)");
        }
        hours.days.push_back(d.get<int>());
      }
      for (const char* key : {"start", "end"}) {
        auto it = h.find(key);
        if (it == h.end() || !it->is_string() || !valid_clock(it->get<std::string>())) {
          return Status::invalid(std::string("office_hours.") + key, "expected \"HH:MM\"");
        }
        (std::string_view(key) == "start" ? hours.start : hours.end) = it->get<std::string>();
      }
      if (hours.start == hours.end) {
        return Status::invalid("office_hours.end", "must differ from start");
      }
      s.office_hours = std::move(hours);
    }
    body.erase("office_hours");
  }
  return std::optional<store::ReplySettings>(std::move(s));
}

json reply_settings_json(const store::ReplySettings& settings) {
  json out = {{"forward_replies", settings.forward_replies}, {"office_hours", nullptr}};
  if (settings.office_hours) {
    const auto& h = *settings.office_hours;
    out["office_hours"] = {{"days", h.days}, {"start", h.start}, {"end", h.end}};
  }
  return out;
}

boost::asio::awaitable<Response> threads_route(store::ConversationStore* conversations,
                                               Principal principal, std::vector<std::string> parts,
                                               Request request) {
  if (conversations == nullptr) co_return problem(Status::not_found("no such resource"));
  const std::string& method = request.method;
  if (parts.size() == 2) {
    if (method != "GET") co_return problem(405, "use GET");
    co_return list(*conversations, principal);
  }
  if (auto s = validate_id("id", parts[2]); !s.is_ok()) {
    co_return problem(Status::not_found("no such thread"));
  }
  if (principal.role != Role::kAdmin && principal.staff_id.empty()) {
    co_return problem(Status::not_found("no such thread"));
  }
  const std::string id = parts[2];
  if (parts.size() == 3) {
    if (method != "GET") co_return problem(405, "use GET");
    StoreCall<Result<store::ThreadView>> call =
        [conversations, id, principal](std::function<void(Result<store::ThreadView>)> done) {
          conversations->open_thread(id, principal, std::move(done));
        };
    auto view = co_await await_store<Result<store::ThreadView>>(std::move(call));
    if (!view.is_ok()) co_return problem(view.status());
    json out = summary_json(view->thread);
    out.erase("unread");
    json messages = json::array();
    for (const auto& m : view->messages) messages.push_back(message_json(m));
    out["messages"] = messages;
    co_return http::json_response(200, out);
  }
  if (parts.size() == 4 && parts[3] == "messages") {
    if (method != "POST") co_return problem(405, "use POST");
    if (request.header("Content-Type").rfind("application/json", 0) != 0) {
      co_return problem(Status(Code::kMalformed, "expected Content-Type: application/json"));
    }
    auto body = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
    if (body.is_discarded()) co_return problem(Status::malformed("the body is not valid JSON"));
    if (!body.is_object()) co_return problem(Status::invalid("", "expected an object"));
    for (const auto& [key, _] : body.items()) {
      if (key != "body") co_return problem(Status::invalid(key, "unknown field"));
    }
    auto text = body.find("body");
    if (text == body.end() || !text->is_string() || text->get<std::string>().empty()) {
      co_return problem(Status::invalid("body", "expected the text of the answer"));
    }
    if (text->get<std::string>().size() > kMaxReplyBytes) {
      co_return problem(Status::invalid("body", "at most 4000 bytes"));
    }
    StoreCall<Result<std::string>> call =
        [conversations, id, principal,
         t = text->get<std::string>()](std::function<void(Result<std::string>)> done) {
          conversations->post_reply(id, principal, t, std::move(done));
        };
    auto message_id = co_await await_store<Result<std::string>>(std::move(call));
    if (!message_id.is_ok()) co_return problem(message_id.status());
    spdlog::info("thread {}: answer {} queued", id, *message_id);
    Response r = http::json_response(202, {{"id", *message_id}, {"thread_id", id}});
    r.headers.emplace_back("Location", "/v1/messages/" + *message_id);
    co_return r;
  }
  co_return problem(Status::not_found("no such resource"));
}

}  // namespace homeroom::api
