/* SPDX-License-Identifier: MIT */
/* store_sns_local.c: deliveries to the queues of the same database (see
 * store_sns_local.h). A message is built from its stored delivery row,
 * the same row the delivery thread reads, so a message written here and
 * one sent over HTTP differ only in how they travel. */
#include "store/sns/store_sns_local.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/ids.h"
#include "core/jsonprint.h"
#include "core/mem.h"
#include "core/sns.h"
#include "core/snsfilter.h"
#include "core/snssign.h"
#include "core/sqs.h"
#include "core/timefmt.h"
#include "store/sqs/store_sqs.h"
#include "store/store_internal.h"

int store_sns_local_init(struct store *s, const char *account, const char *region,
                         const char *public_url, struct store_sns_local *l, struct dd_errbuf *eb)
{
    char cert_id[STORE_SNS_CERT_ID_SIZE], *key_pem = NULL, *cert_pem = NULL;
    size_t n;
    int rc;

    memset(l, 0, sizeof(*l));
    snprintf(l->account, sizeof(l->account), "%s", account);
    snprintf(l->region, sizeof(l->region), "%s", region);
    snprintf(l->public_url, sizeof(l->public_url), "%s", public_url);
    n = strlen(l->public_url);
    if (n && l->public_url[n - 1] == '/')
        l->public_url[n - 1] = '\0';
    rc = store_sns_signing_get(s, cert_id, &key_pem, &cert_pem);
    if (rc == DD_ERR_NOT_FOUND) {
        if (ids_hex(cert_id, sizeof(cert_id), 16))
            return dd_fail(eb, DD_ERR_INTERNAL, "no randomness for the signing key");
        rc = snssign_key_new(&key_pem, &cert_pem, eb);
        if (!rc)
            rc = store_sns_signing_put(s, cert_id, key_pem, cert_pem);
        free(key_pem);
        free(cert_pem);
        key_pem = cert_pem = NULL;
        if (!rc)
            rc = store_sns_signing_get(s, cert_id, &key_pem, &cert_pem);
    }
    if (rc) {
        if (!eb->msg[0])
            dd_fail(eb, rc, "cannot read the SNS signing key: %s", dd_strerror(rc));
        goto out;
    }
    rc = snssign_load(key_pem, &l->key, eb);
    if (!rc)
        snprintf(l->cert_url, sizeof(l->cert_url),
                 "%s/_ddlocal/sns/SimpleNotificationService-%s.pem", l->public_url, cert_id);
out:
    free(key_pem);
    free(cert_pem);
    return rc;
}

void store_sns_local_cleanup(struct store_sns_local *l)
{
    if (!l)
        return;
    snssign_free(l->key);
    l->key = NULL;
}

int store_sns_local_body(const struct store_sns_local *l, const struct store_sns_due *r,
                         bool lambda, char **body, struct dd_errbuf *eb)
{
    char ts[TIMEFMT_MILLIS_SIZE], unsub[1024], subscribe[1024], seq[24];
    int confirmation = strcmp(r->type, "SubscriptionConfirmation") == 0, rc;
    struct sns_message m;

    *body = NULL;
    rc = timefmt_format_millis(r->timestamp_ms, ts, sizeof(ts));
    if (rc)
        return dd_fail(eb, rc, "bad message time");
    snprintf(unsub, sizeof(unsub), "%s/?Action=Unsubscribe&SubscriptionArn=%s", l->public_url,
             r->subscription_arn);
    snprintf(subscribe, sizeof(subscribe), "%s/?Action=ConfirmSubscription&TopicArn=%s&Token=%s",
             l->public_url, r->topic_arn, r->token ? r->token : "");
    memset(&m, 0, sizeof(m));
    m.type = confirmation ? SNS_SUBSCRIPTION_CONFIRMATION : SNS_NOTIFICATION;
    m.message_id = r->message_id;
    m.topic_arn = r->topic_arn;
    m.subject = confirmation ? NULL : r->subject;
    m.message = r->message;
    m.timestamp = ts;
    m.signature_version =
        r->signature_version && strcmp(r->signature_version, "2") == 0 ? "2" : "1";
    m.signing_cert_url = l->cert_url;
    m.unsubscribe_url = confirmation ? NULL : unsub;
    m.subscribe_url = confirmation ? subscribe : NULL;
    m.token = confirmation ? r->token : NULL;
    m.subscription_arn = r->subscription_arn;
    m.message_attributes = confirmation ? NULL : r->message_attributes;
    if (r->sequence > 0 && !confirmation && !lambda) {
        /* A FIFO topic's notification is not signed (sns-more.md 1.1). */
        snprintf(seq, sizeof(seq), "%020lld", (long long)r->sequence); /* as Publish answers */
        m.sequence_number = seq;
        return sns_http_body(&m, body, eb);
    }
    return snssign_body(l->key, &m, lambda, body, eb);
}

