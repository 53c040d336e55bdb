// Email one-click unsubscribe in the store (store/unsubscribe_store.h) on a real SQLite file:
// tokens made by render::unsubscribe_token are found through the lazily filled index, a forged
// one changes nothing, the opt-out moves the next note of that category to the next channel
// (urgent and other categories unaffected), pending deliveries are suppressed, a consent event is
// recorded once, and the mailto: variant through ConversationStore has the same effect.
#include <SQLiteCpp/Database.h>

#include <catch2/catch.hpp>
#include <future>

#include "render/tokens.h"
#include "routing/delivery_planner.h"
#include "store/conversation_store.h"
#include "store/store.h"
#include "store/unsubscribe_store.h"
#include "support/temp_dir.h"

using namespace homeroom;
using homeroom::testing::TempDir;

namespace {

constexpr const char* kSecret = "unit-test-secret-unit-test-secret";

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

store::UnsubscribeTokens tokens() {
  store::UnsubscribeTokens t;
  t.make = [](const std::string& g, const std::string& c, const std::string& ch) {
    return render::unsubscribe_token(kSecret, g, c, ch);
  };
  t.verify = [](const std::string& token, const std::string& g, const std::string& c,
                const std::string& ch) {
    return render::verify_unsubscribe_token(kSecret, token, g, c, ch);
  };
  return t;
}

struct Fixture {
  TempDir dir;
  FakeClock clock{1'800'000'000'000};
  std::unique_ptr<store::Store> store;
  std::unique_ptr<store::UnsubscribeStore> unsubscribe;
  std::unique_ptr<store::ConversationStore> conversations;
  int sequence = 0;

  Fixture() {
    store = std::move(*store::Store::open(dir / "homeroom.db", clock));
    Staff t{"t1", "Ms. Lee", "t1@school.example.org", Role::kTeacher};
    REQUIRE(ok([&](auto done) { store->put_staff(t, done); }));
    Guardian g{"g1", "Ana", "Diaz",
               "es", "UTC", {{"email", "ana@family.example.org"}, {"sms", "+15551230001"}},
               {}};
    g.preferences.channels = {"email", "sms"};
    REQUIRE(ok([&](auto done) { store->put_guardian(g, done); }));
    Student st{"s1", "Maya", "Diaz", "7", {"t1"}, {{"g1", "mother", true}}};
    REQUIRE(ok([&](auto done) { store->put_student(st, done); }));
    unsubscribe = std::make_unique<store::UnsubscribeStore>(*store, clock, tokens());
    store::ConversationOptions options;
    options.unsubscribe_tokens = tokens();
    conversations =
        std::make_unique<store::ConversationStore>(*store, dir / "homeroom.db", clock, options);
  }

  // Plans a message with the real planner; returns the channel of g1's delivery and its state.
  std::pair<std::string, DeliveryState> send(const std::string& category,
                                             std::optional<Millis> send_at = std::nullopt) {
    NewMessage m;
    m.id = "msg_" + std::to_string(++sequence);
    m.student_id = "s1";
    m.author_staff = "t1";
    m.category = category;
    m.body = "Note " + std::to_string(sequence);
    m.send_at = send_at;
    std::pair<std::string, DeliveryState> out;
    auto r = wait<Result<store::StoredResponse>>([&](auto done) {
      store->accept_message(
          m, std::nullopt,
          [](const StudentRoster& roster, const NewMessage& msg,
             Millis now) -> Result<std::vector<PlannedDelivery>> {
            routing::PlannerOptions o;
            return routing::plan_message(roster, msg, now, o);
          },
          [&out](const store::AcceptedMessage& a) {
            out = {a.deliveries.at(0).second.channel, a.deliveries.at(0).second.state};
            return store::StoredResponse{202, "", false};
          },
          done);
    });
    REQUIRE(r.is_ok());
    return out;
  }

  std::optional<store::UnsubscribeTarget> post(const std::string& token) {
    auto r = wait<Result<std::optional<store::UnsubscribeTarget>>>(
        [&](auto done) { unsubscribe->unsubscribe(token, done); });
    REQUIRE(r.is_ok());
    return *r;
  }

  std::optional<store::UnsubscribeTarget> find(const std::string& token) {
    auto r = wait<Result<std::optional<store::UnsubscribeTarget>>>(
        [&](auto done) { unsubscribe->find(token, done); });
    REQUIRE(r.is_ok());
    return *r;
  }

  int count(const std::string& sql) {
    SQLite::Database db((dir / "homeroom.db").string(), SQLite::OPEN_READONLY);
    return db.execAndGet(sql).getInt();
  }
};

}  // namespace

