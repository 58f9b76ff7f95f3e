/* SPDX-License-Identifier: MIT */
/* api_sqs.c: Amazon SQS on ddlocal's one port, in both wire protocols real
 * clients send: the query protocol (a POST / form with
 * Version=2012-11-05; Debian's boto3 and AWS CLI v2) and the JSON protocol
 * (X-Amz-Target: AmazonSQS.<Op>; current SDKs). server/query.c hands both
 * here.
 *
 * The design choice a reader needs first: every operation is written once,
 * against the JSON protocol's shapes. A query request is first turned into
 * the JSON input it stands for (Attribute.N.Name/Value into an Attributes
 * map, AttributeName.N into a list, ...), and the JSON output is rendered
 * as the query protocol's XML by one walker that knows SQS's flattened
 * lists and maps. Errors are one table rendered in either form.
 *
 * Queues live in the request's partition database (request_store); their
 * URLs are http://<Host>/<account>/<name> and their ARNs carry the
 * request's region and account. Delays and visibility use the emulator's
 * clock. ReceiveMessage long-polls without holding an MHD thread: with
 * nothing to return and a wait, it parks the request (request_wait), and a
 * send to the queue wakes it (request_wake). A batch runs the single-message operation on each
 * entry, with errors captured per entry; a RedrivePolicy moves a message that was received
 * maxReceiveCount times to its dead-letter queue on the next receive. Tags are rows of the shared
 * tags table under the queue's ARN. AddPermission and RemovePermission edit the stored Policy
 * (never enforced). Not here: FIFO queues (refused with UnsupportedOperation). */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "core/ids.h"
#include "core/jsonprint.h"
#include "core/paging.h"
#include "core/sqs.h"
#include "core/sts.h"
#include "core/utf8.h"
#include "server/api.h"
#include "server/query.h"
#include "server/xml.h"
#include "store/iot/store_tags.h"
#include "store/sqs/store_sqs.h"

#define SQS_XMLNS        "http://queue.amazonaws.com/doc/2012-11-05/"
#define SQS_JSON_TYPE    "application/x-amz-json-1.0"
#define SQS_LIST_SCOPE   "sqs-list-queues"
#define SQS_MAX_ATTRS    10
#define SQS_HANDLE_PFX   "AQEB"
#define SQS_URL_MAX      512
#define SQS_LIST_DEFAULT 1000
#define SQS_MAX_TAGS     50

/* ---- errors ---- */

enum sqs_errno {
    E_NO_QUEUE,
    E_EXISTS,
    E_ATTR_NAME,
    E_ATTR_VALUE,
    E_PARAM,
    E_MISSING,
    E_ACTION,
    E_CONTENTS,
    E_HANDLE,
    E_EMPTY_BATCH,
    E_TOO_MANY,
    E_BAD_ID,
    E_DUP_ID,
    E_TOO_LONG,
    E_OVER_LIMIT,
    E_INTERNAL,
};

/* Each error in both forms: the query Code and the JSON __type. */
static const struct sqs_error {
    unsigned status;
    const char *code;
    const char *type;
} sqs_errors[] = {
    [E_NO_QUEUE] = { 400, "AWS.SimpleQueueService.NonExistentQueue",
                     "com.amazonaws.sqs#QueueDoesNotExist" },
    [E_EXISTS] = { 400, "QueueAlreadyExists", "com.amazonaws.sqs#QueueNameExists" },
    [E_ATTR_NAME] = { 400, "InvalidAttributeName", "com.amazonaws.sqs#InvalidAttributeName" },
    [E_ATTR_VALUE] = { 400, "InvalidAttributeValue", "com.amazonaws.sqs#InvalidAttributeValue" },
    [E_PARAM] = { 400, "InvalidParameterValue",
                  "com.amazon.coral.service#InvalidParameterValueException" },
    [E_MISSING] = { 400, "MissingParameter",
                    "com.amazon.coral.service#MissingRequiredParameterException" },
    [E_ACTION] = { 400, "InvalidAction", "com.amazon.coral.service#UnknownOperationException" },
    [E_CONTENTS] = { 400, "InvalidMessageContents", "com.amazonaws.sqs#InvalidMessageContents" },
    [E_HANDLE] = { 400, "ReceiptHandleIsInvalid", "com.amazonaws.sqs#ReceiptHandleIsInvalid" },
    [E_EMPTY_BATCH] = { 400, "AWS.SimpleQueueService.EmptyBatchRequest",
                        "com.amazonaws.sqs#EmptyBatchRequest" },
    [E_TOO_MANY] = { 400, "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
                     "com.amazonaws.sqs#TooManyEntriesInBatchRequest" },
    [E_BAD_ID] = { 400, "AWS.SimpleQueueService.InvalidBatchEntryId",
                   "com.amazonaws.sqs#InvalidBatchEntryId" },
    [E_DUP_ID] = { 400, "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
                   "com.amazonaws.sqs#BatchEntryIdsNotDistinct" },
    [E_TOO_LONG] = { 400, "AWS.SimpleQueueService.BatchRequestTooLong",
                     "com.amazonaws.sqs#BatchRequestTooLong" },
    [E_OVER_LIMIT] = { 403, "OverLimit", "com.amazonaws.sqs#OverLimit" },
    [E_INTERNAL] = { 500, "InternalError", "com.amazon.coral.service#InternalFailure" },
};

/* An error a batch entry failed with, instead of the answer. */
struct sqs_capture {
    const struct sqs_error *error; /* NULL: none */
    char message[600];
};

/* One SQS call in either protocol. */
struct sqs_call {
    struct request *req;         /* borrowed */
    struct response *res;        /* borrowed */
    bool json;                   /* the JSON protocol */
    const char *op;              /* borrowed: the operation name */
    cJSON *in;                   /* owned: the input in JSON-protocol shape */
    cJSON *out;                  /* owned: the output in JSON-protocol shape */
    struct store *s;             /* borrowed: this thread's partition store */
    int64_t now;                 /* emulated ms */
    struct sqs_capture *capture; /* borrowed: a batch entry's; NULL answers errors */
};

/* What fail() returns: the answer is already in c->res. */
#define SQS_ANSWERED DD_ERR_INVALID

static void json_error(struct response *res, const struct sqs_error *e, const char *message)
{
    char header[160], request_id[IDS_UUID_SIZE];
    cJSON *o = cJSON_CreateObject();
    char *body = NULL;

    if (o && cJSON_AddStringToObject(o, "__type", e->type) &&
        cJSON_AddStringToObject(o, "message", message))
        body = jsonprint(o);
    cJSON_Delete(o);
    if (body)
        response_take_body(res, e->status, SQS_JSON_TYPE, body, strlen(body));
    else
        res->status = e->status;
    snprintf(header, sizeof(header), "%s;%s", e->code, e->status >= 500 ? "Receiver" : "Sender");
    response_header(res, "x-amzn-query-error", header);
    response_header(res, "X-Amzn-ErrorType", e->type);
    if (!ids_uuid(request_id))
        response_header(res, "x-amzn-RequestId", request_id);
}

/* Answer c with error e and the message fmt formats. Returns
 * SQS_ANSWERED, for `return fail(...)`. */
static int fail(struct sqs_call *c, enum sqs_errno e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct sqs_call *c, enum sqs_errno e, const char *fmt, ...)
{
    char msg[600];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (c->capture) {
        c->capture->error = &sqs_errors[e];
        snprintf(c->capture->message, sizeof(c->capture->message), "%s", msg);
    } else if (c->json)
        json_error(c->res, &sqs_errors[e], msg);
    else
        xml_error_response(c->res, SQS_XMLNS, sqs_errors[e].status, sqs_errors[e].code, msg);
    return SQS_ANSWERED;
}

static int fail_no_queue(struct sqs_call *c)
{
    return fail(c, E_NO_QUEUE, "%s",
                c->json ? "The specified queue does not exist."
                        : "The specified queue does not exist for this wsdl version.");
}

static int fail_missing(struct sqs_call *c, const char *name)
{
    return fail(c, E_MISSING, "The request must contain the parameter %s.", name);
}

/* ---- input ---- */

/* A string member of the input, or NULL. */
static const char *in_str(struct sqs_call *c, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->in, name);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* An integer member (a JSON number, or a decimal string as the query
 * protocol sends it) within [min, max] into *out, dflt when absent. An
 * out-of-range value is InvalidParameterValue with reason. */
static int in_int(struct sqs_call *c, const char *name, long long min, long long max,
                  long long dflt, const char *reason, long long *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->in, name);
    long long n = dflt;
    char text[40] = "";

    *out = dflt;
    if (!v)
        return DD_OK;
    if (cJSON_IsNumber(v)) {
        n = (long long)v->valuedouble;
        snprintf(text, sizeof(text), "%lld", n);
        if ((double)n != v->valuedouble)
            n = min - 1;
    } else if (cJSON_IsString(v)) {
        snprintf(text, sizeof(text), "%.32s", v->valuestring);
        if (!request_parse_long(v->valuestring, &n))
            n = min - 1;
    } else {
        n = min - 1;
    }
    if (n < min || n > max)
        return fail(c, E_PARAM, "Value %s for parameter %s is invalid. Reason: %s", text, name,
                    reason);
    *out = n;
    return DD_OK;
}

/* Query protocol: the flattened maps (Prefix.N.<key>/<value>) and lists
 * (Prefix.N) of SQS's requests, and the member each becomes. */
static const struct {
    const char *prefix, *member, *key, *value;
} query_maps[] = {
    { "Attribute", "Attributes", "Name", "Value" },
    { "Tag", "tags", "Key", "Value" },
    { "MessageAttribute", "MessageAttributes", "Name", NULL },
    { "MessageSystemAttribute", "MessageSystemAttributes", "Name", NULL },
};

static const struct {
    const char *prefix, *member;
} query_lists[] = {
    { "AttributeName", "AttributeNames" },
    { "MessageSystemAttributeName", "MessageSystemAttributeNames" },
    { "MessageAttributeName", "MessageAttributeNames" },
    { "TagKey", "TagKeys" },
    { "AWSAccountId", "AWSAccountIds" },
    { "ActionName", "Actions" },
};

/* The scalar parameters of the operations here (literals, as a GET's
 * query string is read by name). */
static const char *const query_scalars[] = {
    "QueueName",
    "QueueUrl",
    "QueueOwnerAWSAccountId",
    "QueueNamePrefix",
    "MaxResults",
    "NextToken",
    "MessageBody",
    "DelaySeconds",
    "ReceiptHandle",
    "VisibilityTimeout",
    "MaxNumberOfMessages",
    "WaitTimeSeconds",
    "MessageGroupId",
    "MessageDeduplicationId",
    "ReceiveRequestAttemptId",
    "Label",
};

