#include "api/roster_json.h"

#include <algorithm>
#include <initializer_list>
#include <set>

#include "roster/validate.h"

namespace homeroom::api {
namespace {

using nlohmann::json;

std::string join(const std::string& prefix, const std::string& key) {
  // An empty key still needs a name a caller can see in errors[].field.
  const std::string name = key.empty() ? "\"\"" : key;
  return prefix.empty() ? name : prefix + "." + name;
}

// Refuses keys outside `allowed`, naming the first unknown one.
Status only_keys(const json& j, std::initializer_list<const char*> allowed, const std::string& at) {
  if (!j.is_object()) return Status::invalid(at.empty() ? "body" : at, "expected a JSON object");
  for (const auto& [key, _] : j.items()) {
    bool known = false;
    for (const char* a : allowed) known = known || key == a;
    if (!known) return Status::invalid(join(at, key), "unknown field");
  }
  return {};
}

// Reads an optional string field; `out` keeps its default when the field is absent.
Status read_string(const json& j, const char* key, const std::string& at, std::string& out,
                   bool required) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    return required ? Status::invalid(join(at, key), "is required") : Status{};
  }
  if (!it->is_string()) return Status::invalid(join(at, key), "expected a string");
  out = it->get<std::string>();
  return {};
}

#define RETURN_IF_ERROR(expr)               \
  do {                                      \
    if (Status s_ = (expr); !s_) return s_; \
  } while (0)

Status parse_hhmm(const std::string& field, const std::string& text) {
  if (text.size() != 5 || text[2] != ':' || !isdigit(text[0]) || !isdigit(text[1]) ||
      !isdigit(text[3]) || !isdigit(text[4])) {
    return Status::invalid(field, "expected a time as \"HH:MM\"");
  }
  int h = (text[0] - '0') * 10 + (text[1] - '0');
  int m = (text[3] - '0') * 10 + (text[4] - '0');
  if (h > 23 || m > 59) return Status::invalid(field, "expected a time as \"HH:MM\"");
  return {};
}

// "school_id": optional; whether the school exists is the store's check.
Status read_school_id(const json& j, std::string& out) {
  RETURN_IF_ERROR(read_string(j, "school_id", "", out, false));
  if (!out.empty()) RETURN_IF_ERROR(validate_id("school_id", out));
  return {};
}

json preferences_json(const Preferences& p) {
  json out = {{"channels", p.channels}, {"categories", p.categories}};
  if (p.quiet_hours) {
    out["quiet_hours"] = {{"start", p.quiet_hours->start}, {"end", p.quiet_hours->end}};
  }
  if (p.digest_time) out["digest_time"] = *p.digest_time;
  return out;
}

Status contact_from_json(const json& c, const std::string& at, ContactPoint& out) {
  RETURN_IF_ERROR(only_keys(c, {"channel", "address", "subscription", "fcm_token", "status"}, at));
  RETURN_IF_ERROR(read_string(c, "channel", at, out.channel, true));
  RETURN_IF_ERROR(validate_channel(at + ".channel", out.channel));
  if (out.channel == "push") {
    // A push contact is a Web Push subscription, or an FCM registration token (apps).
    if (auto fcm = c.find("fcm_token"); fcm != c.end()) {
      if (c.contains("subscription")) {
        return Status::invalid(at + ".fcm_token", "give a subscription or an fcm_token, not both");
      }
      if (!fcm->is_string() || fcm->get<std::string>().empty() ||
          fcm->get<std::string>().size() > 4096) {
        return Status::invalid(at + ".fcm_token", "expected an FCM registration token");
      }
      out.address = json{{"fcm_token", fcm->get<std::string>()}}.dump();
      return {};
    }
    auto it = c.find("subscription");
    if (it == c.end()) return Status::invalid(at + ".subscription", "is required for push");
    const std::string sat = at + ".subscription";
    RETURN_IF_ERROR(only_keys(*it, {"endpoint", "keys", "expirationTime"}, sat));
    std::string endpoint;
    RETURN_IF_ERROR(read_string(*it, "endpoint", sat, endpoint, true));
    if (endpoint.rfind("https://", 0) != 0 && endpoint.rfind("http://", 0) != 0) {
      return Status::invalid(sat + ".endpoint", "expected an http(s) URL");
    }
    auto keys = it->find("keys");
    if (keys == it->end()) return Status::invalid(sat + ".keys", "is required");
    RETURN_IF_ERROR(only_keys(*keys, {"p256dh", "auth"}, sat + ".keys"));
    std::string p256dh, auth;
    RETURN_IF_ERROR(read_string(*keys, "p256dh", sat + ".keys", p256dh, true));
    RETURN_IF_ERROR(read_string(*keys, "auth", sat + ".keys", auth, true));
    out.address =
        json{{"endpoint", endpoint}, {"keys", {{"p256dh", p256dh}, {"auth", auth}}}}.dump();
    return {};
  }
  for (const char* push_only : {"subscription", "fcm_token"}) {
    if (c.contains(push_only)) {
      return Status::invalid(at + "." + push_only, "only push contacts have one");
    }
  }
  RETURN_IF_ERROR(read_string(c, "address", at, out.address, true));
  if (out.channel == "email") {
    RETURN_IF_ERROR(validate_email(at + ".address", out.address));
    out.address = normalize_email(out.address);
  } else {
    auto phone = normalize_phone(out.address);
    if (!phone) {
      return Status::invalid(at + ".address", "expected a phone number, e.g. +15551234567");
    }
    out.address = *phone;
  }
  return {};
}

