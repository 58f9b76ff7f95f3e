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
    char ts[TIMEFMT_MILLIS_SIZE], unsub[1024], subscribe[1024];
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

/* A queue's DelaySeconds (stored as text in its attributes), in ms. */
static int64_t queue_delay_ms(const char *attributes)
{
    cJSON *doc = cJSON_Parse(attributes);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, "DelaySeconds");
    int64_t ms = cJSON_IsString(v) ? (int64_t)atoll(v->valuestring) * 1000 : 0;

    cJSON_Delete(doc);
    return ms;
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

/* Settle r inside the caller's transaction (store_sns_local_deliver()). */
static int deliver(struct store *s, const struct store_sns_local *l, const struct store_sns_due *r,
                   int64_t now_ms, int64_t now_real_ms, struct dd_errbuf *eb)
{
    struct store_sqs_send m = { 0 };
    struct store_sqs_queue q = { 0 };
    char id[IDS_UUID_SIZE], md5[SQS_MD5_HEX], md5_attrs[SQS_MD5_HEX];
    char *body = NULL, *attrs = NULL;
    struct sqs_arn ref;
    int rc;

    if (!store_sns_local_passes(r))
        return store__sns_attempt(s, r->id, STORE_SNS_FILTERED, now_real_ms, now_real_ms, 0, NULL);
    rc = sqs_arn_parse(r->endpoint, &ref, eb);
    if (rc || strcmp(ref.account, l->account) != 0 || strcmp(ref.region, l->region) != 0)
        return dd_fail(eb, DD_ERR_NOT_FOUND, "queue %s is not in this partition", r->endpoint);
    rc = store_sns_local_queue_message(l, r, &body, &attrs, md5_attrs, eb);
    if (rc == DD_ERR_NOT_FOUND)
        rc = DD_ERR_INTERNAL; /* NOT_FOUND means "not now, retry" to callers */
    if (rc == DD_ERR_LIMIT || rc == DD_ERR_INVALID) {
        /* Attributes SQS cannot take never will: that failure is final. */
        rc = store__sns_attempt(s, r->id, STORE_SNS_FAILED, now_real_ms, now_real_ms, 0, eb->msg);
        goto out;
    }
    if (!rc && (sqs_md5_body(body, strlen(body), md5) || ids_uuid(id)))
        rc = dd_fail(eb, DD_ERR_INTERNAL, "cannot digest or name the message");
    if (!rc) {
        rc = store_sqs_queue_get(s, ref.name, &q);
        if (rc == DD_ERR_NOT_FOUND)
            dd_fail(eb, rc, "queue %s does not exist", r->endpoint);
    }
    if (!rc) {
        m.message_id = id;
        m.body = body;
        m.attributes_json = attrs ? attrs : "{}";
        m.md5_body = md5;
        m.md5_attributes = md5_attrs;
        m.sent_ms = now_ms;
        m.visible_ms = now_ms + queue_delay_ms(q.attributes);
        rc = store_sqs_send(s, q.id, &m);
    }
    if (!rc)
        rc = store__sns_attempt(s, r->id, STORE_SNS_DELIVERED, now_real_ms, now_real_ms, 0, NULL);
    if (rc && !eb->msg[0])
        dd_fail(eb, rc, "cannot write to queue %s: %s", r->endpoint, dd_strerror(rc));
out:
    store_sqs_queue_cleanup(&q);
    free(body);
    free(attrs);
    return rc;
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