/* A message attribute's value members in the query protocol. */
static const char *const query_value_members[] = { "DataType", "StringValue", "BinaryValue" };

/* Add the Prefix.N.Value.* members of a message attribute to entry. */
static int query_msg_value(struct query_form *f, const char *base, cJSON *entry)
{
    char name[160];
    size_t i;

    for (i = 0; i < sizeof(query_value_members) / sizeof(query_value_members[0]); i++) {
        const char *v;

        snprintf(name, sizeof(name), "%s.Value.%s", base, query_value_members[i]);
        v = query_form_get(f, name);
        if (v && !cJSON_AddStringToObject(entry, query_value_members[i], v))
            return DD_ERR_NOMEM;
    }
    return DD_OK;
}

/* The batch entry lists of the query protocol; each becomes Entries. */
static const char *const query_entries[] = {
    "SendMessageBatchRequestEntry",
    "DeleteMessageBatchRequestEntry",
    "ChangeMessageVisibilityBatchRequestEntry",
};

/* The form field pre + name (pre "" or a batch entry's "Entry.N."). */
static const char *form_get(struct query_form *f, const char *pre, const char *name)
{
    char full[128];

    if (!pre[0])
        return query_form_get(f, name); /* name is a literal: GET reads it too */
    snprintf(full, sizeof(full), "%s%s", pre, name);
    return query_form_get(f, full);
}

/* Add the fields under pre to in: scalars, lists and maps. */
static int query_fields(struct query_form *f, const char *pre, cJSON *in)
{
    char name[128], base[96];
    size_t i;
    int n;

    for (i = 0; i < sizeof(query_scalars) / sizeof(query_scalars[0]); i++) {
        const char *v = form_get(f, pre, query_scalars[i]);

        if (v && !cJSON_AddStringToObject(in, query_scalars[i], v))
            return DD_ERR_NOMEM;
    }
    /* GET query strings are read by literal names only: no lists or maps. */
    for (i = 0; !f->from_query && i < sizeof(query_lists) / sizeof(query_lists[0]); i++) {
        cJSON *arr = NULL;
        const char *v;

        for (n = 1; snprintf(name, sizeof(name), "%s%s.%d", pre, query_lists[i].prefix, n),
            (v = query_form_get(f, name)) != NULL;
             n++) {
            if (!arr && !(arr = cJSON_AddArrayToObject(in, query_lists[i].member)))
                return DD_ERR_NOMEM;
            if (!cJSON_AddItemToArray(arr, cJSON_CreateString(v)))
                return DD_ERR_NOMEM;
        }
    }
    for (i = 0; !f->from_query && i < sizeof(query_maps) / sizeof(query_maps[0]); i++) {
        cJSON *map = NULL;
        const char *k;

        for (n = 1; snprintf(base, sizeof(base), "%s%s.%d", pre, query_maps[i].prefix, n),
            snprintf(name, sizeof(name), "%s.%s", base, query_maps[i].key),
            (k = query_form_get(f, name)) != NULL;
             n++) {
            if (!map && !(map = cJSON_AddObjectToObject(in, query_maps[i].member)))
                return DD_ERR_NOMEM;
            if (query_maps[i].value) {
                const char *v;

                snprintf(name, sizeof(name), "%s.%s", base, query_maps[i].value);
                v = query_form_get(f, name);
                if (!cJSON_AddStringToObject(map, k, v ? v : ""))
                    return DD_ERR_NOMEM;
            } else {
                cJSON *entry = cJSON_AddObjectToObject(map, k);

                if (!entry || query_msg_value(f, base, entry))
                    return DD_ERR_NOMEM;
            }
        }
    }
    return DD_OK;
}

/* Build the JSON input a query form stands for into *out (new; the caller
 * deletes it): the top-level fields, and each batch entry (Entry.N.Id ...)
 * as an object of Entries. DD_ERR_NOMEM. */
static int query_input(struct query_form *f, cJSON **out)
{
    cJSON *in = cJSON_CreateObject(), *entries = NULL, *entry;
    char pre[64], name[96];
    size_t i;
    int n, rc;

    *out = NULL;
    if (!in)
        return DD_ERR_NOMEM;
    rc = query_fields(f, "", in);
    for (i = 0; !rc && !f->from_query && i < sizeof(query_entries) / sizeof(query_entries[0]);
         i++) {
        for (n = 1; !rc && (snprintf(pre, sizeof(pre), "%s.%d.", query_entries[i], n),
                            snprintf(name, sizeof(name), "%sId", pre), query_form_get(f, name));
             n++) {
            if (!entries && !(entries = cJSON_AddArrayToObject(in, "Entries")))
                rc = DD_ERR_NOMEM;
            entry = rc ? NULL : cJSON_CreateObject();
            if (!rc && !cJSON_AddItemToArray(entries, entry)) {
                cJSON_Delete(entry);
                rc = DD_ERR_NOMEM;
            }
            if (!rc && !cJSON_AddStringToObject(entry, "Id", query_form_get(f, name)))
                rc = DD_ERR_NOMEM;
            if (!rc)
                rc = query_fields(f, pre, entry);
        }
    }
    if (rc) {
        cJSON_Delete(in);
        return rc;
    }
    *out = in;
    return DD_OK;
}

/* ---- queues ---- */

/* The queue name a QueueUrl (or a bare name) stands for into name;
 * false when it names no queue of the caller's account. Any scheme and
 * host: only the path counts. */
static bool url_queue_name(struct sqs_call *c, const char *url, char *name, size_t size)
{
    const char *last = strrchr(url, '/');
    const char *account_end, *account;

    if (!last) {
        snprintf(name, size, "%s", url);
        return url[0] != '\0';
    }
    snprintf(name, size, "%s", last + 1);
    account_end = last;
    account = account_end;
    while (account > url && account[-1] != '/')
        account--;
    if (account_end - account == 12 &&
        strncmp(account, c->req->account, 12) != 0) /* another account's queue */
        return false;
    return name[0] != '\0';
}

/* The queue the input's QueueUrl names into *q (clean it up). */
static int find_queue(struct sqs_call *c, struct store_sqs_queue *q)
{
    const char *url = in_str(c, "QueueUrl");
    char name[SQS_NAME_MAX + 2];
    int rc;

    memset(q, 0, sizeof(*q));
    if (!url)
        return fail_missing(c, "QueueUrl");
    if (!url_queue_name(c, url, name, sizeof(name)) || strlen(name) > SQS_NAME_MAX)
        return fail_no_queue(c);
    rc = store_sqs_queue_get(c->s, name, q);
    return rc == DD_ERR_NOT_FOUND ? fail_no_queue(c) : rc;
}

static void queue_url(struct sqs_call *c, const char *name, char *buf, size_t size)
{
    const char *host = request_header(c->req, "Host");

    snprintf(buf, size, "http://%s/%s/%s", host && host[0] ? host : "localhost:4566",
             c->req->account, name);
}

static void queue_arn(struct sqs_call *c, const char *name, char *buf, size_t size)
{
    snprintf(buf, size, "arn:%s:sqs:%s:%s:%s", sts_partition(c->req->region), c->req->region,
             c->req->account, name);
}

static int add_url(struct sqs_call *c, cJSON *to, const char *name)
{
    char url[SQS_URL_MAX];

    queue_url(c, name, url, sizeof(url));
    if (cJSON_IsArray(to))
        return cJSON_AddItemToArray(to, cJSON_CreateString(url)) ? DD_OK : DD_ERR_NOMEM;
    return cJSON_AddStringToObject(to, "QueueUrl", url) ? DD_OK : DD_ERR_NOMEM;
}

/* The queue of this partition an ARN names into *q (clean it up);
 * DD_ERR_NOT_FOUND when it names none. */
static int queue_by_arn(struct sqs_call *c, const char *arn, struct store_sqs_queue *q)
{
    char want[SQS_URL_MAX];
    const char *name = strrchr(arn, ':');

    memset(q, 0, sizeof(*q));
    if (!name || strlen(name + 1) > SQS_NAME_MAX)
        return DD_ERR_NOT_FOUND;
    queue_arn(c, name + 1, want, sizeof(want));
    if (strcmp(want, arn) != 0) /* another partition, account or service */
        return DD_ERR_NOT_FOUND;
    return store_sqs_queue_get(c->s, name + 1, q);
}

/* Whether a queue's attributes (stored, or given to CreateQueue) make it
 * a FIFO queue. */
static bool queue_is_fifo(const cJSON *attrs)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(attrs, "FifoQueue");

    return cJSON_IsString(v) && strcmp(v->valuestring, "true") == 0;
}

/* Check a RedrivePolicy value: its shape, and that its dead-letter queue
 * exists. */
static int check_redrive(struct sqs_call *c, const char *text)
{
    struct dd_errbuf eb = { 0 };
    struct store_sqs_queue dlq;
    struct sqs_redrive r;
    int rc;

    if (sqs_redrive_parse(text, strlen(text), &r, &eb))
        return fail(c, E_PARAM, "%s", eb.msg);
    rc = queue_by_arn(c, r.arn, &dlq);
    store_sqs_queue_cleanup(&dlq);
    if (rc == DD_ERR_NOT_FOUND)
        return fail(c, E_NO_QUEUE, "Could not find DLQ for %s", r.arn);
    return rc;
}

/* Check the input's Attributes map for a create or a set on a queue (a
 * FIFO queue when fifo): every name settable there, every value in range. */
static int check_attributes(struct sqs_call *c, const cJSON *attrs, bool fifo)
{
    const cJSON *kms = cJSON_GetObjectItemCaseSensitive(attrs, "KmsMasterKeyId");
    const cJSON *sse = cJSON_GetObjectItemCaseSensitive(attrs, "SqsManagedSseEnabled");
    struct dd_errbuf eb = { 0 };
    const cJSON *a;
    int rc;

    if (cJSON_IsString(kms) && kms->valuestring[0] && cJSON_IsString(sse) &&
        strcmp(sse->valuestring, "true") == 0)
        return fail(c, E_ATTR_NAME,
                    "You can use one type of server-side encryption (SSE) at one time. You can "
                    "either enable KMS SSE or SQS SSE.");

    cJSON_ArrayForEach(a, attrs)
    {
        if (!cJSON_IsString(a))
            return fail(c, E_ATTR_VALUE, "Invalid value for the parameter %.128s.", a->string);
        rc = sqs_attr_check(a->string, a->valuestring, fifo, &eb);
        if (rc == DD_ERR_NOT_FOUND)
            return fail(c, E_ATTR_NAME, "%s", eb.msg);
        if (rc)
            return fail(c, E_ATTR_VALUE, "%s", eb.msg);
        if (strcmp(a->string, "RedrivePolicy") == 0 && a->valuestring[0]) {
            rc = check_redrive(c, a->valuestring);
            if (rc)
                return rc;
        }
    }
    return DD_OK;
}