Status preferences_from_json(const json& p, const std::string& at, Preferences& out) {
  RETURN_IF_ERROR(only_keys(p, {"channels", "quiet_hours", "categories", "digest_time"}, at));
  if (auto it = p.find("digest_time"); it != p.end() && !it->is_null()) {
    std::string t;
    RETURN_IF_ERROR(read_string(p, "digest_time", at, t, true));
    RETURN_IF_ERROR(parse_hhmm(at + ".digest_time", t));
    out.digest_time = t;
  }
  if (auto it = p.find("channels"); it != p.end()) {
    if (!it->is_array()) return Status::invalid(at + ".channels", "expected an array");
    std::set<std::string> seen;
    for (std::size_t i = 0; i < it->size(); ++i) {
      const std::string field = at + ".channels[" + std::to_string(i) + "]";
      if (!(*it)[i].is_string()) return Status::invalid(field, "expected a string");
      auto channel = (*it)[i].get<std::string>();
      RETURN_IF_ERROR(validate_channel(field, channel));
      if (!seen.insert(channel).second) return Status::invalid(field, "listed twice");
      out.channels.push_back(channel);
    }
  }
  if (auto it = p.find("quiet_hours"); it != p.end() && !it->is_null()) {
    const std::string qat = at + ".quiet_hours";
    RETURN_IF_ERROR(only_keys(*it, {"start", "end"}, qat));
    QuietHours q;
    RETURN_IF_ERROR(read_string(*it, "start", qat, q.start, true));
    RETURN_IF_ERROR(parse_hhmm(qat + ".start", q.start));
    RETURN_IF_ERROR(read_string(*it, "end", qat, q.end, true));
    RETURN_IF_ERROR(parse_hhmm(qat + ".end", q.end));
    out.quiet_hours = q;
  }
  if (auto it = p.find("categories"); it != p.end()) {
    if (!it->is_object()) return Status::invalid(at + ".categories", "expected an object");
    for (const auto& [category, mode] : it->items()) {
      const std::string field = at + ".categories." + category;
      if (!mode.is_string())
        return Status::invalid(field, "expected \"instant\", \"digest\" or \"off\"");
      auto m = mode.get<std::string>();
      if (m != "instant" && m != "digest" && m != "off") {
        return Status::invalid(field, "expected \"instant\", \"digest\" or \"off\"");
      }
      if (category == "urgent" && m != "instant") {
        return Status::invalid(field, "urgent messages are always sent at once");
      }
      out.categories[category] = m;
    }
  }
  return {};
}

}  // namespace

Result<Staff> staff_from_json(const std::string& id, const json& j) {
  Staff s;
  s.id = id;
  RETURN_IF_ERROR(only_keys(j, {"id", "name", "email", "role", "school_id"}, ""));
  RETURN_IF_ERROR(read_school_id(j, s.school_id));
  RETURN_IF_ERROR(read_string(j, "name", "", s.name, true));
  RETURN_IF_ERROR(validate_name("name", s.name));
  RETURN_IF_ERROR(read_string(j, "email", "", s.email, false));
  if (!s.email.empty()) {
    RETURN_IF_ERROR(validate_email("email", s.email));
    s.email = normalize_email(s.email);
  }
  std::string role = "teacher";
  RETURN_IF_ERROR(read_string(j, "role", "", role, false));
  auto parsed = parse_role(role);
  if (!parsed) return Status::invalid("role", "expected \"teacher\" or \"admin\"");
  s.role = *parsed;
  return s;
}

