// The domain: who is in a school, how each family wants to be reached, and what was sent to whom.
// Plain values with no behaviour; the modules that own each decision (roster, routing, queue) act
// on them.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/clock.h"

namespace homeroom {

enum class Role { kAdmin, kTeacher };
const char* role_name(Role role);
std::optional<Role> parse_role(const std::string& text);

struct Staff {
  std::string id;
  std::string name;
  std::string email;
  Role role = Role::kTeacher;
  std::string school_id{};  // "" : not tied to one school
};

// A way to reach one guardian. `address` is an email address, an E.164 number, or for push the
// subscription as JSON ({"endpoint", "keys": {"p256dh", "auth"}}).
struct ContactPoint {
  std::string channel;  // "email" | "sms" | "push"
  std::string address;
  // "active", or why homeroom stopped using it: "gone" (expired push subscription), "stopped"
  // (opted out at the provider), "bounced". Set by homeroom, not by the roster API.
  std::string status = "active";
};

struct QuietHours {
  std::string start;  // "HH:MM" local to the guardian's time zone
  std::string end;
};

struct Preferences {
  std::vector<std::string> channels;  // most preferred first
  std::optional<QuietHours> quiet_hours;
  std::map<std::string, std::string> categories;  // category -> "instant" | "digest" | "off"
  std::optional<std::string> digest_time;         // "HH:MM" local; unset: the school's (17:30)
};

// A school: the defaults its families get where they set nothing themselves, and what replies
// need. Students (and staff) name their school; "" means the deployment's built-in defaults.
struct School {
  std::string id;
  std::string name;
  std::string timezone = "UTC";          // IANA
  std::string language = "en";           // BCP 47: the language of messages without a translation
  Preferences defaults;                  // channels, quiet hours, category modes, digest time
  std::string contact_line;              // what HELP answers, e.g. "Call the office: +1 555 0100"
  std::string office_email;              // where replies that match no thread go
  std::vector<std::string> sms_numbers;  // the pool of sending numbers (E.164)
  bool urgent_to_stopped = false;        // urgent SMS still reach numbers that sent STOP
  // Conference reminders: minutes before each slot, one reminder per entry (3 days, 2 hours).
  std::vector<int> conference_reminders{4320, 120};
};

struct Guardian {
  std::string id;
  std::string given_name;
  std::string family_name;
  std::string language = "en";  // BCP 47
  std::string timezone;         // IANA; empty: the school's (the deployment's: UTC)
  std::vector<ContactPoint> contacts;
  Preferences preferences;
  // Set by the school: nothing reaches this guardian except messages marked legally required.
  bool do_not_contact = false;
  // (channel, category) pairs the family stopped by an email's unsubscribe link (RFC 8058): that
  // channel is skipped for that category, never for "urgent". Set by homeroom, not by the API.
  std::set<std::pair<std::string, std::string>> unsubscribed{};
};

struct GuardianLink {
  std::string guardian_id;
  std::string relationship;
  bool contact_allowed = true;
};

struct Student {
  std::string id;
  std::string given_name;
  std::string family_name;
  std::string grade;
  std::vector<std::string> staff;  // teachers of this student
  std::vector<GuardianLink> guardians;
  std::string school_id{};  // "" : the deployment's defaults
};

// A family's conference slot (PUT /v1/conferences/{id}, homeroomctl import conferences): the
// student's guardians get reminders before it (routing/conference_reminders.h).
struct Conference {
  std::string id;
  std::string student_id;
  std::string staff_id;  // the teacher (or other staff) the family meets
  Millis starts_at = 0;
  int duration_minutes = 0;
  std::string place;
  std::string note{};  // optional, shown as written in every language ("Room 12B, east door")
};

// Who is calling the API: an admin, or a teacher acting as one staff member.
struct Principal {
  Role role = Role::kTeacher;
  std::string staff_id;  // empty for an admin token not tied to a staff member
  std::string token_id;
};

inline const std::vector<std::string>& known_channels() {
  static const std::vector<std::string> kChannels{"email", "sms", "push"};
  return kChannels;
}

// Delivery lifecycle; see docs/architecture.md. Moves only forward, except a retry (sending ->
// queued) and an admin re-queue of a dead delivery.
enum class DeliveryState {
  kPlanned,
  kScheduled,  // waiting for send_at (or, later, quiet hours)
  kQueued,
  kSending,     // leased by a dispatcher; lease_until says when it returns to the queue
  kSent,        // the provider accepted it
  kDelivered,   // the provider confirmed delivery
  kFailed,      // a permanent failure (fell back or gave up)
  kSuppressed,  // deliberately not sent (opt-out, restriction, dedup)
  kDead,        // retries exhausted
};
const char* state_name(DeliveryState state);
std::optional<DeliveryState> parse_state(const std::string& text);

}  // namespace homeroom

namespace homeroom {

// One student with the guardians linked to them: what planning a note needs.
struct StudentRoster {
  Student student;
  std::vector<Guardian> guardians;  // in the order of student.guardians
  std::optional<School> school{};   // the student's school, when set
};

// A teacher's note as accepted by the API, before planning.
struct NewMessage {
  std::string id;
  std::string student_id;
  std::string author_staff;  // empty for an admin token without a staff member
  std::string category;      // "note" | "reminder" | "urgent"
  std::string body;
  std::map<std::string, std::string> translations;  // language -> body
  std::optional<Millis> send_at;
  // Marked by an admin: reaches guardians flagged do_not_contact too (never restricted ones).
  bool legally_required = false;
};

// One delivery decided by routing.
struct PlannedDelivery {
  std::string guardian_id;
  std::string channel;
  std::string address;
  std::string language;
  DeliveryState state = DeliveryState::kQueued;  // kQueued, kScheduled or kSuppressed
  Millis not_before = 0;                         // when it may first be sent
  std::string detail;                            // why suppressed / scheduled
  bool digest = false;  // collected into the guardian's digest at not_before
  // The students of the send this delivery is about (siblings are named together in one copy).
  std::vector<std::string> student_ids;
};

// A delivery leased by the dispatcher, with what rendering it needs.
// A note collected into a digest (a LeasedDelivery leading the guardian's other digest
// deliveries due on the same address): leased with it, rendered into its text, and given its
// outcome.
struct DigestItem {
  std::string delivery_id;
  int attempt = 0;
  std::string author_name;  // "" for an admin without staff
  std::string student_given_name;
  std::string text;  // in the leading delivery's language where a translation exists
};

struct LeasedDelivery {
  std::string id;
  std::string message_id;
  std::string guardian_id;
  std::string channel;
  std::string address;
  std::string language;
  std::string category;
  std::string text;  // the body in `language` (translation, else the original)
  std::string student_given_name;
  std::string student_family_name;
  std::string student_id;
  std::string author_staff;  // staff id, or "" for an admin without staff
  std::string author_name;   // staff name, or "" for an admin without staff
  std::string guardian_given_name;
  int attempt = 0;          // 1 for the first try
  int priority = 0;         // 0: individual (notes, replies); 1: bulk (a broadcast)
  std::string school_id{};  // bulk: the school whose turn leased it ("" for none)
  // A broadcast's copy: `text` is a Mustache template and this a JSON array with one context per
  // student the copy is about (render/broadcast_text.h fills it in); empty for a note.
  std::string template_contexts{};
  // SMS: the pool number to send from (the thread's, so replies find it); "": the channel's own.
  std::string from{};
  // A digest: the other notes sent in this one message (this delivery's own note comes first).
  std::vector<DigestItem> digest{};
};

}  // namespace homeroom
