// ConversationStore on a real SQLite file: threads from notes, pool numbers, SMS and email
// matching, keywords, deduplication, the office inbox, teacher answers, office hours; and
// parse_choice / the automatic texts.
#include <SQLiteCpp/Database.h>

#include <catch2/catch.hpp>
#include <future>

#include "conversations/auto_text.h"
#include "routing/delivery_planner.h"
#include "store/conversation_store.h"
#include "store/store.h"
#include "support/temp_dir.h"

using namespace homeroom;
using homeroom::testing::TempDir;

namespace {

constexpr const char* kPhone = "+15551230001";
constexpr const char* kEmail = "ana@family.example.org";

template <typename T>
T wait(const std::function<void(std::function<void(T)>)>& call) {
  std::promise<T> p;
  call([&p](T v) { p.set_value(std::move(v)); });
  return p.get_future().get();
}

bool ok(const std::function<void(store::StatusDone)>& call) {
  Status s = wait<Status>(call);
  INFO(s.to_string());
  return s.is_ok();
}

struct Fixture {
  TempDir dir;
  FakeClock clock{1'800'000'000'000};  // 2027-01-15T08:00:00Z, a Friday
  std::unique_ptr<store::Store> store;
  std::unique_ptr<store::ConversationStore> conversations;
  int sequence = 0;

  explicit Fixture(std::vector<std::string> pool = {"+15550000001", "+15550000002",
                                                    "+15550000003"}) {
    store = std::move(*store::Store::open(dir / "homeroom.db", clock));
    School school;
    school.id = "sch1";
    school.name = "Lincoln Middle";
    school.contact_line = "Call the office at +1 555 0100";
    school.sms_numbers = std::move(pool);
    REQUIRE(ok([&](auto done) { store->put_school(school, done); }));
    for (auto [id, name] : {std::pair{"t1", "Ms. Lee"}, {"t2", "Mr. Diaz"}, {"t3", "Mx. Kim"}}) {
      Staff s{id, name, std::string(id) + "@school.example.org", Role::kTeacher};
      s.school_id = "sch1";
      REQUIRE(ok([&](auto done) { store->put_staff(s, done); }));
    }
    put_guardian("en");
    Student st{"s1", "Maya", "Diaz", "7", {"t1", "t2", "t3"}, {{"g1", "mother", true}}};
    st.school_id = "sch1";
    REQUIRE(ok([&](auto done) { store->put_student(st, done); }));
    store::ConversationOptions options;
    options.reply_token = [](const std::string& a, const std::string& b, const std::string& c) {
      return "tok" + a + b + c;
    };
    conversations =
        std::make_unique<store::ConversationStore>(*store, dir / "homeroom.db", clock, options);
  }

  void put_guardian(const std::string& language) {
    Guardian g{"g1", "Ana", "Diaz", language, "UTC", {{"sms", kPhone}, {"email", kEmail}}, {}};
    g.preferences.channels = {"sms", "email"};
    REQUIRE(ok([&](auto done) { store->put_guardian(g, done); }));
  }

  std::string note(const std::string& author, const std::string& category = "note",
                   const std::string& channel = "sms") {
    NewMessage m;
    m.id = "msg_" + std::to_string(++sequence);
    m.student_id = "s1";
    m.author_staff = author;
    m.category = category;
    m.body = "Note " + std::to_string(sequence) + " from " + author;
    auto r = wait<Result<store::StoredResponse>>([&](auto done) {
      store->accept_message(
          m, std::nullopt,
          [channel](const StudentRoster& roster, const NewMessage& msg,
                    Millis now) -> Result<std::vector<PlannedDelivery>> {
            routing::PlannerOptions o;
            o.available_channels = {channel};
            return routing::plan_message(roster, msg, now, o);
          },
          [](const store::AcceptedMessage&) {
            return store::StoredResponse{202, "", false};
          },
          done);
    });
    REQUIRE(r.is_ok());
    return m.id;
  }