Result<Guardian> guardian_from_json(const std::string& id, const json& j) {
  Guardian g;
  g.id = id;
  RETURN_IF_ERROR(only_keys(j,
                            {"id", "given_name", "family_name", "language", "timezone", "contacts",
                             "preferences", "do_not_contact"},
                            ""));
  if (auto it = j.find("do_not_contact"); it != j.end()) {
    if (!it->is_boolean()) return Status::invalid("do_not_contact", "expected true or false");
    g.do_not_contact = it->get<bool>();
  }
  RETURN_IF_ERROR(read_string(j, "given_name", "", g.given_name, true));
  RETURN_IF_ERROR(validate_name("given_name", g.given_name));
  RETURN_IF_ERROR(read_string(j, "family_name", "", g.family_name, true));
  RETURN_IF_ERROR(validate_name("family_name", g.family_name));
  RETURN_IF_ERROR(read_string(j, "language", "", g.language, false));
  RETURN_IF_ERROR(validate_language("language", g.language));
  g.language = canonical_language(g.language).value_or(g.language);
  RETURN_IF_ERROR(read_string(j, "timezone", "", g.timezone, false));
  if (!g.timezone.empty()) RETURN_IF_ERROR(validate_timezone("timezone", g.timezone));
  if (auto it = j.find("contacts"); it != j.end()) {
    if (!it->is_array()) return Status::invalid("contacts", "expected an array");
    std::set<std::pair<std::string, std::string>> seen;
    for (std::size_t i = 0; i < it->size(); ++i) {
      const std::string at = "contacts[" + std::to_string(i) + "]";
      ContactPoint c;
      RETURN_IF_ERROR(contact_from_json((*it)[i], at, c));
      if (!seen.insert({c.channel, c.address}).second) {
        return Status::invalid(at, "the same contact is listed twice");
      }
      g.contacts.push_back(std::move(c));
    }
  }
  if (auto it = j.find("preferences"); it != j.end()) {
    RETURN_IF_ERROR(preferences_from_json(*it, "preferences", g.preferences));
  }
  return g;
}

Result<Student> student_from_json(const std::string& id, const json& j) {
  Student s;
  s.id = id;
  RETURN_IF_ERROR(only_keys(
      j, {"id", "given_name", "family_name", "grade", "staff", "guardians", "school_id"}, ""));
  RETURN_IF_ERROR(read_school_id(j, s.school_id));
  RETURN_IF_ERROR(read_string(j, "given_name", "", s.given_name, true));
  RETURN_IF_ERROR(validate_name("given_name", s.given_name));
  RETURN_IF_ERROR(read_string(j, "family_name", "", s.family_name, true));
  RETURN_IF_ERROR(validate_name("family_name", s.family_name));
  if (auto it = j.find("grade"); it != j.end() && it->is_number_integer()) {
    s.grade = std::to_string(it->get<long long>());
  } else {
    RETURN_IF_ERROR(read_string(j, "grade", "", s.grade, false));
  }
  if (auto it = j.find("staff"); it != j.end()) {
    if (!it->is_array()) return Status::invalid("staff", "expected an array of staff ids");
    for (std::size_t i = 0; i < it->size(); ++i) {
      const std::string field = "staff[" + std::to_string(i) + "]";
      if (!(*it)[i].is_string()) return Status::invalid(field, "expected a staff id");
      auto staff_id = (*it)[i].get<std::string>();
      RETURN_IF_ERROR(validate_id(field, staff_id));
      s.staff.push_back(staff_id);
    }
  }
  if (auto it = j.find("guardians"); it != j.end()) {
    if (!it->is_array()) return Status::invalid("guardians", "expected an array");
    for (std::size_t i = 0; i < it->size(); ++i) {
      const std::string at = "guardians[" + std::to_string(i) + "]";
      const auto& g = (*it)[i];
      RETURN_IF_ERROR(only_keys(g, {"id", "relationship", "contact_allowed"}, at));
      GuardianLink link;
      RETURN_IF_ERROR(read_string(g, "id", at, link.guardian_id, true));
      RETURN_IF_ERROR(validate_id(at + ".id", link.guardian_id));
      RETURN_IF_ERROR(read_string(g, "relationship", at, link.relationship, false));
      if (auto ca = g.find("contact_allowed"); ca != g.end()) {
        if (!ca->is_boolean())
          return Status::invalid(at + ".contact_allowed", "expected true or false");
        link.contact_allowed = ca->get<bool>();
      }
      s.guardians.push_back(std::move(link));
    }
  }
  return s;
}

