#include <stdlib.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "channels/channel.h"
#include "channels/channel_registry.h"
#include "channels/plugin_loader.h"

using namespace homeroom;
namespace fs = std::filesystem;
using Settings = std::map<std::string, std::string>;

namespace {

const fs::path kPluginDir = HOMEROOM_PLUGIN_DIR;
const fs::path kFixtureDir = HOMEROOM_FIXTURE_PLUGIN_DIR;

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "homeroom-channels-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::set<std::string> list_dir(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.insert(entry.path().filename());
  return names;
}

RenderedDelivery email_delivery(std::string id = "dlv_01email") {
  RenderedDelivery d;
  d.delivery_id = std::move(id);
  d.channel = "email";
  d.to = "maya.parent@example.org";
  d.subject = "Field trip";
  d.body = "Bring a packed lunch.";
  d.content =
      "From: Room 4 <room4@school.example>\r\nTo: maya.parent@example.org\r\n"
      "Subject: Field trip\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
      "Bring a packed lunch. Caf\xc3\xa9 closed.\r\n";
  d.language = "en";
  d.category = "reminder";
  return d;
}

RenderedDelivery sms_delivery(std::string id = "dlv_01sms") {
  RenderedDelivery d;
  d.delivery_id = std::move(id);
  d.channel = "sms";
  d.to = "+15551234567";
  d.body = "Early pickup at 1pm";
  d.content = "Early pickup at 1pm";
  d.language = "es-MX";
  d.category = "urgent";
  d.attempt = 3;
  return d;
}

// Sends and waits for the one report; counts how often `done` ran.
struct Sent {
  SendOutcome outcome;
  int calls = 0;
};

Sent send_and_wait(Channel& channel, const RenderedDelivery& delivery) {
  auto state = std::make_shared<std::pair<std::mutex, std::condition_variable>>();
  auto sent = std::make_shared<Sent>();
  channel.send(delivery, [state, sent](SendOutcome outcome) {
    std::lock_guard lock(state->first);
    sent->outcome = std::move(outcome);
    ++sent->calls;
    state->second.notify_all();
  });
  std::unique_lock lock(state->first);
  REQUIRE(state->second.wait_for(lock, std::chrono::seconds(10), [&] { return sent->calls > 0; }));
  lock.unlock();
  // A second (bogus) report would arrive synchronously or soon after; give it a moment.
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  lock.lock();
  return *sent;
}

std::unique_ptr<Channel> must_load(const fs::path& dir, const std::string& plugin,
                                   const std::string& instance, const Settings& settings) {
  auto channel = load_channel(dir, plugin, instance, settings);
  INFO(channel.status().to_string());
  REQUIRE(channel.is_ok());
  return std::move(channel).value();
}

std::unique_ptr<Channel> fixture(const Settings& settings, const std::string& instance = "fx") {
  return must_load(kFixtureDir, "fixture_channel", instance, settings);
}

std::string load_error(const fs::path& path) {
  auto library = PluginLibrary::open(path);
  REQUIRE_FALSE(library.is_ok());
  return library.status().message();
}

}  // namespace

// ---- outbox ------------------------------------------------------------------------------------

TEST_CASE("outbox writes an email delivery as <id>.eml holding exactly the content") {
  TempDir tmp;
  const fs::path dir = tmp.path() / "out" / "nested";  // created with its parents
  auto channel = must_load(kPluginDir, "outbox", "email", {{"dir", dir.string()}});
  CHECK(channel->name() == "email");
  CHECK(channel->plugin_name() == "outbox");
  CHECK(channel->delivers("email"));
  CHECK(channel->delivers("sms"));
  CHECK(channel->delivers("push"));
  CHECK_FALSE(channel->delivers("fax"));

  const auto delivery = email_delivery();
  const Sent sent = send_and_wait(*channel, delivery);
  CHECK(sent.calls == 1);
  CHECK(sent.outcome.code == Code::kOk);
  CHECK(sent.outcome.provider_id == "dlv_01email.eml");
  CHECK(read_file(dir / "dlv_01email.eml") == delivery.content);
  CHECK(list_dir(dir) == std::set<std::string>{"dlv_01email.eml"});  // no .tmp, no probe
}