/* The value attribute a (checked) is stored as: its text, but a
 * RedrivePolicy as AWS shows it back (maxReceiveCount a number), in text
 * (size bytes). Borrowed from a or text. */
static const char *stored_value(const cJSON *a, char *text, size_t size)
{
    struct dd_errbuf eb = { 0 };
    struct sqs_redrive r;

    if (strcmp(a->string, "RedrivePolicy") != 0 ||
        sqs_redrive_parse(a->valuestring, strlen(a->valuestring), &r, &eb))
        return a->valuestring;
    snprintf(text, size, "{\"deadLetterTargetArn\":\"%s\",\"maxReceiveCount\":%lld}", r.arn,
             r.max_receives);
    return text;
}

/* Set the given attributes into stored (a queue's attribute object); ""
 * removes an attribute without a default (Policy). A KMS key turns
 * SQS-managed encryption off unless the request says otherwise
 * (check_attributes refuses both on). */
static int merge_attributes(cJSON *stored, const cJSON *given)
{
    const cJSON *kms = cJSON_GetObjectItemCaseSensitive(given, "KmsMasterKeyId");
    const cJSON *a;
    char text[400];

    if (cJSON_IsString(kms) && kms->valuestring[0] &&
        !cJSON_GetObjectItemCaseSensitive(given, "SqsManagedSseEnabled")) {
        cJSON_DeleteItemFromObjectCaseSensitive(stored, "SqsManagedSseEnabled");
        if (!cJSON_AddStringToObject(stored, "SqsManagedSseEnabled", "false"))
            return DD_ERR_NOMEM;
    }

    cJSON_ArrayForEach(a, given)
    {
        const struct sqs_attr_rule *r = sqs_attr_rule_find(a->string);

        cJSON_DeleteItemFromObjectCaseSensitive(stored, a->string);
        if (a->valuestring[0] == '\0' && r && !r->dflt)
            continue;
        if (!cJSON_AddStringToObject(stored, a->string, stored_value(a, text, sizeof(text))))
            return DD_ERR_NOMEM;
    }
    return DD_OK;
}

static int read_tags(struct sqs_call *c, const char *queue, struct tags_pair *out, size_t *n);
static int set_tags(struct sqs_call *c, const char *name, const struct tags_pair *tags, size_t n);

static int op_create_queue(struct sqs_call *c)
{
    struct tags_pair tags[SQS_MAX_TAGS + 1];
    size_t n_tags;
    const char *name = in_str(c, "QueueName");
    const cJSON *given = cJSON_GetObjectItemCaseSensitive(c->in, "Attributes"), *a;
    struct store_sqs_queue q = { 0 };
    const struct sqs_attr_rule *rules;
    cJSON *attrs = NULL, *stored = NULL;
    char *text = NULL;
    size_t i, n_rules;
    bool fifo;
    int rc;

    if (!name)
        return fail_missing(c, "QueueName");
    fifo = queue_is_fifo(given);
    if (fifo && !sqs_fifo_name_valid(name))
        return fail(c, E_PARAM,
                    "The name of a FIFO queue can only include alphanumeric characters, "
                    "hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in "
                    "length.");
    if (!fifo && !sqs_queue_name_valid(name))
        return fail(c, E_PARAM,
                    "Can only include alphanumeric characters, hyphens, or "
                    "underscores. 1 to 80 in length");
    rc = check_attributes(c, given, fifo);
    if (!rc)
        rc = read_tags(c, name, tags, &n_tags);
    if (rc)
        return rc;
    rc = store_sqs_queue_get(c->s, name, &q);
    if (rc == DD_OK) { /* idempotent when every given attribute matches */
        stored = cJSON_Parse(q.attributes);
        cJSON_ArrayForEach(a, given)
        {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(stored, a->string);
            char want[400];

            if (strcmp(cJSON_IsString(v) ? v->valuestring : "",
                       stored_value(a, want, sizeof(want))) != 0) {
                rc = fail(c, E_EXISTS,
                          "A queue already exists with the same name and a different value "
                          "for attribute %.128s",
                          a->string);
                goto out;
            }
        }
        rc = add_url(c, c->out, name);
        goto out;
    }
    if (rc != DD_ERR_NOT_FOUND)
        goto out;
    attrs = cJSON_CreateObject();
    rc = attrs ? DD_OK : DD_ERR_NOMEM;
    rules = sqs_attr_rules(&n_rules);
    for (i = 0; !rc && i < n_rules; i++)
        if (rules[i].dflt && (fifo || !rules[i].fifo) &&
            !cJSON_AddStringToObject(attrs, rules[i].name, rules[i].dflt))
            rc = DD_ERR_NOMEM;
    if (!rc)
        rc = merge_attributes(attrs, given);
    if (!rc && !(text = jsonprint(attrs)))
        rc = DD_ERR_NOMEM;
    if (!rc)
        rc = store_sqs_queue_create(c->s, name, text, c->now);
    if (!rc)
        rc = set_tags(c, name, tags, n_tags);
    if (rc == DD_ERR_EXISTS) /* created meanwhile by another request */
        rc = DD_OK;
    if (!rc)
        rc = add_url(c, c->out, name);
out:
    cJSON_free(text);
    cJSON_Delete(attrs);
    cJSON_Delete(stored);
    store_sqs_queue_cleanup(&q);
    return rc;
}

static int op_get_queue_url(struct sqs_call *c)
{
    const char *name = in_str(c, "QueueName");
    const char *owner = in_str(c, "QueueOwnerAWSAccountId");
    struct store_sqs_queue q;
    int rc;

    if (!name)
        return fail_missing(c, "QueueName");
    if (owner && strcmp(owner, c->req->account) != 0)
        return fail_no_queue(c);
    rc = store_sqs_queue_get(c->s, name, &q);
    if (rc == DD_ERR_NOT_FOUND)
        return fail_no_queue(c);
    if (!rc)
        rc = add_url(c, c->out, name);
    store_sqs_queue_cleanup(&q);
    return rc;
}

/* A page of queue URLs under member: ListQueues's (dlq_arn NULL, by
 * QueueNamePrefix) or ListDeadLetterSourceQueues's (the queues whose
 * dead-letter queue is dlq_arn). */
static int list_urls(struct sqs_call *c, const char *member, const char *dlq_arn)
{
    const char *prefix = in_str(c, "QueueNamePrefix");
    const char *token = in_str(c, "NextToken");
    struct store_names l = { 0 };
    struct paging_pos pos = { 0 };
    struct dd_errbuf eb = { 0 };
    char next[PAGING_KEY_MAX * 2];
    long long max;
    cJSON *urls;
    size_t i;
    int rc;

    rc = in_int(c, "MaxResults", 1, 1000, 0, "Must be between 1 and 1000, if provided.", &max);
    if (rc)
        return rc;
    if (token && paging_decode(SQS_LIST_SCOPE, "NextToken", token, &pos, &eb))
        return fail(c, E_PARAM, "Invalid NextToken value.");
    if (dlq_arn)
        rc = store_sqs_dead_letter_sources(c->s, dlq_arn, pos.key,
                                           max ? (size_t)max : SQS_LIST_DEFAULT, &l);
    else
        rc = store_sqs_queue_list(c->s, prefix ? prefix : "", pos.key,
                                  max ? (size_t)max : SQS_LIST_DEFAULT, &l);
    if (rc)
        return rc;
    if (l.n) {
        urls = cJSON_AddArrayToObject(c->out, member);
        rc = urls ? DD_OK : DD_ERR_NOMEM;
        for (i = 0; !rc && i < l.n; i++)
            rc = add_url(c, urls, l.names[i]);
    }
    if (!rc && l.more && max) { /* AWS pages only when MaxResults is given */
        rc = paging_encode_key(SQS_LIST_SCOPE, l.names[l.n - 1], strlen(l.names[l.n - 1]), next,
                               sizeof(next), &eb);
        if (!rc && !cJSON_AddStringToObject(c->out, "NextToken", next))
            rc = DD_ERR_NOMEM;
    }
    store_names_cleanup(&l);
    return rc;
}

static int op_list_queues(struct sqs_call *c)
{
    return list_urls(c, "QueueUrls", NULL);
}

static int op_list_dead_letter_source_queues(struct sqs_call *c)
{
    struct store_sqs_queue q;
    char arn[SQS_URL_MAX];
    int rc;

    rc = find_queue(c, &q);
    if (!rc) {
        queue_arn(c, q.name, arn, sizeof(arn));
        rc = list_urls(c, "queueUrls", arn);
    }
    store_sqs_queue_cleanup(&q);
    return rc;
}

static int op_delete_queue(struct sqs_call *c)
{
    const char *url = in_str(c, "QueueUrl");
    char name[SQS_NAME_MAX + 2];
    int rc;

    if (!url)
        return fail_missing(c, "QueueUrl");
    if (!url_queue_name(c, url, name, sizeof(name)))
        return fail_no_queue(c);
    rc = store_sqs_queue_delete(c->s, name);
    return rc == DD_ERR_NOT_FOUND ? fail_no_queue(c) : rc;
}

/* Whether list (a JSON array of strings) holds s. */
static bool list_has(const cJSON *list, const char *s)
{
    const cJSON *v;

    cJSON_ArrayForEach(v, list)
    {
        if (cJSON_IsString(v) && strcmp(v->valuestring, s) == 0)
            return true;
    }
    return false;
}

/* A queue's settable attribute as a number (its default when unreadable). */
static long long queue_attr_int(const cJSON *attrs, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(attrs, name);
    const struct sqs_attr_rule *r = sqs_attr_rule_find(name);

    return atoll(cJSON_IsString(v) ? v->valuestring : r->dflt);
}

static int add_number(cJSON *o, const char *name, long long v)
{
    char text[32];

    snprintf(text, sizeof(text), "%lld", v);
    return cJSON_AddStringToObject(o, name, text) ? DD_OK : DD_ERR_NOMEM;
}