Result<NewMessage> message_from_json(const json& j) {
  NewMessage m;
  RETURN_IF_ERROR(only_keys(
      j, {"student_id", "category", "body", "translations", "send_at", "legally_required"}, ""));
  if (auto it = j.find("legally_required"); it != j.end()) {
    if (!it->is_boolean()) return Status::invalid("legally_required", "expected true or false");
    m.legally_required = it->get<bool>();
  }
  RETURN_IF_ERROR(read_string(j, "student_id", "", m.student_id, true));
  RETURN_IF_ERROR(validate_id("student_id", m.student_id));
  m.category = "note";
  RETURN_IF_ERROR(read_string(j, "category", "", m.category, false));
  if (m.category != "note" && m.category != "reminder" && m.category != "urgent") {
    return Status::invalid("category", "expected \"note\", \"reminder\" or \"urgent\"");
  }
  constexpr std::size_t kMaxBody = 4000;  // a short note; long letters belong in email attachments
  auto check_body = [](const std::string& field, const std::string& text) -> Status {
    if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
      return Status::invalid(field, "must not be empty");
    }
    if (text.size() > kMaxBody) {
      return Status::invalid(field, "at most " + std::to_string(kMaxBody) + " bytes");
    }
    if (!is_valid_utf8(text)) return Status::invalid(field, "must be valid UTF-8");
    return {};
  };
  RETURN_IF_ERROR(read_string(j, "body", "", m.body, true));
  RETURN_IF_ERROR(check_body("body", m.body));
  if (auto it = j.find("translations"); it != j.end()) {
    if (!it->is_object()) return Status::invalid("translations", "expected an object");
    for (const auto& [lang, text] : it->items()) {
      const std::string field = "translations." + lang;
      RETURN_IF_ERROR(validate_language(field, lang));
      if (!text.is_string()) return Status::invalid(field, "expected a string");
      RETURN_IF_ERROR(check_body(field, text.get<std::string>()));
      m.translations[canonical_language(lang).value_or(lang)] = text.get<std::string>();
    }
  }
  if (auto it = j.find("send_at"); it != j.end() && !it->is_null()) {
    Millis t = 0;
    if (!it->is_string() || !parse_rfc3339(it->get<std::string>(), t)) {
      return Status::invalid("send_at", "expected an RFC 3339 time, e.g. 2026-11-23T17:30:00Z");
    }
    m.send_at = t;
  }
  return m;
}

json to_json(const Staff& s) {
  json out = {{"id", s.id}, {"name", s.name}, {"email", s.email}, {"role", role_name(s.role)}};
  if (!s.school_id.empty()) out["school_id"] = s.school_id;
  return out;
}

