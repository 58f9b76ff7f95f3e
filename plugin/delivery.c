/* SPDX-License-Identifier: MIT */
/* delivery.c: the SNS delivery thread (see delivery.h for its contract).
 *
 * The loop: notice other connections' commits through PRAGMA data_version
 * (new alerts from the engine, Publish and Subscribe from the server); fan
 * out new alerts; ask each partition's database (the home one, and every
 * other the server made beside it, found once a second) for the head
 * delivery of each subscription that is due; start a transfer for each on
 * one curl multi handle; record every finished transfer as one attempt. A
 * subscription has at most one transfer in flight and its later messages
 * wait behind a retry, which keeps delivery in order per subscription.
 * Retry times are in the database, so a restart resumes where the last
 * run stopped.
 *
 * Each message is built when it is sent, from the stored row: the body and
 * signature are deterministic (RSA PKCS#1 v1.5), so every retry carries the
 * same MessageId, Timestamp and Signature. */
#include "plugin/delivery.h"

#include <assert.h>
#include <dirent.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "core/clock.h"
#include "core/ids.h"
#include "core/mem.h"
#include "core/names.h"
#include "core/partition.h"
#include "core/snssub.h"
#include "core/sqs.h"
#include "plugin/curlfn.h"
#include "store/emulator/store_emulator.h"
#include "store/sns/store_sns.h"
#include "store/sns/store_sns_local.h"
#include "store/store.h"

#define POLL_MS          10
#define IDLE_RECHECK_MS  1000
#define MAX_IN_FLIGHT    32
#define TIMEOUT_MS       15000L
#define DEFAULT_ATTEMPTS 4
#define DEFAULT_DELAY_MS 20000L
#define WEBHOOK_FUNCTION "ddlocal-webhook"
#define MAX_PARTS        64 /* as many as the server keeps (PARTITIONS_MAX) */

/* One partition's database: the home one (the broker's) first, then each
 * other partition's the server made beside it, found by their names. */
struct part {
    char account[NAMES_ACCOUNT_LEN + 1];
    char region[NAMES_REGION_MAX + 1];
    struct store *store;          /* owned */
    struct store_sns_local local; /* owned: the signing key and this database's own queues */
    int64_t data_version;
};

/* How a delivery's failures are handled: retried by its delivery policy
 * (http/https with a DeliveryPolicy on the subscription or its topic: on
 * the emulator's clock) or by the launcher's --delivery-attempts and
 * --retry-delay-ms (real time), and dead-lettered at the end when it has
 * a RedrivePolicy. */
struct rule {
    bool retry_any; /* an sqs delivery: every failure is retried */
    bool has_policy;
    struct snssub_retry policy;
    bool dead_letter;
};

struct transfer {
    CURL *easy;                 /* owned; NULL = free slot */
    struct part *part;          /* borrowed: where the delivery row is */
    struct curl_slist *headers; /* owned */
    char *body;                 /* owned */
    int64_t id;                 /* the delivery row */
    int attempts;               /* made before this one */
    int64_t started_ms;         /* emulated, when this attempt began */
    struct rule rule;
    char error[CURL_ERROR_SIZE];
};

struct delivery {
    pthread_t thread;
    pthread_t broker;          /* the thread that started it: the broker's */
    struct plugin_options opt; /* copy, read-only after start */
    atomic_bool stopping;

    /* delivery thread only: every descriptor below is opened and closed on
     * it (workers.h) */
    pthread_t self;               /* the delivery thread, as it recorded itself in delivery_open */
    struct part parts[MAX_PARTS]; /* [0] is the home partition */
    int n_parts;
    struct part *cur;                      /* the partition being scheduled or recorded */
    int64_t next_scan_ms;                  /* when to look for new partition databases */
    char webhook_function[NAMES_ARN_SIZE]; /* the Lambda-shape webhook's function ARN */
    CURLM *multi; /* owned; NULL until the first HTTP transfer loads libcurl */
    int wake_fd;  /* the eventfd delivery_wake() writes, owned; -1 when none */
    struct transfer slots[MAX_IN_FLIGHT];
    int64_t next_check_ms;
    bool settled; /* a pass settled a delivery without a transfer: look again */
    bool queued;  /* a pass wrote to a queue: wake the server's long polls */
};

/* libcurl's calls, once http_ready() has loaded it: only code that runs
 * for a transfer calls this. */
static const struct curlfn *cf(void)
{
    const struct curlfn *c = curlfn_get();

    assert(c);
    return c;
}

/* Sleep until a transfer has something to do, delivery_wake() is called,
 * or POLL_MS passed, then consume the wake-up. Delivery thread. */
static void wait_for_work(struct delivery *d)
{
    struct curl_waitfd wfd = { d->wake_fd, CURL_WAIT_POLLIN, 0 };
    struct pollfd pfd = { d->wake_fd, POLLIN, 0 };
    uint64_t n;

    if (d->multi)
        cf()->multi_poll(d->multi, &wfd, 1, POLL_MS, NULL);
    else
        poll(&pfd, 1, POLL_MS);
    if (read(d->wake_fd, &n, sizeof(n)) < 0) {
        /* EAGAIN: nobody woke us */
    }
}

/* Everything below the options runs on the delivery thread; debug and test
 * builds check it. */
#define ASSERT_DELIVERY_THREAD(d) assert(pthread_equal(pthread_self(), (d)->self))