static int op_get_queue_attributes(struct sqs_call *c)
{
    const cJSON *names = cJSON_GetObjectItemCaseSensitive(c->in, "AttributeNames"), *v;
    struct store_sqs_queue q;
    int64_t visible, in_flight, delayed;
    cJSON *stored = NULL, *out = NULL;
    char arn[SQS_URL_MAX];
    bool all;
    int rc;

    cJSON_ArrayForEach(v, names)
    {
        if (!cJSON_IsString(v) || !sqs_attr_readable(v->valuestring))
            return fail(c, E_ATTR_NAME, "Unknown Attribute %.128s.",
                        cJSON_IsString(v) ? v->valuestring : "");
    }
    rc = find_queue(c, &q);
    if (rc || cJSON_GetArraySize(names) == 0)
        goto out;
    all = list_has(names, "All");
    stored = cJSON_Parse(q.attributes);
    out = cJSON_CreateObject();
    if (!stored || !out) {
        rc = DD_ERR_NOMEM;
        goto out;
    }
    cJSON_ArrayForEach(v, stored)
    {
        if ((all || list_has(names, v->string)) && cJSON_IsString(v) &&
            !cJSON_AddStringToObject(out, v->string, v->valuestring))
            rc = DD_ERR_NOMEM;
    }
    if (!rc)
        rc = store_sqs_counts(c->s, q.id, c->now, &visible, &in_flight, &delayed);
    queue_arn(c, q.name, arn, sizeof(arn));
#define WANT(n) (all || list_has(names, n))
    if (!rc && WANT("ApproximateNumberOfMessages"))
        rc = add_number(out, "ApproximateNumberOfMessages", visible);
    if (!rc && WANT("ApproximateNumberOfMessagesNotVisible"))
        rc = add_number(out, "ApproximateNumberOfMessagesNotVisible", in_flight);
    if (!rc && WANT("ApproximateNumberOfMessagesDelayed"))
        rc = add_number(out, "ApproximateNumberOfMessagesDelayed", delayed);
    if (!rc && WANT("CreatedTimestamp"))
        rc = add_number(out, "CreatedTimestamp", q.created_ms / 1000);
    if (!rc && WANT("LastModifiedTimestamp"))
        rc = add_number(out, "LastModifiedTimestamp", q.modified_ms / 1000);
    if (!rc && WANT("QueueArn") && !cJSON_AddStringToObject(out, "QueueArn", arn))
        rc = DD_ERR_NOMEM;
#undef WANT
    if (!rc && cJSON_GetArraySize(out) > 0) {
        cJSON_AddItemToObject(c->out, "Attributes", out);
        out = NULL;
    }
out:
    cJSON_Delete(out);
    cJSON_Delete(stored);
    store_sqs_queue_cleanup(&q);
    return rc;
}

static int op_set_queue_attributes(struct sqs_call *c)
{
    const cJSON *given = cJSON_GetObjectItemCaseSensitive(c->in, "Attributes");
    struct store_sqs_queue q;
    cJSON *stored = NULL;
    char *text = NULL;
    int rc;

    rc = find_queue(c, &q);
    if (rc)
        goto out;
    stored = cJSON_Parse(q.attributes);
    rc = stored ? check_attributes(c, given, queue_is_fifo(stored)) : DD_ERR_NOMEM;
    if (!rc)
        rc = merge_attributes(stored, given);
    if (!rc && !(text = jsonprint(stored)))
        rc = DD_ERR_NOMEM;
    if (!rc)
        rc = store_sqs_queue_set(c->s, q.id, text, c->now);
    if (rc == DD_ERR_NOT_FOUND)
        rc = fail_no_queue(c);
out:
    cJSON_free(text);
    cJSON_Delete(stored);
    store_sqs_queue_cleanup(&q);
    return rc;
}

/* ---- messages ---- */

/* Message attributes ready for the digest, with the decoded binary values
 * they point into. */
struct msg_attrs {
    struct sqs_msg_attr a[SQS_MAX_ATTRS];
    unsigned char *bin[SQS_MAX_ATTRS]; /* owned */
    size_t n;
};

static void msg_attrs_cleanup(struct msg_attrs *m)
{
    size_t i;

    for (i = 0; i < SQS_MAX_ATTRS; i++)
        free(m->bin[i]);
    memset(m, 0, sizeof(*m));
}

/* Standard base64 text into a new buffer *out of *len bytes (free it).
 * DD_ERR_INVALID for text that is not base64, DD_ERR_NOMEM. */
static int b64_decode(const char *text, unsigned char **out, size_t *len)
{
    size_t n = strlen(text), pad = 0;
    unsigned char *buf;
    int got;

    *out = NULL;
    *len = 0;
    if (n % 4 != 0)
        return DD_ERR_INVALID;
    buf = malloc(n / 4 * 3 + 1);
    if (!buf)
        return DD_ERR_NOMEM;
    got = n ? EVP_DecodeBlock(buf, (const unsigned char *)text, (int)n) : 0;
    if (got < 0) {
        free(buf);
        return DD_ERR_INVALID;
    }
    while (pad < 2 && n > pad && text[n - 1 - pad] == '=')
        pad++;
    *out = buf;
    *len = (size_t)got - pad;
    return DD_OK;
}

/* Whether name passes a MessageAttributeNames filter: All, .* or * take
 * every name, "Pre.*" a prefix, anything else the exact name. */
static bool attr_wanted(const cJSON *filter, const char *name)
{
    const cJSON *f;

    cJSON_ArrayForEach(f, filter)
    {
        const char *p = cJSON_IsString(f) ? f->valuestring : "";
        size_t n = strlen(p);

        if (strcmp(p, "All") == 0 || strcmp(p, ".*") == 0 || strcmp(p, "*") == 0)
            return true;
        if (n > 2 && strcmp(p + n - 2, ".*") == 0 && strncmp(name, p, n - 2) == 0)
            return true;
        if (strcmp(p, name) == 0)
            return true;
    }
    return false;
}

/* Read a MessageAttributes map (JSON-protocol shape, borrowed: m points
 * into it) into m. filter NULL takes all and checks each as AWS does
 * (a send); else only those the filter wants (a receive, from our own
 * rows). */
static int msg_attrs_read(struct sqs_call *c, const cJSON *map, const cJSON *filter,
                          struct msg_attrs *m)
{
    struct dd_errbuf eb = { 0 };
    const cJSON *e;
    int rc;

    memset(m, 0, sizeof(*m));
    if (filter == NULL && cJSON_GetArraySize(map) > SQS_MAX_ATTRS)
        return fail(c, E_PARAM,
                    "Number of message attributes [%d] exceeds the allowed maximum [%d].",
                    cJSON_GetArraySize(map), SQS_MAX_ATTRS);
    cJSON_ArrayForEach(e, map)
    {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(e, "DataType");
        const cJSON *sv = cJSON_GetObjectItemCaseSensitive(e, "StringValue");
        const cJSON *bv = cJSON_GetObjectItemCaseSensitive(e, "BinaryValue");
        struct sqs_msg_attr *a = &m->a[m->n];

        if (m->n == SQS_MAX_ATTRS || (filter && !attr_wanted(filter, e->string)))
            continue;
        a->name = e->string;
        a->data_type = cJSON_IsString(type) ? type->valuestring : "";
        if (cJSON_IsString(bv)) {
            a->binary = true;
            rc = b64_decode(bv->valuestring, &m->bin[m->n], &a->value_len);
            if (rc == DD_ERR_INVALID)
                return fail(c, E_PARAM,
                            "The message attribute '%.256s' has an invalid binary "
                            "value.",
                            e->string);
            if (rc)
                return rc;
            a->value = m->bin[m->n];
        } else if (cJSON_IsString(sv)) {
            a->value = (const unsigned char *)sv->valuestring;
            a->value_len = strlen(sv->valuestring);
        } else {
            a->value = (const unsigned char *)"";
        }
        if (!filter && sqs_msg_attr_check(a, &eb))
            return fail(c, E_PARAM, "%s", eb.msg);
        m->n++;
    }
    return DD_OK;
}

/* Whether body holds only the characters SQS allows (#x9 #xA #xD, #x20 and
 * up, valid UTF-8). */
static bool body_valid(const char *body)
{
    const unsigned char *p;

    if (!utf8_valid(body, strlen(body)))
        return false;
    for (p = (const unsigned char *)body; *p; p++)
        if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
            return false;
    return true;
}

/* A FIFO queue's ids for a send: MessageGroupId, and
 * MessageDeduplicationId or the body's content-based id (into dedup) when
 * the queue (attributes stored) has ContentBasedDeduplication; into *f. */
static int fifo_ids(struct sqs_call *c, const cJSON *stored, const char *body,
                    char dedup[SQS_SHA256_HEX], struct store_sqs_extra *f)
{
    const cJSON *cbd = cJSON_GetObjectItemCaseSensitive(stored, "ContentBasedDeduplication");
    const cJSON *scope = cJSON_GetObjectItemCaseSensitive(stored, "DeduplicationScope");
    static const char *const names[] = { "MessageGroupId", "MessageDeduplicationId" };
    const char *given[2];
    size_t i;
    int rc;

    for (i = 0; i < 2; i++) {
        given[i] = in_str(c, names[i]);
        if (i == 0 && !given[i])
            return fail_missing(c, names[i]);
        if (given[i] && !sqs_fifo_id_valid(given[i]))
            return fail(c, E_PARAM,
                        "Value %.200s for parameter %s is invalid. Reason: %s can only include "
                        "alphanumeric and punctuation characters. 1 to 128 in length.",
                        given[i], names[i], names[i]);
    }
    if (!given[1] && !(cJSON_IsString(cbd) && strcmp(cbd->valuestring, "true") == 0))
        return fail(c, E_PARAM,
                    "The queue should either have ContentBasedDeduplication enabled or "
                    "MessageDeduplicationId provided explicitly");
    if (!given[1]) {
        rc = sqs_dedup_id(body, strlen(body), dedup);
        if (rc)
            return rc;
        given[1] = dedup;
    }
    f->group_id = given[0];
    f->dedup_id = given[1];
    f->dedup_scope =
        cJSON_IsString(scope) && strcmp(scope->valuestring, "messageGroup") == 0 ? given[0] : "";
    return DD_OK;
}

/* Check what a send to queue (its attributes stored) says about its type:
 * on a FIFO queue the ids (into *f, dedup its buffer) and no delay of its
 * own; on a standard queue no MessageDeduplicationId. */