bool store_sns_local_passes(const struct store_sns_due *r)
{
    enum snsfilter_scope scope = r->filter_scope && strcmp(r->filter_scope, "MessageBody") == 0
                                     ? SNSFILTER_BODY
                                     : SNSFILTER_ATTRIBUTES;
    struct dd_errbuf eb = { { 0 } };
    struct snsfilter *f = NULL;
    bool pass;

    if (!r->filter_policy || strcmp(r->type, "Notification") != 0)
        return true;
    if (snsfilter_parse(r->filter_policy, scope, &f, &eb))
        return true;
    pass = scope == SNSFILTER_BODY ? snsfilter_match_body(f, r->message)
                                   : snsfilter_match_attributes(f, r->message_attributes);
    snsfilter_free(f);
    return pass;
}

bool store_sns_local_queue(const struct store_sns_local *l, const char *queue_arn)
{
    struct dd_errbuf eb = { { 0 } };
    struct sqs_arn q;

    return sqs_arn_parse(queue_arn, &q, &eb) == DD_OK && strcmp(q.account, l->account) == 0 &&
           strcmp(q.region, l->region) == 0;
}

/* What a queue's stored attributes say about a delivery to it. */
struct queue_kind {
    int64_t delay_ms; /* DelaySeconds, in ms */
    bool fifo;
    bool group_scope; /* DeduplicationScope messageGroup */
};

static bool attr_is(const cJSON *doc, const char *name, const char *value)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, name);

    return cJSON_IsString(v) && strcmp(v->valuestring, value) == 0;
}

static struct queue_kind queue_kind(const char *attributes)
{
    cJSON *doc = cJSON_Parse(attributes);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, "DelaySeconds");
    struct queue_kind k = {
        cJSON_IsString(v) ? (int64_t)atoll(v->valuestring) * 1000 : 0,
        attr_is(doc, "FifoQueue", "true"),
        attr_is(doc, "DeduplicationScope", "messageGroup"),
    };

    cJSON_Delete(doc);
    return k;
}

const char *store_sns_local_dedup_id(const struct store_sns_due *r, char buf[65])
{
    if (r->dedup_id)
        return r->dedup_id;
    return sqs_dedup_id(r->message, strlen(r->message), buf) ? NULL : buf;
}

/* Append m to queue q for delivery r: a FIFO topic's message to a FIFO
 * queue carries its MessageGroupId and MessageDeduplicationId (the
 * publisher's, or the SHA-256 of the message with content-based
 * deduplication), and the queue deduplicates it as a SendMessage
 * (sns-more.md 1.5); anything else is a plain append. */
static int queue_append(struct store *s, const struct store_sqs_queue *q,
                        const struct store_sns_due *r, struct store_sqs_send *m,
                        struct dd_errbuf *eb)
{
    struct queue_kind k = queue_kind(q->attributes);
    char dedup[SQS_SHA256_HEX];
    struct store_sqs_extra x = { 0 };
    struct store_sqs_sent sent;

    m->visible_ms = m->sent_ms + k.delay_ms;
    if (!k.fifo)
        return store_sqs_send(s, q->id, m);
    if (!r->group_id) /* refused at Subscribe; a queue re-created as FIFO */
        return dd_fail(eb, DD_ERR_INVALID, "a FIFO queue takes only a FIFO topic's messages");
    x.group_id = r->group_id;
    x.dedup_id = store_sns_local_dedup_id(r, dedup);
    if (!x.dedup_id)
        return dd_fail(eb, DD_ERR_INTERNAL, "cannot digest the message");
    x.dedup_scope = k.group_scope ? r->group_id : "";
    return store__sqs_send_extra(s, q->id, m, &x, &sent);
}

int store_sns_local_queue_message(const struct store_sns_local *l, const struct store_sns_due *r,
                                  char **body, char **attrs, char md5_attrs[33],
                                  struct dd_errbuf *eb)
{
    int raw = r->raw && strcmp(r->type, "Notification") == 0, rc;

