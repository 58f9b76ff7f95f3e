/* SPDX-License-Identifier: MIT */
/* metric.c: the metric catalogue (device-defender reference sections 3-6),
 * MetricValue conversion to and from JSON, and window aggregation.
 *
 * The catalogue is data, not code: every rule a behavior must meet for a
 * metric is a column of one row, so behavior.c validates by looking the row
 * up and the engine aggregates by the row's agg column. */
#include "core/metric.h"

#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

const int metric_durations[5] = { 300, 600, 900, 1800, 3600 };

/* Cloud-side rows follow section 3's table, device-side rows section 4's.
 * message-byte-size takes no durationSeconds in a static rule (the value is
 * judged per bucket); num-established-tcp-connections treats it as optional
 * (AWS's static example omits it, the statistical one uses 900). */
static const struct metric_info metric_table[] = {
    { "aws:num-messages-sent", METRIC_KIND_COUNT, METRIC_SIDE_CLOUD, METRIC_OPS_NUMERIC,
      METRIC_DURATION_REQUIRED, true, true, true, METRIC_AGG_SUM },
    { "aws:num-messages-received", METRIC_KIND_COUNT, METRIC_SIDE_CLOUD, METRIC_OPS_NUMERIC,
      METRIC_DURATION_REQUIRED, true, true, true, METRIC_AGG_SUM },
    { "aws:num-authorization-failures", METRIC_KIND_COUNT, METRIC_SIDE_CLOUD, METRIC_OPS_NUMERIC,
      METRIC_DURATION_REQUIRED, true, true, true, METRIC_AGG_SUM },
    { "aws:num-connection-attempts", METRIC_KIND_COUNT, METRIC_SIDE_CLOUD, METRIC_OPS_NUMERIC,
      METRIC_DURATION_REQUIRED, true, true, false, METRIC_AGG_SUM },
    { "aws:num-disconnects", METRIC_KIND_COUNT, METRIC_SIDE_CLOUD, METRIC_OPS_NUMERIC,
      METRIC_DURATION_REQUIRED, true, true, false, METRIC_AGG_SUM },
    { "aws:disconnect-duration", METRIC_KIND_COUNT, METRIC_SIDE_CLOUD, METRIC_OPS_LESS,
      METRIC_DURATION_FORBIDDEN, false, false, false, METRIC_AGG_LATEST },
    { "aws:message-byte-size", METRIC_KIND_COUNT, METRIC_SIDE_CLOUD, METRIC_OPS_NUMERIC,
      METRIC_DURATION_FORBIDDEN, true, true, true, METRIC_AGG_EXTREME },
    { "aws:source-ip-address", METRIC_KIND_CIDRS, METRIC_SIDE_CLOUD, METRIC_OPS_CIDR_SET,
      METRIC_DURATION_FORBIDDEN, false, false, true, METRIC_AGG_NONE },
    { "aws:all-bytes-out", METRIC_KIND_COUNT, METRIC_SIDE_DEVICE, METRIC_OPS_NUMERIC,
      METRIC_DURATION_REQUIRED, true, true, false, METRIC_AGG_SUM },
    { "aws:all-bytes-in", METRIC_KIND_COUNT, METRIC_SIDE_DEVICE, METRIC_OPS_NUMERIC,
      METRIC_DURATION_REQUIRED, true, true, false, METRIC_AGG_SUM },
    { "aws:all-packets-out", METRIC_KIND_COUNT, METRIC_SIDE_DEVICE, METRIC_OPS_NUMERIC,
      METRIC_DURATION_REQUIRED, true, true, false, METRIC_AGG_SUM },
    { "aws:all-packets-in", METRIC_KIND_COUNT, METRIC_SIDE_DEVICE, METRIC_OPS_NUMERIC,
      METRIC_DURATION_REQUIRED, true, true, false, METRIC_AGG_SUM },
    { "aws:num-listening-tcp-ports", METRIC_KIND_COUNT, METRIC_SIDE_DEVICE, METRIC_OPS_NUMERIC,
      METRIC_DURATION_REQUIRED, true, true, false, METRIC_AGG_LATEST },
    { "aws:num-listening-udp-ports", METRIC_KIND_COUNT, METRIC_SIDE_DEVICE, METRIC_OPS_NUMERIC,
      METRIC_DURATION_REQUIRED, true, true, false, METRIC_AGG_LATEST },
    { "aws:num-established-tcp-connections", METRIC_KIND_COUNT, METRIC_SIDE_DEVICE,
      METRIC_OPS_NUMERIC, METRIC_DURATION_OPTIONAL, true, true, false, METRIC_AGG_LATEST },
    { "aws:listening-tcp-ports", METRIC_KIND_PORTS, METRIC_SIDE_DEVICE, METRIC_OPS_PORT_SET,
      METRIC_DURATION_FORBIDDEN, false, false, false, METRIC_AGG_NONE },
    { "aws:listening-udp-ports", METRIC_KIND_PORTS, METRIC_SIDE_DEVICE, METRIC_OPS_PORT_SET,
      METRIC_DURATION_FORBIDDEN, false, false, false, METRIC_AGG_NONE },
    { "aws:destination-ip-addresses", METRIC_KIND_CIDRS, METRIC_SIDE_DEVICE, METRIC_OPS_CIDR_SET,
      METRIC_DURATION_FORBIDDEN, false, false, false, METRIC_AGG_NONE },
};

