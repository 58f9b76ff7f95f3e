/* SPDX-License-Identifier: MIT */
/* report.c: validation of Device Defender metrics reports, and their replies.
 *
 * Both formats become one cJSON tree first: JSON after a strict syntax check
 * of our own (cJSON is lenient, "+1" and "01" pass, and returns NULL alike
 * for bad syntax and for a failed allocation, so the check is also how
 * DD_ERR_NOMEM is told apart), CBOR through core/cbor.c. One walker then
 * applies the rules of reference/device-defender.md section 4.2:
 * - header with report_id (integer, 64-bit) and version "Major.Minor";
 * - at least one of metrics / custom_metrics;
 * - long or short field names throughout, no unknown or repeated field;
 * - ports 1..65535; totals and network_stats integers >= 0;
 * - remote_addr "ip:port", IPv6 as "[addr]:port" (the bare form the 1.x
 *   Python agent writes, "::1:8883", splits at the last colon);
 * - a custom metric is an array holding one object with exactly one of
 *   number (<= 15 significant digits), number_list, string_list (letters,
 *   digits and ": _ - / ." only) or ip_list (IPv4/IPv6 addresses).
 * The header is read first so that a rejection can echo the reportId. */
#include "core/report.h"

#include <arpa/inet.h>
#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/cbor.h"
#include "core/mem.h"
#include "core/utf8.h"

enum field {
    F_HEADER,
    F_REPORT_ID,
    F_VERSION,
    F_METRICS,
    F_CUSTOM,
    F_TCP_PORTS,
    F_UDP_PORTS,
    F_PORTS,
    F_PORT,
    F_INTERFACE,
    F_TOTAL,
    F_NET,
    F_BYTES_IN,
    F_BYTES_OUT,
    F_PACKETS_IN,
    F_PACKETS_OUT,
    F_TCP_CONNS,
    F_ESTABLISHED,
    F_CONNECTIONS,
    F_REMOTE_ADDR,
    F_LOCAL_PORT,
    F_LOCAL_IF,
    F_COUNT
};

/* [0] long names, [1] short names (the AWS device-side metrics page). */
static const char *const field_names[2][F_COUNT] = {
    { "header",
      "report_id",
      "version",
      "metrics",
      "custom_metrics",
      "listening_tcp_ports",
      "listening_udp_ports",
      "ports",
      "port",
      "interface",
      "total",
      "network_stats",
      "bytes_in",
      "bytes_out",
      "packets_in",
      "packets_out",
      "tcp_connections",
      "established_connections",
      "connections",
      "remote_addr",
      "local_port",
      "local_interface" },
    { "hed", "rid", "v",  "met", "cmet", "tp", "up", "pts", "pt",  "if", "t",
      "ns",  "bi",  "bo", "pi",  "po",   "tc", "ec", "cs",  "rad", "lp", "li" },
};

/* Room for the path of a list item in messages: "...established_connections.connections[n]". */
#define ITEM_PATH_MAX 96

/* One walk over a report: its naming, and where failures are written. */
struct walk {
    bool short_names;
    struct report_error *err;
};

