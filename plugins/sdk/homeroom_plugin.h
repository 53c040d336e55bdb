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
  HR_OUTCOME_PERMANENT = 4,       /* will never succeed for this recipient */
  HR_OUTCOME_CONTACT_GONE = 5     /* the address no longer exists (expired push subscription,
                                     unregistered FCM token): the host stops using it */
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
  /* Where the provider should report status changes (e.g. Twilio's StatusCallback):
   * "<public_url>/hooks/<instance>/status"; "" when the daemon has no public URL. */
  const char* status_callback_url;
  /* Envelope sender for email (SMTP MAIL FROM), carrying a bounce token: "bounce+TOKEN@domain";
   * "" for other channels. */
  const char* return_path;
  /* Added in ABI 1 after return_path: check `size` before reading it. SMS: the number to send
   * from (the school's pool number of the conversation, so the family's reply finds its thread);
   * "" for the plugin's configured sender. */
  const char* from;
} hr_delivery;

typedef struct hr_outcome {
  uint32_t size;
  int32_t kind;            /* hr_outcome_kind */
  const char* provider_id; /* on ACCEPTED: the provider's id for the message; may be NULL */
  const char* reason;      /* the provider's own words on failure; may be NULL */
  int64_t retry_after_ms;  /* > 0 when the provider said when to try again */
} hr_outcome;

typedef struct hr_header {
  const char* name;
  const char* value;
} hr_header;

/* An HTTP request the host makes for a plugin (libcurl, connection reuse, TLS verification on,
 * timeouts, a trace with secrets redacted). */
typedef struct hr_http_request {
  uint32_t size;
  const char* method; /* "POST", "GET", ... */
  const char* url;
  const hr_header* headers;
  size_t header_count;
  const char* body;
  size_t body_len;
  uint32_t timeout_ms; /* 0: the host's default */
  /* Strings that must never appear in a log line or trace (auth tokens, keys); the host also
   * redacts Authorization headers on its own. */
  const char* const* secrets;
  size_t secret_count;
} hr_http_request;

/* An SMTP submission the host makes for a plugin (libcurl smtp:// or smtps://). */
typedef struct hr_smtp_request {
  uint32_t size;
  const char* url;      /* "smtp://host:port" (STARTTLS) or "smtps://host:port" (implicit TLS) */
  const char* username; /* "" for no AUTH */
  const char* password;
  int32_t require_tls;  /* smtp://: 1 refuses to send without STARTTLS */
  int32_t verify_peer;  /* 1 (the default to use): verify the server's certificate */
  const char* ca_file;  /* "" for the system's CA bundle */
  const char* mail_from;
  const char* const* recipients;
  size_t recipient_count;
  const char* message; /* complete RFC 5322 message, CRLF line ends */
  size_t message_len;
  uint32_t timeout_ms;
} hr_smtp_request;

/* The end of one transfer. For HTTP: status and response; for SMTP: the last reply code and
 * text (e.g. 250, or 550 "no such user"). */
typedef struct hr_transfer_result {
  uint32_t size;
  int32_t transport_error; /* 0: the peer answered; else no answer (connect, TLS, timeout) */
  const char* error_text;  /* the transport error, or "" */
  int32_t status;          /* HTTP status or SMTP reply code; 0 on a transport error */
  const hr_header* headers;
  size_t header_count;
  const char* body; /* HTTP response body, or the SMTP server's reply text */
  size_t body_len;
  int64_t retry_after_ms; /* the Retry-After header (seconds or HTTP-date) as a delay; 0 if none */
} hr_transfer_result;

/* Called exactly once per transfer, on a host thread, never concurrently with any other call into
 * the same plugin instance. `result` and its strings are valid only during the call. */
typedef void (*hr_transfer_done_fn)(void* user, const hr_transfer_result* result);

/* A provider's report about a message it accepted earlier, found by the plugin in a webhook. */
typedef enum hr_provider_status {
  HR_STATUS_SENT = 1,         /* handed on by the provider (e.g. Twilio "sent") */
  HR_STATUS_DELIVERED = 2,    /* reached the handset / mailbox */
  HR_STATUS_UNDELIVERED = 3,  /* the provider gave up (falls back to the next channel) */
  HR_STATUS_BOUNCED = 4,      /* an email bounce */
  HR_STATUS_CONTACT_STOPPED = 5 /* the recipient opted out at the provider */
} hr_provider_status;

