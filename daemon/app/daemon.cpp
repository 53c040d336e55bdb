#include "app/daemon.h"

#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <csignal>
#include <fstream>
#include <thread>

#include "api/api.h"
#include "app/log_setup.h"
#include "channels/channel_registry.h"
#include "conversations/imap_poller.h"
#include "conversations/inbound_email.h"
#include "homeroom_plugin.h"
#include "http/server.h"
#include "http/transport.h"
#include "queue/dispatcher.h"
#include "render/tokens.h"
#include "store/conference_store.h"
#include "store/conversation_store.h"
#include "store/store.h"

namespace homeroom::app {
namespace {

namespace asio = boost::asio;

constexpr auto kHttpDrain = std::chrono::seconds(10);
constexpr auto kSendDrain = std::chrono::seconds(15);
constexpr auto kTransportDrain = std::chrono::seconds(5);

struct Channels {
  ChannelRegistry registry;
  queue::Dispatcher::Routes routes;
};

// A plugin reports what a provider's webhook said while Channel::webhook runs, on the calling
// thread; the reports are collected here and recorded by the API before it answers the provider.
thread_local std::vector<store::ProviderStatusUpdate>* t_webhook_reports = nullptr;

void handle_provider_status(const std::map<std::string, std::string>& channel_of,
                            const ProviderStatus& status) {
  using Kind = store::ProviderStatusUpdate::Kind;
  static const std::map<int, Kind> kKinds{{HR_STATUS_SENT, Kind::kSent},
                                          {HR_STATUS_DELIVERED, Kind::kDelivered},
                                          {HR_STATUS_UNDELIVERED, Kind::kUndelivered},
                                          {HR_STATUS_BOUNCED, Kind::kBounced},
                                          {HR_STATUS_CONTACT_STOPPED, Kind::kContactStopped}};
  auto kind = kKinds.find(status.status);
  auto channel = channel_of.find(status.channel_instance);
  if (t_webhook_reports == nullptr || kind == kKinds.end() || channel == channel_of.end()) {
    spdlog::error("channel {}: ignored a provider status report outside a webhook",
                  status.channel_instance);
    return;
  }
  spdlog::info("channel {}: provider reports {} is now status {}", status.channel_instance,
               status.provider_id, status.status);
  t_webhook_reports->push_back({channel->second, status.provider_id, kind->second, status.reason});
}

// What a plugin reported as sent by a family, as the InboundHandler takes it; a whole email
// (is_mime) is parsed and its reply extracted here. kMalformed when that email does not parse.
Result<conversations::InboundMessage> inbound_message(InboundReport report, Millis now) {
  const Millis received_at = report.received_at_ms > 0 ? report.received_at_ms : now;
  if (report.is_mime) {
    auto m = conversations::inbound_from_email(report.body, report.channel_instance, report.to,
                                               received_at);
    if (m.is_ok() && !report.from.empty() && m->from.empty()) m->from = report.from;
    return m;
  }
  conversations::InboundMessage m;
  m.channel = std::move(report.channel);
  m.source = std::move(report.channel_instance);
  m.provider_id = std::move(report.provider_id);
  m.from = std::move(report.from);
  m.to = std::move(report.to);
  m.text = report.body;
  m.original = std::move(report.body);
  m.received_at = received_at;
  return m;
}

// /hooks/<instance>/<path>: hands the request to the instance's plugin, which verifies it.
std::optional<api::WebhookResult> run_webhook(const ChannelRegistry& registry, const Clock& clock,
                                              const std::string& public_url,
                                              const std::string& instance,
                                              const http::Request& request) {
  Channel* channel = registry.find(instance);
  if (channel == nullptr) return std::nullopt;
  const std::string prefix = "/hooks/" + instance + "/";
  WebhookRequest hook;
  hook.method = request.method;
  hook.path = request.path.substr(std::min(prefix.size(), request.path.size()));
  hook.query = request.query;
  hook.headers = request.headers;
  hook.body = request.body;
  // Providers sign the URL they called: behind a reverse proxy that is server.public_url.
  const std::string base = public_url.empty() ? "http://" + request.header("Host") : public_url;
  hook.public_url = base + request.path + (request.query.empty() ? "" : "?" + request.query);

  api::WebhookResult result;
  t_webhook_reports = &result.updates;
  WebhookResponse response = channel->webhook(hook);
  t_webhook_reports = nullptr;
  result.response.status = static_cast<unsigned>(response.status);
  result.response.content_type = response.content_type;
  result.response.body = std::move(response.body);
  for (auto& report : response.inbound) {
    auto message = inbound_message(std::move(report), clock.now());
    if (!message.is_ok()) {
      spdlog::warn("channel {}: the email a webhook carried does not parse: {}", instance,
                   message.status().message());
      result.inbound.clear();
      result.response = http::Response{400, "text/plain", "not an email message\n", {}};
      break;
    }
    result.inbound.push_back(std::move(*message));
  }
  return result;
}

Result<std::unique_ptr<Channels>> load_channels(const Config& config,
                                                const std::filesystem::path& plugin_dir,
                                                const HostServices& services) {
  auto out = std::make_unique<Channels>();
  for (const auto& c : config.channels) {
    auto channel = load_channel(plugin_dir, c.plugin, c.name, c.settings, services);
    if (!channel.is_ok()) return channel.status();
    if (!(*channel)->delivers(c.channel)) {
      return Status::invalid("channels." + c.name + ".channel",
                             "plugin " + c.plugin + " does not deliver " + c.channel);
    }
    if (!c.receive_only) out->routes[c.channel] = channel->get();
    if (auto s = out->registry.add(std::move(*channel)); !s.is_ok()) return s;
  }
  return out;
}

// [inbound.imap]: the poller of families' email replies; null when not configured, or when there
// is no handler for replies (logged).
std::unique_ptr<conversations::ImapPoller> make_imap_poller(const ImapConfig& imap,
                                                            Transport& transport,
                                                            store::Store& store,
                                                            conversations::InboundHandler* handler,
                                                            const Clock& clock) {
  if (imap.url.empty()) return nullptr;
  if (handler == nullptr) {
    spdlog::error("inbound.imap: replies are not configured in this build; not polling");
    return nullptr;
  }
  conversations::ImapPollerOptions options;
  options.url = imap.url;
  options.username = imap.username;
  options.password = imap.password;
  if (!imap.password_file.empty()) {
    std::ifstream in(imap.password_file);
    std::getline(in, options.password);
    if (!in) spdlog::error("inbound.imap.password_file: cannot read {}", imap.password_file);
  }
  options.ca_file = imap.ca_file;
  options.poll_interval = imap.poll_interval;
  return std::make_unique<conversations::ImapPoller>(transport, store, *handler, clock,
                                                     std::move(options));
}

// Every few minutes: held SMS whose "which teacher?" question nobody answered within 24 h go to
// the office inbox (store/conversation_store.h). Stops with the io_context.
void release_held_periodically(asio::steady_timer& timer, store::ConversationStore& conversations) {
  conversations.release_unanswered([](const Result<int>&) {});
  timer.expires_after(std::chrono::minutes(5));
  timer.async_wait([&timer, &conversations](const boost::system::error_code& ec) {
    if (!ec) release_held_periodically(timer, conversations);
  });
}

// Runs on the io_context; re-arms itself for SIGHUP, begins the drain on SIGTERM/SIGINT.
class SignalHandler {
 public:
  SignalHandler(asio::io_context& io, std::function<void()> on_stop)
      : signals_(io, SIGINT, SIGTERM, SIGHUP), on_stop_(std::move(on_stop)) {
    arm();
  }