static int invalid(const struct walk *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int invalid(const struct walk *w, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(w->err->detail.msg, sizeof(w->err->detail.msg), fmt, ap);
    va_end(ap);
    return DD_ERR_INVALID;
}

/* ---- strict JSON syntax (RFC 8259), bounded depth, no allocation ---- */

struct json_scan {
    const uint8_t *s;
    size_t len;
    size_t pos;
};

static void json_ws(struct json_scan *j)
{
    while (j->pos < j->len && (j->s[j->pos] == ' ' || j->s[j->pos] == '\t' ||
                               j->s[j->pos] == '\n' || j->s[j->pos] == '\r'))
        j->pos++;
}

static bool json_eat(struct json_scan *j, char c)
{
    if (j->pos < j->len && j->s[j->pos] == (uint8_t)c) {
        j->pos++;
        return true;
    }
    return false;
}

static bool json_digits(struct json_scan *j)
{
    size_t start = j->pos;

    while (j->pos < j->len && j->s[j->pos] >= '0' && j->s[j->pos] <= '9')
        j->pos++;
    return j->pos > start;
}

static bool json_number(struct json_scan *j)
{
    json_eat(j, '-');
    if (!json_eat(j, '0') && !json_digits(j))
        return false;
    if (json_eat(j, '.') && !json_digits(j))
        return false;
    if (json_eat(j, 'e') || json_eat(j, 'E')) {
        if (!json_eat(j, '+'))
            json_eat(j, '-');
        if (!json_digits(j))
            return false;
    }
    return true;
}

/* After the opening quote. U+0000 is refused (as CBOR text with NUL is):
 * cJSON would cut the string there. */
static bool json_string(struct json_scan *j)
{
    while (j->pos < j->len) {
        uint8_t c = j->s[j->pos++];

        if (c == '"')
            return true;
        if (c < 0x20)
            return false;
        if (c != '\\')
            continue;
        if (j->pos >= j->len)
            return false;
        c = j->s[j->pos++];
        if (c == 'u') {
            unsigned v = 0;

            if (j->len - j->pos < 4)
                return false;
            for (int i = 0; i < 4; i++) {
                uint8_t h = j->s[j->pos++];

                if (h >= '0' && h <= '9')
                    v = v * 16 + (unsigned)(h - '0');
                else if ((h | 0x20) >= 'a' && (h | 0x20) <= 'f')
                    v = v * 16 + (unsigned)((h | 0x20) - 'a' + 10);
                else
                    return false;
            }
            if (v == 0)
                return false;
        } else if (!strchr("\"\\/bfnrt", c) || c == 0) {
            return false;
        }
    }
    return false;
}

static bool json_value(struct json_scan *j, int depth);

static bool json_container(struct json_scan *j, int depth, char close, bool keys)
{
    json_ws(j);
    if (json_eat(j, close))
        return true;
    for (;;) {
        if (keys) {
            if (!json_eat(j, '"') || !json_string(j))
                return false;
            json_ws(j);
            if (!json_eat(j, ':'))
                return false;
        }
        if (!json_value(j, depth + 1))
            return false;
        json_ws(j);
        if (json_eat(j, close))
            return true;
        if (!json_eat(j, ','))
            return false;
        json_ws(j);
    }
}

static bool json_literal(struct json_scan *j, const char *word)
{
    size_t n = strlen(word);

    if (j->len - j->pos < n || memcmp(j->s + j->pos, word, n) != 0)
        return false;
    j->pos += n;
    return true;
}

static bool json_value(struct json_scan *j, int depth)
{
    uint8_t c;

    if (depth > CBOR_MAX_DEPTH)
        return false;
    json_ws(j);
    if (j->pos >= j->len)
        return false;
    c = j->s[j->pos];
    switch (c) {
    case '{':
        j->pos++;
        return json_container(j, depth, '}', true);
    case '[':
        j->pos++;
        return json_container(j, depth, ']', false);
    case '"':
        j->pos++;
        return json_string(j);
    case 't':
        return json_literal(j, "true");
    case 'f':
        return json_literal(j, "false");
    case 'n':
        return json_literal(j, "null");
    default:
        return json_number(j);
    }
}

static int parse_tree(const uint8_t *payload, size_t len, enum report_format fmt, cJSON **root,
                      struct report_error *err)
{
    struct json_scan j = { payload, len, 0 };

    *root = NULL;
    if (fmt == REPORT_CBOR)
        return cbor_decode_json(payload, len, root, &err->detail);
    if (!utf8_valid(payload, len))
        return dd_fail(&err->detail, DD_ERR_INVALID, "payload is not UTF-8");
    if (!json_value(&j, 1) || (json_ws(&j), j.pos != len))
        return dd_fail(&err->detail, DD_ERR_INVALID,
                       "payload is not JSON (or nests deeper than %d) near byte %zu",
                       CBOR_MAX_DEPTH, j.pos);
    /* The syntax is valid, so a NULL here can only be a failed allocation. */
    *root = cJSON_ParseWithLength((const char *)payload, len);
    return *root ? DD_OK : DD_ERR_NOMEM;
}

/* ---- field access ---- */

/* Match each member of obj against the fields allowed at path, in the
 * report's naming: slot[i] gets the member named want[i], or NULL. */
static int get_fields(const struct walk *w, const cJSON *obj, const char *path,
                      const enum field *want, size_t n_want, const cJSON **slot)
{
    const cJSON *m;
    int naming = w->short_names ? 1 : 0;

    for (size_t i = 0; i < n_want; i++)
        assert(want[i] < F_COUNT);
    if (!cJSON_IsObject(obj))
        return invalid(w, "%s: must be an object", path);
    for (size_t i = 0; i < n_want; i++)
        slot[i] = NULL;
    cJSON_ArrayForEach(m, obj)
    {
        size_t i;

        for (i = 0; i < n_want; i++)
            if (strcmp(m->string, field_names[naming][want[i]]) == 0)
                break;
        if (i == n_want) {
            for (i = 0; i < n_want; i++)
                if (strcmp(m->string, field_names[!naming][want[i]]) == 0)
                    return invalid(w, "%s.%s: mixes long and short field names", path, m->string);
            return invalid(w, "%s.%s: unknown field", path, m->string);
        }
        if (slot[i])
            return invalid(w, "%s.%s: repeated field", path, m->string);
        slot[i] = m;
    }
    return DD_OK;
}

/* An integral JSON number within [min, max]. */
static bool get_int(const cJSON *v, int64_t min, int64_t max, int64_t *out)
{
    double d;

    if (!cJSON_IsNumber(v))
        return false;
    d = v->valuedouble;
    /* 2^63 is the first double past INT64_MAX */
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0) || d != floor(d))
        return false;
    *out = (int64_t)d;
    return *out >= min && *out <= max;
}

