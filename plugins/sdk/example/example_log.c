/* example_log: the smallest useful channel plugin, in plain C against the installed SDK.
 * It "delivers" by logging one line per delivery (at debug: the address is family data) and
 * accepts it with provider id "example-<delivery id>". Setting: `prefix` (optional). */
#include <homeroom_plugin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct example {
  const hr_host_api* host;
  char prefix[64];
} example;

static int32_t on_create(const hr_host_api* host, const hr_plugin_config* config, void** instance,
                         char* err, size_t err_len) {
  example* e = calloc(1, sizeof *e);
  size_t i;
  if (e == NULL) {
    snprintf(err, err_len, "out of memory");
    return 1;
  }
  e->host = host;
  snprintf(e->prefix, sizeof e->prefix, "example-");
  for (i = 0; i < config->settings_count; ++i) {
    if (strcmp(config->settings[i].key, "prefix") == 0) {
      snprintf(e->prefix, sizeof e->prefix, "%s", config->settings[i].value);
    } else {
      snprintf(err, err_len, "unknown setting '%s'", config->settings[i].key);
      free(e);
      return 1;
    }
  }
  *instance = e;
  return 0;
}

static void on_send(void* instance, uint64_t send_token, const hr_delivery* delivery) {
  example* e = instance;
  char id[160];
  char line[256];
  hr_outcome outcome;
  snprintf(id, sizeof id, "%s%s", e->prefix, delivery->delivery_id);
  snprintf(line, sizeof line, "delivery %s via %s (%zu bytes)", delivery->delivery_id,
           delivery->channel, delivery->content_len);
  e->host->host_log(e->host->host, HR_LOG_DEBUG, line);
  memset(&outcome, 0, sizeof outcome);
  outcome.size = sizeof outcome;
  outcome.kind = HR_OUTCOME_ACCEPTED;
  outcome.provider_id = id;
  e->host->host_delivery_done(e->host->host, send_token, &outcome);
}

static void on_destroy(void* instance) { free(instance); }

static const hr_plugin kPlugin = {sizeof(hr_plugin), HOMEROOM_PLUGIN_ABI_VERSION,
                                  "example_log",     "email,sms,push",
                                  on_create,         on_send,
                                  on_destroy,        NULL};

const hr_plugin* homeroom_plugin_entry(uint32_t host_min_abi, uint32_t host_max_abi) {
  if (HOMEROOM_PLUGIN_ABI_VERSION < host_min_abi || HOMEROOM_PLUGIN_ABI_VERSION > host_max_abi) {
    return NULL;
  }
  return &kPlugin;
}