Result<School> school_from_json(const std::string& id, const json& j) {
  School s;
  s.id = id;
  RETURN_IF_ERROR(
      only_keys(j,
                {"id", "name", "timezone", "language", "defaults", "contact_line", "office_email",
                 "sms_numbers", "urgent_to_stopped", "conference_reminders"},
                ""));
  RETURN_IF_ERROR(read_string(j, "name", "", s.name, true));
  RETURN_IF_ERROR(validate_name("name", s.name));
  RETURN_IF_ERROR(read_string(j, "timezone", "", s.timezone, false));
  RETURN_IF_ERROR(validate_timezone("timezone", s.timezone));
  RETURN_IF_ERROR(read_string(j, "language", "", s.language, false));
  RETURN_IF_ERROR(validate_language("language", s.language));
  s.language = canonical_language(s.language).value_or(s.language);
  if (auto it = j.find("defaults"); it != j.end()) {
    RETURN_IF_ERROR(preferences_from_json(*it, "defaults", s.defaults));
    // One digest per family whatever its children's schools: the time is the family's own.
    if (s.defaults.digest_time) {
      return Status::invalid("defaults.digest_time",
                             "a digest time is the family's choice (default 17:30), the same "
                             "for every school; it cannot be set per school");
    }
  }
  RETURN_IF_ERROR(read_string(j, "contact_line", "", s.contact_line, false));
  if (s.contact_line.size() > 160) {
    return Status::invalid("contact_line", "at most 160 bytes (it is sent as one SMS)");
  }
  RETURN_IF_ERROR(read_string(j, "office_email", "", s.office_email, false));
  if (!s.office_email.empty()) {
    RETURN_IF_ERROR(validate_email("office_email", s.office_email));
    s.office_email = normalize_email(s.office_email);
  }
  if (auto it = j.find("sms_numbers"); it != j.end()) {
    if (!it->is_array()) return Status::invalid("sms_numbers", "expected an array of numbers");
    for (std::size_t i = 0; i < it->size(); ++i) {
      const std::string field = "sms_numbers[" + std::to_string(i) + "]";
      auto phone =
          (*it)[i].is_string() ? normalize_phone((*it)[i].get<std::string>()) : std::nullopt;
      if (!phone) return Status::invalid(field, "expected a phone number, e.g. +15551234567");
      if (std::find(s.sms_numbers.begin(), s.sms_numbers.end(), *phone) != s.sms_numbers.end()) {
        return Status::invalid(field, "listed twice");
      }
      s.sms_numbers.push_back(*phone);
    }
  }
  if (auto it = j.find("urgent_to_stopped"); it != j.end()) {
    if (!it->is_boolean()) return Status::invalid("urgent_to_stopped", "expected true or false");
    s.urgent_to_stopped = it->get<bool>();
  }
  if (auto it = j.find("conference_reminders"); it != j.end()) {
    // Minutes before each conference slot; at most 30 days ahead, a handful of rules.
    constexpr int kMaxMinutes = 30 * 24 * 60;
    constexpr std::size_t kMaxRules = 8;
    if (!it->is_array() || it->size() > kMaxRules) {
      return Status::invalid("conference_reminders",
                             "expected an array of at most 8 numbers of minutes before a "
                             "conference, e.g. [4320, 120]");
    }
    s.conference_reminders.clear();
    for (std::size_t i = 0; i < it->size(); ++i) {
      const std::string field = "conference_reminders[" + std::to_string(i) + "]";
      const json& v = (*it)[i];
      if (!v.is_number_integer() || v.get<std::int64_t>() < 1 ||
          v.get<std::int64_t>() > kMaxMinutes) {
        return Status::invalid(field, "expected whole minutes from 1 to 43200 (30 days)");
      }
      const int minutes = v.get<int>();
      if (std::find(s.conference_reminders.begin(), s.conference_reminders.end(), minutes) !=
          s.conference_reminders.end()) {
        return Status::invalid(field, "listed twice");
      }
      s.conference_reminders.push_back(minutes);
    }
  }
  return s;
}

json to_json(const School& s) {
  return {{"id", s.id},
          {"name", s.name},
          {"timezone", s.timezone},
          {"language", s.language},
          {"defaults", preferences_json(s.defaults)},
          {"contact_line", s.contact_line},
          {"office_email", s.office_email},
          {"sms_numbers", s.sms_numbers},
          {"urgent_to_stopped", s.urgent_to_stopped},
          {"conference_reminders", s.conference_reminders}};
}

json to_json(const Guardian& g) {
  json contacts = json::array();
  for (const auto& c : g.contacts) {
    if (c.channel == "push") {
      auto push = json::parse(c.address);
      if (push.contains("fcm_token")) {
        contacts.push_back({{"channel", c.channel}, {"fcm_token", push["fcm_token"]}});
      } else {
        contacts.push_back({{"channel", c.channel}, {"subscription", push}});
      }
    } else {
      contacts.push_back({{"channel", c.channel}, {"address", c.address}});
    }
    // Shown only when homeroom stopped using it; PUT ignores it (homeroom owns it).
    if (c.status != "active") contacts.back()["status"] = c.status;
  }
  const json prefs = preferences_json(g.preferences);
  return {{"id", g.id},
          {"given_name", g.given_name},
          {"family_name", g.family_name},
          {"language", g.language},
          {"timezone", g.timezone},
          {"contacts", contacts},
          {"preferences", prefs},
          {"do_not_contact", g.do_not_contact}};
}

json to_json(const Student& s) {
  json guardians = json::array();
  for (const auto& link : s.guardians) {
    guardians.push_back({{"id", link.guardian_id},
                         {"relationship", link.relationship},
                         {"contact_allowed", link.contact_allowed}});
  }
  json out = {{"id", s.id},       {"given_name", s.given_name}, {"family_name", s.family_name},
              {"grade", s.grade}, {"staff", s.staff},           {"guardians", guardians}};
  if (!s.school_id.empty()) out["school_id"] = s.school_id;
  return out;
}

}  // namespace homeroom::api
