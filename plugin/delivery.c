/* SPDX-License-Identifier: MIT */
/* delivery.c: the SNS delivery thread (see delivery.h for its contract).
 *
 * The loop: notice other connections' commits through PRAGMA data_version
 * (new alerts from the engine, Publish and Subscribe from the server); fan
 * out new alerts; ask the store for the head delivery of each subscription
 * that is due; start a transfer for each on one curl multi handle; record
 * every finished transfer as one attempt. A subscription has at most one
 * transfer in flight and its later messages wait behind a retry, which
 * keeps delivery in order per subscription. Retry times are real time in the
 * database, so a restart resumes where the last run stopped.
 *
 * Each message is built when it is sent, from the stored row: the body and
 * signature are deterministic (RSA PKCS#1 v1.5), so every retry carries the
 * same MessageId, Timestamp and Signature. */
#include "plugin/delivery.h"

#include <assert.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "core/ids.h"
#include "core/mem.h"
#include "core/names.h"
#include "core/sns.h"
#include "core/timefmt.h"
#include "store/sns/store_sns.h"
#include "store/store.h"

#define POLL_MS          10
#define IDLE_RECHECK_MS  1000
#define MAX_IN_FLIGHT    32
#define TIMEOUT_MS       15000L
#define DEFAULT_ATTEMPTS 4
#define DEFAULT_DELAY_MS 20000L
#define WEBHOOK_FUNCTION "ddlocal-webhook"

struct transfer {
    CURL *easy;                 /* owned; NULL = free slot */
    struct curl_slist *headers; /* owned */
    char *body;                 /* owned */
    int64_t id;                 /* the delivery row */
    int attempts;               /* made before this one */
    char error[CURL_ERROR_SIZE];
};

struct delivery {
    pthread_t thread;
    pthread_t broker;          /* the thread that started it: the broker's */
    struct plugin_options opt; /* copy, read-only after start */
    atomic_bool stopping;

    /* delivery thread only: every descriptor below is opened and closed on
     * it (workers.h) */
    pthread_t self; /* the delivery thread, as it recorded itself in delivery_open */
    struct store *store;
    EVP_PKEY *key;
    char cert_url[512];
    char webhook_function[NAMES_ARN_SIZE]; /* the Lambda-shape webhook's function ARN */
    CURLM *multi;
    struct transfer slots[MAX_IN_FLIGHT];
    int64_t data_version;
    int64_t next_check_ms;
};

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
}

static int is_http_url(const char *v)
{
    return strncmp(v, "http://", 7) == 0 || strncmp(v, "https://", 8) == 0;
}

int delivery_option(struct plugin_options *o, const char *key, const char *value,
                    struct dd_errbuf *eb)
{
    long n;
    int rc;

    if (strcmp(key, "public_url") == 0) {
        if (!is_http_url(value))
            return dd_fail(eb, DD_ERR_INVALID, "plugin_opt_public_url must be an http(s) URL");
        rc = plugin_options_copy(o->public_url, sizeof(o->public_url), key, value, eb);
        if (!rc && o->public_url[strlen(o->public_url) - 1] == '/')
            o->public_url[strlen(o->public_url) - 1] = '\0';
        return rc;
    }
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

/* ---- the signing key ---- */

static char *bio_text(BIO *b)
{
    char *data;
    long n = BIO_get_mem_data(b, &data);

    return n > 0 ? dd_strndup(data, (size_t)n) : NULL;
}

/* Make an RSA-2048 key and a self-signed certificate valid for ten years,
 * as PEM strings (caller frees). */
static int make_key(char **key_pem, char **cert_pem, struct dd_errbuf *eb)
{
    EVP_PKEY *pkey = EVP_RSA_gen(2048);
    X509 *x = X509_new();
    BIO *kb = BIO_new(BIO_s_mem()), *cb = BIO_new(BIO_s_mem());
    X509_NAME *name;
    int rc = DD_ERR_INTERNAL;

    *key_pem = *cert_pem = NULL;
    if (!pkey || !x || !kb || !cb)
        goto out;
    name = X509_get_subject_name(x);
    if (!X509_set_version(x, 2) || !ASN1_INTEGER_set(X509_get_serialNumber(x), 1) ||
        !X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
        !X509_gmtime_adj(X509_getm_notAfter(x), 10L * 366 * 24 * 3600) ||
        !X509_set_pubkey(x, pkey) ||
        !X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"ddlocal", -1,
                                    -1, 0) ||
        !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                    (const unsigned char *)"sns.amazonaws.com", -1, -1, 0) ||
        !X509_set_issuer_name(x, name) || !X509_sign(x, pkey, EVP_sha256()) ||
        !PEM_write_bio_PrivateKey(kb, pkey, NULL, NULL, 0, NULL, NULL) ||
        !PEM_write_bio_X509(cb, x))
        goto out;
    *key_pem = bio_text(kb);
    *cert_pem = bio_text(cb);
    rc = *key_pem && *cert_pem ? DD_OK : DD_ERR_NOMEM;