 private:
  void arm() {
    signals_.async_wait([this](const boost::system::error_code& ec, int signal) {
      if (ec) return;
      if (signal == SIGHUP) {
        reopen_logs();
        arm();
        return;
      }
      spdlog::info("received {}: draining", signal == SIGTERM ? "SIGTERM" : "SIGINT");
      on_stop_();
    });
  }

  asio::signal_set signals_;
  std::function<void()> on_stop_;
};

}  // namespace

int run_daemon(const Config& config, const std::filesystem::path& exe_dir) {
  SystemClock clock;
  auto opened = store::Store::open(config.store.path, clock);
  if (!opened.is_ok()) {
    spdlog::critical("store.path: {}", opened.status().message());
    return 1;
  }
  store::Store& store = **opened;

  const std::filesystem::path plugin_dir = config.plugins.dir.empty()
                                               ? exe_dir / ".." / "lib" / "homeroom" / "plugins"
                                               : std::filesystem::path(config.plugins.dir);
  // Plugins' HTTP and SMTP transfers; shut down after the dispatcher, before the channels go.
  Transport transport(clock);
  std::map<std::string, std::string> channel_of;  // instance name -> email | sms | push
  for (const auto& c : config.channels) channel_of[c.name] = c.channel;
  HostServices services{&transport, &clock, [&channel_of](const ProviderStatus& status) {
                          handle_provider_status(channel_of, status);
                        }};
  auto channels = load_channels(config, plugin_dir, services);
  if (!channels.is_ok()) {
    spdlog::critical("{}", channels.status().to_string());
    return 1;
  }

  queue::DispatcherOptions dispatch;
  dispatch.batch_size = config.queue.batch_size;
  dispatch.lease_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(config.queue.lease).count();
  dispatch.poll_interval = config.queue.poll_interval;
  dispatch.retry.max_attempts = config.queue.max_attempts;
  for (const auto& c : config.channels) {
    if (c.channel == "sms") dispatch.max_sms_segments = c.max_segments;
    if (c.receive_only) continue;  // throttles belong to the instance that sends
    if (c.rate_per_second > 0) dispatch.rate_per_second[c.channel] = c.rate_per_second;
    if (c.channel == "sms") dispatch.sms_segments_per_second = c.segments_per_second;
  }
  dispatch.retry.backoff_base_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(config.queue.backoff_base).count();
  dispatch.retry.backoff_max_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(config.queue.backoff_max).count();
  // How email is addressed, and the key of its reply/unsubscribe/bounce tokens (a persistent
  // random secret in the store, never in the config).
  auto token_secret = store.secret(render::kTokenSecretName);
  if (!token_secret.is_ok()) {
    spdlog::critical("store.path: {}", token_secret.status().message());
    return 1;
  }
  dispatch.render.from_address = config.email.from_address;
  dispatch.render.from_name = config.email.from_name;
  dispatch.render.message_id_domain =
      config.email.from_address.substr(config.email.from_address.rfind('@') + 1);
  dispatch.render.reply_domain = config.email.reply_domain;
  dispatch.render.bounce_domain = config.email.bounce_domain;
  dispatch.render.public_url = config.server.public_url;
  dispatch.render.token_secret = *token_secret;
  queue::Dispatcher dispatcher(store, (*channels)->routes, clock, dispatch);

  // Conversations: threads, what families send back, SMS keywords (store/conversation_store.h).
  store::ConversationOptions conversation_options;
  conversation_options.reply_token = [secret = *token_secret](const std::string& staff,
                                                              const std::string& student,
                                                              const std::string& guardian) {
    return render::reply_token(secret, staff, student, guardian);
  };
  conversation_options.on_new_work = [&dispatcher] { dispatcher.wake(); };
  // List-Unsubscribe (/u/TOKEN and mailto:unsubscribe+TOKEN@): store/unsubscribe_store.h.
  store::UnsubscribeTokens unsubscribe_tokens;
  unsubscribe_tokens.make = [secret = *token_secret](const std::string& guardian,
                                                     const std::string& category,
                                                     const std::string& channel) {
    return render::unsubscribe_token(secret, guardian, category, channel);
  };
  unsubscribe_tokens.verify = [secret = *token_secret](
                                  const std::string& token, const std::string& guardian,
                                  const std::string& category, const std::string& channel) {
    return render::verify_unsubscribe_token(secret, token, guardian, category, channel);
  };
  conversation_options.unsubscribe_tokens = unsubscribe_tokens;
  store::UnsubscribeStore unsubscribe(store, clock, unsubscribe_tokens);
  store::ConversationStore conversations(store, config.store.path, clock, conversation_options);

  api::ApiOptions api_options;
  api_options.inbound = &conversations;
  api_options.conversations = &conversations;
  api_options.unsubscribe = &unsubscribe;
  api_options.planner.available_channels.clear();
  for (const auto& [channel, _] : (*channels)->routes) {
    api_options.planner.available_channels.insert(channel);
  }
  // A fallback moves only to a channel that can be sent, like the planner's first choice.
  store.set_available_channels(api_options.planner.available_channels);
  // Conference slots: their reminders are planned on the same channels.
  store::ConferenceOptions conference_options;
  conference_options.available_channels = api_options.planner.available_channels;
  conference_options.on_new_work = [&dispatcher] { dispatcher.wake(); };
  store::ConferenceStore conferences(store, config.store.path, clock, conference_options);
  api_options.conferences = &conferences;
  api_options.on_new_work = [&dispatcher] { dispatcher.wake(); };
  api_options.preferences_secret = std::move(*token_secret);  // the links the renderer signs
  api_options.webhook = [&channels, &config, &clock](const std::string& instance,
                                                     const http::Request& request) {
    return run_webhook((*channels)->registry, clock, config.server.public_url, instance, request);
  };
  api_options.extra_metrics = [&dispatcher] {
    auto s = dispatcher.stats();
    std::string text =
        "# HELP homeroom_dispatch_total Send outcomes by result.\n"
        "# TYPE homeroom_dispatch_total counter\n";
    text += "homeroom_dispatch_total{result=\"sent\"} " + std::to_string(s.sent) + "\n";
    text += "homeroom_dispatch_total{result=\"retried\"} " + std::to_string(s.retried) + "\n";
    text += "homeroom_dispatch_total{result=\"failed\"} " + std::to_string(s.failed) + "\n";
    text += "homeroom_dispatch_total{result=\"dead\"} " + std::to_string(s.dead) + "\n";
    text +=
        "# HELP homeroom_dispatch_in_flight Sends awaiting a provider's answer.\n"
        "# TYPE homeroom_dispatch_in_flight gauge\n"
        "homeroom_dispatch_in_flight " +
        std::to_string(dispatcher.in_flight()) + "\n";
    return text;
  };
  api::Api api(store, clock, api_options);
  auto imap_poller =
      make_imap_poller(config.inbound.imap, transport, store, api_options.inbound, clock);

  asio::io_context io;
  http::ServerLimits limits;
  limits.max_body_bytes = static_cast<std::size_t>(config.server.max_body_bytes);
  limits.header_timeout = config.server.header_timeout;
  limits.body_timeout = config.server.body_timeout;
  http::Server server(
      io.get_executor(), [&api](http::Request r) { return api.handle(std::move(r)); }, limits);
  if (auto s = server.listen(config.server.listen_host, config.server.listen_port); !s.is_ok()) {
    spdlog::critical("server.listen: {}", s.message());
    return 1;
  }

  std::thread drainer;
  SignalHandler signals(io, [&] {
    api.set_draining(true);
    server.shutdown(kHttpDrain, [&] {
      // Waiting for sends blocks: do it off the io threads, then stop them.
      drainer = std::thread([&] {
        dispatcher.stop(kSendDrain);
        if (imap_poller) imap_poller->stop();
        io.stop();
      });
    });
  });

  server.start();
  dispatcher.start();
  if (imap_poller) imap_poller->start();
  asio::steady_timer held_timer(io);
  release_held_periodically(held_timer, conversations);
  api.resume_broadcasts();  // planning a crash interrupted goes on where it stopped
  const bool v6 = config.server.listen_host.find(':') != std::string::npos;
  spdlog::info("homeroomd listening on http://{}{}{}:{} ({} channel instances, store {})",
               v6 ? "[" : "", config.server.listen_host, v6 ? "]" : "", server.port(),
               config.channels.size(), config.store.path);
  spdlog::default_logger()->flush();  // what a supervisor or script waits for: now, not in 1 s

  std::thread second([&io] { io.run(); });
  io.run();
  second.join();
  if (drainer.joinable()) drainer.join();
  dispatcher.stop(kSendDrain);
  if (imap_poller) imap_poller->stop();  // finishes the message in hand; needs the transport
  transport.shutdown(kTransportDrain);
  store.close();
  spdlog::info("homeroomd stopped cleanly");
  return 0;
}

}  // namespace homeroom::app