/* Section 5: no dimensions on custom metrics, statistics and ML only for
 * number, no durationSeconds for list types. */
static const struct metric_info metric_custom_table[] = {
    [METRIC_CUSTOM_NUMBER] = { "number", METRIC_KIND_NUMBER, METRIC_SIDE_CUSTOM, METRIC_OPS_NUMERIC,
                               METRIC_DURATION_OPTIONAL, true, true, false, METRIC_AGG_NONE },
    [METRIC_CUSTOM_NUMBER_LIST] = { "number-list", METRIC_KIND_NUMBERS, METRIC_SIDE_CUSTOM,
                                    METRIC_OPS_SET, METRIC_DURATION_FORBIDDEN, false, false, false,
                                    METRIC_AGG_NONE },
    [METRIC_CUSTOM_STRING_LIST] = { "string-list", METRIC_KIND_STRINGS, METRIC_SIDE_CUSTOM,
                                    METRIC_OPS_SET, METRIC_DURATION_FORBIDDEN, false, false, false,
                                    METRIC_AGG_NONE },
    [METRIC_CUSTOM_IP_ADDRESS_LIST] = { "ip-address-list", METRIC_KIND_CIDRS, METRIC_SIDE_CUSTOM,
                                        METRIC_OPS_CIDR_SET, METRIC_DURATION_FORBIDDEN, false,
                                        false, false, METRIC_AGG_NONE },
};

static const char *const metric_op_names[] = {
    [METRIC_OP_LESS_THAN] = "less-than",
    [METRIC_OP_LESS_THAN_EQUALS] = "less-than-equals",
    [METRIC_OP_GREATER_THAN] = "greater-than",
    [METRIC_OP_GREATER_THAN_EQUALS] = "greater-than-equals",
    [METRIC_OP_IN_CIDR_SET] = "in-cidr-set",
    [METRIC_OP_NOT_IN_CIDR_SET] = "not-in-cidr-set",
    [METRIC_OP_IN_PORT_SET] = "in-port-set",
    [METRIC_OP_NOT_IN_PORT_SET] = "not-in-port-set",
    [METRIC_OP_IN_SET] = "in-set",
    [METRIC_OP_NOT_IN_SET] = "not-in-set",
};

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* Counts below this print exactly as cJSON numbers (15 digits). */
#define COUNT_EXACT_DIGITS 1000000000000000u

const struct metric_info *metric_find(const char *name)
{
    size_t i;

    for (i = 0; i < N_ELEMS(metric_table); i++) {
        if (strcmp(metric_table[i].name, name) == 0)
            return &metric_table[i];
    }
    return NULL;
}

const struct metric_info *metric_custom_info(enum metric_custom_type type)
{
    assert((size_t)type < N_ELEMS(metric_custom_table));
    return &metric_custom_table[type];
}