out:
    if (rc) {
        free(*key_pem);
        free(*cert_pem);
        *key_pem = *cert_pem = NULL;
        dd_fail(eb, rc, "cannot create the SNS signing key");
    }
    BIO_free(cb);
    BIO_free(kb);
    X509_free(x);
    EVP_PKEY_free(pkey);
    return rc;
}

/* Load the stored key, creating and storing one first when there is none. */
static int load_key(struct delivery *d, struct dd_errbuf *eb)
{
    char cert_id[STORE_SNS_CERT_ID_SIZE], *key_pem = NULL, *cert_pem = NULL;
    BIO *b = NULL;
    int rc;

    rc = store_sns_signing_get(d->store, cert_id, &key_pem, &cert_pem);
    if (rc == DD_ERR_NOT_FOUND) {
        if (ids_hex(cert_id, sizeof(cert_id), 16))
            return dd_fail(eb, DD_ERR_INTERNAL, "no randomness for the signing key");
        rc = make_key(&key_pem, &cert_pem, eb);
        if (!rc)
            rc = store_sns_signing_put(d->store, cert_id, key_pem, cert_pem);
        free(key_pem);
        free(cert_pem);
        key_pem = cert_pem = NULL;
        if (!rc)
            rc = store_sns_signing_get(d->store, cert_id, &key_pem, &cert_pem);
    }
    if (rc) {
        if (!eb->msg[0])
            dd_fail(eb, rc, "cannot read the SNS signing key: %s", dd_strerror(rc));
        goto out;
    }
    b = BIO_new_mem_buf(key_pem, -1);
    d->key = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
    if (!d->key) {
        rc = dd_fail(eb, DD_ERR_INTERNAL, "the stored SNS signing key does not load");
        goto out;
    }
    snprintf(d->cert_url, sizeof(d->cert_url), "%s/_ddlocal/sns/SimpleNotificationService-%s.pem",
             d->opt.public_url, cert_id);
out:
    BIO_free(b);
    free(key_pem);
    free(cert_pem);
    return rc;
}

/* Sign text with SHA1withRSA (version "1") or SHA256withRSA ("2"); the
 * base64 result is a new string (caller frees), NULL on failure. */
static char *sign(EVP_PKEY *key, const char *version, const char *text)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char *sig = NULL;
    char *b64 = NULL;
    size_t len = 0;

    if (!ctx ||
        EVP_DigestSignInit(ctx, NULL, strcmp(version, "2") == 0 ? EVP_sha256() : EVP_sha1(), NULL,
                           key) != 1 ||
        EVP_DigestSign(ctx, NULL, &len, (const unsigned char *)text, strlen(text)) != 1)
        goto out;
    sig = malloc(len);
    if (!sig || EVP_DigestSign(ctx, sig, &len, (const unsigned char *)text, strlen(text)) != 1)
        goto out;
    b64 = malloc(4 * ((len + 2) / 3) + 1);
    if (b64)
        EVP_EncodeBlock((unsigned char *)b64, sig, (int)len);
out:
    free(sig);
    EVP_MD_CTX_free(ctx);
    return b64;
}