static int get_port(const struct walk *w, const cJSON *v, const char *path, const char *name,
                    uint16_t *port)
{
    int64_t p;

    if (!get_int(v, 1, 65535, &p))
        return invalid(w, "%s.%s: must be an integer from 1 to 65535", path, name);
    *port = (uint16_t)p;
    return DD_OK;
}

static int get_count(const struct walk *w, const cJSON *v, const char *path, const char *name,
                     int64_t *out)
{
    if (!get_int(v, 0, INT64_MAX, out))
        return invalid(w, "%s.%s: must be an integer >= 0", path, name);
    return DD_OK;
}

static bool ip_valid(const char *s, int family)
{
    unsigned char buf[16];

    return inet_pton(family, s, buf) == 1;
}

/* "a.b.c.d:port", "[v6]:port" or the bare "v6:port" of older agents. */
static bool split_remote_addr(const char *s, char ip[REPORT_IP_MAX], uint16_t *port)
{
    const char *colon;
    const char *p;
    size_t ip_len;
    long v = 0;
    int family;

    if (s[0] == '[') {
        colon = strstr(s, "]:");
        if (!colon)
            return false;
        s++;
        ip_len = (size_t)(colon - s);
        colon++;
        family = AF_INET6;
    } else {
        colon = strrchr(s, ':');
        if (!colon)
            return false;
        ip_len = (size_t)(colon - s);
        family = memchr(s, ':', ip_len) ? AF_INET6 : AF_INET;
    }
    if (ip_len == 0 || ip_len >= REPORT_IP_MAX)
        return false;
    memcpy(ip, s, ip_len);
    ip[ip_len] = '\0';
    if (!ip_valid(ip, family))
        return false;
    p = colon + 1;
    if (*p == '\0' || strlen(p) > 5)
        return false;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        v = v * 10 + (*p - '0');
    }
    if (v < 1 || v > 65535)
        return false;
    *port = (uint16_t)v;
    return true;
}

/* ---- blocks ---- */

static int read_header(const struct walk *w, const cJSON *hed, struct report *r)
{
    static const enum field want[] = { F_REPORT_ID, F_VERSION };

    const cJSON *f[2];
    const char *v;
    size_t i = 0;
    int rc;

    rc = get_fields(w, hed, "header", want, 2, f);
    if (rc)
        return rc;
    if (!f[0])
        return invalid(w, "header.report_id: required");
    if (!get_int(f[0], INT64_MIN, INT64_MAX, &r->report_id))
        return invalid(w, "header.report_id: must be a 64-bit integer");
    if (!f[1])
        return invalid(w, "header.version: required");
    if (!cJSON_IsString(f[1]))
        return invalid(w, "header.version: must be a string");
    v = f[1]->valuestring;
    while (v[i] >= '0' && v[i] <= '9')
        i++;
    if (i == 0 || v[i] != '.' || !(v[i + 1] >= '0' && v[i + 1] <= '9'))
        return invalid(w, "header.version: must be \"Major.Minor\"");
    for (i++; v[i] >= '0' && v[i] <= '9'; i++)
        ;
    if (v[i] != '\0' || i >= sizeof(r->version))
        return invalid(w, "header.version: must be \"Major.Minor\" of at most %zu characters",
                       sizeof(r->version) - 1);
    memcpy(r->version, v, i + 1);
    return DD_OK;
}