TEST_CASE("outbox writes sms and push deliveries as <id>.json with exactly the fields") {
  TempDir tmp;
  auto channel = must_load(kPluginDir, "outbox", "texts", {{"dir", tmp.path().string()}});

  const auto sms = sms_delivery();
  const Sent sent = send_and_wait(*channel, sms);
  CHECK(sent.outcome.code == Code::kOk);
  CHECK(sent.outcome.provider_id == "dlv_01sms.json");
  const auto doc = nlohmann::json::parse(read_file(tmp.path() / "dlv_01sms.json"));
  const nlohmann::json expected = {
      {"delivery_id", "dlv_01sms"}, {"channel", "sms"},    {"to", "+15551234567"}, {"subject", ""},
      {"body", sms.body},           {"language", "es-MX"}, {"category", "urgent"}, {"attempt", 3},
      {"content", sms.content},
  };
  CHECK(doc == expected);

  RenderedDelivery push = sms_delivery("dlv_01push");
  push.channel = "push";
  push.to = R"({"endpoint":"https://push.example/abc"})";
  push.content = R"({"title":"Room 4","body":"Early pickup"})";
  CHECK(send_and_wait(*channel, push).outcome.code == Code::kOk);
  const auto push_doc = nlohmann::json::parse(read_file(tmp.path() / "dlv_01push.json"));
  CHECK(push_doc["channel"] == "push");
  CHECK(push_doc["content"] == push.content);
  CHECK(list_dir(tmp.path()) == std::set<std::string>{"dlv_01sms.json", "dlv_01push.json"});
}

TEST_CASE("outbox: a retry of the same delivery overwrites its file") {
  TempDir tmp;
  auto channel = must_load(kPluginDir, "outbox", "email", {{"dir", tmp.path().string()}});
  auto delivery = email_delivery("dlv_retry");
  REQUIRE(send_and_wait(*channel, delivery).outcome.code == Code::kOk);
  delivery.attempt = 2;
  delivery.content = "Subject: second try\r\n\r\nshorter\r\n";
  REQUIRE(send_and_wait(*channel, delivery).outcome.code == Code::kOk);
  CHECK(list_dir(tmp.path()) == std::set<std::string>{"dlv_retry.eml"});
  CHECK(read_file(tmp.path() / "dlv_retry.eml") == delivery.content);
}

TEST_CASE("outbox refuses bad settings, naming the key") {
  TempDir tmp;
  SECTION("dir missing") {
    auto channel = load_channel(kPluginDir, "outbox", "email", {});
    REQUIRE_FALSE(channel.is_ok());
    CHECK(channel.status().code() == Code::kInvalidArgument);
    CHECK(channel.status().message() ==
          "channels.email: setting 'dir' is required: the folder to write deliveries into");
  }
  SECTION("dir cannot be created (its parent is a file)") {
    std::ofstream(tmp.path() / "a-file") << "x";
    const auto dir = (tmp.path() / "a-file" / "out").string();
    auto channel = load_channel(kPluginDir, "outbox", "email", {{"dir", dir}});
    REQUIRE_FALSE(channel.is_ok());
    CHECK_THAT(channel.status().message(),
               Catch::StartsWith("channels.email: setting 'dir' (" + dir + "): cannot create it"));
  }
  SECTION("dir is a file") {
    std::ofstream(tmp.path() / "a-file") << "x";
    auto channel =
        load_channel(kPluginDir, "outbox", "email", {{"dir", (tmp.path() / "a-file").string()}});
    REQUIRE_FALSE(channel.is_ok());
    CHECK_THAT(channel.status().message(), Catch::Contains("setting 'dir'"));
  }
  SECTION("unknown setting") {
    auto channel = load_channel(kPluginDir, "outbox", "email",
                                {{"dir", tmp.path().string()}, {"folder", "/tmp"}});
    REQUIRE_FALSE(channel.is_ok());
    CHECK(channel.status().message() ==
          "channels.email: unknown setting 'folder' (outbox knows: dir)");
  }
}

