// Conference slots and their reminders in the store (migration 0012; docs/api.md "Conferences").
//
// put() upserts a slot by the caller's id. In the same transaction it cancels the slot's reminders
// not yet handed to a provider and plans new ones from the school's conference_reminders rules
// (routing/conference_reminders.h). Each reminder is a messages row of category "conference"
// (author: the slot's staff member; text: render/conference_text.h in every language it has, the
// slot named in one time zone, so a family in another zone gets a row of its own) whose
// deliveries are planned like a note's and linked to the teacher's threads, so a family's reply
// reaches the teacher. A put that changes nothing about a scheduled slot changes nothing at all
// (a re-import is harmless). A new or changed slot must start after now.
//
// cancel() marks the slot cancelled and suppresses ("cancelled: the conference was cancelled")
// its reminders' deliveries that are queued or scheduled; what was sent stays recorded, and the
// slot stays readable. A PUT brings a cancelled slot back with new reminders.
//
// Thread-safe. Reads use a read-only connection of their own; writes are jobs of the store's
// writer (group commit), and `done` runs on the writer thread.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "roster/conference_csv.h"
#include "store/store.h"

namespace homeroom::store {

struct ConferenceReminderView {
  std::string message_id;
  int minutes_before = 0;
  Millis starts_at = 0;  // the slot time its text names (the slot's time when it was planned)
  std::string timezone;  // the zone its text names that time in
  Millis created_at = 0;
  std::optional<Millis> cancelled_at;  // the slot moved, changed or was cancelled
  std::vector<DeliveryView> deliveries;
};

struct ConferenceView {
  Conference conference;
  std::string state;  // "scheduled" | "cancelled"
  Millis created_at = 0;
  Millis updated_at = 0;
  std::optional<Millis> cancelled_at;
  std::vector<ConferenceReminderView> reminders;  // in the order they were planned
};

enum class ConferenceChange { kCreated, kUpdated, kUnchanged };

struct ConferencePut {
  ConferenceChange change = ConferenceChange::kUnchanged;
  ConferenceView view;
};

// What a CSV import did (or, with errors, would not do).
struct ConferenceImportSummary {
  int created = 0;
  int updated = 0;
  int unchanged = 0;
  int reminders = 0;  // reminder deliveries planned to be sent (not suppressed)
  // Rows the store refused (unknown student or staff, a new or moved slot not in the future), by
  // line and column. Not empty: nothing was written.
  std::vector<CsvError> errors;
};

struct ConferenceOptions {
  // The channels a reminder may be planned on (those with a configured instance).
  std::set<std::string> available_channels{"email", "sms", "push"};
  // Called after a commit that planned reminders, so the dispatcher looks at once. May be null.
  std::function<void()> on_new_work;
};

class ConferenceStore {
 public:
  ConferenceStore(Store& store, std::filesystem::path db_path, const Clock& clock,
                  ConferenceOptions options = {});
  ~ConferenceStore();

  // kInvalidArgument naming "student_id" / "staff_id" (unknown) or "starts_at" (a new or changed
  // slot that does not start after now).
  void put(Conference conference, Done<ConferencePut> done);
  // kNotFound for an unknown id; cancelling a cancelled slot changes nothing.
  void cancel(std::string id, Done<ConferenceView> done);
  Result<ConferenceView> get(const std::string& id);
  // Slots of a student and/or a staff member ("" matches any), by start time.
  Result<std::vector<ConferenceView>> list(const std::string& student_id,
                                           const std::string& staff_id);
  // A parsed CSV file in ONE transaction, all or nothing: every row as put() would do it, every
  // refused row reported (ConferenceImportSummary::errors). `dry_run`: the same work, rolled back.
  void import(std::vector<ConferenceRow> rows, bool dry_run, Done<ConferenceImportSummary> done);

 private:
  template <typename Fn>
  auto read(Fn&& fn) -> decltype(fn(std::declval<SQLite::Database&>()));

  Store& store_;
  std::filesystem::path path_;
  const Clock& clock_;
  ConferenceOptions options_;
  std::mutex read_mu_;
  std::unique_ptr<SQLite::Database> reader_;
};

}  // namespace homeroom::store