/* Read one item of a list (item is borrowed, at is its path for messages)
 * into dst, an element of the list's array. */
typedef int (*list_item_reader)(const struct walk *w, const cJSON *item, const char *at, void *dst);

/* A block that lists items and may state their total, as
 * {"ports": [...], "total": n}: list and total are its two fields (either
 * may be NULL), key the list's name in messages. On return *items holds
 * the array of *n_items items of item_size bytes read so far (owned by the
 * caller, even on failure; NULL when the list is empty); *total is the
 * stated total, or *n_items when none was sent. */
static int read_list(const struct walk *w, const cJSON *list, const cJSON *total, const char *path,
                     const char *key, size_t item_size, list_item_reader read_item, void **items,
                     size_t *n_items, int64_t *total_out, bool *total_present)
{
    const cJSON *item;
    size_t n = 0;
    int rc;

    *items = NULL;
    *n_items = 0;
    if (list) {
        if (!cJSON_IsArray(list))
            return invalid(w, "%s.%s: must be an array", path, key);
        n = (size_t)cJSON_GetArraySize(list);
    }
    if (n) {
        *items = calloc(n, item_size);
        if (!*items)
            return DD_ERR_NOMEM;
        cJSON_ArrayForEach(item, list)
        {
            char at[ITEM_PATH_MAX];

            assert(*n_items < n);
            snprintf(at, sizeof(at), "%s.%s[%zu]", path, key, *n_items);
            rc = read_item(w, item, at, (char *)*items + *n_items * item_size);
            if (rc)
                return rc;
            (*n_items)++;
        }
    }
    *total_out = (int64_t)*n_items;
    if (total) {
        rc = get_count(w, total, path, "total", total_out);
        if (rc)
            return rc;
        *total_present = true;
    }
    return DD_OK;
}

/* A list_item_reader of {"port": p, "interface": "..."} into a uint16_t. */
static int read_port_item(const struct walk *w, const cJSON *item, const char *at, void *dst)
{
    static const enum field want_item[] = { F_PORT, F_INTERFACE };

    const cJSON *g[2];
    int rc;

    rc = get_fields(w, item, at, want_item, 2, g);
    if (rc)
        return rc;
    if (!g[0])
        return invalid(w, "%s.port: required", at);
    rc = get_port(w, g[0], at, "port", dst);
    if (rc)
        return rc;
    if (g[1] && !cJSON_IsString(g[1]))
        return invalid(w, "%s.interface: must be a string", at);
    return DD_OK;
}

static int read_ports(const struct walk *w, const cJSON *blk, const char *path,
                      struct report_ports *out)
{
    static const enum field want[] = { F_PORTS, F_TOTAL };

    const cJSON *f[2];
    void *items;
    int rc;

    rc = get_fields(w, blk, path, want, 2, f);
    if (rc)
        return rc;
    rc = read_list(w, f[0], f[1], path, "ports", sizeof(*out->ports), read_port_item, &items,
                   &out->n_ports, &out->total, &out->total_present);
    out->ports = items;
    return rc;
}

static int read_network_stats(const struct walk *w, const cJSON *blk,
                              struct report_network_stats *ns)
{
    static const enum field want[] = { F_BYTES_IN, F_BYTES_OUT, F_PACKETS_IN, F_PACKETS_OUT };

    int64_t *dst[] = { &ns->bytes_in, &ns->bytes_out, &ns->packets_in, &ns->packets_out };
    const cJSON *f[4];
    int rc;

    rc = get_fields(w, blk, "metrics.network_stats", want, 4, f);
    if (rc)
        return rc;
    for (unsigned i = 0; i < 4; i++) {
        if (!f[i])
            continue;
        rc = get_count(w, f[i], "metrics.network_stats", field_names[0][want[i]], dst[i]);
        if (rc)
            return rc;
        ns->present |= 1u << i;
    }
    return DD_OK;
}

