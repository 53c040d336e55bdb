// Conversations in the store: threads (one per teacher, student and guardian, plus the school's
// office inbox), the messages in them both ways, and what happens to a family's inbound message
// (docs/architecture.md, "Conversations").
//
// ConversationStore is the InboundHandler every inbound path (SMS webhook, email webhooks, IMAP)
// hands its messages to. One write transaction per message: deduplication by (source,
// provider_id), SMS keywords (STOP/START/HELP and their synonyms, before any routing), matching a
// thread, and the automatic answers (confirmations, HELP, the "which teacher?" question, the
// office hours reply) and forwards to the teacher, which are queued as ordinary deliveries so the
// dispatcher sends them. Nothing is dropped: what matches no thread goes to the office inbox.
//
// Matching:
//  - SMS by (family number, homeroom number): the threads number_assignments gives that pair; with
//    none, the teacher threads of the guardians holding that number. One thread: there. Several:
//    the message is held and the family is asked "Reply 1 for Ms. Lee, 2 for Mr. Diaz"; the
//    answer routes the held messages and itself. None: the office inbox.
//  - Email: reply+TOKEN@ in `to` names the thread (threads.reply_token; tokens are filled in from
//    ConversationOptions::reply_token for threads that have none when a token is not found), else
//    In-Reply-To / References naming an outbound Message-ID (<delivery_id@domain>), else the
//    office inbox.
//  - Email to unsubscribe+TOKEN@ (the List-Unsubscribe mailto:): the unsubscribe of
//    store/unsubscribe_store.h (kStop); an unknown token goes to the office inbox.
//
// Thread-safe. Reads use a read-only connection of their own; writes go through the store's
// writer (group commit), and `done` runs on the writer thread.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "conversations/inbound.h"
#include "store/store.h"
#include "store/unsubscribe_store.h"

namespace homeroom::store {

struct OfficeHours {
  std::vector<int> days;  // ISO weekdays, 1 = Monday .. 7 = Sunday
  std::string start;      // "HH:MM", in the teacher's school's time zone
  std::string end;
};

// A teacher's settings for replies (PUT /v1/staff/{id}: "office_hours", "forward_replies").
struct ReplySettings {
  std::optional<OfficeHours> office_hours;
  bool forward_replies = false;
};

struct ThreadSummary {
  std::string id;
  std::string kind;  // "teacher" | "office"
  std::string school_id;
  std::string staff_id;
  std::string staff_name;
  std::string student_id;
  std::string student_name;
  std::string guardian_id;
  std::string guardian_name;
  std::string last_channel;  // the channel the family last wrote by, "" when they never did
  std::string last_address;
  int unread = 0;  // inbound messages nobody opened yet
  Millis updated_at = 0;
};

struct ThreadMessageView {
  std::int64_t id = 0;
  std::string direction;  // "out" | "in"
  std::string channel;    // in: how it came; out: the channel of its delivery ("" when none)
  std::string body;
  std::string original;  // in: as received
  std::string author_staff;
  std::string message_id;      // out
  std::string delivery_id;     // out
  std::string delivery_state;  // out
  Millis created_at = 0;
  std::optional<Millis> read_at;
};

struct ThreadView {
  ThreadSummary thread;
  std::vector<ThreadMessageView> messages;  // oldest first
};

struct InboundResult {
  enum class Kind { kDuplicate, kStop, kStart, kHelp, kThread, kHeld, kChoice, kOffice };
  Kind kind = Kind::kThread;
  std::string thread_id;  // kThread, kChoice, kOffice
  int queued = 0;         // automatic messages queued (confirmations, questions, forwards)
};
const char* inbound_kind_name(InboundResult::Kind kind);

// How long a held message waits for the family to answer the "which teacher?" question.
inline constexpr Millis kHeldAnswerWindow = 24LL * 60 * 60 * 1000;

struct ConversationOptions {
  // render::reply_token with the daemon's token secret: the token in a thread's Reply-To.
  std::function<std::string(const std::string& staff_id, const std::string& student_id,
                            const std::string& guardian_id)>
      reply_token;
  // Called after something was queued (an automatic answer, a teacher's reply).
  std::function<void()> on_new_work;
  // Unset: an email to unsubscribe+TOKEN@ is an ordinary email (office inbox).
  UnsubscribeTokens unsubscribe_tokens{};
};

class ConversationStore final : public conversations::InboundHandler {
 public:
  ConversationStore(Store& store, std::filesystem::path db_path, const Clock& clock,
                    ConversationOptions options);
  ~ConversationStore() override;

  // InboundHandler: receive() without the details.
  void handle(conversations::InboundMessage message, std::function<void(Status)> done) override;
  void receive(conversations::InboundMessage message, Done<InboundResult> done);

  // A teacher's own threads; an admin's: their school's (all, for an admin of no school),
  // office threads included. Most recently active first.
  Result<std::vector<ThreadSummary>> list_threads(const Principal& principal);
  // Both directions in order; marks the inbound messages read. kNotFound for a thread the
  // principal may not see.
  void open_thread(std::string thread_id, Principal principal, Done<ThreadView> done);
  // Queues `body` to the family on the channel they last wrote by (else the thread's last
  // outbound channel): SMS from the thread's pool number, email with the thread's Reply-To.
  // Returns the new message's id. kConflict when there is no way back (no channel, stopped SMS).
  void post_reply(std::string thread_id, Principal principal, std::string body,
                  Done<std::string> done);

  // Held SMS (the "which teacher?" question) with no answer for kHeldAnswerWindow go to the
  // school's office inbox, never dropped; returns how many moved. The daemon calls it
  // periodically.
  void release_unanswered(Done<int> done);

  void put_reply_settings(std::string staff_id, ReplySettings settings, StatusDone done);
  Result<ReplySettings> reply_settings(const std::string& staff_id);

 private:
  template <typename Fn>
  auto read(Fn&& fn) -> decltype(fn(std::declval<SQLite::Database&>()));

  Store& store_;
  std::filesystem::path path_;
  const Clock& clock_;
  ConversationOptions options_;
  std::mutex read_mu_;
  std::unique_ptr<SQLite::Database> reader_;
};

// Called by accept_message in the transaction that inserts a note: every guardian the note is
// planned for gets the note in their thread with its author (found or created), and each SMS
// delivery is given the thread's pool number as its sender. Notes without an author (an admin
// token without a staff member) belong to no thread.
void link_note_to_threads(SQLite::Database& db, const NewMessage& message,
                          const std::vector<std::pair<std::string, PlannedDelivery>>& deliveries,
                          Millis now);

// Records a consent change (consent_events).
void add_consent_event(SQLite::Database& db, const std::string& guardian_id,
                       const std::string& channel, const std::string& address,
                       const std::string& category, const std::string& change,
                       const std::string& source, const std::string& language, Millis now);

}  // namespace homeroom::store