TEST_CASE("unsubscribe stops one category on one channel and the planner moves to the next") {
  Fixture f;
  REQUIRE(f.send("note").first == "email");
  REQUIRE(f.send("reminder").first == "email");
  const std::string token = render::unsubscribe_token(kSecret, "g1", "note", "email");

  // GET's lookup changes nothing the family chose.
  auto seen = f.find(token);
  REQUIRE(seen);
  CHECK(seen->guardian_id == "g1");
  CHECK(seen->category == "note");
  CHECK(seen->channel == "email");
  CHECK(seen->language == "es");
  CHECK(f.count("SELECT COUNT(*) FROM channel_opt_outs") == 0);

  // Upper-cased (an MTA may do that) is the same token.
  std::string upper = token;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  REQUIRE(f.post(upper));
  CHECK(f.count("SELECT COUNT(*) FROM channel_opt_outs WHERE guardian_id = 'g1' AND channel = "
                "'email' AND category = 'note'") == 1);
  CHECK(f.count("SELECT COUNT(*) FROM consent_events WHERE guardian_id = 'g1' AND channel = "
                "'email' AND address = 'ana@family.example.org' AND category = 'note' AND "
                "change = 'stop' AND source = 'email-unsubscribe'") == 1);

  CHECK(f.send("note").first == "sms");        // the next channel
  CHECK(f.send("reminder").first == "email");  // another category: unchanged
  CHECK(f.send("urgent").first == "email");    // urgent is never affected

  // Again: the same answer, nothing new recorded.
  REQUIRE(f.post(token));
  CHECK(f.count("SELECT COUNT(*) FROM consent_events") == 1);
  CHECK(f.count("SELECT COUNT(*) FROM channel_opt_outs") == 1);
}

TEST_CASE("a forged, malformed or urgent unsubscribe token changes nothing") {
  Fixture f;
  f.send("note");
  f.send("urgent");
  CHECK_FALSE(f.post(render::unsubscribe_token("another secret", "g1", "note", "email")));
  CHECK_FALSE(f.post(render::unsubscribe_token(kSecret, "g1", "urgent", "email")));
  CHECK_FALSE(f.post(render::unsubscribe_token(kSecret, "g2", "note", "email")));
  CHECK_FALSE(f.post("not-a-token"));
  CHECK_FALSE(f.post(""));
  CHECK_FALSE(f.post(std::string(24, 'a')));
  CHECK(f.count("SELECT COUNT(*) FROM channel_opt_outs") == 0);
  CHECK(f.count("SELECT COUNT(*) FROM consent_events") == 0);
  CHECK(f.send("note").first == "email");
}

TEST_CASE("a token of a delivery made after the index was last filled is found") {
  Fixture f;
  f.send("note");
  CHECK_FALSE(f.post(render::unsubscribe_token(kSecret, "g1", "reminder", "email")));  // fills
  f.send("reminder");  // a new delivery after the fill
  CHECK(f.post(render::unsubscribe_token(kSecret, "g1", "reminder", "email")));
  CHECK(f.send("reminder").first == "sms");
}

TEST_CASE("unsubscribing suppresses that category's deliveries still waiting on that channel") {
  Fixture f;
  const Millis later = f.clock.now() + 3'600'000;
  REQUIRE(f.send("note", later) == std::pair{std::string("email"), DeliveryState::kScheduled});
  REQUIRE(f.send("reminder", later).first == "email");
  REQUIRE(f.post(render::unsubscribe_token(kSecret, "g1", "note", "email")));
  CHECK(f.count("SELECT COUNT(*) FROM deliveries d JOIN messages m ON m.id = d.message_id "
                "WHERE m.category = 'note' AND d.state = 'suppressed'") == 1);
  CHECK(f.count("SELECT COUNT(*) FROM deliveries d JOIN messages m ON m.id = d.message_id "
                "WHERE m.category = 'reminder' AND d.state = 'scheduled'") == 1);
}

TEST_CASE("an email to unsubscribe+TOKEN@ unsubscribes like the link, once") {
  Fixture f;
  f.send("note");
  auto receive = [&](const std::string& to, const std::string& id) {
    conversations::InboundMessage m;
    m.channel = "email";
    m.source = "imap";
    m.provider_id = id;
    m.from = "ana@family.example.org";
    m.to = to;
    m.text = "unsubscribe";
    m.original = "unsubscribe";
    auto r =
        wait<Result<store::InboundResult>>([&](auto done) { f.conversations->receive(m, done); });
    REQUIRE(r.is_ok());
    return r->kind;
  };
  const std::string token = render::unsubscribe_token(kSecret, "g1", "note", "email");
  CHECK(receive("unsubscribe+" + token + "@reply.example.org", "<a@x>") ==
        store::InboundResult::Kind::kStop);
  CHECK(receive("unsubscribe+" + token + "@reply.example.org", "<a@x>") ==
        store::InboundResult::Kind::kDuplicate);
  CHECK(f.count("SELECT COUNT(*) FROM consent_events WHERE source = 'email-unsubscribe'") == 1);
  CHECK(f.send("note").first == "sms");
  // A token homeroom never issued: an ordinary email for the office inbox, nothing stopped.
  CHECK(receive("unsubscribe+" + std::string(24, 'b') + "@reply.example.org", "<b@x>") ==
        store::InboundResult::Kind::kOffice);
  CHECK(f.count("SELECT COUNT(*) FROM channel_opt_outs") == 1);
}