static int check_queue_type(struct sqs_call *c, const cJSON *stored, const char *body,
                            char dedup[SQS_SHA256_HEX], struct store_sqs_extra *f)
{
    const char *dedup_id = in_str(c, "MessageDeduplicationId");
    long long delay;
    int rc;

    if (!queue_is_fifo(stored)) {
        if (dedup_id)
            return fail(c, E_PARAM,
                        "Value %.200s for parameter MessageDeduplicationId is invalid. Reason: "
                        "The request includes a parameter that is not valid for this queue "
                        "type.",
                        dedup_id);
        return DD_OK;
    }
    rc = in_int(c, "DelaySeconds", 0, 900, 0, "DelaySeconds must be >= 0 and <= 900.", &delay);
    if (!rc && delay != 0)
        rc = fail(c, E_PARAM,
                  "Value %lld for parameter DelaySeconds is invalid. Reason: The request include "
                  "parameter that is not valid for this queue type.",
                  delay);
    return rc ? rc : fifo_ids(c, stored, body, dedup, f);
}

/* The AWSTraceHeader a send carries, in MessageSystemAttributes (the only
 * system attribute there is; md5 gets its digest) or else the
 * X-Amzn-Trace-Id header (md5 ""), into *trace (borrowed; NULL when none). */
static int read_trace_header(struct sqs_call *c, const char **trace, char md5[SQS_MD5_HEX])
{
    const cJSON *map = cJSON_GetObjectItemCaseSensitive(c->in, "MessageSystemAttributes"), *e;
    struct sqs_msg_attr a = { "AWSTraceHeader", "String", NULL, 0, false };

    *trace = NULL;
    md5[0] = '\0';
    cJSON_ArrayForEach(e, map)
    {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(e, "DataType");
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, "StringValue");

        if (strcmp(e->string, "AWSTraceHeader") != 0)
            return fail(c, E_PARAM, "Message system attribute name '%.256s' is invalid.",
                        e->string);
        if (!cJSON_IsString(type) || strcmp(type->valuestring, "String") != 0 ||
            !cJSON_IsString(v) || !v->valuestring[0])
            return fail(c, E_PARAM,
                        "Message system attribute 'AWSTraceHeader' must contain a non-empty "
                        "value of type 'String'.");
        *trace = v->valuestring;
        a.value = (const unsigned char *)v->valuestring;
        a.value_len = strlen(v->valuestring);
        return sqs_md5_attributes(&a, 1, md5);
    }
    *trace = request_header(c->req, "X-Amzn-Trace-Id");
    return DD_OK;
}

static int op_send_message(struct sqs_call *c)
{
    const char *body = in_str(c, "MessageBody");
    const cJSON *map = cJSON_GetObjectItemCaseSensitive(c->in, "MessageAttributes");
    char md5_body[SQS_MD5_HEX], md5_attrs[SQS_MD5_HEX], id[IDS_UUID_SIZE];
    char dedup[SQS_SHA256_HEX], seq[SQS_SEQ_SIZE], md5_system[SQS_MD5_HEX];
    const char *answer_id = id;
    struct store_sqs_queue q;
    struct msg_attrs m = { 0 };
    struct store_sqs_send send = { 0 };
    struct store_sqs_extra f = { 0 };
    struct store_sqs_sent sent = { 0 };
    cJSON *stored = NULL;
    char *attrs_text = NULL;
    long long delay, max_size;
    size_t size, i;
    int rc;

    rc = find_queue(c, &q);
    if (rc)
        goto out;
    if (!body || !body[0]) {
        rc = fail_missing(c, "MessageBody");
        goto out;
    }
    if (!body_valid(body)) {
        rc = fail(c, E_CONTENTS,
                  "Invalid characters found. Valid unicode characters are #x9 | "
                  "#xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to "
                  "#x10FFFF");
        goto out;
    }
    stored = cJSON_Parse(q.attributes);
    if (!stored) {
        rc = DD_ERR_NOMEM;
        goto out;
    }
    rc = check_queue_type(c, stored, body, dedup, &f);
    if (!rc)
        rc = in_int(c, "DelaySeconds", 0, 900, queue_attr_int(stored, "DelaySeconds"),
                    "DelaySeconds must be >= 0 and <= 900.", &delay);
    if (!rc && f.group_id) /* a FIFO queue's own delay: 0 said "the queue's" */
        delay = queue_attr_int(stored, "DelaySeconds");
    if (!rc)
        rc = msg_attrs_read(c, map, NULL, &m);
    if (!rc)
        rc = read_trace_header(c, &f.trace_header, md5_system);
    if (rc)
        goto out;
    size = strlen(body);
    for (i = 0; i < m.n; i++)
        size += strlen(m.a[i].name) + strlen(m.a[i].data_type) + m.a[i].value_len;
    max_size = queue_attr_int(stored, "MaximumMessageSize");
    if ((long long)size > max_size) {
        rc = fail(c, E_PARAM,
                  "One or more parameters are invalid. Reason: Message must be shorter than "
                  "%lld bytes.",
                  max_size);
        goto out;
    }
    rc = sqs_md5_body(body, strlen(body), md5_body);
    if (!rc)
        rc = sqs_md5_attributes(m.a, m.n, md5_attrs);
    if (!rc && ids_uuid(id))
        rc = DD_ERR_INTERNAL;
    if (!rc && !(attrs_text = m.n ? jsonprint(map) : NULL) && m.n)
        rc = DD_ERR_NOMEM;
    if (rc)
        goto out;
    send.message_id = id;
    send.body = body;
    send.attributes_json = attrs_text ? attrs_text : "{}";
    send.md5_body = md5_body;
    send.md5_attributes = md5_attrs;
    send.sent_ms = c->now;
    send.visible_ms = c->now + delay * 1000;
    rc = store_sqs_send_extra(c->s, q.id, &send, &f, &sent);
    answer_id = sent.message_id; /* the first one's for a FIFO duplicate */
    sqs_sequence_number(sent.sequence, seq);
    if (!rc && delay == 0 && !sent.duplicate) {
        char arn[SQS_URL_MAX];

        queue_arn(c, q.name, arn, sizeof(arn));
        request_wake(c->req, arn); /* a receive waiting on the queue takes it now */
    }
    if (!rc && (!cJSON_AddStringToObject(c->out, "MD5OfMessageBody", md5_body) ||
                (m.n && !cJSON_AddStringToObject(c->out, "MD5OfMessageAttributes", md5_attrs)) ||
                (md5_system[0] &&
                 !cJSON_AddStringToObject(c->out, "MD5OfMessageSystemAttributes", md5_system)) ||
                !cJSON_AddStringToObject(c->out, "MessageId", answer_id) ||
                (f.group_id && !cJSON_AddStringToObject(c->out, "SequenceNumber", seq))))
        rc = DD_ERR_NOMEM;
out:
    cJSON_free(attrs_text);
    cJSON_Delete(stored);
    msg_attrs_cleanup(&m);
    store_sqs_queue_cleanup(&q);
    return rc;
}

/* The system attributes a receive asked for (AttributeNames and
 * MessageSystemAttributeNames together) of message r into msg. */
static int add_system_attributes(struct sqs_call *c, cJSON *msg, const struct store_sqs_message *r)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(c->in, "AttributeNames");
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(c->in, "MessageSystemAttributeNames");
    bool all = list_has(a, "All") || list_has(b, "All");
    cJSON *attrs = cJSON_CreateObject();
    int rc = attrs ? DD_OK : DD_ERR_NOMEM;

#define WANT(n) (all || list_has(a, n) || list_has(b, n))
    if (!rc && WANT("SenderId") && !cJSON_AddStringToObject(attrs, "SenderId", c->req->account))
        rc = DD_ERR_NOMEM;
    if (!rc && WANT("SentTimestamp"))
        rc = add_number(attrs, "SentTimestamp", r->sent_ms);
    if (!rc && WANT("ApproximateReceiveCount"))
        rc = add_number(attrs, "ApproximateReceiveCount", r->receive_count);
    if (!rc && WANT("ApproximateFirstReceiveTimestamp"))
        rc = add_number(attrs, "ApproximateFirstReceiveTimestamp", r->first_receive_ms);
    if (!rc && r->dlq_source[0] && WANT("DeadLetterQueueSourceArn") &&
        !cJSON_AddStringToObject(attrs, "DeadLetterQueueSourceArn", r->dlq_source))
        rc = DD_ERR_NOMEM;
    if (!rc && r->trace_header && WANT("AWSTraceHeader") &&
        !cJSON_AddStringToObject(attrs, "AWSTraceHeader", r->trace_header))
        rc = DD_ERR_NOMEM;
    if (!rc && r->group_id[0] && WANT("MessageGroupId") &&
        !cJSON_AddStringToObject(attrs, "MessageGroupId", r->group_id))
        rc = DD_ERR_NOMEM;
    if (!rc && r->dedup_id[0] && WANT("MessageDeduplicationId") &&
        !cJSON_AddStringToObject(attrs, "MessageDeduplicationId", r->dedup_id))
        rc = DD_ERR_NOMEM;
    if (!rc && r->sequence > 0 && WANT("SequenceNumber")) {
        char seq[SQS_SEQ_SIZE];

        sqs_sequence_number(r->sequence, seq);
        if (!cJSON_AddStringToObject(attrs, "SequenceNumber", seq))
            rc = DD_ERR_NOMEM;
    }
#undef WANT
    if (!rc && cJSON_GetArraySize(attrs) > 0) {
        cJSON_AddItemToObject(msg, "Attributes", attrs);
        attrs = NULL;
    }
    cJSON_Delete(attrs);
    return rc;
}

/* The MessageAttributes a receive asked for of message r, and their
 * digest, into msg. */
static int add_message_attributes(struct sqs_call *c, cJSON *msg, const struct store_sqs_message *r)
{
    const cJSON *filter = cJSON_GetObjectItemCaseSensitive(c->in, "MessageAttributeNames");
    cJSON *stored = NULL, *out = NULL;
    char md5[SQS_MD5_HEX];
    struct msg_attrs m;
    size_t i;
    int rc;

    if (cJSON_GetArraySize(filter) == 0)
        return DD_OK;
    stored = cJSON_Parse(r->attributes);
    if (!stored)
        return DD_ERR_NOMEM;
    rc = msg_attrs_read(c, stored, filter, &m);
    if (!rc && m.n)
        rc = sqs_md5_attributes(m.a, m.n, md5);
    if (!rc && m.n) {
        out = cJSON_AddObjectToObject(msg, "MessageAttributes");
        if (!out || !cJSON_AddStringToObject(msg, "MD5OfMessageAttributes", md5))
            rc = DD_ERR_NOMEM;
        for (i = 0; !rc && i < m.n; i++)
            if (!cJSON_AddItemToObject(
                    out, m.a[i].name,
                    cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(stored, m.a[i].name), 1)))
                rc = DD_ERR_NOMEM;
    }
    msg_attrs_cleanup(&m);
    cJSON_Delete(stored);
    return rc;
}