  store::InboundResult sms(const std::string& to, const std::string& text, std::string sid = "") {
    conversations::InboundMessage m;
    m.channel = "sms";
    m.source = "twilio";
    m.provider_id = sid.empty() ? "SM" + std::to_string(++sequence) : sid;
    m.from = kPhone;
    m.to = to;
    m.text = text;
    m.original = text;
    auto r =
        wait<Result<store::InboundResult>>([&](auto done) { conversations->receive(m, done); });
    REQUIRE(r.is_ok());
    return *r;
  }

  store::InboundResult email(const std::string& to, const std::string& in_reply_to,
                             const std::string& text) {
    conversations::InboundMessage m;
    m.channel = "email";
    m.source = "imap";
    m.provider_id = "<mail" + std::to_string(++sequence) + "@family.example.org>";
    m.from = kEmail;
    m.to = to;
    m.text = text;
    m.original = "Subject: Re\r\n\r\n" + text;
    m.in_reply_to = in_reply_to;
    auto r =
        wait<Result<store::InboundResult>>([&](auto done) { conversations->receive(m, done); });
    REQUIRE(r.is_ok());
    return *r;
  }

  SQLite::Database db() {
    return SQLite::Database((dir / "homeroom.db").string(), SQLite::OPEN_READONLY);
  }
  std::string scalar(const std::string& sql) {
    auto d = db();
    SQLite::Statement q(d, sql);
    return q.executeStep() ? q.getColumn(0).getString() : "";
  }
  int count(const std::string& sql) { return std::stoi(scalar(sql)); }

  std::string thread_of(const std::string& staff) {
    return scalar("SELECT id FROM threads WHERE staff_id = '" + staff + "'");
  }
  std::string number_of(const std::string& staff) {
    return scalar(
        "SELECT pool_number FROM number_assignments a JOIN threads t ON t.id = a.thread_id "
        "WHERE t.staff_id = '" +
        staff + "'");
  }
  store::ThreadView open(const std::string& thread, Principal p) {
    auto v = wait<Result<store::ThreadView>>(
        [&](auto done) { conversations->open_thread(thread, p, done); });
    REQUIRE(v.is_ok());
    return *v;
  }
  // Queued automatic SMS to the family, oldest first: (from, body).
  std::vector<std::pair<std::string, std::string>> auto_sms() {
    auto d = db();
    SQLite::Statement q(d,
                        "SELECT COALESCE(d.from_address, ''), m.body FROM deliveries d JOIN "
                        "messages m ON m.id = d.message_id WHERE m.category = 'service' AND "
                        "d.channel = 'sms' ORDER BY d.rowid");
    std::vector<std::pair<std::string, std::string>> out;
    while (q.executeStep())
      out.emplace_back(q.getColumn(0).getString(), q.getColumn(1).getString());
    return out;
  }
};

const Principal kLee{Role::kTeacher, "t1", "tok1"};
const Principal kDiaz{Role::kTeacher, "t2", "tok2"};
const Principal kAdmin{Role::kAdmin, "", "tok0"};

}  // namespace

TEST_CASE("a note belongs to its thread and its SMS goes from the thread's pool number",
          "[conversations]") {
  Fixture f;
  const auto m1 = f.note("t1");
  f.note("t1");  // the same thread again
  const auto thread = f.thread_of("t1");
  REQUIRE(!thread.empty());
  CHECK(f.count("SELECT COUNT(*) FROM threads") == 1);
  CHECK(f.count("SELECT COUNT(*) FROM thread_messages WHERE thread_id = '" + thread + "'") == 2);
  CHECK(f.scalar("SELECT from_address FROM deliveries WHERE message_id = '" + m1 + "'") ==
        "+15550000001");
  auto view = f.open(thread, kLee);
  REQUIRE(view.messages.size() == 2);
  CHECK(view.messages[0].direction == "out");
  CHECK(view.messages[0].channel == "sms");
  CHECK(view.messages[0].message_id == m1);
  // Another teacher does not see it.
  auto hidden = wait<Result<store::ThreadView>>(
      [&](auto done) { f.conversations->open_thread(thread, kDiaz, done); });
  CHECK(hidden.status().code() == Code::kNotFound);
}