int metric_custom_type_parse(const char *s, enum metric_custom_type *out)
{
    size_t i;

    *out = METRIC_CUSTOM_NUMBER;
    for (i = 0; i < N_ELEMS(metric_custom_table); i++) {
        if (strcmp(metric_custom_table[i].name, s) == 0) {
            *out = (enum metric_custom_type)i;
            return DD_OK;
        }
    }
    return DD_ERR_INVALID;
}

const char *metric_custom_type_name(enum metric_custom_type type)
{
    assert((size_t)type < N_ELEMS(metric_custom_table));
    return metric_custom_table[type].name;
}

int metric_op_parse(const char *s, enum metric_op *out)
{
    size_t i;

    *out = METRIC_OP_LESS_THAN;
    for (i = 0; i < N_ELEMS(metric_op_names); i++) {
        if (strcmp(metric_op_names[i], s) == 0) {
            *out = (enum metric_op)i;
            return DD_OK;
        }
    }
    return DD_ERR_INVALID;
}

const char *metric_op_name(enum metric_op op)
{
    assert((size_t)op < N_ELEMS(metric_op_names));
    return metric_op_names[op];
}

bool metric_duration_valid(double d)
{
    size_t i;

    for (i = 0; i < N_ELEMS(metric_durations); i++) {
        if (d == (double)metric_durations[i])
            return true;
    }
    return false;
}

void metric_value_cleanup(struct metric_value *v)
{
    size_t i;

    if (!v)
        return;
    if (v->strings) {
        for (i = 0; i < v->n; i++)
            free(v->strings[i]);
    }
    free(v->strings);
    free(v->numbers);
    free(v->ports);
    memset(v, 0, sizeof(*v));
}

/* Copy n strings into a new array; on NOMEM everything copied is freed. */
static int copy_strings(char *const *src, size_t n, char ***out)
{
    char **dst;
    size_t i;

    *out = NULL;
    dst = calloc(n ? n : 1, sizeof(*dst));
    if (!dst)
        return DD_ERR_NOMEM;
    for (i = 0; i < n; i++) {
        dst[i] = dd_strdup(src[i]);
        if (!dst[i]) {
            while (i > 0)
                free(dst[--i]);
            free(dst);
            return DD_ERR_NOMEM;
        }
    }
    *out = dst;
    return DD_OK;
}

int metric_value_copy(const struct metric_value *src, struct metric_value *dst)
{
    struct metric_value v = { 0 };
    int rc = DD_OK;

    memset(dst, 0, sizeof(*dst));
    v.kind = src->kind;
    v.count = src->count;
    v.number = src->number;
    v.n = src->n;
    switch (src->kind) {
    case METRIC_KIND_NUMBERS:
        v.numbers = malloc((src->n ? src->n : 1) * sizeof(*v.numbers));
        if (!v.numbers) {
            rc = DD_ERR_NOMEM;
            goto out;
        }
        if (src->n)
            memcpy(v.numbers, src->numbers, src->n * sizeof(*v.numbers));
        break;
    case METRIC_KIND_PORTS:
        v.ports = malloc((src->n ? src->n : 1) * sizeof(*v.ports));
        if (!v.ports) {
            rc = DD_ERR_NOMEM;
            goto out;
        }
        if (src->n)
            memcpy(v.ports, src->ports, src->n * sizeof(*v.ports));
        break;
    case METRIC_KIND_STRINGS:
    case METRIC_KIND_CIDRS:
        rc = copy_strings(src->strings, src->n, &v.strings);
        if (rc)
            goto out;
        break;
    case METRIC_KIND_NONE:
    case METRIC_KIND_COUNT:
    case METRIC_KIND_NUMBER:
        break;
    }
    *dst = v;
    memset(&v, 0, sizeof(v));
out:
    metric_value_cleanup(&v);
    return rc;
}

static bool cidr_text_ok(const char *s)
{
    size_t len = strlen(s);

    if (len < 2 || len > 43)
        return false;
    return strspn(s, "0123456789abcdefABCDEF:./") == len;
}

static int array_size(const cJSON *arr, const char *member, size_t *n, struct dd_errbuf *eb)
{
    int size;

    *n = 0;
    if (!cJSON_IsArray(arr))
        return dd_fail(eb, DD_ERR_INVALID, "value.%s should be a list", member);
    size = cJSON_GetArraySize(arr);
    *n = size > 0 ? (size_t)size : 0;
    return DD_OK;
}