    *attrs = NULL;
    md5_attrs[0] = '\0';
    if (!raw)
        return store_sns_local_body(l, r, false, body, eb);
    *body = dd_strdup(r->message);
    if (!*body)
        return dd_fail(eb, DD_ERR_NOMEM, "out of memory");
    rc = sns_sqs_attributes(r->message_attributes, attrs, md5_attrs, eb);
    if (rc) {
        free(*body);
        *body = NULL;
    }
    return rc;
}

/* Why a delivery was dead-lettered: AWS adds these to the message as the
 * String message attributes ErrorCode, ErrorMessage and RequestID. */
struct dead_why {
    int http_status;   /* the endpoint's answer, 0: none */
    const char *error; /* borrowed, NULL: none */
};

/* The SQS message attributes of dead-lettered delivery r (the raw
 * message's own, if raw, and the three of why) into *attrs (a new string
 * to free()) and md5_attrs; as sns_sqs_attributes(). */
static int dead_attributes(const struct store_sns_due *r, const struct dead_why *why, char **attrs,
                           char md5_attrs[33], struct dd_errbuf *eb)
{
    int raw = r->raw && strcmp(r->type, "Notification") == 0, rc = DD_ERR_NOMEM;
    cJSON *map =
        raw && r->message_attributes ? cJSON_Parse(r->message_attributes) : cJSON_CreateObject();
    char code[16], request[IDS_UUID_SIZE], message[1025], *text = NULL;
    const char *names[3] = { "ErrorCode", "ErrorMessage", "RequestID" };
    const char *values[3] = { code, message, request };
    int i;

    *attrs = NULL;
    snprintf(code, sizeof(code), "%d", why->http_status);
    /* AWS keeps the first kilobyte of the error. */
    snprintf(message, sizeof(message), "%s",
             why->error && why->error[0] ? why->error : "delivery failed");
    if (ids_uuid(request)) {
        cJSON_Delete(map);
        return dd_fail(eb, DD_ERR_INTERNAL, "no randomness for a request id");
    }
    for (i = 0; map && i < 3; i++) {
        cJSON *a = cJSON_CreateObject();

        cJSON_DeleteItemFromObjectCaseSensitive(map, names[i]);
        if (!a || !cJSON_AddItemToObject(map, names[i], a) ||
            !cJSON_AddStringToObject(a, "Type", "String") ||
            !cJSON_AddStringToObject(a, "Value", values[i]))
            break;
    }
    if (i == 3)
        text = jsonprint(map);
    if (text)
        rc = sns_sqs_attributes(text, attrs, md5_attrs, eb);
    else
        dd_fail(eb, rc, "out of memory");
    free(text);
    cJSON_Delete(map);
    return rc;
}

/* Write what sqs delivery r carries (store_sns_local_queue_message())
 * into queue q at emulated now_ms, inside the caller's transaction; with
 * why (NULL: none), as a dead-lettered message. DD_ERR_LIMIT or
 * DD_ERR_INVALID (final: SQS cannot take it), or another error; eb says
 * why. */
static int write_message(struct store *s, const struct store_sns_local *l,
                         const struct store_sns_due *r, const struct store_sqs_queue *q,
                         int64_t now_ms, const struct dead_why *why, struct dd_errbuf *eb)
{
    struct store_sqs_send m = { 0 };
    char id[IDS_UUID_SIZE], md5[SQS_MD5_HEX], md5_attrs[SQS_MD5_HEX];
    char *body = NULL, *attrs = NULL;
    int rc = store_sns_local_queue_message(l, r, &body, &attrs, md5_attrs, eb);

    if (!rc && why) {
        free(attrs);
        rc = dead_attributes(r, why, &attrs, md5_attrs, eb);
    }

    if (rc == DD_ERR_NOT_FOUND)
        rc = DD_ERR_INTERNAL; /* NOT_FOUND means "not now, retry" to callers */
    if (!rc && (sqs_md5_body(body, strlen(body), md5) || ids_uuid(id)))
        rc = dd_fail(eb, DD_ERR_INTERNAL, "cannot digest or name the message");
    if (!rc) {
        m.message_id = id;
        m.body = body;
        m.attributes_json = attrs ? attrs : "{}";
        m.md5_body = md5;
        m.md5_attributes = md5_attrs;
        m.sent_ms = now_ms;
        rc = queue_append(s, q, r, &m, eb);
    }
    free(body);
    free(attrs);
    return rc;
}

/* Write what r carries into its queue, named by ref, of database qs,
 * inside the caller's transaction of qs. DD_ERR_NOT_FOUND when there is
 * no such queue; else as write_message(). */