/* The options of a receive from queue q (whose attributes are stored):
 * its redrive policy's dead-letter queue when that queue still exists.
 * arn (size bytes) holds q's ARN, which opts borrows. */
static int receive_options(struct sqs_call *c, const struct store_sqs_queue *q, const cJSON *stored,
                           size_t max, long long visibility, char *arn, size_t size,
                           struct store_sqs_receive *opts)
{
    const cJSON *policy = cJSON_GetObjectItemCaseSensitive(stored, "RedrivePolicy");
    struct dd_errbuf eb = { 0 };
    struct store_sqs_queue dlq;
    struct sqs_redrive r;
    int rc;

    memset(opts, 0, sizeof(*opts));
    queue_arn(c, q->name, arn, size);
    opts->max = max;
    opts->visibility_ms = visibility * 1000;
    opts->retention_ms = queue_attr_int(stored, "MessageRetentionPeriod") * 1000;
    opts->source_arn = arn;
    opts->fifo = queue_is_fifo(stored);
    if (!cJSON_IsString(policy) ||
        sqs_redrive_parse(policy->valuestring, strlen(policy->valuestring), &r, &eb))
        return DD_OK;
    rc = queue_by_arn(c, r.arn, &dlq);
    if (!rc && dlq.id != q->id) {
        opts->max_receives = r.max_receives;
        opts->dlq_id = dlq.id;
    }
    store_sqs_queue_cleanup(&dlq);
    return rc == DD_ERR_NOT_FOUND ? DD_OK : rc;
}

static int op_receive_message(struct sqs_call *c)
{
    struct store_sqs_message *msgs = NULL;
    long long max, visibility, wait;
    struct store_sqs_receive opts;
    struct store_sqs_queue q;
    cJSON *stored = NULL, *list, *msg;
    char arn[SQS_URL_MAX];
    char handle[96];
    size_t i, n = 0;
    int rc;

    rc = in_int(c, "MaxNumberOfMessages", 1, 10, 1, "Must be between 1 and 10, if provided.", &max);
    if (!rc)
        rc = in_int(c, "WaitTimeSeconds", 0, 20, -1, "Must be >= 0 and <= 20, if provided.", &wait);
    if (!rc)
        rc = find_queue(c, &q);
    if (rc)
        return rc;
    stored = cJSON_Parse(q.attributes);
    rc = stored ? DD_OK : DD_ERR_NOMEM;
    if (!rc)
        rc = in_int(c, "VisibilityTimeout", 0, 43200, queue_attr_int(stored, "VisibilityTimeout"),
                    "Must be >= 0 and <= 43200, if provided.", &visibility);
    if (!rc)
        rc = receive_options(c, &q, stored, (size_t)max, visibility, arn, sizeof(arn), &opts);
    if (!rc)
        rc = store_sqs_receive(c->s, q.id, c->now, &opts, &msgs, &n);
    if (!rc && wait < 0)
        wait = queue_attr_int(stored, "ReceiveMessageWaitTimeSeconds");
    /* Nothing yet: wait (long polling) without holding this thread; the
     * request runs again from the start when woken (request_wait). */
    if (!rc && n == 0 && wait > 0 && request_wait(c->req, c->res, arn, wait * 1000, c->now))
        goto out;
    if (rc || n == 0)
        goto out;
    list = cJSON_AddArrayToObject(c->out, "Messages");
    rc = list ? DD_OK : DD_ERR_NOMEM;
    for (i = 0; !rc && i < n; i++) {
        snprintf(handle, sizeof(handle), SQS_HANDLE_PFX "%s.%lld", msgs[i].message_id,
                 (long long)msgs[i].receipt_serial);
        msg = cJSON_CreateObject();
        if (!msg || !cJSON_AddItemToArray(list, msg)) {
            cJSON_Delete(msg); /* still ours when the add failed */
            rc = DD_ERR_NOMEM;
            break;
        }
        if (!cJSON_AddStringToObject(msg, "MessageId", msgs[i].message_id) ||
            !cJSON_AddStringToObject(msg, "ReceiptHandle", handle) ||
            !cJSON_AddStringToObject(msg, "MD5OfBody", msgs[i].md5_body) ||
            !cJSON_AddStringToObject(msg, "Body", msgs[i].body)) {
            rc = DD_ERR_NOMEM;
            break;
        }
        rc = add_system_attributes(c, msg, &msgs[i]);
        if (!rc)
            rc = add_message_attributes(c, msg, &msgs[i]);
    }
out:
    store_sqs_messages_free(msgs, n);
    cJSON_Delete(stored);
    store_sqs_queue_cleanup(&q);
    return rc;
}

/* The message id a receipt handle of ours names into id; false for any
 * other text. */
static bool handle_message_id(const char *handle, char id[IDS_UUID_SIZE])
{
    size_t pfx = strlen(SQS_HANDLE_PFX);
    const char *p;

    if (strncmp(handle, SQS_HANDLE_PFX, pfx) != 0 || strlen(handle) < pfx + 38 ||
        handle[pfx + 36] != '.')
        return false;
    for (p = handle + pfx + 37; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    memcpy(id, handle + pfx, 36);
    id[36] = '\0';
    return true;
}

/* The input's ReceiptHandle as a message id, or an answered error. */
static int read_handle(struct sqs_call *c, const char **handle, char id[IDS_UUID_SIZE])
{
    *handle = in_str(c, "ReceiptHandle");
    if (!*handle)
        return fail_missing(c, "ReceiptHandle");
    if (!handle_message_id(*handle, id))
        return fail(c, E_HANDLE,
                    "The input receipt handle \"%.256s\" is not a valid receipt "
                    "handle.",
                    *handle);
    return DD_OK;
}

static int op_delete_message(struct sqs_call *c)
{
    struct store_sqs_queue q;
    char id[IDS_UUID_SIZE];
    const char *handle;
    int rc;

    rc = find_queue(c, &q);
    if (!rc)
        rc = read_handle(c, &handle, id);
    if (!rc)
        rc = store_sqs_message_delete(c->s, q.id, id);
    store_sqs_queue_cleanup(&q);
    return rc;
}

static int op_change_message_visibility(struct sqs_call *c)
{
    struct store_sqs_queue q;
    char id[IDS_UUID_SIZE];
    const char *handle;
    long long timeout;
    int rc;

    rc = find_queue(c, &q);
    if (!rc)
        rc = read_handle(c, &handle, id);
    if (!rc && !cJSON_GetObjectItemCaseSensitive(c->in, "VisibilityTimeout"))
        rc = fail_missing(c, "VisibilityTimeout");
    if (!rc)
        rc = in_int(c, "VisibilityTimeout", 0, 43200, 0,
                    "Total VisibilityTimeout for the message is beyond the limit [43200 seconds]",
                    &timeout);
    if (!rc)
        rc = store_sqs_message_visibility(c->s, q.id, id, c->now + timeout * 1000);
    if (rc == DD_ERR_NOT_FOUND)
        rc = fail(c, E_PARAM,
                  "Value %.256s for parameter ReceiptHandle is invalid. Reason: Message does not "
                  "exist or is not available for visibility timeout change.",
                  handle);
    store_sqs_queue_cleanup(&q);
    return rc;
}

static int op_purge_queue(struct sqs_call *c)
{
    struct store_sqs_queue q;
    int rc;

    rc = find_queue(c, &q);
    if (!rc)
        rc = store_sqs_purge(c->s, q.id);
    store_sqs_queue_cleanup(&q);
    return rc;
}

/* ---- batches ---- */

/* Bytes a SendMessageBatch entry counts toward the request's limit: its
 * body and its attributes' names, types and values. */
static size_t entry_size(const cJSON *e)
{
    const cJSON *body = cJSON_GetObjectItemCaseSensitive(e, "MessageBody"), *a, *v;
    size_t n = cJSON_IsString(body) ? strlen(body->valuestring) : 0;

    cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(e, "MessageAttributes"))
    {
        n += strlen(a->string);
        cJSON_ArrayForEach(v, a)
        {
            if (cJSON_IsString(v))
                n += strlen(v->valuestring);
        }
    }
    return n;
}

/* Check a batch's entries as a whole (count, ids, size when sized), in
 * AWS's order. entry_name names the entry type in AWS's message. */
static int check_batch(struct sqs_call *c, const cJSON *entries, const char *entry_name, bool sized)
{
    const cJSON *e, *other;
    int n = cJSON_GetArraySize(entries);
    size_t total = 0;

    if (n == 0)
        return fail(c, E_EMPTY_BATCH, "There should be at least one %s in the request.",
                    entry_name);
    if (n > SQS_MAX_ATTRS)
        return fail(c, E_TOO_MANY,
                    "Maximum number of entries per request are 10. You have sent %d.", n);
    cJSON_ArrayForEach(e, entries)
    {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "Id");

        if (!cJSON_IsString(id) || !sqs_queue_name_valid(id->valuestring))
            return fail(c, E_BAD_ID,
                        "A batch entry id can only contain alphanumeric "
                        "characters, hyphens and underscores. It can be at most "
                        "80 letters long.");
        for (other = entries->child; other != e; other = other->next)
            if (strcmp(cJSON_GetObjectItemCaseSensitive(other, "Id")->valuestring,
                       id->valuestring) == 0)
                return fail(c, E_DUP_ID, "Id %.80s repeated.", id->valuestring);
        if (sized)
            total += entry_size(e);
    }
    if (total > 1048576)
        return fail(c, E_TOO_LONG,
                    "Batch requests cannot be longer than 1048576 bytes. You have sent %zu "
                    "bytes.",
                    total);
    return DD_OK;
}

/* Add {Id, SenderFault, Code, Message} for a failed entry to failed. */
static int add_failure(cJSON *failed, const char *id, const struct sqs_capture *cap)
{
    cJSON *f = cJSON_CreateObject();

    if (!f || !cJSON_AddItemToArray(failed, f)) {
        cJSON_Delete(f);
        return DD_ERR_NOMEM;
    }
    return cJSON_AddStringToObject(f, "Id", id) &&
                   cJSON_AddBoolToObject(f, "SenderFault", cap->error->status < 500) &&
                   cJSON_AddStringToObject(f, "Code", cap->error->code) &&
                   cJSON_AddStringToObject(f, "Message", cap->message)
               ? DD_OK
               : DD_ERR_NOMEM;
}

/* Run fn, a single-message operation, on each entry of the batch: its
 * answer (with the entry's Id) goes to Successful, its error to Failed. */