/* A list_item_reader of {"remote_addr": "ip:port", "local_port": p,
 * "local_interface": "..."} into a struct report_connection. */
static int read_connection_item(const struct walk *w, const cJSON *item, const char *at, void *dst)
{
    static const enum field want_item[] = { F_REMOTE_ADDR, F_LOCAL_PORT, F_LOCAL_IF };

    struct report_connection *c = dst;
    const cJSON *g[3];
    uint16_t local_port;
    int rc;

    rc = get_fields(w, item, at, want_item, 3, g);
    if (rc)
        return rc;
    if (!g[0])
        return invalid(w, "%s.remote_addr: required", at);
    if (!cJSON_IsString(g[0]) ||
        !split_remote_addr(g[0]->valuestring, c->remote_ip, &c->remote_port))
        return invalid(w, "%s.remote_addr: must be \"ip:port\"", at);
    if (g[1]) {
        rc = get_port(w, g[1], at, "local_port", &local_port);
        if (rc)
            return rc;
    }
    if (g[2] && !cJSON_IsString(g[2]))
        return invalid(w, "%s.local_interface: must be a string", at);
    return DD_OK;
}

static int read_connections(const struct walk *w, const cJSON *tc, struct report *r)
{
    static const enum field want_tc[] = { F_ESTABLISHED };

    static const enum field want_ec[] = { F_CONNECTIONS, F_TOTAL };

    static const char path[] = "metrics.tcp_connections.established_connections";
    struct report_connections *out = &r->connections;
    const cJSON *ec, *f[2];
    void *items;
    int rc;

    rc = get_fields(w, tc, "metrics.tcp_connections", want_tc, 1, &ec);
    if (rc || !ec)
        return rc;
    r->blocks |= REPORT_HAS_CONNECTIONS;
    rc = get_fields(w, ec, path, want_ec, 2, f);
    if (rc)
        return rc;
    rc = read_list(w, f[0], f[1], path, "connections", sizeof(*out->items), read_connection_item,
                   &items, &out->n_items, &out->total, &out->total_present);
    out->items = items;
    return rc;
}

static int read_metrics(const struct walk *w, const cJSON *met, struct report *r)
{
    static const enum field want[] = { F_TCP_PORTS, F_UDP_PORTS, F_NET, F_TCP_CONNS };

    const cJSON *f[4];
    int rc;

    rc = get_fields(w, met, "metrics", want, 4, f);
    if (!rc && f[0]) {
        r->blocks |= REPORT_HAS_TCP_PORTS;
        rc = read_ports(w, f[0], "metrics.listening_tcp_ports", &r->tcp_ports);
    }
    if (!rc && f[1]) {
        r->blocks |= REPORT_HAS_UDP_PORTS;
        rc = read_ports(w, f[1], "metrics.listening_udp_ports", &r->udp_ports);
    }
    if (!rc && f[2]) {
        r->blocks |= REPORT_HAS_NETWORK_STATS;
        rc = read_network_stats(w, f[2], &r->network_stats);
    }
    if (!rc && f[3])
        rc = read_connections(w, f[3], r);
    return rc;
}

/* AWS accepts at most 15 significant digits: the value must survive a
 * round trip through its 15-digit decimal form. */
static bool within_15_digits(double d)
{
    char text[32];

    if (!isfinite(d))
        return false;
    snprintf(text, sizeof(text), "%.15g", d);
    return strtod(text, NULL) == d;
}

static bool string_item_valid(const char *s)
{
    for (; *s; s++) {
        char c = *s;

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              strchr(":_-/.", c)))
            return false;
    }
    return true;
}

static const char *const custom_kinds[] = { "number", "number_list", "string_list", "ip_list" };

