/*
 * homeroom channel plugin ABI.
 *
 * A channel plugin is a shared module that turns a rendered delivery into a provider request and
 * the provider's answer into an outcome. The boundary is plain C so a plugin can be built by any
 * compiler, against this one header, without rebuilding the daemon.
 *
 * Versioning: the host calls homeroom_plugin_entry(min, max) with the range of ABI versions it
 * speaks; the plugin returns a descriptor for one version in that range, or NULL. Every struct
 * starts with its own size and only ever grows at the end, so a reader checks `size` before
 * touching a field added later.
 *
 * Naming: `on_*` functions are called by the host into the plugin; `host_*` functions are called by
 * the plugin into the host.
 *
 * Threading and lifetime: the host calls a plugin instance from one thread at a time. Pointers the
 * host passes are valid only for the duration of the call; a plugin copies what it keeps. Pointers
 * a plugin passes to the host are copied by the host before the call returns. No exception and no
 * C++ type crosses this boundary. Plugins do no network I/O and start no threads of their own.
 *
 * Asynchrony: on_send returns at once; the plugin reports the delivery's outcome exactly once by
 * calling host->host_delivery_done with the send_token it was given, either from inside on_send or
 * later (from a host completion callback).
 */
#ifndef HOMEROOM_PLUGIN_H
#define HOMEROOM_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HOMEROOM_PLUGIN_ABI_VERSION 1u

/* What happened to one send. The dispatcher, not the plugin, decides what follows. */
typedef enum hr_outcome_kind {
  HR_OUTCOME_ACCEPTED = 0,        /* the provider took it; provider_id names it there */
  HR_OUTCOME_RETRYABLE = 1,       /* transient (network, 5xx, SMTP 4xx): try again later */
  HR_OUTCOME_THROTTLED = 2,       /* the provider asked us to slow down (429) */
  HR_OUTCOME_CONTACT_STOPPED = 3, /* the recipient opted out at the provider */
  HR_OUTCOME_PERMANENT = 4        /* will never succeed for this recipient */
} hr_outcome_kind;

typedef enum hr_log_level {
  HR_LOG_DEBUG = 1,
  HR_LOG_INFO = 2,
  HR_LOG_WARN = 3,
  HR_LOG_ERROR = 4
} hr_log_level;

typedef struct hr_kv {
  const char* key;
  const char* value;
} hr_kv;

/* One delivery, rendered by the host. Strings are UTF-8 and NUL-terminated; never NULL. */
typedef struct hr_delivery {
  uint32_t size;
  const char* delivery_id; /* stable across retries: use it to make a send idempotent */
  const char* channel;     /* "email" | "sms" | "push" */
  const char* to;          /* email address, E.164 number, or push subscription JSON */
  const char* subject;     /* email subject; "" for other channels */
  const char* body;        /* the plain text the recipient reads */
  /* The channel's payload, built by the host: for email a complete RFC 5322 message (CRLF line
   * ends); for sms the text; for push the JSON notification payload. */
  const char* content;
  size_t content_len;
  const char* language; /* BCP 47 tag of the chosen text */
  const char* category; /* "note" | "reminder" | "urgent" | a school's own */
  uint32_t attempt;     /* 1 for the first try */
} hr_delivery;

typedef struct hr_outcome {
  uint32_t size;
  int32_t kind;            /* hr_outcome_kind */
  const char* provider_id; /* on ACCEPTED: the provider's id for the message; may be NULL */
  const char* reason;      /* the provider's own words on failure; may be NULL */
  int64_t retry_after_ms;  /* > 0 when the provider said when to try again */
} hr_outcome;

typedef struct hr_host_api {
  uint32_t size;
  uint32_t abi_version;
  void* host; /* opaque; pass back to every host_* call */
  /* Log through the daemon's logger. Never pass secrets, full addresses or message bodies at
   * HR_LOG_INFO or above. */
  void (*host_log)(void* host, int32_t level, const char* message);
  /* Report the outcome of the send identified by send_token. Exactly once per on_send. */
  void (*host_delivery_done)(void* host, uint64_t send_token, const hr_outcome* outcome);
} hr_host_api;

typedef struct hr_plugin_config {
  uint32_t size;
  const char* instance_name; /* the channel instance's name in the daemon's config */
  const hr_kv* settings;     /* the instance's [channels.NAME.settings] table, as strings */
  size_t settings_count;
} hr_plugin_config;

typedef struct hr_plugin {
  uint32_t size;
  uint32_t abi_version; /* the ABI version this descriptor speaks */
  const char* name;     /* e.g. "outbox" */
  const char* channels; /* comma-separated channels it can deliver, e.g. "email,sms,push" */
  /* Create an instance. Returns 0 and sets *instance; or non-zero and writes a NUL-terminated
   * message naming the bad setting into err (at most err_len bytes). `host` outlives the
   * instance. */
  int32_t (*on_create)(const hr_host_api* host, const hr_plugin_config* config, void** instance,
                       char* err, size_t err_len);
  /* Start sending one delivery; see "Asynchrony" above. */
  void (*on_send)(void* instance, uint64_t send_token, const hr_delivery* delivery);
  /* Destroy an instance. The host calls it only when no send is outstanding. */
  void (*on_destroy)(void* instance);
} hr_plugin;

/* The one symbol every plugin exports. */
#define HOMEROOM_PLUGIN_ENTRY_SYMBOL "homeroom_plugin_entry"
typedef const hr_plugin* (*hr_plugin_entry_fn)(uint32_t host_min_abi, uint32_t host_max_abi);

#if defined(__GNUC__)
#define HOMEROOM_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define HOMEROOM_PLUGIN_EXPORT
#endif

HOMEROOM_PLUGIN_EXPORT const hr_plugin* homeroom_plugin_entry(uint32_t host_min_abi,
                                                              uint32_t host_max_abi);

#ifdef __cplusplus
}
#endif

#endif /* HOMEROOM_PLUGIN_H */