TEST_CASE("three teachers' threads get three numbers and each reply lands in its thread",
          "[conversations]") {
  Fixture f;
  f.note("t1");
  f.note("t2");
  f.note("t3");
  const std::set<std::string> numbers{f.number_of("t1"), f.number_of("t2"), f.number_of("t3")};
  CHECK(numbers.size() == 3);
  for (const auto* staff : {"t1", "t2", "t3"}) {
    auto r = f.sms(f.number_of(staff), std::string("Thanks, ") + staff);
    CHECK(r.kind == store::InboundResult::Kind::kThread);
    CHECK(r.thread_id == f.thread_of(staff));
    CHECK(f.scalar("SELECT body FROM thread_messages WHERE direction = 'in' AND thread_id = '" +
                   f.thread_of(staff) + "'") == std::string("Thanks, ") + staff);
  }
  // Unread counts for the teacher, then none once opened.
  auto list = f.conversations->list_threads(kLee);
  REQUIRE(list.is_ok());
  REQUIRE(list->size() == 1);
  CHECK((*list)[0].unread == 1);
  CHECK((*list)[0].last_channel == "sms");
  f.open(f.thread_of("t1"), kLee);
  CHECK((*f.conversations->list_threads(kLee))[0].unread == 0);
}

TEST_CASE("a pool of one number: the question routes the held reply", "[conversations]") {
  Fixture f({"+15550000009"});
  f.note("t1");
  f.clock.advance(std::chrono::milliseconds(1000));
  f.note("t2");  // shares the only number
  CHECK(f.number_of("t1") == "+15550000009");
  CHECK(f.number_of("t2") == "+15550000009");
  auto held = f.sms("+15550000009", "Can we meet Tuesday?");
  CHECK(held.kind == store::InboundResult::Kind::kHeld);
  auto asked = f.auto_sms();
  REQUIRE(asked.size() == 1);
  CHECK(asked[0].first == "+15550000009");
  CHECK(asked[0].second == "Reply 1 for Mr. Diaz, 2 for Ms. Lee");  // most recent first
  // A second message before the answer is held too; the question is not asked again.
  CHECK(f.sms("+15550000009", "After 3pm").kind == store::InboundResult::Kind::kHeld);
  CHECK(f.auto_sms().size() == 1);
  auto chosen = f.sms("+15550000009", " 2. ");
  CHECK(chosen.kind == store::InboundResult::Kind::kChoice);
  CHECK(chosen.thread_id == f.thread_of("t1"));
  auto view = f.open(f.thread_of("t1"), kLee);
  std::vector<std::string> in;
  for (const auto& m : view.messages) {
    if (m.direction == "in") in.push_back(m.body);
  }
  CHECK(in == std::vector<std::string>{"Can we meet Tuesday?", "After 3pm", " 2. "});
  CHECK(f.count("SELECT COUNT(*) FROM held_inbound") == 0);
  CHECK(f.count("SELECT COUNT(*) FROM thread_messages WHERE direction = 'in' AND thread_id = '" +
                f.thread_of("t2") + "'") == 0);
}