static int read_custom_value(const struct walk *w, const cJSON *val, struct report_custom *c)
{
    const cJSON *obj = cJSON_IsArray(val) ? val->child : NULL;
    const cJSON *v, *item;
    size_t n, k;

    if (!obj || obj->next || !cJSON_IsObject(obj) || !obj->child || obj->child->next)
        return invalid(w, "custom_metrics.%s: must be an array of one object with one member",
                       c->name);
    v = obj->child;
    for (k = 0; k < 4; k++)
        if (strcmp(v->string, custom_kinds[k]) == 0)
            break;
    if (k == 4)
        return invalid(w, "custom_metrics.%s.%s: unknown value type", c->name, v->string);
    c->kind = (enum report_custom_kind)k;
    if (c->kind == REPORT_CUSTOM_NUMBER) {
        if (!cJSON_IsNumber(v) || !within_15_digits(v->valuedouble))
            return invalid(w, "custom_metrics.%s.number: must be a number of <= 15 digits",
                           c->name);
        c->numbers = malloc(sizeof(*c->numbers));
        if (!c->numbers)
            return DD_ERR_NOMEM;
        c->numbers[0] = v->valuedouble;
        c->n_values = 1;
        return DD_OK;
    }
    if (!cJSON_IsArray(v))
        return invalid(w, "custom_metrics.%s.%s: must be an array", c->name, v->string);
    n = (size_t)cJSON_GetArraySize(v);
    if (n == 0)
        return DD_OK;
    if (c->kind == REPORT_CUSTOM_NUMBER_LIST)
        c->numbers = calloc(n, sizeof(*c->numbers));
    else
        c->strings = calloc(n, sizeof(*c->strings));
    if (!c->numbers && !c->strings)
        return DD_ERR_NOMEM;
    cJSON_ArrayForEach(item, v)
    {
        if (c->kind == REPORT_CUSTOM_NUMBER_LIST) {
            if (!cJSON_IsNumber(item) || !within_15_digits(item->valuedouble))
                return invalid(w,
                               "custom_metrics.%s.number_list[%zu]: must be a number of <= "
                               "15 digits",
                               c->name, c->n_values);
            c->numbers[c->n_values++] = item->valuedouble;
            continue;
        }
        if (!cJSON_IsString(item))
            return invalid(w, "custom_metrics.%s.%s[%zu]: must be a string", c->name, v->string,
                           c->n_values);
        if (c->kind == REPORT_CUSTOM_STRING_LIST && !string_item_valid(item->valuestring))
            return invalid(w,
                           "custom_metrics.%s.string_list[%zu]: only letters, digits and "
                           "\": _ - / .\" are allowed",
                           c->name, c->n_values);
        if (c->kind == REPORT_CUSTOM_IP_LIST && !ip_valid(item->valuestring, AF_INET) &&
            !ip_valid(item->valuestring, AF_INET6))
            return invalid(w, "custom_metrics.%s.ip_list[%zu]: must be an IPv4 or IPv6 address",
                           c->name, c->n_values);
        c->strings[c->n_values] = dd_strdup(item->valuestring);
        if (!c->strings[c->n_values])
            return DD_ERR_NOMEM;
        c->n_values++;
    }
    return DD_OK;
}

static int read_custom(const struct walk *w, const cJSON *cmet, struct report *r)
{
    const cJSON *m, *o;
    size_t n;
    int rc;

    if (!cJSON_IsObject(cmet))
        return invalid(w, "custom_metrics: must be an object");
    n = (size_t)cJSON_GetArraySize(cmet);
    if (n == 0)
        return DD_OK;
    r->custom = calloc(n, sizeof(*r->custom));
    if (!r->custom)
        return DD_ERR_NOMEM;
    cJSON_ArrayForEach(m, cmet)
    {
        struct report_custom *c = &r->custom[r->n_custom];

        for (o = cmet->child; o != m; o = o->next)
            if (strcmp(o->string, m->string) == 0)
                return invalid(w, "custom_metrics.%s: repeated field", m->string);
        c->name = dd_strdup(m->string);
        if (!c->name)
            return DD_ERR_NOMEM;
        r->n_custom++;
        rc = read_custom_value(w, m, c);
        if (rc)
            return rc;
    }
    return DD_OK;
}

/* Decide the naming from the header's key. Fills r->short_names. */
static int pick_naming(const struct walk *w, const cJSON *root, bool *short_names)
{
    bool has_long = cJSON_GetObjectItemCaseSensitive(root, "header") != NULL;
    bool has_short = cJSON_GetObjectItemCaseSensitive(root, "hed") != NULL;

    if (has_long && has_short)
        return invalid(w, "report: mixes long and short field names (header and hed)");
    if (!has_long && !has_short)
        return invalid(w, "header: required");
    *short_names = has_short;
    return DD_OK;
}

