// The store: everything homeroom keeps, in one SQLite file, behind one writer.
//
// Writes are asynchronous: each call queues a job on the group-commit Writer and calls `done` on
// the writer thread once the transaction holding it is durable (or failed). Reads run at once on a
// pooled read-only connection in the caller's thread. All methods are thread-safe. No exception
// leaves this class: SQLite errors come back as Status (kInternal / kUnavailable).
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/model.h"
#include "core/status.h"
#include "roster/oneroster.h"
#include "roster/roster_csv.h"
#include "store/writer.h"

namespace SQLite {
class Database;
}

namespace homeroom::store {

template <typename T>
using Done = std::function<void(Result<T>)>;
using StatusDone = std::function<void(Status)>;

struct Empty {};

// An Idempotency-Key as sent by one caller, with a hash of the request it came with.
struct IdempotencyRef {
  std::string token_id;
  std::string key;
  std::string request_hash;
};

// The answer the API gave (or replays) for an accepted message.
struct StoredResponse {
  unsigned status = 0;
  std::string body;
  bool replayed = false;
};

struct AcceptedMessage {
  NewMessage message;
  std::vector<std::pair<std::string, PlannedDelivery>> deliveries;  // (delivery id, plan)
};

using PlanFn = std::function<Result<std::vector<PlannedDelivery>>(const StudentRoster&,
                                                                  const NewMessage&, Millis now)>;
using RespondFn = std::function<StoredResponse(const AcceptedMessage&)>;

struct DeliveryEvent {
  Millis at = 0;
  std::string state;
  std::string detail;
};

struct DeliveryView {
  std::string id;
  std::string guardian_id;
  std::string channel;
  std::string address;
  std::string language;
  DeliveryState state = DeliveryState::kQueued;
  int attempts = 0;
  int segments = 0;
  Millis next_attempt_at = 0;
  std::string provider_id;
  std::string last_error;
  Millis updated_at = 0;
  std::string fallback_of;  // the failed delivery this one follows, or ""
  std::vector<DeliveryEvent> events;
};

struct MessageView {
  NewMessage message;
  Millis created_at = 0;
  std::vector<DeliveryView> deliveries;
};

// What the dispatcher learned about one leased delivery.
struct DeliveryUpdate {
  std::string id;
  int attempt = 0;  // must match the lease, so a stale completion changes nothing
  DeliveryState state = DeliveryState::kSent;  // kSent, kQueued (retry), kFailed, kDead
  Millis next_attempt_at = 0;                  // for a retry
  std::string provider_id;
  std::string detail;  // the provider's reason, or "retry in 4s: ..."
  int segments = 0;    // SMS segments, recorded when > 0
  // When the provider said the address is unusable: "gone" / "stopped"; the contact point is
  // marked so routing skips it from now on.
  std::string contact_status{};
};

// What a provider reported later about a delivery it accepted (a webhook).
struct ProviderStatusUpdate {
  std::string channel;      // "sms", "email", "push"
  std::string provider_id;  // as recorded when the provider accepted the delivery
  enum class Kind { kSent, kDelivered, kUndelivered, kBounced, kContactStopped } kind;
  std::string reason;
};

// GET /v1/reports/reach: per teacher, the families they did not reach in a period.
struct ReachFamily {
  std::string guardian_id;
  std::string guardian_name;
  std::string student_id;
  std::string student_name;
};
struct UnreachedFamily {
  ReachFamily family;
  std::string message_id;
  std::string channel;  // of the last delivery tried
  std::string reason;   // its last error
  Millis at = 0;        // when it failed
};
struct TeacherReach {
  std::string staff_id;  // "" for messages sent by an admin token without a staff member
  std::string name;
  // Families (guardian, student) of the teacher's students with no sent or delivered message
  // from this teacher in the period.
  std::vector<ReachFamily> no_message;
  // (family, message) where every delivery of a message of this teacher in the period failed.
  std::vector<UnreachedFamily> unreached;
};
// Per school (admins only): families every channel failed for, whoever sent the message.
struct SchoolReach {
  std::string school_id;  // "" for students without a school
  std::string name;
  std::vector<UnreachedFamily> unreached;
};
struct ReachReport {
  std::vector<TeacherReach> teachers;
  std::vector<SchoolReach> schools;  // empty in a teacher's report
};

// How many due deliveries one lease may take: at most `total`, and per channel at most
// per_channel[channel] (a channel without an entry: `total`). Individual deliveries come first;
// bulk ones round-robin across schools, per channel starting after bulk_after[channel] (the
// school_id of the last bulk delivery leased before; "" for none; no entry: from the start).
struct LeaseLimits {
  int total = 64;
  std::map<std::string, int> per_channel{};
  std::map<std::string, std::string> bulk_after{};
};

// A broadcast as accepted by the API (store/broadcast_store.cpp). Exactly one audience key is set.
struct NewBroadcast {
  std::string id;
  std::string author_staff;  // "" for an admin token without a staff member
  std::string category;
  std::map<std::string, std::string> templates;  // language -> Mustache template
  std::string default_language = "en";           // its template is the message body
  std::map<std::string, std::string> variables;  // student id -> JSON object
  std::set<std::string> needed_variables;        // per-student names the templates use
  std::optional<Millis> send_at;
  // "all" | "schools" | "grades" | "teachers" | "classes" | "students"
  std::string audience_kind;
  std::vector<std::string> audience_values;
  std::string audience_json;  // as submitted
};

struct BroadcastView {
  std::string id;
  std::string state;  // planning | planned | cancelled
  std::string category;
  std::string author_staff;
  std::string audience_json;
  std::optional<Millis> send_at;
  Millis created_at = 0;
  std::optional<Millis> planned_at;
  std::optional<Millis> cancelled_at;
  std::int64_t students_total = 0;
  std::int64_t students_planned = 0;
  std::int64_t deliveries = 0;
  std::map<std::string, std::int64_t> counts;  // state -> deliveries
  // state ("suppressed", "failed", "dead") -> reason -> deliveries
  std::map<std::string, std::map<std::string, std::int64_t>> reasons;
};

// Plans one chunk of a broadcast's audience (routing::plan_send with the school's options).
using BroadcastPlanFn = std::function<std::vector<PlannedDelivery>(
    const std::vector<StudentRoster>&, const NewMessage&, Millis now)>;
using BroadcastRespondFn =
    std::function<StoredResponse(const std::string& id, std::int64_t students)>;

struct FanoutMemo;

struct ImportSummary {
  int staff = 0;
  int students = 0;
  int guardians = 0;
};

// What a OneRoster import did to one kind of row (store/oneroster_store.cpp).
struct ImportCounts {
  int created = 0;
  int updated = 0;
  int unchanged = 0;
  int deleted = 0;
  int unlinked = 0;  // asked to be deleted, kept for its message history, links removed
};
struct OneRosterSummary {
  ImportCounts schools;
  ImportCounts staff;
  ImportCounts guardians;
  ImportCounts students;
  ImportCounts classes{};
  // Student and teacher enrollments (the others are not kept).
  ImportCounts enrollments{};
  std::vector<std::string> notes;  // what was done instead of what was asked, one line each
};
// Called on the writer thread as an import goes: rows handled so far, of `total`.
using ImportProgress = std::function<void(std::size_t done, std::size_t total)>;

// Where the IMAP poller stands in one mailbox (conversations/imap_poller.h).
struct ImapCursor {
  std::int64_t uidvalidity = 0;
  std::int64_t last_uid = 0;  // the highest UID recorded; 0: none yet
};

class ReadPool;

class Store {
 public:
  // Opens (creating if needed) the database at `path`, applies migrations, starts the writer.
  static Result<std::unique_ptr<Store>> open(const std::filesystem::path& path, const Clock& clock);
  ~Store();
  // Commits what is queued and stops the writer; later writes get kUnavailable.
  void close();