static int64_t real_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The delivery thread may not call mosquitto_log_printf (broker thread
 * only); mosquitto logs to stderr as well, so lines land in the same log. */
__attribute__((format(printf, 1, 2))) static void dlog(const char *fmt, ...)
{
    char line[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    fprintf(stderr, "%lld: ddlocal: delivery: %s\n", (long long)(real_ms() / 1000), line);
}

/* ---- options ---- */

void delivery_options_default(struct plugin_options *o)
{
    snprintf(o->public_url, sizeof(o->public_url), "http://127.0.0.1:4566");
    o->delivery_attempts = DEFAULT_ATTEMPTS;
    o->retry_delay_ms = DEFAULT_DELAY_MS;
    o->webhook[0] = '\0';
    o->webhook_sns_format = 0;
    o->n_lambdas = 0;
    o->sqs_endpoint[0] = '\0';
}

static int is_http_url(const char *v)
{
    return strncmp(v, "http://", 7) == 0 || strncmp(v, "https://", 8) == 0;
}

/* An http(s) URL that paths are appended to, into dst without a trailing
 * slash. */
static int base_url_option(char *dst, size_t size, const char *key, const char *value,
                           struct dd_errbuf *eb)
{
    int rc;

    if (!is_http_url(value))
        return dd_fail(eb, DD_ERR_INVALID, "plugin_opt_%s must be an http(s) URL", key);
    rc = plugin_options_copy(dst, size, key, value, eb);
    if (!rc && dst[strlen(dst) - 1] == '/')
        dst[strlen(dst) - 1] = '\0';
    return rc;
}

int delivery_option(struct plugin_options *o, const char *key, const char *value,
                    struct dd_errbuf *eb)
{
    long n;
    int rc;

    if (strcmp(key, "public_url") == 0)
        return base_url_option(o->public_url, sizeof(o->public_url), key, value, eb);
    if (strcmp(key, "delivery_attempts") == 0) {
        rc = plugin_options_long(key, value, 1, 101, &n, eb);
        if (!rc)
            o->delivery_attempts = (int)n;
        return rc;
    }
    if (strcmp(key, "retry_delay_ms") == 0)
        return plugin_options_long(key, value, 0, 3600L * 1000, &o->retry_delay_ms, eb);
    if (strcmp(key, "webhook") == 0) {
        if (!is_http_url(value))
            return dd_fail(eb, DD_ERR_INVALID, "plugin_opt_webhook must be an http(s) URL");
        return plugin_options_copy(o->webhook, sizeof(o->webhook), key, value, eb);
    }
    if (strcmp(key, "webhook_format") == 0) {
        if (strcmp(value, "sns") != 0 && strcmp(value, "lambda") != 0)
            return dd_fail(eb, DD_ERR_INVALID, "plugin_opt_webhook_format is lambda or sns");
        o->webhook_sns_format = strcmp(value, "sns") == 0;
        return DD_OK;
    }
    if (strcmp(key, "sqs_endpoint") == 0)
        return base_url_option(o->sqs_endpoint, sizeof(o->sqs_endpoint), key, value, eb);
    if (strcmp(key, "lambda") == 0) {
        const char *eq = strchr(value, '=');

        if (!eq || strncmp(value, "arn:aws:lambda:", 15) != 0 || !is_http_url(eq + 1))
            return dd_fail(eb, DD_ERR_INVALID, "plugin_opt_lambda is FUNCTION_ARN=URL, not '%s'",
                           value);
        if (o->n_lambdas == PLUGIN_MAX_LAMBDAS)
            return dd_fail(eb, DD_ERR_INVALID, "at most %d plugin_opt_lambda lines",
                           PLUGIN_MAX_LAMBDAS);
        rc = plugin_options_copy(o->lambdas[o->n_lambdas], sizeof(o->lambdas[0]), key, value, eb);
        if (!rc)
            o->n_lambdas++;
        return rc;
    }
    return DD_ERR_NOT_FOUND;
}

/* ---- fan-out ---- */

/* Emulated now, from the clock row the server and the engine share (real
 * time before there is one). */
static int64_t emulated_ms(struct delivery *d)
{
    struct dd_clock c;

    return store_clock_get(d->parts[0].store, &c) == DD_OK ? clock_now(&c, real_ms()) : real_ms();
}

/* Fan out every alert not fanned out yet. */
static void fan_out_alerts(struct delivery *d)
{
    struct store_sns_webhook hook;
    struct names_sns_arn parsed;
    struct dd_errbuf eb;
    char *topic_arn;
    int64_t alert_id, created;
    int rc, n;

    ASSERT_DELIVERY_THREAD(d);
    for (;;) {
        char message_id[IDS_UUID_SIZE], sub_uuid[IDS_UUID_SIZE], token[2 * IDS_UUID_SIZE];
        char sub_arn[NAMES_SNS_ARN_SIZE];
        const char *topic_name = NULL;

        rc = store_sns_alert_next(d->parts[0].store, &alert_id, &created, &topic_arn);
        if (rc)
            break;
        if (topic_arn && names_sns_arn_parse("alertTargetArn", topic_arn, &parsed, &eb) == DD_OK &&
            !parsed.subscription[0]) {
            topic_name = parsed.topic;
        } else if (topic_arn) {
            dlog("alert %lld names '%s', which is not an SNS topic ARN; not sent",
                 (long long)alert_id, topic_arn);
            free(topic_arn);
            topic_arn = NULL;
        }
        if (ids_uuid(message_id) || ids_uuid(sub_uuid) || ids_uuid(token) ||
            ids_uuid(token + IDS_UUID_SIZE - 1)) {
            dlog("no randomness for the ids of alert %lld (retrying)", (long long)alert_id);
            free(topic_arn);
            break;
        }
        memset(&hook, 0, sizeof(hook));
        if (topic_arn && d->opt.webhook[0]) {
            names_sns_subscription_arn(sub_arn, sizeof(sub_arn), topic_arn, sub_uuid);
            hook.arn = sub_arn;
            hook.token = token;
            if (d->opt.webhook_sns_format) {
                hook.protocol = strncmp(d->opt.webhook, "https:", 6) == 0 ? "https" : "http";
                hook.endpoint = d->opt.webhook;
            } else {
                hook.protocol = "lambda";
                hook.endpoint = d->webhook_function;
            }
        }
        /* Built-in queues get their alerts in the fan-out's transaction. */
        rc = store_sns_alert_fanout(
            d->parts[0].store, alert_id, topic_arn, topic_name, &hook, hook.arn ? 1 : 0, message_id,
            d->opt.sqs_endpoint[0] ? NULL : &d->parts[0].local, emulated_ms(d), real_ms(), &n);
        free(topic_arn);
        if (rc) {
            dlog("cannot fan out alert %lld: %s (retrying)", (long long)alert_id, dd_strerror(rc));
            break;
        }
        /* Some of its deliveries may have gone to built-in queues; a wake
         * for none costs the server's long polls one look. */
        if (n > 0 && !d->opt.sqs_endpoint[0])
            d->queued = true;
    }
}

/* ---- transfers ---- */

static size_t discard(char *ptr, size_t size, size_t n, void *ctx)
{
    (void)ptr;
    (void)ctx;
    return size * n;
}

/* Load libcurl and make the multi handle, the first time a transfer is to
 * start (curlfn.h says why not before). DD_ERR_INTERNAL or DD_ERR_NOMEM
 * when it cannot, eb says why. Delivery thread. */
static int http_ready(struct delivery *d, struct dd_errbuf *eb)
{
    ASSERT_DELIVERY_THREAD(d);
    if (d->multi)
        return DD_OK;
    if (!curlfn_load(eb))
        return DD_ERR_INTERNAL;
    d->multi = cf()->multi_init();
    return d->multi ? DD_OK : dd_fail(eb, DD_ERR_NOMEM, "cannot create the curl multi handle");
}

static void transfer_free(struct delivery *d, struct transfer *t)
{
    assert(t >= d->slots && t < d->slots + MAX_IN_FLIGHT);
    if (t->easy) {
        cf()->multi_remove_handle(d->multi, t->easy);
        cf()->easy_cleanup(t->easy);
    }
    if (t->headers)
        cf()->slist_free_all(t->headers);
    free(t->body);
    memset(t, 0, sizeof(*t));
}

static int in_flight(const struct delivery *d, int64_t id)
{
    int i;

    for (i = 0; i < MAX_IN_FLIGHT; i++)
        if (d->slots[i].easy && d->slots[i].id == id && d->slots[i].part == d->cur)
            return 1;
    return 0;
}

static struct transfer *free_slot(struct delivery *d)
{
    int i;

    for (i = 0; i < MAX_IN_FLIGHT; i++)
        if (!d->slots[i].easy)
            return &d->slots[i];
    return NULL;
}

/* The rule of due delivery r. */
static struct rule rule_of(const struct store_sns_due *r)
{
    struct rule u = { 0 };
    bool http = strcmp(r->protocol, "http") == 0 || strcmp(r->protocol, "https") == 0;

    u.retry_any = strcmp(r->protocol, "sqs") == 0;
    u.has_policy =
        http && snssub_retry_policy(r->delivery_policy, r->topic_delivery_policy, &u.policy);
    u.dead_letter = r->dead_letter_arn != NULL;
    return u;
}

/* Record one attempt's result and decide between delivered, retry and
 * failed (SNS HTTP policy: 2xx delivered; 5xx and no answer retried; any
 * other status is final, unless rule->retry_any: SNS retries every
 * failure of an sqs delivery). How far apart and how often is the
 * delivery policy's (emulated time, counted from started_ms, when the
 * attempt began: a clock moved while the endpoint answered does not push
 * the retry later) or the launcher's (real time); a final failure goes to
 * the subscription's dead-letter queue when it has one. */
static void record(struct delivery *d, int64_t id, int attempts_before, int64_t started_ms,
                   int status, const char *error, const struct rule *rule)
{
    struct dd_errbuf eb = { { 0 } };
    enum store_sns_outcome outcome;
    int64_t now = real_ms(), delay_s = -1;
    bool retryable = rule->retry_any || status == 0 || status >= 500;
    int rc;

    ASSERT_DELIVERY_THREAD(d);
    assert(attempts_before >= 0);
    if (status >= 200 && status < 300) {
        outcome = STORE_SNS_DELIVERED;
    } else if (rule->has_policy) {
        delay_s = retryable ? snssub_retry_delay_s(&rule->policy, attempts_before + 1) : -1;
        outcome = delay_s >= 0 ? STORE_SNS_RETRY : STORE_SNS_FAILED;
    } else if (retryable && attempts_before + 1 < d->opt.delivery_attempts) {
        outcome = STORE_SNS_RETRY;
    } else {
        outcome = STORE_SNS_FAILED;
    }
    if (outcome == STORE_SNS_RETRY && delay_s >= 0)
        rc = store_sns_retry_at(d->cur->store, id, now, started_ms + delay_s * 1000, status, error);
    else if (outcome == STORE_SNS_FAILED && rule->dead_letter &&
             store_sns_local_dead_letter(d->cur->store, &d->cur->local, id, emulated_ms(d), now,
                                         status, error, &eb) == DD_OK) {
        d->queued = true; /* to the dead-letter queue */
        return;
    } else
        rc = store_sns_attempt(d->cur->store, id, outcome, now, now + d->opt.retry_delay_ms, status,
                               error);
    if (rc)
        dlog("cannot record delivery %lld: %s", (long long)id, dd_strerror(rc));
    if (outcome == STORE_SNS_FAILED)
        dlog("delivery %lld failed after %d attempt(s): %s", (long long)id, attempts_before + 1,
             error ? error : "HTTP status");
}

static struct curl_slist *add_header(struct curl_slist **list, int *ok, const char *name,
                                     const char *value)
{
    char line[1024];
    struct curl_slist *l;

    if (!*ok)
        return *list;
    snprintf(line, sizeof(line), "%s: %s", name, value);
    l = cf()->slist_append(*list, line);
    if (!l)
        *ok = 0;
    else
        *list = l;
    return *list;
}

/* The database of partition (account, region) this thread has open
 * (store_sns_local_open_fn; ctx is the delivery). DD_ERR_NOT_FOUND when
 * it is not open (yet: the next scan finds new ones). */
static int part_store(void *ctx, const char *account, const char *region, struct store **out,
                      struct dd_errbuf *eb)
{
    struct delivery *d = ctx;
    int i;

    *out = NULL;
    for (i = 0; i < d->n_parts; i++)
        if (strcmp(d->parts[i].account, account) == 0 && strcmp(d->parts[i].region, region) == 0) {
            *out = d->parts[i].store;
            return DD_OK;
        }
    return dd_fail(eb, DD_ERR_NOT_FOUND, "no database for partition %s/%s", account, region);
}

/* Deliver due sqs delivery r to its queue: one of this database (missing
 * when its message was published, or an alert's) as Publish writes it, or
 * one of another partition's database, written there and then recorded
 * here. A missing queue is a failed attempt, retried as SNS retries sqs
 * deliveries. */
static void deliver_to_queue(struct delivery *d, const struct store_sns_due *r)
{
    struct dd_errbuf eb = { { 0 } };
    struct store *qs = NULL;
    int64_t started = emulated_ms(d);
    struct sqs_arn q;
    int rc;

    ASSERT_DELIVERY_THREAD(d);
    if (store_sns_local_queue(&d->cur->local, r->endpoint))
        rc = store_sns_local_deliver(d->cur->store, &d->cur->local, r, started, real_ms(), &eb);
    else if (!(rc = sqs_arn_parse(r->endpoint, &q, &eb)) &&
             !(rc = part_store(d, q.account, q.region, &qs, &eb)))
        rc = store_sns_local_deliver_away(d->cur->store, &d->cur->local, r, qs, started, real_ms(),
                                          &eb);
    if (rc) {
        struct rule u = rule_of(r);

        record(d, r->id, r->attempts, started, 0, eb.msg, &u);
    } else {
        d->queued = true;
    }
}

/* SQS message attributes (the JSON object sns_sqs_attributes() made) as
 * the query protocol's &MessageAttribute.N.Name=...&MessageAttribute.N.
 * Value.DataType=...&...Value.StringValue|BinaryValue=... pairs, escaped
 * with easy; *out is a new string to free(). */
static int attributes_form(CURL *easy, const char *attrs_json, char **out, struct dd_errbuf *eb)
{
    cJSON *map = cJSON_Parse(attrs_json);
    const cJSON *it;
    size_t used = 0, cap = 1;
    int n = 0, rc = DD_OK;

    *out = calloc(1, 1);
    if (!map || !*out) {
        rc = dd_fail(eb, DD_ERR_NOMEM, "out of memory");
        goto out;
    }
    cJSON_ArrayForEach(it, map)
    {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(it, "DataType");
        const cJSON *bin = cJSON_GetObjectItemCaseSensitive(it, "BinaryValue");
        const cJSON *str = cJSON_GetObjectItemCaseSensitive(it, "StringValue");
        const char *value = cJSON_IsString(bin) ? bin->valuestring : str->valuestring;
        char *e_name = cf()->easy_escape(easy, it->string, 0);
        char *e_type = cf()->easy_escape(easy, type->valuestring, 0);
        char *e_value = cf()->easy_escape(easy, value, 0);
        size_t need = 200 + (e_name ? strlen(e_name) : 0) + (e_type ? strlen(e_type) : 0) +
                      (e_value ? strlen(e_value) : 0);
        char *grown = e_name && e_type && e_value ? realloc(*out, cap + need) : NULL;

        n++;
        if (grown) {
            *out = grown;
            cap += need;
            used += (size_t)snprintf(
                *out + used, cap - used,
                "&MessageAttribute.%d.Name=%s&MessageAttribute.%d.Value.DataType=%s"
                "&MessageAttribute.%d.Value.%s=%s",
                n, e_name, n, e_type, n, cJSON_IsString(bin) ? "BinaryValue" : "StringValue",
                e_value);
        }
        cf()->free(e_name);
        cf()->free(e_type);
        cf()->free(e_value);
        if (!grown) {
            rc = dd_fail(eb, DD_ERR_NOMEM, "out of memory");
            break;
        }
    }
out:
    cJSON_Delete(map);
    if (rc) {
        free(*out);
        *out = NULL;
    }
    return rc;
}

/* Append a FIFO topic's MessageGroupId and MessageDeduplicationId to the
 * SendMessage form in t when queue name is a FIFO queue (sns-more.md
 * 1.5); a standard queue gets neither. */
static int fifo_form(struct transfer *t, const struct store_sns_due *r, const char *name,
                     struct dd_errbuf *eb)
{
    size_t len = strlen(name), used = strlen(t->body);
    char dedup[SQS_SHA256_HEX], *e_group, *e_dedup, *grown = NULL;
    const char *dedup_id;

    if (!r->group_id || len < 5 || strcmp(name + len - 5, ".fifo") != 0)
        return DD_OK;
    dedup_id = store_sns_local_dedup_id(r, dedup);
    if (!dedup_id)
        return dd_fail(eb, DD_ERR_INTERNAL, "cannot digest the message");
    e_group = cf()->easy_escape(t->easy, r->group_id, 0);
    e_dedup = cf()->easy_escape(t->easy, dedup_id, 0);
    if (e_group && e_dedup)
        grown = realloc(t->body, used + strlen(e_group) + strlen(e_dedup) + 64);
    if (grown) {
        t->body = grown;
        sprintf(t->body + used, "&MessageGroupId=%s&MessageDeduplicationId=%s", e_group, e_dedup);
    }
    cf()->free(e_group);
    cf()->free(e_dedup);
    return grown ? DD_OK : dd_fail(eb, DD_ERR_NOMEM, "out of memory");
}

/* The form body of an SQS SendMessage (query protocol) of body to the
 * queue of r at --sqs-endpoint, into t (t->easy escapes); *url gets the
 * endpoint. The queue URL is ENDPOINT/ACCOUNT/NAME, which LocalStack,
 * ElasticMQ, moto and ddlocal all take. */
static int queue_send_form(struct delivery *d, const struct store_sns_due *r, struct transfer *t,
                           char *url, size_t url_size, char *scope, size_t scope_size,
                           struct dd_errbuf *eb)
{
    struct sqs_arn q;
    char queue_url[1024], md5[SQS_MD5_HEX], *body = NULL, *e_url = NULL, *e_body = NULL;
    char *attrs = NULL, *form_attrs = NULL;
    size_t n;
    int rc = sqs_arn_parse(r->endpoint, &q, eb);

    if (!rc)
        rc = store_sns_local_queue_message(&d->cur->local, r, &body, &attrs, md5, eb);
    if (!rc && attrs)
        rc = attributes_form(t->easy, attrs, &form_attrs, eb);
    free(attrs);
    if (rc) {
        free(body);
        return rc;
    }
    snprintf(queue_url, sizeof(queue_url), "%s/%s/%s", d->opt.sqs_endpoint, q.account, q.name);
    e_url = cf()->easy_escape(t->easy, queue_url, 0);
    e_body = cf()->easy_escape(t->easy, body, 0);
    free(body);
    if (!e_url || !e_body) {
        rc = dd_fail(eb, DD_ERR_NOMEM, "out of memory");
        goto out;
    }
    n = strlen(e_url) + strlen(e_body) + (form_attrs ? strlen(form_attrs) : 0) + 128;
    t->body = malloc(n);
    if (!t->body) {
        rc = dd_fail(eb, DD_ERR_NOMEM, "out of memory");
        goto out;
    }
    snprintf(t->body, n, "Action=SendMessage&Version=2012-11-05&QueueUrl=%s&MessageBody=%s%s",
             e_url, e_body, form_attrs ? form_attrs : "");
    rc = fifo_form(t, r, q.name, eb);
    snprintf(url, url_size, "%s/", d->opt.sqs_endpoint);
    snprintf(scope, scope_size, "aws:amz:%s:sqs", q.region);
out:
    free(form_attrs);
    cf()->free(e_url);
    cf()->free(e_body);
    return rc;
}

/* Build the body (and headers) of due delivery r into t, whose easy
 * handle exists. Returns DD_OK, or an error with the reason in eb (the row
 * then fails or retries without a transfer). url (url_size bytes) gets
 * where to POST; scope an AWS SigV4 scope for curl ("" for none). */
static int build(struct delivery *d, const struct store_sns_due *r, struct transfer *t, char *url,
                 size_t url_size, char *scope, size_t scope_size, struct dd_errbuf *eb)
{
    int confirmation = strcmp(r->type, "SubscriptionConfirmation") == 0, ok = 1, rc;
    int lambda = strcmp(r->protocol, "lambda") == 0, sqs = strcmp(r->protocol, "sqs") == 0;
    int raw = r->raw && !confirmation && !lambda;

    assert(!t->body && !t->headers); /* a free slot */
    scope[0] = '\0';
    if (lambda && !r->lambda_url)
        return dd_fail(eb, DD_ERR_NOT_FOUND,
                       "no URL is mapped to %s (bin/ddlocal up --lambda ARN=URL, or POST "
                       "/_ddlocal/lambda)",
                       r->endpoint);
    if (sqs) {
        rc = queue_send_form(d, r, t, url, url_size, scope, scope_size, eb);
        add_header(&t->headers, &ok, "Content-Type",
                   "application/x-www-form-urlencoded; charset=utf-8");
        goto headers_done;
    }
    snprintf(url, url_size, "%s", lambda ? r->lambda_url : r->endpoint);
    if (raw) {
        t->body = dd_strdup(r->message);
        rc = t->body ? DD_OK : dd_fail(eb, DD_ERR_NOMEM, "out of memory");
    } else {
        rc = store_sns_local_body(&d->cur->local, r, lambda, &t->body, eb);
    }
    if (rc)
        return rc;
    if (lambda) {
        add_header(&t->headers, &ok, "Content-Type", "application/json");
    } else {
        add_header(&t->headers, &ok, "Content-Type", "text/plain; charset=UTF-8");
        add_header(&t->headers, &ok, "x-amz-sns-message-type", r->type);
        add_header(&t->headers, &ok, "x-amz-sns-message-id", r->message_id);
        add_header(&t->headers, &ok, "x-amz-sns-topic-arn", r->topic_arn);
        if (!confirmation)
            add_header(&t->headers, &ok, "x-amz-sns-subscription-arn", r->subscription_arn);
        if (raw)
            add_header(&t->headers, &ok, "x-amz-sns-rawdelivery", "true");
    }
    add_header(&t->headers, &ok, "User-Agent", "Amazon Simple Notification Service Agent");
headers_done:
    add_header(&t->headers, &ok, "Expect", "");
    if (!rc && !ok)
        rc = dd_fail(eb, DD_ERR_NOMEM, "out of memory");
    return rc;
}

static int start_one(void *ctx, const struct store_sns_due *r)
{
    struct delivery *d = ctx;
    struct transfer *t;
    struct dd_errbuf eb = { { 0 } };
    char url[1024], scope[64], userpwd[64];
    int64_t now;
    int rc;

    ASSERT_DELIVERY_THREAD(d);
    if (in_flight(d, r->id))
        return DD_OK;
    if (!store_sns_local_passes(r)) {
        now = real_ms();
        rc = store_sns_attempt(d->cur->store, r->id, STORE_SNS_FILTERED, now, now, 0, NULL);
        if (rc)
            dlog("cannot record delivery %lld: %s", (long long)r->id, dd_strerror(rc));
        d->settled = true;
        return DD_OK;
    }
    if (strcmp(r->protocol, "sqs") == 0 && !d->opt.sqs_endpoint[0]) {
        deliver_to_queue(d, r);
        d->settled = true;
        return DD_OK;
    }
    t = free_slot(d);
    if (!t)
        return DD_OK;
    if (http_ready(d, &eb)) {
        struct rule u = rule_of(r);

        record(d, r->id, r->attempts, emulated_ms(d), 0, eb.msg,
               &u); /* retried: it may load later */
        return DD_OK;
    }
    t->id = r->id;
    t->part = d->cur;
    t->attempts = r->attempts;
    t->started_ms = emulated_ms(d);
    t->rule = rule_of(r);
    t->easy = cf()->easy_init();
    rc = t->easy ? build(d, r, t, url, sizeof(url), scope, sizeof(scope), &eb)
                 : dd_fail(&eb, DD_ERR_NOMEM, "cannot create a transfer");
    if (rc) {
        int64_t id = t->id, started = t->started_ms;
        int before = t->attempts;
        struct rule u = t->rule;

        transfer_free(d, t);
        /* A missing Lambda mapping may be added later: retry it like a
         * connection error. Anything else cannot get better. */
        u.retry_any = false;
        if (rc != DD_ERR_NOT_FOUND) {
            u.has_policy = false;
            before = d->opt.delivery_attempts;
        }
        record(d, id, before, started, 0, eb.msg, &u);
        return DD_OK;
    }
    cf()->easy_setopt(t->easy, CURLOPT_URL, url);
    cf()->easy_setopt(t->easy, CURLOPT_POST, 1L);
    cf()->easy_setopt(t->easy, CURLOPT_POSTFIELDS, t->body);
    cf()->easy_setopt(t->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(t->body));
    cf()->easy_setopt(t->easy, CURLOPT_HTTPHEADER, t->headers);
    if (scope[0]) {
        struct sqs_arn q;

        /* SigV4 with the queue's account as the access key: engines that
         * read the account from a 12-digit key (ddlocal, LocalStack) put
         * the message in the queue's own partition. build() parsed the
         * ARN already. */
        sqs_arn_parse(r->endpoint, &q, &eb);
        snprintf(userpwd, sizeof(userpwd), "%.16s:test", q.account);
        cf()->easy_setopt(t->easy, CURLOPT_AWS_SIGV4, scope);
        cf()->easy_setopt(t->easy, CURLOPT_USERPWD, userpwd);
    }
    cf()->easy_setopt(t->easy, CURLOPT_NOSIGNAL, 1L);
    cf()->easy_setopt(t->easy, CURLOPT_TIMEOUT_MS, TIMEOUT_MS);
    cf()->easy_setopt(t->easy, CURLOPT_CONNECTTIMEOUT_MS, TIMEOUT_MS);
    cf()->easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, discard);
    cf()->easy_setopt(t->easy, CURLOPT_ERRORBUFFER, t->error);
    cf()->easy_setopt(t->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    cf()->easy_setopt(t->easy, CURLOPT_PRIVATE, t);
    if (cf()->multi_add_handle(d->multi, t->easy) != CURLM_OK) {
        int64_t id = t->id, started = t->started_ms;
        int before = t->attempts;
        struct rule u = t->rule;

        transfer_free(d, t);
        record(d, id, before, started, 0, "cannot start a transfer", &u);
    }
    return DD_OK;
}

/* Collect finished transfers and record them. Returns how many finished. */
static int collect(struct delivery *d)
{
    CURLMsg *msg;
    int left, n = 0;

    while ((msg = cf()->multi_info_read(d->multi, &left))) {
        struct transfer *t = NULL;
        long status = 0;

        if (msg->msg != CURLMSG_DONE)
            continue;
        cf()->easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
        /* Only start_one adds handles, each with its slot as private data. */
        assert(t && t->easy == msg->easy_handle);
        if (msg->data.result == CURLE_OK)
            cf()->easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
        else if (!t->error[0])
            snprintf(t->error, sizeof(t->error), "%s", cf()->easy_strerror(msg->data.result));
        if (msg->data.result == CURLE_OK && (status < 200 || status >= 300))
            snprintf(t->error, sizeof(t->error), "HTTP %ld", status);
        d->cur = t->part;
        record(d, t->id, t->attempts, t->started_ms, (int)status, t->error[0] ? t->error : NULL,
               &t->rule);
        transfer_free(d, t);
        n++;
    }
    return n;
}

/* Fan out, then start what is due; remember when to look again. A pass
 * lists only the head delivery of each subscription, and one settled
 * without a transfer (a built-in queue, a filtered message) commits on
 * this connection, which data_version does not report: so the next
 * messages of that subscription are listed at once, a bounded number of
 * passes, not at the next idle recheck a second later (a PublishBatch of
 * 10 to a queue took 9 seconds). */
static void schedule_part(struct delivery *d, struct part *p, int64_t now)
{
    int64_t next;
    int rc, pass = 0;

    d->cur = p;
    do {
        d->settled = false;
        rc = store_sns_due_list(p->store, now, emulated_ms(d), MAX_IN_FLIGHT, start_one, d);
        if (rc)
            dlog("cannot list due deliveries of %s/%s: %s", p->account, p->region, dd_strerror(rc));
    } while (!rc && d->settled && ++pass < 64);
    if (store_sns_next_due(p->store, &next) == DD_OK && next > now && next < d->next_check_ms)
        d->next_check_ms = next;
}

/* After messages went to queues: SIGURG to the server, whose long polls
 * would otherwise find them at their periodic re-check only (another
 * process's commit wakes nothing in it). Its pid is in the home
 * partition's database; 0 until a server started. SIGURG is ignored by
 * default, so a pid a stopped server left does no harm. */
static void wake_server(struct delivery *d)
{
    int64_t pid = 0;

    ASSERT_DELIVERY_THREAD(d);
    d->queued = false;
    if (store_server_pid_get(d->parts[0].store, &pid) == DD_OK && pid > 0)
        kill((pid_t)pid, SIGURG);
}

static void schedule(struct delivery *d)
{
    int64_t now = real_ms();
    int i;

    ASSERT_DELIVERY_THREAD(d);
    fan_out_alerts(d);
    d->next_check_ms = now + IDLE_RECHECK_MS;
    for (i = 0; i < d->n_parts; i++)
        schedule_part(d, &d->parts[i], now);
    if (d->queued)
        wake_server(d);
}

/* Close what the thread owns; safe on a half-open start. */
static void close_resources(struct delivery *d)
{
    int i;

    for (i = 0; i < MAX_IN_FLIGHT; i++)
        transfer_free(d, &d->slots[i]);
    if (d->multi)
        cf()->multi_cleanup(d->multi);
    if (d->wake_fd >= 0)
        close(d->wake_fd);
    for (i = 0; i < d->n_parts; i++) {
        store_sns_local_cleanup(&d->parts[i].local);
        store_close(d->parts[i].store);
    }
}

/* Open partition (account, region) whose database is path into the next
 * slot of d->parts: its connection, its signing key and the Lambda URL
 * mappings of the launcher's options. */
static int part_open(struct delivery *d, const char *path, const char *account, const char *region,
                     struct dd_errbuf *eb)
{
    const struct plugin_options *opt = &d->opt;
    struct part *p = &d->parts[d->n_parts];
    int rc, i;

    assert(d->n_parts < MAX_PARTS);
    memset(p, 0, sizeof(*p));
    snprintf(p->account, sizeof(p->account), "%s", account);
    snprintf(p->region, sizeof(p->region), "%s", region);
    rc = store_open(path, &p->store, eb);
    if (!rc)
        rc = store_sns_local_init(p->store, account, region, opt->public_url, &p->local, eb);
    if (!rc && d->n_parts == 0 && opt->webhook[0] && !opt->webhook_sns_format)
        rc = store_sns_lambda_put(p->store, d->webhook_function, opt->webhook);
    for (i = 0; !rc && i < opt->n_lambdas; i++) {
        char arn[768];
        char *eq;

        snprintf(arn, sizeof(arn), "%s", opt->lambdas[i]);
        eq = strchr(arn, '=');
        assert(eq); /* delivery_option took only FUNCTION_ARN=URL */
        *eq = '\0';
        rc = store_sns_lambda_put(p->store, arn, eq + 1);
        if (rc)
            rc = dd_fail(eb, rc, "cannot store the Lambda URL mappings: %s", dd_strerror(rc));
    }
    if (rc) {
        store_sns_local_cleanup(&p->local);
        store_close(p->store);
        memset(p, 0, sizeof(*p));
        return rc;
    }
    store_data_version(p->store, &p->data_version);
    d->n_parts++;
    return DD_OK;
}

/* Open the partition databases the server made since the last look (the
 * server makes one at the first request naming its partition). A
 * database that does not open now is tried again at the next look. */
static void scan_parts(struct delivery *d)
{
    char dir[sizeof(d->opt.db_path)], path[sizeof(d->opt.db_path) + 64];
    char account[NAMES_ACCOUNT_LEN + 1], region[NAMES_REGION_MAX + 1];
    struct dd_errbuf eb = { { 0 } };
    struct dirent *e;
    DIR *dh;
    int i;

    d->next_scan_ms = real_ms() + IDLE_RECHECK_MS;
    if (partition_db_dir(d->opt.db_path, dir, sizeof(dir)) || !(dh = opendir(dir)))
        return;
    while ((e = readdir(dh)) != NULL && d->n_parts < MAX_PARTS) {
        if (!partition_db_name(d->opt.db_path, e->d_name, account, region))
            continue;
        for (i = 0; i < d->n_parts; i++)
            if (strcmp(d->parts[i].account, account) == 0 &&
                strcmp(d->parts[i].region, region) == 0)
                break;
        if (i < d->n_parts ||
            partition_db_path(d->opt.db_path, account, region, path, sizeof(path)))
            continue;
        if (part_open(d, path, account, region, &eb))
            dlog("cannot open partition %s/%s: %s (retrying)", account, region, eb.msg);
    }
    closedir(dh);
}

/* The delivery thread's start (workers_spawn): the descriptor
 * delivery_wake() writes. The partitions are opened as the thread runs
 * (open_home), libcurl at the first HTTP transfer. */
static int delivery_open(void *arg, struct dd_errbuf *eb)
{
    struct delivery *d = arg;
    const struct plugin_options *opt = &d->opt;

    d->self = pthread_self();
    snprintf(d->webhook_function, sizeof(d->webhook_function), "arn:aws:lambda:%s:%s:function:%s",
             opt->region, opt->account, WEBHOOK_FUNCTION);
    d->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    return d->wake_fd < 0 ? dd_fail(eb, DD_ERR_INTERNAL, "cannot create the delivery's eventfd")
                          : DD_OK;
}

/* Open the home partition, then the others there are, on the delivery
 * thread once the broker runs: a new database's SNS signing key is an RSA
 * key of 2048 bits, whose generation took 1 to 2.6 s on the shared 2-core
 * machine, and the broker's start no longer waits for it. False when it
 * cannot (logged; the caller tries again). Delivery thread. */
static bool open_home(struct delivery *d)
{
    struct dd_errbuf eb = { { 0 } };

    ASSERT_DELIVERY_THREAD(d);
    assert(d->n_parts == 0);
    if (part_open(d, d->opt.db_path, d->opt.account, d->opt.region, &eb)) {
        dlog("cannot open the home partition: %s (retrying)", eb.msg);
        return false;
    }
    d->cur = &d->parts[0];
    scan_parts(d);
    return true;
}

static void *delivery_run(void *arg)
{
    struct delivery *d = arg;
    int running;

    assert(d->wake_fd >= 0); /* delivery_open succeeded */
    while (!open_home(d)) {
        struct pollfd pfd = { d->wake_fd, POLLIN, 0 };

        if (atomic_load(&d->stopping))
            goto out;
        poll(&pfd, 1, IDLE_RECHECK_MS);
    }
    schedule(d);
    /* Stopping is noticed within POLL_MS: delivery_wake() would write to a
     * descriptor the broker thread must not use. */
    while (!atomic_load(&d->stopping)) {
        int64_t v = 0, now;
        int changed = 0, i, n;

        if (d->multi) {
            cf()->multi_perform(d->multi, &running);
            if (collect(d))
                changed = 1;
        }
        for (i = 0; i < d->n_parts; i++)
            if (store_data_version(d->parts[i].store, &v) == DD_OK &&
                v != d->parts[i].data_version) {
                d->parts[i].data_version = v;
                changed = 1;
            }
        now = real_ms();
        if (now >= d->next_scan_ms) {
            n = d->n_parts;
            scan_parts(d);
            changed |= d->n_parts != n;
        }
        if (changed || now >= d->next_check_ms)
            schedule(d);
        wait_for_work(d);
    }
out:
    close_resources(d);
    return NULL;
}

int delivery_start(const struct plugin_options *opt, struct workers *w, struct delivery **out,
                   struct dd_errbuf *eb)
{
    struct delivery *d;
    int rc;

    *out = NULL;
    d = calloc(1, sizeof(*d));
    if (!d)
        return dd_fail(eb, DD_ERR_NOMEM, "out of memory");
    d->broker = pthread_self();
    d->opt = *opt;
    atomic_init(&d->stopping, false);
    rc = workers_spawn(w, &d->thread, "dd-delivery", delivery_open, delivery_run, d, eb);
    if (rc) {
        free(d);
        return rc;
    }
    *out = d;
    return DD_OK;
}

void delivery_wake(struct delivery *d)
{
    uint64_t one = 1;

    assert(!pthread_equal(pthread_self(), d->broker));
    if (write(d->wake_fd, &one, sizeof(one)) < 0) {
        /* EAGAIN: the counter is full of wake-ups already */
    }
}

void delivery_stop(struct delivery *d)
{
    if (!d)
        return;
    assert(pthread_equal(pthread_self(), d->broker));
    atomic_store(&d->stopping, true);
    pthread_join(d->thread, NULL);
    free(d);
}