/* ---- fan-out ---- */

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

        rc = store_sns_alert_next(d->store, &alert_id, &created, &topic_arn);
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
        rc = store_sns_alert_fanout(d->store, alert_id, topic_arn, topic_name, &hook,
                                    hook.arn ? 1 : 0, message_id, real_ms(), &n);
        free(topic_arn);
        if (rc) {
            dlog("cannot fan out alert %lld: %s (retrying)", (long long)alert_id, dd_strerror(rc));
            break;
        }
    }
}

/* ---- transfers ---- */

static size_t discard(char *ptr, size_t size, size_t n, void *ctx)
{
    (void)ptr;
    (void)ctx;
    return size * n;
}

static void transfer_free(struct delivery *d, struct transfer *t)
{
    assert(t >= d->slots && t < d->slots + MAX_IN_FLIGHT);
    if (t->easy) {
        curl_multi_remove_handle(d->multi, t->easy);
        curl_easy_cleanup(t->easy);
    }
    curl_slist_free_all(t->headers);
    free(t->body);
    memset(t, 0, sizeof(*t));
}

static int in_flight(const struct delivery *d, int64_t id)
{
    int i;

    for (i = 0; i < MAX_IN_FLIGHT; i++)
        if (d->slots[i].easy && d->slots[i].id == id)
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

/* Record one attempt's result and decide between delivered, retry and
 * failed (SNS HTTP policy: 2xx delivered; 5xx and no answer retried; any
 * other status is final). */
static void record(struct delivery *d, int64_t id, int attempts_before, int status,
                   const char *error)
{
    enum store_sns_outcome outcome;
    int64_t now = real_ms();
    int rc;

    ASSERT_DELIVERY_THREAD(d);
    assert(attempts_before >= 0);
    if (status >= 200 && status < 300)
        outcome = STORE_SNS_DELIVERED;
    else if ((status == 0 || status >= 500) && attempts_before + 1 < d->opt.delivery_attempts)
        outcome = STORE_SNS_RETRY;
    else
        outcome = STORE_SNS_FAILED;
    rc = store_sns_attempt(d->store, id, outcome, now, now + d->opt.retry_delay_ms, status, error);
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
    l = curl_slist_append(*list, line);
    if (!l)
        *ok = 0;
    else
        *list = l;
    return *list;
}

/* Build the body (and headers) of due delivery r. Returns DD_OK, or an
 * error with the reason in eb (the row then fails or retries without a
 * transfer). */
static int build(struct delivery *d, const struct store_sns_due *r, struct transfer *t,
                 const char **url, struct dd_errbuf *eb)
{
    char ts[TIMEFMT_MILLIS_SIZE], unsub[1024], subscribe[1024];
    struct sns_message m;
    char *to_sign = NULL, *signature = NULL;
    int confirmation = strcmp(r->type, "SubscriptionConfirmation") == 0, ok = 1, rc;
    int lambda = strcmp(r->protocol, "lambda") == 0;

    assert(!t->body && !t->headers); /* a free slot */
    *url = lambda ? r->lambda_url : r->endpoint;
    if (!*url)
        return dd_fail(eb, DD_ERR_NOT_FOUND,
                       "no URL is mapped to %s (bin/ddlocal up --lambda ARN=URL, or POST "
                       "/_ddlocal/lambda)",
                       r->endpoint);
    rc = timefmt_format_millis(r->timestamp_ms, ts, sizeof(ts));
    if (rc)
        return dd_fail(eb, rc, "bad message time");
    snprintf(unsub, sizeof(unsub), "%s/?Action=Unsubscribe&SubscriptionArn=%s", d->opt.public_url,
             r->subscription_arn);
    snprintf(subscribe, sizeof(subscribe), "%s/?Action=ConfirmSubscription&TopicArn=%s&Token=%s",
             d->opt.public_url, r->topic_arn, r->token ? r->token : "");
    memset(&m, 0, sizeof(m));
    m.type = confirmation ? SNS_SUBSCRIPTION_CONFIRMATION : SNS_NOTIFICATION;
    m.message_id = r->message_id;
    m.topic_arn = r->topic_arn;
    m.subject = confirmation ? NULL : r->subject;
    m.message = r->message;
    m.timestamp = ts;
    m.signature_version =
        r->signature_version && strcmp(r->signature_version, "2") == 0 ? "2" : "1";
    m.signing_cert_url = d->cert_url;
    m.unsubscribe_url = confirmation ? NULL : unsub;
    m.subscribe_url = confirmation ? subscribe : NULL;
    m.token = confirmation ? r->token : NULL;
    m.subscription_arn = r->subscription_arn;
    rc = sns_string_to_sign(&m, &to_sign, eb);
    if (rc)
        goto out;
    signature = sign(d->key, m.signature_version, to_sign);
    if (!signature) {
        rc = dd_fail(eb, DD_ERR_INTERNAL, "signing failed");
        goto out;
    }
    m.signature = signature;
    rc = lambda ? sns_lambda_event(&m, &t->body, eb) : sns_http_body(&m, &t->body, eb);
    if (rc)
        goto out;
    if (lambda) {
        add_header(&t->headers, &ok, "Content-Type", "application/json");
    } else {
        add_header(&t->headers, &ok, "Content-Type", "text/plain; charset=UTF-8");
        add_header(&t->headers, &ok, "x-amz-sns-message-type", r->type);
        add_header(&t->headers, &ok, "x-amz-sns-message-id", r->message_id);
        add_header(&t->headers, &ok, "x-amz-sns-topic-arn", r->topic_arn);
        if (!confirmation)
            add_header(&t->headers, &ok, "x-amz-sns-subscription-arn", r->subscription_arn);
    }
    add_header(&t->headers, &ok, "User-Agent", "Amazon Simple Notification Service Agent");
    add_header(&t->headers, &ok, "Expect", "");
    if (!ok)
        rc = dd_fail(eb, DD_ERR_NOMEM, "out of memory");
out:
    free(signature);
    free(to_sign);
    return rc;
}

static int start_one(void *ctx, const struct store_sns_due *r)
{
    struct delivery *d = ctx;
    struct transfer *t;
    struct dd_errbuf eb = { { 0 } };
    const char *url;
    int rc;

    ASSERT_DELIVERY_THREAD(d);
    if (in_flight(d, r->id))
        return DD_OK;
    t = free_slot(d);
    if (!t)
        return DD_OK;
    t->id = r->id;
    t->attempts = r->attempts;
    rc = build(d, r, t, &url, &eb);
    if (!rc) {
        t->easy = curl_easy_init();
        if (!t->easy)
            rc = dd_fail(&eb, DD_ERR_NOMEM, "cannot create a transfer");
    }
    if (rc) {
        int64_t id = t->id;
        int before = t->attempts;

        transfer_free(d, t);
        /* A missing Lambda mapping may be added later: retry it like a
         * connection error. Anything else cannot get better. */
        record(d, id, rc == DD_ERR_NOT_FOUND ? before : d->opt.delivery_attempts, 0, eb.msg);
        return DD_OK;
    }
    curl_easy_setopt(t->easy, CURLOPT_URL, url);
    curl_easy_setopt(t->easy, CURLOPT_POST, 1L);
    curl_easy_setopt(t->easy, CURLOPT_POSTFIELDS, t->body);
    curl_easy_setopt(t->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(t->body));
    curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(t->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(t->easy, CURLOPT_TIMEOUT_MS, TIMEOUT_MS);
    curl_easy_setopt(t->easy, CURLOPT_CONNECTTIMEOUT_MS, TIMEOUT_MS);
    curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(t->easy, CURLOPT_ERRORBUFFER, t->error);
    curl_easy_setopt(t->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(t->easy, CURLOPT_PRIVATE, t);
    if (curl_multi_add_handle(d->multi, t->easy) != CURLM_OK) {
        int64_t id = t->id;
        int before = t->attempts;

        transfer_free(d, t);
        record(d, id, before, 0, "cannot start a transfer");
    }
    return DD_OK;
}

/* Collect finished transfers and record them. Returns how many finished. */
static int collect(struct delivery *d)
{
    CURLMsg *msg;
    int left, n = 0;

    while ((msg = curl_multi_info_read(d->multi, &left))) {
        struct transfer *t = NULL;
        long status = 0;

        if (msg->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
        /* Only start_one adds handles, each with its slot as private data. */
        assert(t && t->easy == msg->easy_handle);
        if (msg->data.result == CURLE_OK)
            curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
        else if (!t->error[0])
            snprintf(t->error, sizeof(t->error), "%s", curl_easy_strerror(msg->data.result));
        if (msg->data.result == CURLE_OK && (status < 200 || status >= 300))
            snprintf(t->error, sizeof(t->error), "HTTP %ld", status);
        record(d, t->id, t->attempts, (int)status, t->error[0] ? t->error : NULL);
        transfer_free(d, t);
        n++;
    }
    return n;
}

/* Fan out, then start what is due; remember when to look again. */
static void schedule(struct delivery *d)
{
    int64_t now = real_ms(), next;
    int rc;

    ASSERT_DELIVERY_THREAD(d);
    fan_out_alerts(d);
    rc = store_sns_due_list(d->store, now, MAX_IN_FLIGHT, start_one, d);
    if (rc)
        dlog("cannot list due deliveries: %s", dd_strerror(rc));
    d->next_check_ms = now + IDLE_RECHECK_MS;
    if (store_sns_next_due(d->store, &next) == DD_OK && next > now && next < d->next_check_ms)
        d->next_check_ms = next;
}

/* Close what the thread owns; safe on a half-open start. */
static void close_resources(struct delivery *d)
{
    int i;

    for (i = 0; i < MAX_IN_FLIGHT; i++)
        transfer_free(d, &d->slots[i]);
    if (d->multi)
        curl_multi_cleanup(d->multi);
    EVP_PKEY_free(d->key);
    store_close(d->store);
}

/* The delivery thread's start (workers_spawn): open what it owns, its
 * connection, the signing key, the Lambda mappings and the curl multi
 * handle, or close all of it again. */
static int delivery_open(void *arg, struct dd_errbuf *eb)
{
    struct delivery *d = arg;
    const struct plugin_options *opt = &d->opt;
    int rc, i;

    d->self = pthread_self();
    rc = store_open(opt->db_path, &d->store, eb);
    if (!rc)
        rc = load_key(d, eb);
    if (rc) {
        close_resources(d);
        return rc;
    }
    snprintf(d->webhook_function, sizeof(d->webhook_function), "arn:aws:lambda:%s:%s:function:%s",
             opt->region, opt->account, WEBHOOK_FUNCTION);
    if (opt->webhook[0] && !opt->webhook_sns_format)
        rc = store_sns_lambda_put(d->store, d->webhook_function, opt->webhook);
    for (i = 0; !rc && i < opt->n_lambdas; i++) {
        char arn[768];
        char *eq;

        snprintf(arn, sizeof(arn), "%s", opt->lambdas[i]);
        eq = strchr(arn, '=');
        assert(eq); /* delivery_option took only FUNCTION_ARN=URL */
        *eq = '\0';
        rc = store_sns_lambda_put(d->store, arn, eq + 1);
    }
    if (rc)
        rc = dd_fail(eb, rc, "cannot store the Lambda URL mappings: %s", dd_strerror(rc));
    else if (!(d->multi = curl_multi_init()))
        rc = dd_fail(eb, DD_ERR_NOMEM, "cannot create the curl multi handle");
    if (rc) {
        close_resources(d);
        return rc;
    }
    store_data_version(d->store, &d->data_version);
    return DD_OK;
}

static void *delivery_run(void *arg)
{
    struct delivery *d = arg;
    int running;

    assert(d->store && d->multi && d->key); /* delivery_open succeeded */
    schedule(d);
    /* Stopping is noticed within POLL_MS: curl_multi_wakeup() would write
     * to a descriptor the broker thread must not use. */
    while (!atomic_load(&d->stopping)) {
        int64_t v = 0, now;
        int changed = 0;

        curl_multi_perform(d->multi, &running);
        if (collect(d))
            changed = 1;
        if (store_data_version(d->store, &v) == DD_OK && v != d->data_version) {
            d->data_version = v;
            changed = 1;
        }
        now = real_ms();
        if (changed || now >= d->next_check_ms)
            schedule(d);
        curl_multi_poll(d->multi, NULL, 0, POLL_MS, NULL);
    }
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
    rc = workers_spawn(w, &d->thread, delivery_open, delivery_run, d, eb);
    if (rc) {
        free(d);
        return rc;
    }
    *out = d;
    return DD_OK;
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
