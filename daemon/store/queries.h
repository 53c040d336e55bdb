// The SQL behind Store, as free functions over one connection. Internal to store/: they throw
// SQLite::Exception, which Store turns into Status.
#pragma once

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <optional>
#include <set>

#include "store/store.h"

namespace homeroom::store {

// roster_store.cpp
Status put_school(SQLite::Database& db, const School& school, Millis now);
std::optional<School> get_school(SQLite::Database& db, const std::string& id);
Status put_staff(SQLite::Database& db, const Staff& staff, Millis now);
Status put_guardian(SQLite::Database& db, const Guardian& guardian, Millis now);
Status put_student(SQLite::Database& db, const Student& student, Millis now);
Status delete_row(SQLite::Database& db, const char* table, const std::string& id);
std::optional<Staff> get_staff(SQLite::Database& db, const std::string& id);
std::optional<Guardian> get_guardian(SQLite::Database& db, const std::string& id);
std::optional<Student> get_student(SQLite::Database& db, const std::string& id);
std::optional<StudentRoster> get_student_roster(SQLite::Database& db, const std::string& id);
bool teaches(SQLite::Database& db, const std::string& staff_id, const std::string& student_id);
Result<ImportSummary> import_roster(SQLite::Database& db, const RosterImport& data,
                                    const std::string& source_name, Millis now);

// token_store.cpp
std::string insert_token(SQLite::Database& db, const std::string& hash, Role role,
                         const std::string& staff_id, Millis now);
std::optional<Principal> find_token(SQLite::Database& db, const std::string& hash);

// message_store.cpp
Result<StoredResponse> accept_message(SQLite::Database& db, const NewMessage& message,
                                      const std::optional<IdempotencyRef>& idempotency,
                                      const PlanFn& plan, const RespondFn& respond, Millis now);
std::optional<MessageView> get_message(SQLite::Database& db, const std::string& id);

// queue_store.cpp
std::vector<LeasedDelivery> lease_due(SQLite::Database& db, const LeaseLimits& limits, Millis now,
                                      Millis lease_until);
// The lease's SQL (exposed so that a test checks each stays a seek or range scan on its index).
extern const char* const kIndividualDueSql;
extern const char* const kBulkFirstSchoolSql;
extern const char* const kBulkNextSchoolSql;
extern const char* const kBulkRowsSql;
void record_updates(SQLite::Database& db, const std::vector<DeliveryUpdate>& updates, Millis now,
                    const std::set<std::string>& available_channels);
void add_event(SQLite::Database& db, const std::string& delivery_id, Millis at, DeliveryState state,
               const std::string& detail);
// add_event with the INSERT prepared once, for loops over a batch (preparing it per row cost as
// much as running it).
class EventLog {
 public:
  explicit EventLog(SQLite::Database& db);
  void add(const std::string& delivery_id, Millis at, DeliveryState state,
           const std::string& detail);

 private:
  SQLite::Statement insert_;
};
std::optional<Millis> next_due(SQLite::Database& db);
void record_provider_status(SQLite::Database& db, const ProviderStatusUpdate& update, Millis now,
                            const std::set<std::string>& available_channels);
void set_contact_status(SQLite::Database& db, const std::string& delivery_id,
                        const std::string& status, const std::string& reason, Millis now);
std::string get_or_create_secret(SQLite::Database& db, const std::string& name, Millis now);
std::map<std::string, std::int64_t> delivery_counts(SQLite::Database& db);

// fallback_store.cpp
// Called in the transaction that just moved `delivery_id` to `failed` for a reason that calls for
// another channel (permanent, contact stopped or gone, bounced, undelivered). Queues the message
// for the same guardian on the next channel of their order (preferences, else contact points) that
// is in `available_channels`, has an active contact point, and was not tried for this (message,
// guardian). Re-checks the lease's rules first: a restricted or unlinked guardian, or one flagged
// do_not_contact (unless the message is legally required), gets no fallback. Writes an event on
// both rows; with no channel left, one on the failed row (the guardian is unreached). Returns the
// new delivery's id. Creates nothing for a row not `failed` or one that already fell back.
std::optional<std::string> fall_back(SQLite::Database& db, const std::string& delivery_id,
                                     const std::string& reason, Millis now,
                                     const std::set<std::string>& available_channels);

// broadcast_store.cpp
Result<StoredResponse> accept_broadcast(SQLite::Database& db, const NewBroadcast& broadcast,
                                        const std::optional<IdempotencyRef>& idempotency,
                                        const BroadcastRespondFn& respond, Millis now);
std::shared_ptr<FanoutMemo> new_fanout_memo();
// Plans the next chunk; true when more of the audience remains.
bool plan_broadcast_chunk(SQLite::Database& db, const std::string& id, int chunk_students,
                          const BroadcastPlanFn& plan, FanoutMemo& memo, Millis now);
std::vector<std::string> broadcasts_planning(SQLite::Database& db);
std::optional<BroadcastView> get_broadcast(SQLite::Database& db, const std::string& id);
Status cancel_broadcast(SQLite::Database& db, const std::string& id, Millis now);
// The idempotency check of accept_message and accept_broadcast: the stored answer, a conflict,
// or nullopt when the key is new.
std::optional<Result<StoredResponse>> replay(SQLite::Database& db,
                                             const std::optional<IdempotencyRef>& idempotency);
void remember(SQLite::Database& db, const std::optional<IdempotencyRef>& idempotency,
              const StoredResponse& response, Millis now);

// report_store.cpp
ReachReport reach_report(SQLite::Database& db, Millis since, const std::string& only_staff);

}  // namespace homeroom::store
