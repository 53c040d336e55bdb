// Email conversations end to end with real peers: the real homeroomd sends a teacher's note with
// the real email_smtp plugin to aiosmtpd (tests/peers/smtp_server.py); the test reads what arrived,
// writes the parent's reply as a mail client would (quoted history, "On ... wrote:", To: the
// Reply-To, In-Reply-To the Message-ID) and APPENDs it to a real Dovecot mailbox that homeroomd
// polls ([inbound.imap]). The teacher sees note and reply in the thread and answers by email; the
// same reply seen again (appended twice, daemon restarted) creates nothing new. And RFC 8058:
// the List-Unsubscribe link and mailto: of a received email stop that category by email.
#include <catch2/catch.hpp>
#include <csignal>
#include <fstream>
#include <iterator>
#include <thread>

#include "daemon_harness.h"
#include "dovecot_peer.h"
#include "peers.h"

using namespace homeroom;
using namespace homeroom::testing;
using nlohmann::json;

namespace {

constexpr const char* kParent = "ana.diaz@family.example.org";
constexpr const char* kReplyDomain = "reply.lincoln.example.org";

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The unfolded value of header `name` in a raw message ("" when absent).
std::string header(const std::string& raw, const std::string& name) {
  const auto end = raw.find("\r\n\r\n");
  std::string head = "\r\n" + raw.substr(0, end);
  std::string unfolded;
  for (std::size_t i = 0; i < head.size(); ++i) {
    if (head.compare(i, 2, "\r\n") == 0 && i + 2 < head.size() &&
        (head[i + 2] == ' ' || head[i + 2] == '\t')) {
      ++i;
      continue;
    }
    unfolded += head[i];
  }
  const std::string key = "\r\n" + name + ":";
  const auto at = unfolded.find(key);
  if (at == std::string::npos) return {};
  const auto start = unfolded.find_first_not_of(' ', at + key.size());
  return unfolded.substr(start, unfolded.find("\r\n", start) - start);
}

// "Name <addr>" or "<addr>" or "addr" -> "addr".
std::string bare(const std::string& value) {
  const auto open = value.find('<');
  if (open == std::string::npos) return value;
  return value.substr(open + 1, value.find('>', open) - open - 1);
}

struct EmailFamily {
  TempDir dir;
  SmtpServer smtp;
  DovecotPeer dovecot;
  Daemon daemon;
  std::string admin, lee;
  std::string public_url;

  EmailFamily()
      : smtp(dir, {}),
        daemon(dir, std::string("[queue]\npoll_interval_ms = 20\n[email]\n") +
                        "from_address = \"office@lincoln.example.org\"\n" +
                        "from_name = \"Lincoln Middle\"\nreply_domain = \"" + kReplyDomain +
                        "\"\n[channels.email]\nplugin = \"email_smtp\"\nchannel = \"email\"\n" +
                        "[channels.email.settings]\nurl = \"smtp://127.0.0.1:" +
                        std::to_string(smtp.port) +
                        "\"\nrequire_tls = false  # loopback test peer without TLS\n" +
                        "timeout_ms = 10000\n[inbound.imap]\nurl = \"" + dovecot.url() +
                        "\"\nusername = \"parent\"\npassword = \"secret\"\n" +
                        "poll_interval_seconds = 1\n") {
    public_url = daemon.pin_public_url();
    admin = daemon.token(Role::kAdmin);
    daemon.start();
    put("/v1/staff/t1", {{"name", "Ms. Lee"}, {"email", "lee@lincoln.example.org"}});
    lee = daemon.token(Role::kTeacher, "t1");
    put("/v1/guardians/g1", {{"given_name", "Ana"},
                             {"family_name", "Diaz"},
                             {"language", "en"},
                             {"contacts", {{{"channel", "email"}, {"address", kParent}}}},
                             {"preferences", {{"channels", {"email"}}}}});
    put("/v1/students/s1", {{"given_name", "Maya"},
                            {"family_name", "Diaz"},
                            {"staff", {"t1"}},
                            {"guardians", {{{"id", "g1"}}}}});
  }

  void put(const std::string& path, const json& body) {
    auto r = daemon.call("PUT", path, admin, body);
    INFO(r.body);
    REQUIRE(r.status == 200);
  }

  json note(const std::string& body, const std::string& category = "note") {
    auto r = daemon.call("POST", "/v1/messages", lee,
                         {{"student_id", "s1"}, {"category", category}, {"body", body}});
    INFO(r.body);
    REQUIRE(r.status == 202);
    return json::parse(r.body);
  }

  // The raw bytes of the n-th message aiosmtpd received (1-based), waiting for it.
  std::string received(std::size_t n) {
    auto messages = smtp.messages(n);
    INFO(smtp.process->output());
    REQUIRE(messages.size() >= n);
    return read_file(smtp.out_dir / messages[n - 1]["file"].get<std::string>());
  }

  json thread(const std::string& id) {
    auto r = daemon.call("GET", "/v1/threads/" + id, lee);
    INFO(r.body);
    REQUIRE(r.status == 200);
    return json::parse(r.body);
  }