/* Read numbers or ports: both are lists of JSON numbers, ports whole ones
 * from 0 to 65535. Every element is checked before the first allocation. */
static int read_numeric(const cJSON *arr, bool ports, struct metric_value *v, struct dd_errbuf *eb)
{
    const cJSON *el;
    size_t i = 0;
    int rc;

    rc = array_size(arr, ports ? "ports" : "numbers", &v->n, eb);
    if (rc)
        return rc;
    cJSON_ArrayForEach(el, arr)
    {
        double d = el->valuedouble;
        bool ok =
            cJSON_IsNumber(el) && (ports ? d == floor(d) && d >= 0 && d <= 65535 : isfinite(d));

        if (!ok)
            return dd_fail(eb, DD_ERR_INVALID, "%s",
                           ports ? "value.ports elements should be integers in range[0,65535]"
                                 : "value.numbers elements should be numbers");
    }
    if (ports)
        v->ports = malloc((v->n ? v->n : 1) * sizeof(*v->ports));
    else
        v->numbers = malloc((v->n ? v->n : 1) * sizeof(*v->numbers));
    if (ports ? !v->ports : !v->numbers)
        return DD_ERR_NOMEM;
    cJSON_ArrayForEach(el, arr)
    {
        assert(i < v->n);
        if (ports)
            v->ports[i++] = (uint16_t)el->valuedouble;
        else
            v->numbers[i++] = el->valuedouble;
    }
    return DD_OK;
}

/* Read cidrs or strings: both are lists of strings, cidrs with a pattern. */
static int read_strings(const cJSON *arr, const char *member, bool cidrs, struct metric_value *v,
                        struct dd_errbuf *eb)
{
    const cJSON *el;
    size_t i = 0;
    int rc;

    rc = array_size(arr, member, &v->n, eb);
    if (rc)
        return rc;
    cJSON_ArrayForEach(el, arr)
    {
        if (!cJSON_IsString(el))
            return dd_fail(eb, DD_ERR_INVALID, "value.%s elements should be strings", member);
        if (cidrs && !cidr_text_ok(el->valuestring))
            return dd_fail(eb, DD_ERR_INVALID,
                           "value.cidrs element %.64s should be 2-43 characters of "
                           "[a-fA-F0-9:./]",
                           el->valuestring);
    }
    v->strings = calloc(v->n ? v->n : 1, sizeof(*v->strings));
    if (!v->strings)
        return DD_ERR_NOMEM;
    cJSON_ArrayForEach(el, arr)
    {
        v->strings[i] = dd_strdup(el->valuestring);
        if (!v->strings[i])
            return DD_ERR_NOMEM;
        i++;
    }
    return DD_OK;
}

int metric_value_from_json(const cJSON *obj, struct metric_value *out, struct dd_errbuf *eb)
{
    static const char *const members[] = {
        "count", "cidrs", "ports", "number", "numbers", "strings"
    };
    struct metric_value v = { 0 };
    const cJSON *item = NULL;
    const char *member = NULL;
    size_t i, found = 0;
    int rc = DD_OK;

    memset(out, 0, sizeof(*out));
    if (!cJSON_IsObject(obj))
        return dd_fail(eb, DD_ERR_INVALID, "value should be an object");
    for (i = 0; i < N_ELEMS(members); i++) {
        const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, members[i]);

        if (it && !cJSON_IsNull(it)) {
            found++;
            item = it;
            member = members[i];
        }
    }
    if (found != 1)
        return dd_fail(eb, DD_ERR_INVALID,
                       "value should have exactly one of count, cidrs, ports, number, numbers, "
                       "strings");
    if (strcmp(member, "count") == 0) {
        v.kind = METRIC_KIND_COUNT;
        if (!cJSON_IsNumber(item) || item->valuedouble != floor(item->valuedouble) ||
            item->valuedouble < 0 || item->valuedouble > METRIC_COUNT_MAX) {
            rc = dd_fail(eb, DD_ERR_INVALID,
                         "value.count should be an integer in range[0,9007199254740992]");
            goto out;
        }
        v.count = (uint64_t)item->valuedouble;
    } else if (strcmp(member, "number") == 0) {
        v.kind = METRIC_KIND_NUMBER;
        if (!cJSON_IsNumber(item) || !isfinite(item->valuedouble)) {
            rc = dd_fail(eb, DD_ERR_INVALID, "value.number should be a number");
            goto out;
        }
        v.number = item->valuedouble;
    } else if (strcmp(member, "numbers") == 0) {
        v.kind = METRIC_KIND_NUMBERS;
        rc = read_numeric(item, false, &v, eb);
    } else if (strcmp(member, "ports") == 0) {
        v.kind = METRIC_KIND_PORTS;
        rc = read_numeric(item, true, &v, eb);
    } else if (strcmp(member, "cidrs") == 0) {
        v.kind = METRIC_KIND_CIDRS;
        rc = read_strings(item, "cidrs", true, &v, eb);
    } else {
        v.kind = METRIC_KIND_STRINGS;
        rc = read_strings(item, "strings", false, &v, eb);
    }
    if (rc)
        goto out;
    *out = v;
    memset(&v, 0, sizeof(v));
