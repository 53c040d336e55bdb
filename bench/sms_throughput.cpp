// sms_throughput: how fast can homeroom push SMS through sms_twilio, compared with the fastest the
// provider fake itself can go?
//
// Part (a), implemented: starts tests/peers/twilio_fake.js on loopback and drives it with a
// libcurl-multi load client (keep-alive, N requests in flight) posting the exact form sms_twilio
// sends; prints the fake's maximum request rate. Part (b) (homeroomd -> sms_twilio -> the fake,
// 20,000 deliveries, deliveries/second, ratio to (a), peak RSS) needs the host transport wired
// into homeroomd and is not implemented yet.
//
// Prints figures, not pass/fail.
//   sms_throughput [--requests N] [--concurrency C]
#include <curl/curl.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/process.h"
#include "support/temp_dir.h"

namespace {

using Clock = std::chrono::steady_clock;
using homeroom::testing::Process;
using homeroom::testing::TempDir;

constexpr const char* kSid = "ACbench0000000000000000000000000000";
constexpr const char* kToken = "bench-token";

struct Options {
  int requests = 20000;
  int concurrency = 64;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--requests" && i + 1 < argc) {
      o.requests = std::atoi(argv[++i]);
    } else if (a == "--concurrency" && i + 1 < argc) {
      o.concurrency = std::atoi(argv[++i]);
    } else {
      throw std::runtime_error("usage: sms_throughput [--requests N] [--concurrency C]");
    }
  }
  if (o.requests <= 0 || o.concurrency <= 0) throw std::runtime_error("positive numbers only");
  return o;
}

// The fake, started on port 0; the port read back from its port file.
struct Fake {
  std::unique_ptr<Process> process;
  int port = 0;
};

Fake start_fake(const TempDir& dir) {
  const auto port_file = dir / "fake.port";
  Fake fake;
  fake.process = std::make_unique<Process>(
      std::vector<std::string>{HOMEROOM_NODE, HOMEROOM_SOURCE_DIR "/tests/peers/twilio_fake.js",
                               "--port-file", port_file.string(), "--sid", kSid, "--token", kToken,
                               "--quiet"},
      dir / "fake.log");
  const auto until = Clock::now() + std::chrono::seconds(20);
  while (!std::filesystem::exists(port_file)) {
    if (Clock::now() > until)
      throw std::runtime_error("fake did not start: " + fake.process->output());
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::ifstream(port_file) >> fake.port;
  return fake;
}

size_t discard(char*, size_t size, size_t n, void*) { return size * n; }

// Posts `requests` Messages API forms with `concurrency` in flight; returns requests/second of
// those answered 201.
double measure_fake_rate(int port, const Options& o) {
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/2010-04-01/Accounts/" +
                          kSid + "/Messages.json";
  const std::string body =
      "To=%2B15551230000&From=%2B15557654321"
      "&Body=Maya+finished+her+lab+report+early+and+helped+two+classmates."
      "&StatusCallback=https%3A%2F%2Fhr.example.org%2Fhooks%2Fsms%2Fstatus";
  const std::string userpwd = std::string(kSid) + ":" + kToken;
  CURLM* multi = curl_multi_init();
  curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, static_cast<long>(o.concurrency));
  curl_slist* headers =
      curl_slist_append(nullptr, "Content-Type: application/x-www-form-urlencoded");
  headers = curl_slist_append(headers, "Expect:");
  auto add = [&] {
    CURL* e = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_URL, url.c_str());
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(e, CURLOPT_USERPWD, userpwd.c_str());
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &discard);
    curl_multi_add_handle(multi, e);
  };
  int started = 0;
  int ok = 0;
  int failed = 0;
  const auto t0 = Clock::now();
  for (; started < o.concurrency && started < o.requests; ++started) add();
  int running = 0;
  do {
    curl_multi_perform(multi, &running);
    int left = 0;
    while (CURLMsg* m = curl_multi_info_read(multi, &left)) {
      if (m->msg != CURLMSG_DONE) continue;
      long code = 0;
      curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &code);
      (m->data.result == CURLE_OK && code == 201) ? ++ok : ++failed;
      curl_multi_remove_handle(multi, m->easy_handle);
      curl_easy_cleanup(m->easy_handle);
      if (started < o.requests) {
        add();
        ++started;
      }
    }
    curl_multi_poll(multi, nullptr, 0, 100, nullptr);
  } while (ok + failed < o.requests);
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  curl_slist_free_all(headers);
  curl_multi_cleanup(multi);
  std::printf("fake: %d requests (%d answered 201, %d failed) in %.2f s with %d in flight\n",
              o.requests, ok, failed, seconds, o.concurrency);
  return ok / seconds;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options o = parse(argc, argv);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    TempDir dir;
    Fake fake = start_fake(dir);
    measure_fake_rate(fake.port, Options{std::min(2000, o.requests), o.concurrency});  // warm-up
    const double fake_rate = measure_fake_rate(fake.port, o);
    std::printf("fake maximum: %.0f requests/s\n", fake_rate);
    std::printf(
        "homeroomd -> sms_twilio -> fake: not measured (the host HTTP transport is not wired into "
        "homeroomd yet)\n");
    fake.process->signal(SIGTERM);
    fake.process->wait_exit(std::chrono::seconds(5));
    curl_global_cleanup();
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sms_throughput: %s\n", e.what());
    return 1;
  }
}