TEST_CASE("outbox: an I/O failure is retryable with the system's words") {
  TempDir tmp;
  const fs::path dir = tmp.path() / "out";
  auto channel = must_load(kPluginDir, "outbox", "email", {{"dir", dir.string()}});
  fs::remove_all(dir);  // the disk went away
  const Sent sent = send_and_wait(*channel, email_delivery());
  CHECK(sent.calls == 1);
  CHECK(sent.outcome.code == Code::kRetryable);
  CHECK_THAT(sent.outcome.reason, Catch::Contains("No such file or directory"));
  fs::create_directories(dir);  // it came back: the retry succeeds
  CHECK(send_and_wait(*channel, email_delivery()).outcome.code == Code::kOk);
  CHECK(list_dir(dir) == std::set<std::string>{"dlv_01email.eml"});
}

TEST_CASE("outbox refuses ids that are not file names and channels it does not know") {
  TempDir tmp;
  auto channel = must_load(kPluginDir, "outbox", "email", {{"dir", tmp.path().string()}});
  for (const char* id : {"../escape", ".hidden", "a/b", ""}) {
    INFO(id);
    const Sent sent = send_and_wait(*channel, email_delivery(id));
    CHECK(sent.outcome.code == Code::kPermanent);
  }
  auto fax = email_delivery();
  fax.channel = "fax";
  const Sent sent = send_and_wait(*channel, fax);
  CHECK(sent.outcome.code == Code::kPermanent);
  CHECK(sent.outcome.reason == "outbox does not deliver channel 'fax'");
  CHECK(list_dir(tmp.path()).empty());
}

// ---- loader refusals ---------------------------------------------------------------------------

TEST_CASE("the loader refuses broken plugins with a clear message naming the file") {
  const auto wrong_abi = (kFixtureDir / "fixture_wrong_abi.so").string();
  CHECK(load_error(wrong_abi) ==
        "plugin " + wrong_abi + " speaks ABI version 99; homeroomd speaks 1");

  const auto null_plugin = (kFixtureDir / "fixture_null.so").string();
  CHECK(load_error(null_plugin) == "plugin " + null_plugin + " speaks no ABI version in 1..1");

  const auto no_entry = (kFixtureDir / "fixture_no_entry.so").string();
  CHECK(load_error(no_entry) ==
        "plugin " + no_entry + " has no homeroom_plugin_entry function; is it a homeroom plugin?");

  const auto missing = (kFixtureDir / "no_such_plugin.so").string();
  CHECK(load_error(missing) == "plugin " + missing + " does not exist");
  CHECK(PluginLibrary::open(missing).status().code() == Code::kNotFound);

  TempDir tmp;
  const auto not_elf = (tmp.path() / "not_elf.so").string();
  std::ofstream(not_elf) << "this is not a shared object\n";
  CHECK_THAT(load_error(not_elf), Catch::StartsWith("cannot load plugin " + not_elf + ": "));
}

TEST_CASE("load_channel refuses a plugin name that is not a plain word") {
  auto channel = load_channel(kFixtureDir, "../fixtures/plugins/fixture_channel", "fx", {});
  REQUIRE_FALSE(channel.is_ok());
  CHECK(channel.status().field() == "channels.fx.plugin");
}

TEST_CASE("a plugin's on_create error comes back prefixed with the instance name") {
  auto channel = load_channel(kFixtureDir, "fixture_channel", "sms-b", {{"create_error", "boom"}});
  REQUIRE_FALSE(channel.is_ok());
  CHECK(channel.status().message() == "channels.sms-b: boom");

  auto bad = load_channel(kFixtureDir, "fixture_channel", "sms-b", {{"outcome", "maybe"}});
  REQUIRE_FALSE(bad.is_ok());
  CHECK_THAT(bad.status().message(), Catch::StartsWith("channels.sms-b: setting 'outcome'"));
}

// ---- fixture_channel and the host side of the ABI ----------------------------------------------