typedef struct hr_status_update {
  uint32_t size;
  const char* provider_id; /* as returned in hr_outcome.provider_id */
  int32_t status;          /* hr_provider_status */
  const char* reason;      /* the provider's code/words, or "" */
} hr_status_update;

/* A request to /hooks/<instance>/<path>, verified and parsed by the plugin. */
typedef struct hr_webhook_request {
  uint32_t size;
  const char* method;
  const char* path;       /* what follows /hooks/<instance>/, e.g. "status" */
  const char* public_url; /* the full URL as the provider called it (public_url + path + query):
                             what signatures such as X-Twilio-Signature cover */
  const char* query;      /* raw query string without '?' */
  const hr_header* headers;
  size_t header_count;
  const char* body;
  size_t body_len;
} hr_webhook_request;

/* What the plugin answers. Strings must stay valid until the plugin is next called. */
typedef struct hr_webhook_response {
  uint32_t size;
  int32_t status;           /* e.g. 200, 204, 403 for a bad signature */
  const char* content_type; /* "" for none */
  const char* body;
  size_t body_len;
} hr_webhook_response;

/* A message a person sent (an SMS, an email reply), found by the plugin in a webhook. Strings are
 * UTF-8, NUL-terminated, never NULL ("" when unknown); the host copies them during the call. */
typedef struct hr_inbound_message {
  uint32_t size;
  const char* channel;     /* "sms" | "email" */
  const char* provider_id; /* the provider's id (MessageSid, Message-ID): the deduplication key */
  const char* from;        /* E.164 number or email address of the sender */
  const char* to;          /* homeroom's number, or the address written to (reply+TOKEN@domain) */
  const char* body;        /* the text; with is_mime, a complete RFC 5322 message */
  size_t body_len;
  int32_t is_mime;        /* 1: body is a whole email, which the host parses (MIME, quoted
                             history stripped); the original is kept */
  int64_t received_at_ms; /* Unix milliseconds; 0: when the host received the webhook */
} hr_inbound_message;

typedef struct hr_host_api {
  uint32_t size;
  uint32_t abi_version;
  void* host; /* opaque; pass back to every host_* call */
  /* Log through the daemon's logger. Never pass secrets, full addresses or message bodies at
   * HR_LOG_INFO or above. */
  void (*host_log)(void* host, int32_t level, const char* message);
  /* Report the outcome of the send identified by send_token. Exactly once per on_send. */
  void (*host_delivery_done)(void* host, uint64_t send_token, const hr_outcome* outcome);
  /* Start a transfer; `done(user, result)` follows exactly once (see hr_transfer_done_fn). */
  void (*host_http_request)(void* host, const hr_http_request* request, hr_transfer_done_fn done,
                            void* user);
  void (*host_smtp_send)(void* host, const hr_smtp_request* request, hr_transfer_done_fn done,
                         void* user);
  /* The host's clock, Unix milliseconds (fake in tests): use it for JWT times and token caches. */
  int64_t (*host_now_ms)(void* host);
  /* Report a provider status change found in a webhook; call it from inside on_webhook. */
  void (*host_status_update)(void* host, const hr_status_update* update);
  /* Added in ABI 1 after host_status_update: check `size` before calling it. Report a message a
   * person sent, found in a webhook; call it from inside on_webhook. The host records it before
   * the provider is answered: when recording fails the host replaces the plugin's answer with 503,
   * so the provider sends the webhook again. */
  void (*host_inbound)(void* host, const hr_inbound_message* message);
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
  /* Destroy an instance. The host calls it only when no send or transfer is outstanding. */
  void (*on_destroy)(void* instance);
  /* Optional (NULL when the provider sends no webhooks). Verify the request (signature, or a
   * secret in the URL), report what it says through host_status_update and host_inbound, and fill
 * `response`.
   * A request that fails verification gets 403 and must report nothing. */
  void (*on_webhook)(void* instance, const hr_webhook_request* request,
                     hr_webhook_response* response);
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