static int to_queue(struct store *qs, const struct store_sns_local *l,
                    const struct store_sns_due *r, const struct sqs_arn *ref, int64_t now_ms,
                    struct dd_errbuf *eb)
{
    struct store_sqs_queue q = { 0 };
    int rc = store_sqs_queue_get(qs, ref->name, &q);

    if (rc == DD_ERR_NOT_FOUND)
        dd_fail(eb, rc, "queue %s does not exist", r->endpoint);
    if (!rc)
        rc = write_message(qs, l, r, &q, now_ms, NULL, eb);
    store_sqs_queue_cleanup(&q);
    return rc;
}

/* Record in database s what writing r into its queue answered (rc):
 * delivered, a final failure (SQS cannot take the message), or nothing
 * (the delivery stays pending and rc is returned). attempt is
 * store__sns_attempt() inside a transaction, store_sns_attempt() outside. */
static int settle_write(struct store *s, const struct store_sns_due *r, int rc, int64_t now_real_ms,
                        struct dd_errbuf *eb,
                        int (*attempt)(struct store *, int64_t, enum store_sns_outcome, int64_t,
                                       int64_t, int, const char *))
{
    if (rc == DD_ERR_LIMIT || rc == DD_ERR_INVALID) /* never better: final */
        return attempt(s, r->id, STORE_SNS_FAILED, now_real_ms, now_real_ms, 0, eb->msg);
    if (!rc)
        rc = attempt(s, r->id, STORE_SNS_DELIVERED, now_real_ms, now_real_ms, 0, NULL);
    if (rc && !eb->msg[0])
        dd_fail(eb, rc, "cannot write to queue %s: %s", r->endpoint, dd_strerror(rc));
    return rc;
}

/* Settle r inside the caller's transaction (store_sns_local_deliver()). */
static int deliver(struct store *s, const struct store_sns_local *l, const struct store_sns_due *r,
                   int64_t now_ms, int64_t now_real_ms, struct dd_errbuf *eb)
{
    struct sqs_arn ref;
    int rc;

    if (!store_sns_local_passes(r))
        return store__sns_attempt(s, r->id, STORE_SNS_FILTERED, now_real_ms, now_real_ms, 0, NULL);
    rc = sqs_arn_parse(r->endpoint, &ref, eb);
    if (rc || strcmp(ref.account, l->account) != 0 || strcmp(ref.region, l->region) != 0)
        return dd_fail(eb, DD_ERR_NOT_FOUND, "queue %s is not in this partition", r->endpoint);
    rc = to_queue(s, l, r, &ref, now_ms, eb);
    if (rc == DD_ERR_NOT_FOUND)
        return rc;
    return settle_write(s, r, rc, now_real_ms, eb, store__sns_attempt);
}

int store_sns_local_deliver_away(struct store *s, const struct store_sns_local *l,
                                 const struct store_sns_due *r, struct store *qs, int64_t now_ms,
                                 int64_t now_real_ms, struct dd_errbuf *eb)
{
    struct sqs_arn ref;
    int rc;

    if (!store_sns_local_passes(r))
        return store_sns_attempt(s, r->id, STORE_SNS_FILTERED, now_real_ms, now_real_ms, 0, NULL);
    rc = sqs_arn_parse(r->endpoint, &ref, eb);
    if (rc)
        return dd_fail(eb, DD_ERR_NOT_FOUND, "queue %s is not a queue ARN", r->endpoint);
    /* Two transactions in two files, one after the other (never one
     * inside the other: two publishers crossing would wait on each other):
     * a crash between them delivers the message again, which SNS's
     * at-least-once delivery to SQS allows. */
    rc = store__begin(qs, eb);
    if (rc)
        return rc;
    rc = store__finish(qs, to_queue(qs, l, r, &ref, now_ms, eb));
    if (rc == DD_ERR_NOT_FOUND)
        return rc;
    return settle_write(s, r, rc, now_real_ms, eb, store_sns_attempt);
}

int store_sns_local_deliver(struct store *s, const struct store_sns_local *l,
                            const struct store_sns_due *r, int64_t now_ms, int64_t now_real_ms,
                            struct dd_errbuf *eb)
{
    int rc = store__begin(s, eb);

    if (rc)
        return rc;
    rc = deliver(s, l, r, now_ms, now_real_ms, eb);
    return store__finish(s, rc);
}

/* The context of one message's walk. */
struct walk {
    struct store *s;
    const struct store_sns_local *l;
    int64_t now_ms, now_real_ms;
};