out:
    metric_value_cleanup(&v);
    return rc;
}

/* Add n numbers to a new array under key; false when out of memory. */
static bool add_number_array(cJSON *obj, const char *key, const struct metric_value *v)
{
    cJSON *arr = cJSON_AddArrayToObject(obj, key);
    size_t i;

    if (!arr)
        return false;
    for (i = 0; i < v->n; i++) {
        double d = v->kind == METRIC_KIND_PORTS ? (double)v->ports[i] : v->numbers[i];
        cJSON *num = cJSON_CreateNumber(d);

        if (!num || !cJSON_AddItemToArray(arr, num)) {
            cJSON_Delete(num);
            return false;
        }
    }
    return true;
}

static bool add_string_array(cJSON *obj, const char *key, const struct metric_value *v)
{
    cJSON *arr = cJSON_AddArrayToObject(obj, key);
    size_t i;

    if (!arr)
        return false;
    for (i = 0; i < v->n; i++) {
        cJSON *s = cJSON_CreateString(v->strings[i]);

        if (!s || !cJSON_AddItemToArray(arr, s)) {
            cJSON_Delete(s);
            return false;
        }
    }
    return true;
}

/* cJSON prints numbers with 15 significant digits when that reads back
 * "close enough", so a count of 16 or more digits would come out as
 * 1.23456789012346e+15. Such counts are written as raw digits instead. */
static bool add_count(cJSON *obj, uint64_t count)
{
    char digits[24];
    cJSON *raw;

    if (count < COUNT_EXACT_DIGITS)
        return cJSON_AddNumberToObject(obj, "count", (double)count) != NULL;
    snprintf(digits, sizeof(digits), "%" PRIu64, count);
    raw = cJSON_CreateRaw(digits);
    if (!raw || !cJSON_AddItemToObject(obj, "count", raw)) {
        cJSON_Delete(raw);
        return false;
    }
    return true;
}

cJSON *metric_value_to_json(const struct metric_value *v)
{
    cJSON *obj = cJSON_CreateObject();
    bool ok = true;

    if (!obj)
        return NULL;
    switch (v->kind) {
    case METRIC_KIND_NONE:
        break;
    case METRIC_KIND_COUNT:
        ok = add_count(obj, v->count);
        break;
    case METRIC_KIND_NUMBER:
        ok = cJSON_AddNumberToObject(obj, "number", v->number) != NULL;
        break;
    case METRIC_KIND_NUMBERS:
        ok = add_number_array(obj, "numbers", v);
        break;
    case METRIC_KIND_PORTS:
        ok = add_number_array(obj, "ports", v);
        break;
    case METRIC_KIND_STRINGS:
        ok = add_string_array(obj, "strings", v);
        break;
    case METRIC_KIND_CIDRS:
        ok = add_string_array(obj, "cidrs", v);
        break;
    }
    if (!ok) {
        cJSON_Delete(obj);
        return NULL;
    }
    return obj;
}

/* Append the decimal digits of n at buf + len, within size; returns the
 * new length, or size when they do not fit. */
