// The REST API v1 (docs/api.md): thin handlers that authenticate, validate, and call the store and
// routing. A handler is a coroutine from Request to Response, so tests drive it with no socket.
//
// Authorization: admins may do everything; a teacher may message (and read messages about) only
// students they teach, and may not touch the roster.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <functional>
#include <string>

#include "conversations/inbound.h"
#include "core/clock.h"
#include "http/message.h"
#include "routing/delivery_planner.h"
#include "store/conference_store.h"
#include "store/conversation_store.h"
#include "store/store.h"
#include "store/unsubscribe_store.h"

namespace homeroom::api {

// What a channel plugin made of a provider's webhook: the answer for the provider, and the status
// reports to record (durably, before the answer goes out).
struct WebhookResult {
  http::Response response;
  std::vector<store::ProviderStatusUpdate> updates;
  // Messages families sent (SMS, email replies), handed to ApiOptions::inbound before answering.
  std::vector<conversations::InboundMessage> inbound;
};
// Runs the webhook of channel instance `instance`; nullopt when there is no such instance.
using WebhookFn =
    std::function<std::optional<WebhookResult>(const std::string& instance, const http::Request&)>;

struct ApiOptions {
  routing::PlannerOptions planner;
  // A broadcast's deliveries are planned in store jobs of about this many students each.
  int broadcast_chunk_students = 2000;
  // Extra Prometheus text appended to /metrics (dispatcher counters, ...).
  std::function<std::string()> extra_metrics;
  // Called after a message is durably accepted, so the dispatcher looks at once.
  std::function<void()> on_new_work;
  // Provider webhooks under /hooks/{instance}/...; verified by the plugin, not by a token.
  WebhookFn webhook;
  // The key of the families' preferences links (/p/{token}, api/preferences_page.h): the store's
  // render::kTokenSecretName secret. Empty: no preferences page.
  std::string preferences_secret;
  // Takes what families send back (WebhookResult::inbound); the provider is answered only after
  // it reports the message durable (503 otherwise, so the provider retries). Null: a webhook that
  // carries a message answers 503 "replies are not configured". Must outlive the Api.
  conversations::InboundHandler* inbound = nullptr;
  // Threads (GET/POST /v1/threads..., staff reply settings). Null: /v1/threads is 404. Must
  // outlive the Api.
  store::ConversationStore* conversations = nullptr;
  // RFC 8058 one-click unsubscribe (/u/{token}, api/unsubscribe_page.h). Null: /u/ is 404. Must
  // outlive the Api.
  store::UnsubscribeStore* unsubscribe = nullptr;
  // Conference slots and their reminders (/v1/conferences, POST /v1/imports/conferences). Null:
  // 404. Must outlive the Api.
  store::ConferenceStore* conferences = nullptr;
};

class Api {
 public:
  Api(store::Store& store, const Clock& clock, ApiOptions options);
  // Goes on planning broadcasts a previous run accepted but did not finish (api/broadcasts_api.cpp).
  void resume_broadcasts();

  boost::asio::awaitable<http::Response> handle(http::Request request);
  // While draining, /readyz answers 503 so a load balancer stops sending traffic.
  void set_draining(bool draining) { draining_ = draining; }

 private:
  boost::asio::awaitable<http::Response> route(http::Request request);
  boost::asio::awaitable<http::Response> put_roster(std::string kind, std::string id,
                                                    http::Request request);
  boost::asio::awaitable<http::Response> delete_roster(std::string kind, std::string id);
  http::Response get_roster(const std::string& kind, const std::string& id);
  boost::asio::awaitable<http::Response> post_message(Principal principal, http::Request request);
  http::Response get_message(const Principal& principal, const std::string& id);
  http::Response reach_report(const Principal& principal, const http::Request& request);
  http::Response metrics();
  boost::asio::awaitable<http::Response> webhook(std::string instance, http::Request request);
  Result<Principal> authenticate(const http::Request& request);
  // /v1/broadcasts[/{id}] (api/broadcasts_api.cpp).
  boost::asio::awaitable<http::Response> broadcasts(Principal principal,
                                                    std::vector<std::string> parts,
                                                    http::Request request);
  boost::asio::awaitable<http::Response> post_broadcast(Principal principal,
                                                        http::Request request);
  store::BroadcastPlanFn broadcast_planner() const;

  store::Store& store_;
  const Clock& clock_;
  ApiOptions options_;
  std::atomic<bool> draining_{false};
};

}  // namespace homeroom::api