TEST_CASE("fixture outcomes map to codes with reason and retry_after") {
  struct Row {
    const char* outcome;
    Code code;
  };
  for (const Row row :
       {Row{"retryable", Code::kRetryable}, Row{"throttled", Code::kThrottled},
        Row{"contact_stopped", Code::kContactStopped}, Row{"permanent", Code::kPermanent}}) {
    INFO(row.outcome);
    auto channel = fixture({{"outcome", row.outcome}, {"retry_after_ms", "1500"}});
    const Sent sent = send_and_wait(*channel, sms_delivery());
    CHECK(sent.calls == 1);
    CHECK(sent.outcome.code == row.code);
    CHECK(sent.outcome.reason == std::string("fixture: ") + row.outcome);
    CHECK(sent.outcome.retry_after_ms == 1500);
    CHECK(sent.outcome.provider_id.empty());
  }
  auto accepted = fixture({});
  const Sent sent = send_and_wait(*accepted, sms_delivery());
  CHECK(sent.outcome.code == Code::kOk);
  CHECK_THAT(sent.outcome.provider_id, Catch::StartsWith("fixture-"));
  CHECK(sent.outcome.reason.empty());
  CHECK(sent.outcome.retry_after_ms == 0);
}

TEST_CASE("fixture fail_first fails the first N sends of each delivery, and records every send") {
  TempDir tmp;
  const auto record = tmp.path() / "sends.log";
  auto channel = fixture({{"fail_first", "2"}, {"record", record.string()}});
  auto a = sms_delivery("dlv_a");
  auto b = email_delivery("dlv_b");
  for (std::uint32_t attempt = 1; attempt <= 3; ++attempt) {
    a.attempt = attempt;
    const Sent sent = send_and_wait(*channel, a);
    CHECK(sent.outcome.code == (attempt <= 2 ? Code::kRetryable : Code::kOk));
    if (attempt == 1) {
      CHECK(sent.outcome.reason == "fixture: failing send 1 of 2");
      CHECK(send_and_wait(*channel, b).outcome.code == Code::kRetryable);  // counted separately
    }
  }
  CHECK(read_file(record) == "dlv_a 1 sms\ndlv_b 1 email\ndlv_a 2 sms\ndlv_a 3 sms\n");
}

TEST_CASE("done runs exactly once even when the plugin misreports") {
  SECTION("a second report for one token is ignored") {
    auto channel = fixture({{"misbehave", "double_report"}});
    const Sent sent = send_and_wait(*channel, sms_delivery());
    CHECK(sent.calls == 1);
    CHECK(sent.outcome.code == Code::kOk);
    CHECK(channel->in_flight() == 0);
  }
  SECTION("a report for an unknown token is ignored") {
    auto channel = fixture({{"misbehave", "unknown_token"}});
    const Sent sent = send_and_wait(*channel, sms_delivery());
    CHECK(sent.calls == 1);
    CHECK(sent.outcome.code == Code::kOk);
  }
  SECTION("an outcome shorter than v1 is read only as far as its size") {
    auto channel = fixture({{"misbehave", "short_outcome"}, {"outcome", "throttled"}});
    const Sent sent = send_and_wait(*channel, sms_delivery());
    CHECK(sent.calls == 1);
    CHECK(sent.outcome.code == Code::kThrottled);
    CHECK(sent.outcome.reason.empty());
    CHECK(sent.outcome.provider_id.empty());
    CHECK(sent.outcome.retry_after_ms == 0);
  }
  SECTION("an unknown outcome kind is permanent, with a reason") {
    auto channel = fixture({{"misbehave", "bad_kind"}, {"outcome", "retryable"}});
    const Sent sent = send_and_wait(*channel, sms_delivery());
    CHECK(sent.outcome.code == Code::kPermanent);
    CHECK(sent.outcome.reason == "plugin reported unknown outcome kind 7: fixture: retryable");
  }
}

TEST_CASE("a synchronous report runs done before send returns, outside the channel's lock") {
  auto channel = fixture({});
  int calls = 0;
  SendOutcome second;
  channel->send(sms_delivery("dlv_1"), [&](SendOutcome outcome) {
    ++calls;
    CHECK(outcome.code == Code::kOk);
    // Sending again from inside done must not deadlock.
    channel->send(sms_delivery("dlv_2"), [&](SendOutcome again) {
      ++calls;
      second = std::move(again);
    });
  });
  CHECK(calls == 2);
  CHECK(second.code == Code::kOk);
  CHECK(channel->in_flight() == 0);
}