  // Roster. put_* replaces the whole record (PUT semantics); a reference to a missing staff
  // member or guardian is kInvalidArgument naming the field.
  void put_school(School school, StatusDone done);
  void delete_school(std::string id, StatusDone done);
  Result<School> get_school(const std::string& id);
  void put_staff(Staff staff, StatusDone done);
  void put_guardian(Guardian guardian, StatusDone done);
  void put_student(Student student, StatusDone done);
  void delete_staff(std::string id, StatusDone done);
  void delete_guardian(std::string id, StatusDone done);
  void delete_student(std::string id, StatusDone done);
  Result<Staff> get_staff(const std::string& id);
  Result<Guardian> get_guardian(const std::string& id);
  Result<Student> get_student(const std::string& id);
  Result<bool> teaches(const std::string& staff_id, const std::string& student_id);
  // All of a CSV import in one transaction: nothing is written if anything is wrong.
  void import_roster(RosterImport data, std::string source_name, Done<ImportSummary> done);
  // A parsed OneRoster set in one transaction, all or nothing: schools, staff, guardians,
  // students, classes and enrollments upserted in place (what families and the school chose is
  // kept), delta deletions, and what a bulk file leaves out removed within the orgs the import
  // names (see store/oneroster_store.cpp). `dry_run`: the same work, rolled back.
  void import_oneroster(OneRosterImport data, bool dry_run, ImportProgress progress,
                        Done<OneRosterSummary> done);