static int settle(void *ctx, const struct store_sns_due *r)
{
    struct walk *w = ctx;
    struct dd_errbuf eb = { { 0 } };
    int rc = deliver(w->s, w->l, r, w->now_ms, w->now_real_ms, &eb);

    /* What cannot be settled now (no such queue yet, another partition)
     * stays pending: the delivery thread retries it as any delivery. */
    return rc == DD_ERR_NOT_FOUND ? DD_OK : rc;
}

int store__sns_local_message(struct store *s, const struct store_sns_local *l, int64_t message_row,
                             int64_t now_ms, int64_t now_real_ms)
{
    struct walk w = { s, l, now_ms, now_real_ms };

    return store__sns_each_head(s, message_row, settle, &w);
}

/* The context of a walk over one message's deliveries to other partitions. */
struct away {
    struct store *s;
    const struct store_sns_local *l;
    store_sns_local_open_fn open;
    void *ctx;
    int64_t now_ms, now_real_ms;
};

static int settle_away(void *ctx, const struct store_sns_due *r)
{
    struct away *w = ctx;
    struct dd_errbuf eb = { { 0 } };
    struct store *qs = NULL;
    struct sqs_arn ref;

    /* This partition's own were settled in Publish's transaction. What
     * cannot be settled now stays pending for the delivery thread. */
    if (store_sns_local_queue(w->l, r->endpoint) || sqs_arn_parse(r->endpoint, &ref, &eb) ||
        w->open(w->ctx, ref.account, ref.region, &qs, &eb))
        return DD_OK;
    store_sns_local_deliver_away(w->s, w->l, r, qs, w->now_ms, w->now_real_ms, &eb);
    return DD_OK;
}

int store_sns_local_message_away(struct store *s, const struct store_sns_local *l,
                                 const char *message_id, store_sns_local_open_fn open, void *ctx,
                                 int64_t now_ms, int64_t now_real_ms)
{
    struct away w = { s, l, open, ctx, now_ms, now_real_ms };
    int64_t row;
    int rc = store__int64(s, "SELECT id FROM sns_messages WHERE message_id = ?", "find a message",
                          &row, "t", message_id);

    if (rc)
        return rc == DD_ERR_NOT_FOUND ? DD_OK : rc;
    return store__sns_each_head(s, row, settle_away, &w);
}

/* The context of a dead-lettering. */
struct dead {
    struct store *s;
    const struct store_sns_local *l;
    int64_t now_ms, now_real_ms;
    int http_status;
    const char *error;
    struct dd_errbuf *eb;
};

static int dead_letter(void *ctx, const struct store_sns_due *r)
{
    struct dead *x = ctx;
    struct dead_why why = { x->http_status, x->error };
    struct store_sqs_queue q = { 0 };
    struct sqs_arn ref;
    char note[600];
    int rc;

    if (!r->dead_letter_arn || sqs_arn_parse(r->dead_letter_arn, &ref, x->eb) ||
        strcmp(ref.account, x->l->account) != 0 || strcmp(ref.region, x->l->region) != 0)
        return dd_fail(x->eb, DD_ERR_NOT_FOUND, "no dead-letter queue in this partition");
    rc = store_sqs_queue_get(x->s, ref.name, &q);
    if (rc == DD_ERR_NOT_FOUND)
        dd_fail(x->eb, rc, "dead-letter queue %s does not exist", r->dead_letter_arn);
    if (!rc)
        rc = write_message(x->s, x->l, r, &q, x->now_ms, &why, x->eb);
    if (!rc) {
        snprintf(note, sizeof(note), "%s; moved to dead-letter queue %s",
                 x->error ? x->error : "failed", r->dead_letter_arn);
        rc = store__sns_attempt(x->s, r->id, STORE_SNS_FAILED, x->now_real_ms, x->now_real_ms,
                                x->http_status, note);
    }
    store_sqs_queue_cleanup(&q);
    return rc;
}

int store_sns_local_dead_letter(struct store *s, const struct store_sns_local *l, int64_t id,
                                int64_t now_ms, int64_t now_real_ms, int http_status,
                                const char *error, struct dd_errbuf *eb)
{
    struct dead x = { s, l, now_ms, now_real_ms, http_status, error, eb };
    int rc = store__begin(s, eb);

    if (rc)
        return rc;
    rc = store__sns_due_get(s, id, dead_letter, &x);
    return store__finish(s, rc);
}