static int run_batch(struct sqs_call *c, const char *entry_name, bool sized,
                     int (*fn)(struct sqs_call *c))
{
    cJSON *entries = cJSON_GetObjectItemCaseSensitive(c->in, "Entries"), *e;
    const char *url = in_str(c, "QueueUrl");
    struct store_sqs_queue q;
    cJSON *ok, *failed = NULL;
    int rc;

    rc = find_queue(c, &q);
    store_sqs_queue_cleanup(&q);
    if (!rc)
        rc = check_batch(c, entries, entry_name, sized);
    if (rc)
        return rc;
    ok = cJSON_AddArrayToObject(c->out, "Successful");
    if (!ok)
        return DD_ERR_NOMEM;
    cJSON_ArrayForEach(e, entries)
    {
        const char *id = cJSON_GetObjectItemCaseSensitive(e, "Id")->valuestring;
        struct sqs_capture cap = { 0 };
        struct sqs_call sub = *c;

        sub.in = e;
        sub.capture = &cap;
        sub.out = cJSON_CreateObject();
        cJSON_DeleteItemFromObjectCaseSensitive(e, "QueueUrl");
        if (!sub.out || !cJSON_AddStringToObject(e, "QueueUrl", url) ||
            !cJSON_AddStringToObject(sub.out, "Id", id)) {
            cJSON_Delete(sub.out);
            return DD_ERR_NOMEM;
        }
        rc = fn(&sub);
        if (rc == SQS_ANSWERED && cap.error) {
            cJSON_Delete(sub.out);
            if (!failed && !(failed = cJSON_AddArrayToObject(c->out, "Failed")))
                return DD_ERR_NOMEM;
            rc = add_failure(failed, id, &cap);
        } else if (!rc && !cJSON_AddItemToArray(ok, sub.out)) {
            cJSON_Delete(sub.out);
            rc = DD_ERR_NOMEM;
        } else if (rc) {
            cJSON_Delete(sub.out);
        }
        if (rc)
            return rc;
    }
    return DD_OK;
}

/* On a FIFO queue, entries without a MessageGroupId, or without a
 * deduplication id where the queue has no content-based one, fail the
 * whole batch as they would fail a SendMessage. */
static int check_fifo_batch(struct sqs_call *c)
{
    const cJSON *entries = cJSON_GetObjectItemCaseSensitive(c->in, "Entries"), *e, *cbd;
    struct store_sqs_queue q;
    cJSON *stored = NULL;
    int rc = find_queue(c, &q);

    if (!rc && !(stored = cJSON_Parse(q.attributes)))
        rc = DD_ERR_NOMEM;
    if (rc || !queue_is_fifo(stored))
        goto out;
    cbd = cJSON_GetObjectItemCaseSensitive(stored, "ContentBasedDeduplication");
    cJSON_ArrayForEach(e, entries)
    {
        if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, "MessageGroupId"))) {
            rc = fail_missing(c, "MessageGroupId");
            break;
        }
        if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, "MessageDeduplicationId")) &&
            !(cJSON_IsString(cbd) && strcmp(cbd->valuestring, "true") == 0)) {
            rc = fail(c, E_PARAM,
                      "The queue should either have ContentBasedDeduplication enabled or "
                      "MessageDeduplicationId provided explicitly");
            break;
        }
    }
out:
    cJSON_Delete(stored);
    store_sqs_queue_cleanup(&q);
    return rc;
}

static int op_send_message_batch(struct sqs_call *c)
{
    int rc = check_fifo_batch(c);

    return rc ? rc : run_batch(c, "SendMessageBatchRequestEntry", true, op_send_message);
}

static int op_delete_message_batch(struct sqs_call *c)
{
    return run_batch(c, "DeleteMessageBatchRequestEntry", false, op_delete_message);
}

static int op_change_message_visibility_batch(struct sqs_call *c)
{
    return run_batch(c, "ChangeMessageVisibilityBatchRequestEntry", false,
                     op_change_message_visibility);
}

/* ---- tags ---- */

/* The input's tag map (Tags, or CreateQueue's tags) as pairs into out
 * (SQS_MAX_TAGS + 1 entries; borrowed from the input), their number in *n;
 * checked as SQS does. */
static int read_tags(struct sqs_call *c, const char *queue, struct tags_pair *out, size_t *n)
{
    const cJSON *map = cJSON_GetObjectItemCaseSensitive(c->in, "Tags"), *t;

    *n = 0;
    if (!map)
        map = cJSON_GetObjectItemCaseSensitive(c->in, "tags");
    cJSON_ArrayForEach(t, map)
    {
        size_t len = strlen(t->string);

        if (*n == SQS_MAX_TAGS)
            return fail(c, E_PARAM, "Too many tags added for queue %s.", queue);
        if (len < 1 || len > 128)
            return fail(c, E_PARAM, "Tag keys must be between 1 and 128 characters in length.");
        if (!cJSON_IsString(t) || strlen(t->valuestring) > 256)
            return fail(c, E_PARAM, "Tag values must be between 0 and 256 characters in length.");
        out[*n].key = t->string;
        out[(*n)++].value = t->valuestring;
    }
    return DD_OK;
}

/* Set the n tags on queue name; over SQS_MAX_TAGS in all is refused. */
static int set_tags(struct sqs_call *c, const char *name, const struct tags_pair *tags, size_t n)
{
    struct dd_errbuf eb = { 0 };
    char arn[SQS_URL_MAX];
    int rc;

    if (n == 0)
        return DD_OK;
    queue_arn(c, name, arn, sizeof(arn));
    rc = store_tags_set(c->s, arn, tags, n, SQS_MAX_TAGS, &eb);
    return rc == DD_ERR_LIMIT ? fail(c, E_PARAM, "Too many tags added for queue %s.", name) : rc;
}

static int op_tag_queue(struct sqs_call *c)
{
    struct tags_pair tags[SQS_MAX_TAGS + 1];
    struct store_sqs_queue q;
    size_t n;
    int rc;

    rc = find_queue(c, &q);
    if (!rc)
        rc = read_tags(c, q.name, tags, &n);
    if (!rc && n == 0)
        rc = fail_missing(c, "Tags");
    if (!rc)
        rc = set_tags(c, q.name, tags, n);
    store_sqs_queue_cleanup(&q);
    return rc;
}

static int op_untag_queue(struct sqs_call *c)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(c->in, "TagKeys"), *k;
    const char *keys[SQS_MAX_TAGS];
    struct store_sqs_queue q;
    char arn[SQS_URL_MAX];
    size_t n = 0;
    int rc;

    rc = find_queue(c, &q);
    if (!rc && cJSON_GetArraySize(list) == 0)
        rc = fail_missing(c, "TagKeys");
    cJSON_ArrayForEach(k, list)
    {
        if (rc)
            break;
        if (!cJSON_IsString(k) || !k->valuestring[0] || strlen(k->valuestring) > 128)
            rc = fail(c, E_PARAM, "Tag keys must be between 1 and 128 characters in length.");
        else if (n < SQS_MAX_TAGS)
            keys[n++] = k->valuestring;
    }
    queue_arn(c, q.name, arn, sizeof(arn));
    if (!rc)
        rc = store_tags_remove(c->s, arn, keys, n);
    store_sqs_queue_cleanup(&q);
    return rc;
}

static int op_list_queue_tags(struct sqs_call *c)
{
    struct store_tags_page page = { 0 };
    struct store_sqs_queue q;
    char arn[SQS_URL_MAX];
    cJSON *tags;
    size_t i;
    int rc;

    rc = find_queue(c, &q);
    if (!rc) {
        queue_arn(c, q.name, arn, sizeof(arn));
        rc = store_tags_list(c->s, arn, NULL, SQS_MAX_TAGS * 2, &page);
    }
    if (!rc && page.n) {
        tags = cJSON_AddObjectToObject(c->out, "Tags");
        rc = tags ? DD_OK : DD_ERR_NOMEM;
        for (i = 0; !rc && i < page.n; i++)
            if (!cJSON_AddStringToObject(tags, page.v[i].key, page.v[i].value))
                rc = DD_ERR_NOMEM;
    }
    store_tags_page_cleanup(&page);
    store_sqs_queue_cleanup(&q);
    return rc;
}

/* ---- permissions ---- */

/* pre + each string of list + post: one string, or an array of them when
 * list holds more than one. NULL when out of memory. */
static cJSON *one_or_list(const cJSON *list, const char *pre, const char *post)
{
    cJSON *arr = cJSON_CreateArray(), *item;
    const cJSON *v;
    char text[200];

    cJSON_ArrayForEach(v, list)
    {
        snprintf(text, sizeof(text), "%s%.128s%s", pre, cJSON_IsString(v) ? v->valuestring : "",
                 post);
        if (!cJSON_AddItemToArray(arr, cJSON_CreateString(text))) {
            cJSON_Delete(arr);
            return NULL;
        }
    }
    if (cJSON_GetArraySize(arr) != 1)
        return arr;
    item = cJSON_DetachItemFromArray(arr, 0);
    cJSON_Delete(arr);
    return item;
}

/* Edit queue q's Policy: add a statement for label (add) or remove it,
 * and store the queue's attributes. */