  // The thread once it holds `n` messages (bounded: 15 s, the poller runs every second).
  json thread_with(const std::string& id, std::size_t n) {
    json view;
    for (int i = 0; i < 300; ++i) {
      view = thread(id);
      if (view["messages"].size() >= n) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return view;
  }

  std::string only_thread() {
    auto r = daemon.call("GET", "/v1/threads", lee);
    INFO(r.body);
    REQUIRE(r.status == 200);
    auto list = json::parse(r.body)["threads"];
    REQUIRE(list.size() == 1);
    return list[0]["id"];
  }
};

// What a parent's mail client sends back: the answer on top, the note quoted below.
std::string parent_reply(const std::string& note, const std::string& text,
                         const std::string& message_id) {
  const std::string id = header(note, "Message-ID");
  std::string quoted;
  const auto body_at = note.find("\r\n\r\n");
  quoted = "> " + note.substr(body_at + 4, 200);
  for (std::size_t at = 0; (at = quoted.find("\r\n", at)) != std::string::npos; at += 4) {
    quoted.replace(at, 2, "\r\n> ");
  }
  return std::string("From: Ana Diaz <") + kParent + ">\r\n" + "To: " + header(note, "Reply-To") +
         "\r\n" + "Subject: Re: " + header(note, "Subject") + "\r\n" +
         "Date: Mon, 23 Nov 2026 10:15:00 -0600\r\n" + "Message-ID: " + message_id + "\r\n" +
         "In-Reply-To: " + id + "\r\n" + "References: " + id + "\r\n" + "MIME-Version: 1.0\r\n" +
         "Content-Type: text/plain; charset=utf-8\r\n" + "Content-Transfer-Encoding: 8bit\r\n\r\n" +
         text + "\r\n\r\n" +
         "On Mon, Nov 23, 2026 at 9:00 AM Ms. Lee <office@lincoln.example.org> wrote:\r\n" +
         quoted + "\r\n";
}

}  // namespace

TEST_CASE("email threads: an IMAP reply lands in the thread and the answer goes back by email") {
  EmailFamily f;
  f.note("Maya finished her lab report early and helped two classmates.");
  const std::string note = f.received(1);
  const std::string reply_to = bare(header(note, "Reply-To"));
  INFO(note);
  REQUIRE(reply_to.rfind("reply+", 0) == 0);
  REQUIRE(reply_to.size() > std::string("reply+@").size() + std::string(kReplyDomain).size());
  REQUIRE(reply_to.substr(reply_to.size() - std::string(kReplyDomain).size()) == kReplyDomain);
  REQUIRE_FALSE(header(note, "Message-ID").empty());

  const std::string thread = f.only_thread();
  const std::string reply =
      parent_reply(note, "Thank you! She was so proud of it.", "<r1@family.example.org>");
  f.dovecot.append(reply);
  auto view = f.thread_with(thread, 2);
  INFO(view.dump());
  REQUIRE(view["messages"].size() == 2);
  CHECK(view["messages"][0]["direction"] == "out");
  CHECK(view["messages"][0]["body"] ==
        "Maya finished her lab report early and helped two "
        "classmates.");
  CHECK(view["messages"][1]["direction"] == "in");
  CHECK(view["messages"][1]["channel"] == "email");
  CHECK(view["messages"][1]["body"] == "Thank you! She was so proud of it.");  // history stripped
  const std::string original = view["messages"][1]["original"];
  CHECK(original.find("wrote:") != std::string::npos);  // the original is kept
  CHECK(original.find("> Maya finished") != std::string::npos);

  // The teacher answers: it goes back by email (the channel the parent used), with the thread's
  // Reply-To, to the parent.
  auto answer = f.daemon.call("POST", "/v1/threads/" + thread + "/messages", f.lee,
                              {{"body", "Glad to hear it. See you at conferences."}});
  INFO(answer.body);
  REQUIRE(answer.status == 202);
  const std::string back = f.received(2);
  INFO(back);
  const auto sessions = f.smtp.messages(2);
  CHECK(sessions[1]["rcpt_tos"] == json::array({kParent}));
  CHECK(bare(header(back, "Reply-To")) == reply_to);
  CHECK(back.find("Glad to hear it.") != std::string::npos);
  view = f.thread_with(thread, 3);
  REQUIRE(view["messages"].size() == 3);
  CHECK(view["messages"][2]["direction"] == "out");
  CHECK(view["messages"][2]["body"] == "Glad to hear it. See you at conferences.");

  // The same reply seen again: appended a second time (a new UID, the same Message-ID), and the
  // daemon restarted (the poller's cursor survives). Then a new reply proves the poller went past
  // both; the first reply is still there once.
  f.dovecot.append(reply);
  f.daemon.process().signal(SIGTERM);
  REQUIRE(f.daemon.process().wait_exit(std::chrono::seconds(10)).has_value());
  f.daemon.start();
  f.dovecot.append(parent_reply(back, "Thursday works for us.", "<r2@family.example.org>"));
  view = f.thread_with(thread, 4);
  INFO(view.dump());
  REQUIRE(view["messages"].size() == 4);
  CHECK(view["messages"][3]["body"] == "Thursday works for us.");
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // one more poll: nothing new
  CHECK(f.thread(thread)["messages"].size() == 4);
  CHECK(f.smtp.messages(3).size() == 2);  // no automatic answer went out either
}

TEST_CASE("email threads: List-Unsubscribe one-click POST and mailto stop a category by email") {
  EmailFamily f;
  f.note("Maya read aloud today.");
  f.note("Field trip forms are due Friday.", "reminder");
  // Both go out at once: they may arrive in either order.
  std::string note = f.received(1);
  std::string reminder = f.received(2);
  if (note.find("Field trip forms") != std::string::npos) std::swap(note, reminder);
  REQUIRE(note.find("Maya read aloud today.") != std::string::npos);
  INFO(note);
  CHECK(header(note, "List-Unsubscribe-Post") == "List-Unsubscribe=One-Click");
  // <https://.../u/TOKEN>, <mailto:unsubscribe+TOKEN@reply_domain>
  const std::string list = header(note, "List-Unsubscribe");
  const std::string link = list.substr(1, list.find('>') - 1);
  REQUIRE(link.rfind(f.public_url + "/u/", 0) == 0);
  const std::string path = link.substr(f.public_url.size());

  // A link checker or mail scanner following the link changes nothing.
  auto page = http_request("GET", f.daemon.url(path), "", {});
  CHECK(page.status == 200);
  CHECK(page.body.find("<form method=\"post\"") != std::string::npos);
  CHECK(page.body.find("List-Unsubscribe") != std::string::npos);
  CHECK(f.note("A second note.")["deliveries"][0]["state"] == "queued");

  // Forged or unknown tokens: 404, nothing changes.
  const std::string forged = path.substr(0, path.size() - 1) + (path.back() == 'a' ? "b" : "a");
  auto bad = http_request("POST", f.daemon.url(forged), "List-Unsubscribe=One-Click",
                          {"Content-Type: application/x-www-form-urlencoded"});
  CHECK(bad.status == 404);
  CHECK(http_request("POST", f.daemon.url("/u/not-a-token"), "", {}).status == 404);
  CHECK(f.note("A third note.")["deliveries"][0]["state"] == "queued");

  // RFC 8058: the mail client's one-click POST.
  auto done = http_request("POST", f.daemon.url(path), "List-Unsubscribe=One-Click",
                           {"Content-Type: application/x-www-form-urlencoded"});
  INFO(done.body);
  CHECK(done.status == 200);
  CHECK(done.body.find("no longer receive teachers' notes by email") != std::string::npos);
  // Email was Ana's only channel: notes are no longer sent; reminders and urgent still are.
  auto after = f.note("A fourth note.");
  CHECK(after["deliveries"][0]["state"] == "suppressed");
  CHECK(f.note("Bring a coat.", "reminder")["deliveries"][0]["state"] == "queued");
  CHECK(f.note("School closes at noon.", "urgent")["deliveries"][0]["state"] == "queued");
  // Posting again (multipart, as some clients do) answers the same.
  CHECK(http_request("POST", f.daemon.url(path),
                     "--b\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\n"
                     "One-Click\r\n--b--\r\n",
                     {"Content-Type: multipart/form-data; boundary=b"})
            .status == 200);

  // The link is a capability: the access log shows "/u/...", never the token. (Info lines reach
  // the log within a second.)
  REQUIRE(f.daemon.process().wait_for_output("/u/...", std::chrono::seconds(5)));
  const std::string log = f.daemon.process().output();
  CHECK(log.find("/u/...") != std::string::npos);
  CHECK(log.find(path.substr(3)) == std::string::npos);

  // The mailto: variant for reminders, sent by the parent's mail client to the Dovecot mailbox.
  const std::string mailto_list = header(reminder, "List-Unsubscribe");
  const auto m = mailto_list.find("<mailto:");
  REQUIRE(m != std::string::npos);
  const std::string mailto = mailto_list.substr(m + 8, mailto_list.find('>', m) - m - 8);
  REQUIRE(mailto.rfind("unsubscribe+", 0) == 0);
  f.dovecot.append(std::string("From: <") + kParent + ">\r\nTo: " + mailto +
                   "\r\nSubject: unsubscribe\r\nMessage-ID: <u1@family.example.org>\r\n" +
                   "Date: Mon, 23 Nov 2026 10:20:00 -0600\r\n\r\nunsubscribe\r\n");
  bool stopped = false;
  for (int i = 0; i < 300 && !stopped; ++i) {
    stopped = f.note("Reminder " + std::to_string(i), "reminder")["deliveries"][0]["state"] ==
              "suppressed";
    if (!stopped) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(stopped);
  CHECK(f.note("School closes at noon.", "urgent")["deliveries"][0]["state"] == "queued");
}