  // Tokens: only the SHA-256 of a token is stored.
  void create_token(std::string token_hash, Role role, std::string staff_id,
                    Done<std::string> done);
  Result<Principal> find_token(const std::string& token_hash);

  // Messages: the idempotency check, planning and every insert happen in ONE transaction.
  void accept_message(NewMessage message, std::optional<IdempotencyRef> idempotency, PlanFn plan,
                      RespondFn respond, Done<StoredResponse> done);
  Result<MessageView> get_message(const std::string& id);

  // Queue. lease_due moves up to `limit` due deliveries (queued or scheduled and due, or sending
  // with an expired lease) to `sending` with a lease of `lease_ms`.
  void lease_due(int limit, Millis lease_ms, Done<std::vector<LeasedDelivery>> done);
  // The same with a limit per channel (throttles): per (channel, priority) in time order.
  void lease_due(LeaseLimits limits, Millis lease_ms, Done<std::vector<LeasedDelivery>> done);

  // Broadcasts. accept_broadcast resolves the audience and records the broadcast in ONE job
  // (kInvalidArgument naming the field: unknown students, no student matched, variables for a
  // student outside the audience, an audience student without the variables the templates use);
  // deliveries are planned afterwards by fan_out, in jobs of about `chunk_students` students each
  // (a household is never split), so notes are never queued behind one giant job. Each job
  // advances the broadcast's cursor in the same transaction: after a crash, resume_fan_outs goes
  // on where it stopped. `on_chunk` runs (on the writer thread) after each durable chunk.
  void accept_broadcast(NewBroadcast broadcast, std::optional<IdempotencyRef> idempotency,
                        BroadcastRespondFn respond, Done<StoredResponse> done);
  void fan_out(std::string id, int chunk_students, BroadcastPlanFn plan,
               std::function<void()> on_chunk);
  void resume_fan_outs(int chunk_students, BroadcastPlanFn plan, std::function<void()> on_chunk);
  Result<BroadcastView> get_broadcast(const std::string& id);
  // Stops planning and suppresses ("cancelled") every delivery not yet handed to a channel; what
  // was sent stays recorded. kNotFound for an unknown id.
  void cancel_broadcast(std::string id, StatusDone done);
  void record_updates(std::vector<DeliveryUpdate> updates, StatusDone done);
  // Provider reports move a delivery forward only (sent -> delivered; sent -> failed), never back;
  // a report for an unknown provider id or one that would move backwards changes nothing.
  void record_provider_status(ProviderStatusUpdate update, StatusDone done);
  // The named secret (32 random bytes), created on first use and kept in the database.
  Result<std::string> secret(const std::string& name);
  // The IMAP poller's cursor for `mailbox` (its "<username> <url>"); nullopt before the first save.
  Result<std::optional<ImapCursor>> imap_cursor(const std::string& mailbox);
  void save_imap_cursor(std::string mailbox, ImapCursor cursor, StatusDone done);

  // Earliest next_attempt_at of any pending delivery, to sleep until then.
  Result<std::optional<Millis>> next_due();
  Result<std::map<std::string, std::int64_t>> delivery_counts();

  // The channels a fallback may move to (those with a configured instance); all known channels
  // until set. Set it before the dispatcher starts.
  void set_available_channels(std::set<std::string> channels);
  // Messages created at or after `since`; `only_staff` non-empty: that teacher's students and
  // messages only. Restricted (contact_allowed=false) and do_not_contact guardians are left out:
  // they are not to be reached.
  Result<ReachReport> reach_report(Millis since, const std::string& only_staff);

  Writer& writer() { return *writer_; }

 private:
  Store(std::filesystem::path path, const Clock& clock, std::unique_ptr<Writer> writer);
  template <typename Fn>
  auto read(Fn&& fn) -> decltype(fn(std::declval<SQLite::Database&>()));

  std::filesystem::path path_;
  const Clock& clock_;
  std::unique_ptr<Writer> writer_;
  std::unique_ptr<ReadPool> readers_;
  // Fan-out dedup memos by broadcast id; touched only by jobs on the writer thread.
  std::map<std::string, std::shared_ptr<FanoutMemo>> fanout_memos_;
  mutable std::mutex channels_mu_;
  std::set<std::string> available_channels_{"email", "sms", "push"};
  std::set<std::string> available_channels() const;
};

}  // namespace homeroom::store