TEST_CASE("held replies nobody answered the question for go to the office inbox after 24 h",
          "[conversations]") {
  Fixture f({"+15550000009"});
  f.note("t1");
  f.clock.advance(std::chrono::milliseconds(1000));
  f.note("t2");
  REQUIRE(f.sms("+15550000009", "Can we meet Tuesday?").kind == store::InboundResult::Kind::kHeld);
  f.clock.advance(std::chrono::hours(1));
  REQUIRE(f.sms("+15550000009", "After 3pm").kind == store::InboundResult::Kind::kHeld);
  auto release = [&] {
    auto r = wait<Result<int>>([&](auto done) { f.conversations->release_unanswered(done); });
    REQUIRE(r.is_ok());
    return *r;
  };
  f.clock.advance(std::chrono::hours(22));  // 23 h after the first: still waiting
  CHECK(release() == 0);
  CHECK(f.count("SELECT COUNT(*) FROM held_inbound") == 2);
  f.clock.advance(std::chrono::hours(1) + std::chrono::seconds(1));
  CHECK(release() == 2);  // the whole group, in order
  CHECK(f.count("SELECT COUNT(*) FROM held_inbound") == 0);
  CHECK(f.scalar("SELECT group_concat(tm.body, '|') FROM thread_messages tm JOIN threads t ON "
                 "t.id = tm.thread_id WHERE t.kind = 'office' AND tm.direction = 'in' ORDER BY "
                 "tm.id") == "Can we meet Tuesday?|After 3pm");
  CHECK(f.count("SELECT COUNT(*) FROM threads WHERE kind = 'office' AND school_id = 'sch1'") == 1);
  CHECK(release() == 0);
  // A later message from the number is a fresh start: held again, the question asked again.
  CHECK(f.sms("+15550000009", "Hello?").kind == store::InboundResult::Kind::kHeld);
}

TEST_CASE("the disambiguation question is in the guardian's language", "[conversations]") {
  Fixture f({"+15550000009"});
  f.put_guardian("es-MX");
  f.note("t1");
  f.clock.advance(std::chrono::milliseconds(1000));
  f.note("t2");
  f.sms("+15550000009", "Hola");
  auto asked = f.auto_sms();
  REQUIRE(asked.size() == 1);
  CHECK(asked[0].second == "Responda 1 para Mr. Diaz, 2 para Ms. Lee");
}

TEST_CASE("STOP stops non-urgent SMS, suppresses what is queued and confirms once",
          "[conversations]") {
  Fixture f;
  const auto queued_note = f.note("t1");
  const auto queued_urgent = f.note("t1", "urgent");
  auto r = f.sms("+15550000001", "¡Parar!");
  CHECK(r.kind == store::InboundResult::Kind::kStop);
  CHECK(f.scalar("SELECT status FROM contact_points WHERE channel = 'sms'") == "stopped");
  CHECK(f.scalar("SELECT state FROM deliveries WHERE message_id = '" + queued_note + "'") ==
        "suppressed");
  // The school's policy (urgent_to_stopped = 0) stops urgent SMS too.
  CHECK(f.scalar("SELECT state FROM deliveries WHERE message_id = '" + queued_urgent + "'") ==
        "suppressed");
  CHECK(f.scalar("SELECT source || ' ' || change || ' ' || language FROM consent_events") ==
        "sms-keyword stop es");
  auto sent = f.auto_sms();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].first == "+15550000001");
  CHECK(sent[0].second.find("Ya no recibirá") == 0);
  // Another STOP, in another language: recorded, not confirmed again; nothing reaches a thread.
  CHECK(f.sms("+15550000001", "STOP").kind == store::InboundResult::Kind::kStop);
  CHECK(f.auto_sms().size() == 1);
  CHECK(f.count("SELECT COUNT(*) FROM consent_events") == 2);
  CHECK(f.count("SELECT COUNT(*) FROM thread_messages WHERE direction = 'in'") == 0);
  // New notes plan no SMS to a stopped number.
  const auto later = f.note("t1");
  CHECK(f.count("SELECT COUNT(*) FROM deliveries WHERE message_id = '" + later +
                "' AND channel = 'sms' AND state = 'queued'") == 0);
  // START resumes and confirms.
  CHECK(f.sms("+15550000001", "start").kind == store::InboundResult::Kind::kStart);
  CHECK(f.scalar("SELECT status FROM contact_points WHERE channel = 'sms'") == "active");
  REQUIRE(f.auto_sms().size() == 2);
  CHECK(f.auto_sms()[1].second.find("You will receive text messages from Lincoln Middle again") ==
        0);
}