static int read_report(struct walk *w, const cJSON *root, struct report *r)
{
    static const enum field want[] = { F_HEADER, F_METRICS, F_CUSTOM };

    const cJSON *f[3];
    int rc;

    if (!cJSON_IsObject(root))
        return invalid(w, "report: must be an object");
    rc = pick_naming(w, root, &w->short_names);
    if (rc)
        return rc;
    r->short_names = w->short_names;
    /* The header first, so a later failure can still echo the reportId. */
    rc = read_header(w, cJSON_GetObjectItemCaseSensitive(root, field_names[w->short_names][0]), r);
    if (rc)
        return rc;
    w->err->has_report_id = true;
    w->err->report_id = r->report_id;
    rc = get_fields(w, root, "report", want, 3, f);
    if (rc)
        return rc;
    if (!f[1] && !f[2])
        return invalid(w, "report: metrics or custom_metrics required");
    if (f[1]) {
        r->blocks |= REPORT_HAS_METRICS;
        rc = read_metrics(w, f[1], r);
        if (rc)
            return rc;
    }
    if (f[2]) {
        r->blocks |= REPORT_HAS_CUSTOM;
        rc = read_custom(w, f[2], r);
    }
    return rc;
}

int report_parse(const uint8_t *payload, size_t len, enum report_format fmt, struct report **out,
                 struct report_error *err)
{
    struct walk w = { false, err };
    struct report *r = NULL;
    cJSON *root = NULL;
    int rc;

    *out = NULL;
    err->has_report_id = false;
    err->report_id = 0;
    dd_errbuf_clear(&err->detail);
    if (len > REPORT_MAX_PAYLOAD)
        return dd_fail(&err->detail, DD_ERR_TOO_LARGE, "payload of %zu bytes is over %d", len,
                       REPORT_MAX_PAYLOAD);
    rc = parse_tree(payload, len, fmt, &root, err);
    if (rc)
        goto out;
    r = calloc(1, sizeof(*r));
    if (!r) {
        rc = DD_ERR_NOMEM;
        goto out;
    }
    rc = read_report(&w, root, r);
    if (rc)
        goto out;
    *out = r;
    r = NULL;
out:
    report_free(r);
    cJSON_Delete(root);
    return rc;
}

void report_free(struct report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_custom; i++) {
        struct report_custom *c = &r->custom[i];

        if (c->strings)
            for (size_t k = 0; k < c->n_values; k++)
                free(c->strings[k]);
        free(c->strings);
        free(c->numbers);
        free(c->name);
    }
    free(r->custom);
    free(r->connections.items);
    free(r->udp_ports.ports);
    free(r->tcp_ports.ports);
    free(r);
}

/* ---- replies ---- */

/* Bytes to text, with the same count-then-write scheme as struct cbor_writer. */
static void text_put(struct cbor_writer *w, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (w->buf && w->len < w->cap)
            w->buf[w->len] = (uint8_t)s[i];
        w->len++;
    }
}

static void text_puts(struct cbor_writer *w, const char *s)
{
    text_put(w, s, strlen(s));
}

static void text_int(struct cbor_writer *w, int64_t v)
{
    char num[24];

    snprintf(num, sizeof(num), "%" PRId64, v);
    text_puts(w, num);
}

/* A JSON string literal; bytes >= 0x80 pass through as UTF-8. */
static void text_quoted(struct cbor_writer *w, const char *s)
{
    text_puts(w, "\"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[8];

        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            text_put(w, esc, 2);
        } else if (c < 0x20) {
            snprintf(esc, sizeof(esc), "\\u%04x", c);
            text_puts(w, esc);
        } else {
            text_put(w, (const char *)&c, 1);
        }
    }
    text_puts(w, "\"");
}

struct reply {
    const char *thing;
    bool has_report_id;
    int64_t report_id;
    bool rejected;
    int64_t now_ms;
};

static void put_pair_text(struct cbor_writer *w, const char *key, const char *val)
{
    cbor_put_text(w, key, strlen(key));
    cbor_put_text(w, val, strlen(val));
}