TEST_CASE("a late report runs done on the reporting thread, and the destructor waits for it") {
  std::atomic<int> calls{0};
  std::thread::id done_thread;
  std::unique_ptr<Channel> channel = fixture({{"delay_ms", "50"}});
  for (int i = 0; i < 3; ++i) {
    channel->send(sms_delivery("dlv_late_" + std::to_string(i)), [&](SendOutcome outcome) {
      CHECK(outcome.code == Code::kOk);
      done_thread = std::this_thread::get_id();
      ++calls;
    });
  }
  CHECK(calls == 0);
  CHECK(channel->in_flight() == 3);
  channel.reset();  // waits for the three reports, then destroys the instance
  CHECK(calls == 3);
  CHECK(done_thread != std::this_thread::get_id());
}

TEST_CASE("a throwing done callback is contained") {
  auto channel = fixture({});
  channel->send(sms_delivery(), [](SendOutcome) { throw std::runtime_error("callback bug"); });
  CHECK(channel->in_flight() == 0);
  CHECK(send_and_wait(*channel, sms_delivery()).outcome.code == Code::kOk);
}

TEST_CASE("two instances of one plugin share the loaded library") {
  auto one = fixture({}, "fx-one");
  auto two = fixture({}, "fx-two");
  CHECK(one->library() == two->library());
  CHECK(one->library()->path() == kFixtureDir / "fixture_channel.so");
  // Module-wide state proves one dlopen: the send counter runs across both instances.
  const auto first = send_and_wait(*one, sms_delivery()).outcome.provider_id;
  const auto second = send_and_wait(*two, sms_delivery()).outcome.provider_id;
  const auto number = [](const std::string& id) { return std::stoul(id.substr(id.find('-') + 1)); };
  CHECK(number(second) == number(first) + 1);

  // Another plugin is another library.
  TempDir tmp;
  auto outbox = must_load(kPluginDir, "outbox", "email", {{"dir", tmp.path().string()}});
  CHECK(outbox->library() != one->library());
}

TEST_CASE("the registry finds instances by name and by channel") {
  ChannelRegistry registry;
  TempDir tmp;
  REQUIRE(registry.add(fixture({}, "school-sms")).is_ok());
  REQUIRE(registry.add(must_load(kPluginDir, "outbox", "email", {{"dir", tmp.path().string()}}))
              .is_ok());
  const Status twice = registry.add(fixture({}, "email"));
  CHECK(twice.code() == Code::kConflict);

  REQUIRE(registry.find("email") != nullptr);
  CHECK(registry.find("email")->plugin_name() == "outbox");
  CHECK(registry.find("nope") == nullptr);
  REQUIRE(registry.for_channel("sms") != nullptr);
  CHECK(registry.for_channel("sms")->name() == "school-sms");  // the first that delivers it
  CHECK(registry.for_channel("fax") == nullptr);
  REQUIRE(registry.all().size() == 2);
  CHECK(registry.all()[1]->name() == "email");
}

TEST_CASE("concurrent sends on one channel each report exactly once") {
  TempDir tmp;
  const auto record = tmp.path() / "sends.log";
  auto channel = fixture({{"fail_first", "1"}, {"record", record.string()}});
  constexpr int kThreads = 4;
  constexpr int kSends = 50;
  std::atomic<int> ok{0};
  std::atomic<int> retryable{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kSends; ++i) {
        channel->send(sms_delivery("dlv_" + std::to_string(t) + "_" + std::to_string(i % 10)),
                      [&](SendOutcome outcome) { ++(outcome.code == Code::kOk ? ok : retryable); });
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(channel->in_flight() == 0);
  CHECK(retryable == kThreads * 10);  // the first send of each of the 40 ids
  CHECK(ok + retryable == kThreads * kSends);
  const std::string lines = read_file(record);
  CHECK(std::count(lines.begin(), lines.end(), '\n') == kThreads * kSends);
}