TEST_CASE("urgent SMS stay queued after STOP when the school says so", "[conversations]") {
  Fixture f;
  School school = *f.store->get_school("sch1");
  school.urgent_to_stopped = true;
  REQUIRE(ok([&](auto done) { f.store->put_school(school, done); }));
  const auto urgent = f.note("t1", "urgent");
  f.sms("+15550000001", "DỪNG");
  CHECK(f.scalar("SELECT state FROM deliveries WHERE message_id = '" + urgent + "'") == "queued");
  CHECK(f.auto_sms().at(0).second.find("Bạn sẽ không") == 0);
  // Urgent messages sent after the STOP are planned to the stopped number too; notes are not.
  const auto later = f.note("t1", "urgent");
  CHECK(f.count("SELECT COUNT(*) FROM deliveries WHERE message_id = '" + later +
                "' AND channel = 'sms' AND address = '+15551230001' AND state = 'queued'") == 1);
  const auto note = f.note("t1");
  CHECK(f.count("SELECT COUNT(*) FROM deliveries WHERE message_id = '" + note +
                "' AND channel = 'sms' AND state = 'queued'") == 0);
}

TEST_CASE("HELP answers with the school's contact line", "[conversations]") {
  Fixture f;
  f.note("t1");
  CHECK(f.sms("+15550000001", "help").kind == store::InboundResult::Kind::kHelp);
  REQUIRE(f.auto_sms().size() == 1);
  CHECK(f.auto_sms()[0].second ==
        "Lincoln Middle: Call the office at +1 555 0100. Reply STOP to stop text messages.");
  CHECK(f.count("SELECT COUNT(*) FROM thread_messages WHERE direction = 'in'") == 0);
}

TEST_CASE("the same provider message twice changes nothing the second time", "[conversations]") {
  Fixture f;
  f.note("t1");
  CHECK(f.sms("+15550000001", "Thank you", "SMdup").kind == store::InboundResult::Kind::kThread);
  CHECK(f.sms("+15550000001", "Thank you", "SMdup").kind == store::InboundResult::Kind::kDuplicate);
  CHECK(f.sms("+15550000001", "STOP", "SMdup").kind == store::InboundResult::Kind::kDuplicate);
  CHECK(f.count("SELECT COUNT(*) FROM thread_messages WHERE direction = 'in'") == 1);
  CHECK(f.scalar("SELECT status FROM contact_points WHERE channel = 'sms'") == "active");
}

TEST_CASE("a reply that matches nothing goes to the office inbox", "[conversations]") {
  Fixture f;
  auto r = f.sms("+15550000002", "Who is this?");  // no thread at all yet
  CHECK(r.kind == store::InboundResult::Kind::kOffice);
  auto admin = f.conversations->list_threads(kAdmin);
  REQUIRE(admin.is_ok());
  REQUIRE(admin->size() == 1);
  CHECK((*admin)[0].kind == "office");
  CHECK((*admin)[0].school_id == "sch1");
  CHECK((*admin)[0].unread == 1);
  CHECK(f.conversations->list_threads(kLee)->empty());
  auto e = f.email("someone@school.example.org", "", "Hello?");
  CHECK(e.kind == store::InboundResult::Kind::kOffice);
}

TEST_CASE("email replies: the reply token, else In-Reply-To", "[conversations]") {
  Fixture f;
  const auto m1 = f.note("t1", "note", "email");
  f.note("t2", "note", "email");
  auto by_token = f.email("Reply+TOKt1s1g1@reply.school.example.org", "", "Yes, thanks");
  CHECK(by_token.kind == store::InboundResult::Kind::kThread);
  CHECK(by_token.thread_id == f.thread_of("t1"));
  const auto dlv = f.scalar("SELECT id FROM deliveries WHERE message_id = '" + m1 + "'");
  auto by_header = f.email("office@school.example.org", "<" + dlv + "@school.example.org>", "Ok");
  CHECK(by_header.kind == store::InboundResult::Kind::kThread);
  CHECK(by_header.thread_id == f.thread_of("t1"));
  auto forged = f.email("reply+aaaaaaaaaaaaaaaaaaaaaaaa@reply.school.example.org", "", "Hi");
  CHECK(forged.kind == store::InboundResult::Kind::kOffice);
}