static size_t put_u64(char *buf, size_t len, size_t size, uint64_t n)
{
    char digits[20];
    size_t k = 0;

    do {
        digits[k++] = (char)('0' + n % 10);
        n /= 10;
    } while (n);
    if (len + k >= size)
        return size;
    while (k)
        buf[len++] = digits[--k];
    return len;
}

static size_t put_text(char *buf, size_t len, size_t size, const char *s)
{
    size_t n = strlen(s);

    if (len + n >= size)
        return size;
    memcpy(buf + len, s, n);
    return len + n;
}

/* A string as cJSON prints it, when it has nothing to escape. */
static size_t put_plain_string(char *buf, size_t len, size_t size, const char *s)
{
    const unsigned char *p;

    for (p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == '"' || *p == '\\')
            return size;
    len = put_text(buf, len, size, "\"");
    len = len < size ? put_text(buf, len, size, s) : size;
    return len < size ? put_text(buf, len, size, "\"") : size;
}

size_t metric_value_text(const struct metric_value *v, char *buf, size_t size)
{
    size_t len = 0, i;
    double d;

    switch (v->kind) {
    case METRIC_KIND_COUNT:
        len = put_text(buf, len, size, "{\"count\":");
        len = len < size ? put_u64(buf, len, size, v->count) : size;
        break;
    case METRIC_KIND_NUMBER:
        /* cJSON prints with "%1.15g", which writes a whole number below
         * 1e15 as its digits (and a negative zero as -0); any other number
         * needs cJSON's round trip. */
        d = v->number;
        if (!(fabs(d) < 1e15) || d != floor(d))
            return 0;
        len = put_text(buf, len, size, signbit(d) ? "{\"number\":-" : "{\"number\":");
        len = len < size ? put_u64(buf, len, size, (uint64_t)fabs(d)) : size;
        break;
    case METRIC_KIND_CIDRS:
    case METRIC_KIND_STRINGS:
        len = put_text(buf, len, size,
                       v->kind == METRIC_KIND_CIDRS ? "{\"cidrs\":[" : "{\"strings\":[");
        for (i = 0; i < v->n && len < size; i++) {
            if (i)
                len = put_text(buf, len, size, ",");
            if (len < size)
                len = put_plain_string(buf, len, size, v->strings[i]);
        }
        if (len < size)
            len = put_text(buf, len, size, "]");
        break;
    default:
        return 0;
    }
    if (len < size)
        len = put_text(buf, len, size, "}");
    if (len >= size)
        return 0;
    buf[len] = '\0';
    return len;
}

void metric_stats_add(struct metric_stats *s, uint64_t sample)
{
    if (s->n == 0 || sample < s->min)
        s->min = sample;
    if (s->n == 0 || sample > s->max)
        s->max = sample;
    s->sum = s->sum > UINT64_MAX - sample ? UINT64_MAX : s->sum + sample;
    s->last = sample;
    s->n++;
}

int metric_window_value(const struct metric_info *info, enum metric_op op, bool statistical,
                        const struct metric_stats *buckets, size_t n_buckets, uint64_t *out)
{
    enum metric_agg agg = info->agg;
    bool any = false, want_max;
    uint64_t acc = 0;
    size_t i;

    *out = 0;
    if (agg == METRIC_AGG_NONE || n_buckets == 0)
        return DD_ERR_INVALID;
    if (agg == METRIC_AGG_EXTREME && statistical)
        agg = METRIC_AGG_SUM;
    want_max = op == METRIC_OP_LESS_THAN || op == METRIC_OP_LESS_THAN_EQUALS;
    for (i = 0; i < n_buckets; i++) {
        const struct metric_stats *b = &buckets[i];

        if (b->n == 0)
            continue;
        switch (agg) {
        case METRIC_AGG_SUM:
            acc = acc > UINT64_MAX - b->sum ? UINT64_MAX : acc + b->sum;
            break;
        case METRIC_AGG_LATEST:
            acc = b->last;
            break;
        case METRIC_AGG_EXTREME:
            if (!any || (want_max ? b->max > acc : b->min < acc))
                acc = want_max ? b->max : b->min;
            break;
        case METRIC_AGG_NONE:
            break;
        }
        any = true;
    }
    if (!any)
        return DD_ERR_NOT_FOUND;
    *out = acc;
    return DD_OK;
}