static int edit_policy(struct sqs_call *c, struct store_sqs_queue *q, bool add)
{
    const char *label = in_str(c, "Label");
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(c->in, "AWSAccountIds");
    const cJSON *actions = cJSON_GetObjectItemCaseSensitive(c->in, "Actions");
    cJSON *stored = NULL, *policy = NULL, *statements, *st, *found = NULL;
    const cJSON *text;
    char arn[SQS_URL_MAX], id[SQS_URL_MAX + 32];
    char *printed = NULL;
    int rc = DD_ERR_NOMEM;

    if (!label)
        return fail_missing(c, "Label");
    if (add && cJSON_GetArraySize(ids) == 0)
        return fail_missing(c, "AWSAccountIds");
    if (add && cJSON_GetArraySize(actions) == 0)
        return fail_missing(c, "Actions");
    if (add && cJSON_GetArraySize(actions) > 7)
        return fail(c, E_OVER_LIMIT, "%d Actions were found, maximum allowed is 7.",
                    cJSON_GetArraySize(actions));
    queue_arn(c, q->name, arn, sizeof(arn));
    snprintf(id, sizeof(id), "%s/SQSDefaultPolicy", arn);
    stored = cJSON_Parse(q->attributes);
    text = cJSON_GetObjectItemCaseSensitive(stored, "Policy");
    policy = cJSON_IsString(text) ? cJSON_Parse(text->valuestring) : NULL;
    if (!cJSON_IsObject(policy)) {
        cJSON_Delete(policy);
        policy = cJSON_CreateObject();
        if (!policy || !cJSON_AddStringToObject(policy, "Version", "2012-10-17") ||
            !cJSON_AddStringToObject(policy, "Id", id))
            goto out;
    }
    statements = cJSON_GetObjectItemCaseSensitive(policy, "Statement");
    if (!cJSON_IsArray(statements)) {
        cJSON_DeleteItemFromObjectCaseSensitive(policy, "Statement");
        if (!(statements = cJSON_AddArrayToObject(policy, "Statement")))
            goto out;
    }
    cJSON_ArrayForEach(st, statements)
    {
        const cJSON *sid = cJSON_GetObjectItemCaseSensitive(st, "Sid");

        if (cJSON_IsString(sid) && strcmp(sid->valuestring, label) == 0)
            found = st;
    }
    if (add == (found != NULL)) {
        rc = fail(c, E_PARAM, "Value %.80s for parameter Label is invalid. Reason: %s", label,
                  add ? "Already exists." : "can't find label.");
        goto out;
    }
    if (add) {
        st = cJSON_CreateObject();
        if (!st || !cJSON_AddItemToArray(statements, st)) {
            cJSON_Delete(st);
            goto out;
        }
        cJSON *principal = cJSON_AddObjectToObject(st, "Principal");
        cJSON *who = one_or_list(ids, "arn:aws:iam::", ":root");
        cJSON *what = one_or_list(actions, "SQS:", "");

        if (!cJSON_AddStringToObject(st, "Sid", label) ||
            !cJSON_AddStringToObject(st, "Effect", "Allow") || !principal || !who || !what ||
            !cJSON_AddItemToObject(principal, "AWS", who)) {
            cJSON_Delete(who);
            cJSON_Delete(what);
            goto out;
        }
        if (!cJSON_AddItemToObject(st, "Action", what)) {
            cJSON_Delete(what);
            goto out;
        }
        if (!cJSON_AddStringToObject(st, "Resource", arn))
            goto out;
    } else {
        cJSON_Delete(cJSON_DetachItemViaPointer(statements, found));
    }
    cJSON_DeleteItemFromObjectCaseSensitive(stored, "Policy");
    if (cJSON_GetArraySize(statements) > 0 &&
        (!(printed = jsonprint(policy)) || !cJSON_AddStringToObject(stored, "Policy", printed)))
        goto out;
    cJSON_free(printed);
    printed = jsonprint(stored);
    rc = printed ? store_sqs_queue_set(c->s, q->id, printed, c->now) : DD_ERR_NOMEM;
out:
    cJSON_free(printed);
    cJSON_Delete(policy);
    cJSON_Delete(stored);
    return rc;
}

/* AddPermission (add) or RemovePermission on the input's queue. */
static int permission(struct sqs_call *c, bool add)
{
    struct store_sqs_queue q;
    int rc = find_queue(c, &q);

    if (!rc)
        rc = edit_policy(c, &q, add);
    store_sqs_queue_cleanup(&q);
    return rc;
}

static int op_add_permission(struct sqs_call *c)
{
    return permission(c, true);
}

static int op_remove_permission(struct sqs_call *c)
{
    return permission(c, false);
}

/* ---- dispatch and rendering ---- */

static const struct sqs_op {
    const char *name;
    int (*fn)(struct sqs_call *c);
    int with_result; /* the query answer has an <OpResult> */
} sqs_ops[] = {
    { "CreateQueue", op_create_queue, 1 },
    { "GetQueueUrl", op_get_queue_url, 1 },
    { "ListQueues", op_list_queues, 1 },
    { "DeleteQueue", op_delete_queue, 0 },
    { "GetQueueAttributes", op_get_queue_attributes, 1 },
    { "SetQueueAttributes", op_set_queue_attributes, 0 },
    { "SendMessage", op_send_message, 1 },
    { "ReceiveMessage", op_receive_message, 1 },
    { "DeleteMessage", op_delete_message, 0 },
    { "ChangeMessageVisibility", op_change_message_visibility, 0 },
    { "PurgeQueue", op_purge_queue, 0 },
    { "SendMessageBatch", op_send_message_batch, 1 },
    { "DeleteMessageBatch", op_delete_message_batch, 1 },
    { "ChangeMessageVisibilityBatch", op_change_message_visibility_batch, 1 },
    { "TagQueue", op_tag_queue, 0 },
    { "UntagQueue", op_untag_queue, 0 },
    { "ListQueueTags", op_list_queue_tags, 1 },
    { "ListDeadLetterSourceQueues", op_list_dead_letter_source_queues, 1 },
    { "AddPermission", op_add_permission, 0 },
    { "RemovePermission", op_remove_permission, 0 },
};

/* JSON-protocol maps the query protocol flattens as <Entry><Name/><Value/>. */
static const struct {
    const char *member, *entry, *key;
} xml_maps[] = {
    { "Attributes", "Attribute", "Name" },
    { "MessageAttributes", "MessageAttribute", "Name" },
    { "Tags", "Tag", "Key" },
};

/* JSON-protocol lists the query protocol flattens as repeated elements
 * (entry NULL: <OpResultEntry>, as a batch's Successful). */
static const struct {
    const char *member, *entry;
} xml_lists[] = {
    { "QueueUrls", "QueueUrl" }, { "queueUrls", "QueueUrl" }, /* ListDeadLetterSourceQueues */
    { "Messages", "Message" },   { "Successful", NULL },      { "Failed", "BatchResultErrorEntry" },
};

static void xml_members(struct xml *x, const cJSON *o, const char *op);

static void xml_value(struct xml *x, const char *name, const cJSON *v, const char *op)
{
    char num[32];

    if (cJSON_IsObject(v)) {
        xml_raw(x, "<");
        xml_raw(x, name);
        xml_raw(x, ">");
        xml_members(x, v, op);
        xml_raw(x, "</");
        xml_raw(x, name);
        xml_raw(x, ">");
    } else if (cJSON_IsString(v)) {
        xml_elem(x, name, v->valuestring);
    } else if (cJSON_IsBool(v)) {
        xml_elem(x, name, cJSON_IsTrue(v) ? "true" : "false");
    } else if (cJSON_IsNumber(v)) {
        snprintf(num, sizeof(num), "%lld", (long long)v->valuedouble);
        xml_elem(x, name, num);
    }
}

static void xml_members(struct xml *x, const cJSON *o, const char *op)
{
    const cJSON *v, *e;
    size_t i;

    cJSON_ArrayForEach(v, o)
    {
        for (i = 0; i < sizeof(xml_maps) / sizeof(xml_maps[0]); i++)
            if (strcmp(v->string, xml_maps[i].member) == 0)
                break;
        if (i < sizeof(xml_maps) / sizeof(xml_maps[0])) {
            cJSON_ArrayForEach(e, v)
            {
                xml_raw(x, "<");
                xml_raw(x, xml_maps[i].entry);
                xml_raw(x, ">");
                xml_elem(x, xml_maps[i].key, e->string);
                xml_value(x, "Value", e, op);
                xml_raw(x, "</");
                xml_raw(x, xml_maps[i].entry);
                xml_raw(x, ">");
            }
            continue;
        }
        for (i = 0; i < sizeof(xml_lists) / sizeof(xml_lists[0]); i++)
            if (strcmp(v->string, xml_lists[i].member) == 0)
                break;
        if (i < sizeof(xml_lists) / sizeof(xml_lists[0])) {
            char entry[80];

            snprintf(entry, sizeof(entry), "%sResultEntry", op);
            cJSON_ArrayForEach(e, v)
            {
                xml_value(x, xml_lists[i].entry ? xml_lists[i].entry : entry, e, op);
            }
            continue;
        }
        xml_value(x, v->string, v, op);
    }
}

/* Answer c with its output in its protocol. */
static int render(struct sqs_call *c, const struct sqs_op *op)
{
    char request_id[IDS_UUID_SIZE];
    struct xml x = { 0 };
    char *body;
    int rc;

    if (c->json) {
        body = jsonprint(c->out);
        if (!body)
            return DD_ERR_NOMEM;
        response_take_body(c->res, 200, SQS_JSON_TYPE, body, strlen(body));
        if (!ids_uuid(request_id))
            response_header(c->res, "x-amzn-RequestId", request_id);
        return DD_OK;
    }
    xml_response_begin(&x, SQS_XMLNS, op->name, op->with_result);
    xml_members(&x, c->out, op->name);
    rc = xml_response_finish(&x, c->res, op->name, op->with_result);
    if (rc == DD_ERR_INTERNAL)
        rc = fail(c, E_INTERNAL, "cannot generate a request id");
    return rc;
}

/* Answer operation name of req, whose input is in (taken: freed here), in
 * the JSON protocol when json, else the query protocol. */
static int run(struct request *req, struct response *res, bool json, cJSON *in, const char *name)
{
    struct sqs_call call = { 0 }, *c = &call;
    const struct sqs_op *op = NULL;
    size_t i;
    int rc;

    c->req = req;
    c->res = res;
    c->json = json;
    c->in = in;
    for (i = 0; name && i < sizeof(sqs_ops) / sizeof(sqs_ops[0]); i++)
        if (strcmp(sqs_ops[i].name, name) == 0)
            op = &sqs_ops[i];
    if (!op) {
        fail(c, E_ACTION, "The action %.64s is not valid for this endpoint.", name ? name : "");
        cJSON_Delete(in);
        return DD_OK;
    }
    c->op = op->name;
    rc = request_store(c->req, &c->s);
    if (!rc) {
        c->now = request_now_ms(c->req);
        c->out = cJSON_CreateObject();
        rc = c->out ? op->fn(c) : DD_ERR_NOMEM;
    }
    if (!rc && !c->res->suspend)
        rc = render(c, op);
    if (rc && !c->res->status)
        fail(c, E_INTERNAL, "%s", rc == DD_ERR_NOMEM ? "out of memory" : dd_strerror(rc));
    cJSON_Delete(c->out);
    cJSON_Delete(in);
    return DD_OK;
}

int api_sqs_query(struct request *req, struct response *res, struct query_form *f)
{
    cJSON *in;
    int rc = query_input(f, &in);

    return rc ? rc : run(req, res, false, in, query_form_get(f, "Action"));
}

int api_sqs_json(struct request *req, struct response *res, const char *op)
{
    cJSON *in;
    int rc = request_json_body(req, &in);

    if (rc == DD_ERR_NOMEM)
        return rc;
    if (rc) {
        json_error(res, &sqs_errors[E_PARAM], "The request body is not a JSON object.");
        return DD_OK;
    }
    return run(req, res, true, in, op);
}