static void write_reply(struct cbor_writer *w, const struct reply *rp, enum report_format fmt)
{
    static const char code[] = "InvalidPayload";
    static const char message[] = "Malformed metrics report";
    const char *status = rp->rejected ? "REJECTED" : "ACCEPTED";

    if (fmt == REPORT_CBOR) {
        cbor_put_map(w, 3u + rp->has_report_id + rp->rejected);
        put_pair_text(w, "thingName", rp->thing);
        if (rp->has_report_id) {
            cbor_put_text(w, "reportId", 8);
            cbor_put_int(w, rp->report_id);
        }
        put_pair_text(w, "status", status);
        if (rp->rejected) {
            cbor_put_text(w, "statusDetails", 13);
            cbor_put_map(w, 2);
            put_pair_text(w, "ErrorCode", code);
            put_pair_text(w, "ErrorMessage", message);
        }
        cbor_put_text(w, "timestamp", 9);
        cbor_put_int(w, rp->now_ms);
        return;
    }
    text_puts(w, "{\"thingName\":");
    text_quoted(w, rp->thing);
    if (rp->has_report_id) {
        text_puts(w, ",\"reportId\":");
        text_int(w, rp->report_id);
    }
    text_puts(w, ",\"status\":\"");
    text_puts(w, status);
    text_puts(w, "\"");
    if (rp->rejected) {
        text_puts(w, ",\"statusDetails\":{\"ErrorCode\":\"");
        text_puts(w, code);
        text_puts(w, "\",\"ErrorMessage\":\"");
        text_puts(w, message);
        text_puts(w, "\"}");
    }
    text_puts(w, ",\"timestamp\":");
    text_int(w, rp->now_ms);
    text_puts(w, "}");
}

static int build_reply(const struct reply *rp, enum report_format fmt, uint8_t **out,
                       size_t *out_len)
{
    struct cbor_writer w;
    uint8_t *buf;
    size_t need;

    *out = NULL;
    *out_len = 0;
    cbor_writer_init(&w, NULL, 0);
    write_reply(&w, rp, fmt);
    need = w.len;
    buf = malloc(need + 1);
    if (!buf)
        return DD_ERR_NOMEM;
    cbor_writer_init(&w, buf, need);
    write_reply(&w, rp, fmt);
    buf[need] = '\0';
    *out = buf;
    *out_len = need;
    return DD_OK;
}

int report_accepted_payload(const char *thing, int64_t report_id, int64_t now_ms,
                            enum report_format fmt, uint8_t **out, size_t *out_len)
{
    struct reply rp = { thing, true, report_id, false, now_ms };

    return build_reply(&rp, fmt, out, out_len);
}

int report_rejected_payload(const char *thing, const struct report_error *err, int64_t now_ms,
                            enum report_format fmt, uint8_t **out, size_t *out_len)
{
    struct reply rp = { thing, err->has_report_id, err->report_id, true, now_ms };

    return build_reply(&rp, fmt, out, out_len);
}

/* ---- topics ---- */

int report_topic_parse(const char *topic, char thing[REPORT_THING_MAX + 1], enum report_format *fmt)
{
    static const char prefix[] = "$aws/things/";
    static const char middle[] = "/defender/metrics/";
    const char *name, *slash;
    size_t n;

    thing[0] = '\0';
    *fmt = REPORT_JSON;
    if (strncmp(topic, prefix, sizeof(prefix) - 1) != 0)
        return DD_ERR_NOT_FOUND;
    name = topic + sizeof(prefix) - 1;
    slash = strchr(name, '/');
    if (!slash || strncmp(slash, middle, sizeof(middle) - 1) != 0)
        return DD_ERR_NOT_FOUND;
    if (strcmp(slash + sizeof(middle) - 1, "json") != 0 &&
        strcmp(slash + sizeof(middle) - 1, "cbor") != 0)
        return DD_ERR_NOT_FOUND;
    n = (size_t)(slash - name);
    if (n == 0 || n > REPORT_THING_MAX)
        return DD_ERR_INVALID;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];

        /* C0 controls, DEL, and C1 controls (U+0080..U+009F, UTF-8 C2 80..C2 9F) */
        if (c < 0x20 || c == 0x7f ||
            (c == 0xc2 && i + 1 < n && (unsigned char)name[i + 1] >= 0x80 &&
             (unsigned char)name[i + 1] <= 0x9f))
            return DD_ERR_INVALID;
    }
    memcpy(thing, name, n);
    thing[n] = '\0';
    *fmt = slash[sizeof(middle) - 1] == 'c' ? REPORT_CBOR : REPORT_JSON;
    return DD_OK;
}
