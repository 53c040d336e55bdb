/* Proves homeroom_plugin.h is plain C11 (built with -std=c11 -Wpedantic -Werror) and that a plugin
 * written in C can fill and hand back every struct. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "homeroom_plugin.h"

static uint64_t g_reported_token;
static int32_t g_reported_kind = -1;

static int32_t on_create(const hr_host_api* host, const hr_plugin_config* config, void** instance,
                         char* err, size_t err_len) {
  (void)config;
  if (host == NULL) {
    snprintf(err, err_len, "no host");
    return 1;
  }
  *instance = (void*)host;
  return 0;
}

static void on_send(void* instance, uint64_t send_token, const hr_delivery* delivery) {
  const hr_host_api* host = (const hr_host_api*)instance;
  hr_outcome outcome;
  memset(&outcome, 0, sizeof outcome);
  outcome.size = (uint32_t)sizeof outcome;
  outcome.kind = delivery->attempt == 1 ? HR_OUTCOME_ACCEPTED : HR_OUTCOME_RETRYABLE;
  outcome.provider_id = delivery->delivery_id;
  host->host_delivery_done(host->host, send_token, &outcome);
}

static void on_destroy(void* instance) { (void)instance; }

static const hr_plugin kDescriptor = {
    sizeof(hr_plugin), HOMEROOM_PLUGIN_ABI_VERSION, "c_plugin", "sms", on_create, on_send,
    on_destroy, NULL};

const hr_plugin* homeroom_plugin_entry(uint32_t host_min_abi, uint32_t host_max_abi) {
  if (host_min_abi > HOMEROOM_PLUGIN_ABI_VERSION || host_max_abi < HOMEROOM_PLUGIN_ABI_VERSION) {
    return NULL;
  }
  return &kDescriptor;
}

static void host_log(void* host, int32_t level, const char* message) {
  (void)host;
  (void)level;
  (void)message;
}

static void host_delivery_done(void* host, uint64_t send_token, const hr_outcome* outcome) {
  (void)host;
  g_reported_token = send_token;
  g_reported_kind = outcome->kind;
}

static int g_failures;
#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      ++g_failures;                                                            \
    }                                                                          \
  } while (0)

int main(void) {
  /* Every struct starts with its size. */
  CHECK(offsetof(hr_delivery, size) == 0);
  CHECK(offsetof(hr_outcome, size) == 0);
  CHECK(offsetof(hr_host_api, size) == 0);
  CHECK(offsetof(hr_plugin_config, size) == 0);
  CHECK(offsetof(hr_plugin, size) == 0);
  CHECK(offsetof(hr_plugin, abi_version) == sizeof(uint32_t));
  CHECK(HR_OUTCOME_ACCEPTED == 0 && HR_OUTCOME_PERMANENT == 4);
  CHECK(HR_LOG_DEBUG == 1 && HR_LOG_ERROR == 4);
  CHECK(offsetof(hr_outcome, retry_after_ms) + sizeof(int64_t) <= sizeof(hr_outcome));
  CHECK(offsetof(hr_delivery, attempt) + sizeof(uint32_t) <= sizeof(hr_delivery));
  CHECK(strcmp(HOMEROOM_PLUGIN_ENTRY_SYMBOL, "homeroom_plugin_entry") == 0);

  {
    hr_plugin_entry_fn entry = homeroom_plugin_entry;
    const hr_plugin* plugin = entry(1u, 1u);
    hr_host_api host;
    hr_kv kv = {"key", "value"};
    hr_plugin_config config;
    hr_delivery delivery;
    void* instance = NULL;
    char err[64] = {0};

    CHECK(entry(2u, 3u) == NULL);
    CHECK(plugin != NULL && plugin->size == sizeof(hr_plugin));
    CHECK(plugin != NULL && plugin->abi_version == HOMEROOM_PLUGIN_ABI_VERSION);
    if (plugin == NULL) return 1;

    memset(&host, 0, sizeof host);
    host.size = (uint32_t)sizeof host;
    host.abi_version = HOMEROOM_PLUGIN_ABI_VERSION;
    host.host_log = host_log;
    host.host_delivery_done = host_delivery_done;
    config.size = (uint32_t)sizeof config;
    config.instance_name = "sms";
    config.settings = &kv;
    config.settings_count = 1;
    CHECK(plugin->on_create(&host, &config, &instance, err, sizeof err) == 0);

    memset(&delivery, 0, sizeof delivery);
    delivery.size = (uint32_t)sizeof delivery;
    delivery.delivery_id = "dlv_1";
    delivery.channel = "sms";
    delivery.to = delivery.subject = delivery.body = delivery.language = delivery.category = "";
    delivery.content = "hello";
    delivery.content_len = 5;
    delivery.attempt = 1;
    plugin->on_send(instance, 77u, &delivery);
    CHECK(g_reported_token == 77u);
    CHECK(g_reported_kind == HR_OUTCOME_ACCEPTED);
    plugin->on_destroy(instance);
  }

  if (g_failures == 0)
    printf("ABI header compiles as C11; %zu-byte descriptor\n", sizeof(hr_plugin));
  return g_failures == 0 ? 0 : 1;
}