TEST_CASE("a teacher's answer goes back on the channel the family used", "[conversations]") {
  Fixture f;
  f.note("t1");
  f.note("t2");
  f.sms(f.number_of("t2"), "Is the trip on Friday?");
  auto id = wait<Result<std::string>>([&](auto done) {
    f.conversations->post_reply(f.thread_of("t2"), kDiaz, "Yes, at 9am.", done);
  });
  REQUIRE(id.is_ok());
  CHECK(f.scalar("SELECT channel || ' ' || address || ' ' || from_address FROM deliveries "
                 "WHERE message_id = '" +
                 *id + "'") == std::string("sms ") + kPhone + " " + f.number_of("t2"));
  auto view = f.open(f.thread_of("t2"), kDiaz);
  REQUIRE(view.messages.size() == 3);
  CHECK(view.messages[0].direction == "out");
  CHECK(view.messages[1].direction == "in");
  CHECK(view.messages[2].body == "Yes, at 9am.");
  CHECK(view.messages[2].author_staff == "t2");
  // Not someone else's thread.
  auto other = wait<Result<std::string>>(
      [&](auto done) { f.conversations->post_reply(f.thread_of("t2"), kLee, "Hi", done); });
  CHECK(other.status().code() == Code::kNotFound);
}

TEST_CASE("outside office hours one auto-reply per thread per day, and forwards",
          "[conversations]") {
  Fixture f;
  store::ReplySettings s;
  s.office_hours = store::OfficeHours{{1, 2, 3, 4, 5}, "09:00", "15:00"};  // it is 08:00 UTC
  s.forward_replies = true;
  REQUIRE(ok([&](auto done) { f.conversations->put_reply_settings("t1", s, done); }));
  f.note("t1");
  f.sms("+15550000001", "Question one");
  f.sms("+15550000001", "Question two");
  auto sent = f.auto_sms();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].second ==
        "Ms. Lee has received your message and answers during office hours: Mon-Fri "
        "09:00-15:00.");
  CHECK(f.count("SELECT COUNT(*) FROM deliveries WHERE channel = 'email' AND address = "
                "'t1@school.example.org'") == 2);
  // Inside the hours: no auto-reply.
  f.clock.advance(std::chrono::hours(2));
  f.sms("+15550000001", "Question three");
  CHECK(f.auto_sms().size() == 1);
  // The next day (Saturday), outside again: one more.
  f.clock.advance(std::chrono::hours(24));
  f.sms("+15550000001", "Question four");
  CHECK(f.auto_sms().size() == 2);
}

TEST_CASE("parse_choice takes only a whole, in-range choice", "[conversations]") {
  using conversations::parse_choice;
  CHECK(parse_choice("1", 2) == 1);
  CHECK(parse_choice(" 2. ", 2) == 2);
  CHECK(parse_choice("#2", 3) == 2);
  CHECK(parse_choice("２", 2) == 2);
  CHECK(parse_choice("\xC2\xA0"
                     "1)",
                     2) == 1);
  CHECK_FALSE(parse_choice("3", 2));
  CHECK_FALSE(parse_choice("0", 2));
  CHECK_FALSE(parse_choice("1 please", 2));
  CHECK_FALSE(parse_choice("", 2));
  CHECK_FALSE(parse_choice("12", 3));
  CHECK_FALSE(parse_choice("00000001", 3));
  CHECK_FALSE(parse_choice("1", 0));
}
