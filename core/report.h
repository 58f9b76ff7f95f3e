/* SPDX-License-Identifier: MIT */
/* report.h: Device Defender device-side metrics reports: the topics devices
 * publish them on, parsing and validation (JSON and CBOR), and the replies
 * for .../accepted and .../rejected.
 *
 * A CBOR report is decoded into the same cJSON tree a JSON report parses to
 * (core/cbor.h), and one walker validates both, so the two formats give the
 * same struct report for the same document. The walker checks every field,
 * then the caller turns the struct into datapoints; this module never looks
 * at security profiles or custom metric definitions.
 *
 * Choices where AWS's public material is silent ([U] in the reference,
 * reference/device-defender.md section 4), following its ddlocal advice:
 * - a report_id equal to or lower than the last one is accepted (the caller
 *   may add a strict mode); the id is an integer, epoch s or ms, 64-bit;
 * - a block the report omits is marked absent here and yields no datapoint;
 *   an empty list is present with zero items (compliant, clears);
 * - a custom metric is accepted whatever its name; the caller ignores names
 *   that no CreateCustomMetric defined;
 * - long and short field names are never mixed in one report (rejected);
 * - a field name that is neither (a typo) is rejected, since the documented
 *   schema is closed and a silent drop would hide the typo;
 * - custom metric values that break the format rules reject the report
 *   ("letters" in string lists means ASCII letters);
 * - remote_addr also accepts the unbracketed IPv6 "addr:port" that the 1.x
 *   Python agent writes, split at the last colon;
 * - the only rejection AWS is seen to send is InvalidPayload / "Malformed
 *   metrics report", so every rejection carries that pair; the specific
 *   reason stays in struct report_error for logs and tests;
 * - JSON numbers are doubles (cJSON), so integers above 2^53 are rounded;
 *   CBOR integers are converted the same way so the formats agree. */
#ifndef DD_CORE_REPORT_H
#define DD_CORE_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* AWS IoT Core's MQTT payload ceiling: larger reports are DD_ERR_TOO_LARGE. */
#define REPORT_MAX_PAYLOAD 131072
/* Longest thing name in a metrics topic, in bytes. */
#define REPORT_THING_MAX 128
/* Room for the longest textual IPv6 address plus NUL (INET6_ADDRSTRLEN). */
#define REPORT_IP_MAX 46

enum report_format {
    REPORT_JSON,
    REPORT_CBOR,
};

/* Bits of struct report.blocks: which parts the report carried. */
enum report_block {
    REPORT_HAS_METRICS = 1 << 0,       /* metrics / met */
    REPORT_HAS_CUSTOM = 1 << 1,        /* custom_metrics / cmet */
    REPORT_HAS_NETWORK_STATS = 1 << 2, /* metrics.network_stats */
    REPORT_HAS_TCP_PORTS = 1 << 3,     /* metrics.listening_tcp_ports */
    REPORT_HAS_UDP_PORTS = 1 << 4,     /* metrics.listening_udp_ports */
    REPORT_HAS_CONNECTIONS = 1 << 5,   /* metrics.tcp_connections.established_connections */
};

/* Bits of struct report_network_stats.present. */
enum report_stat {
    REPORT_STAT_BYTES_IN = 1 << 0,
    REPORT_STAT_BYTES_OUT = 1 << 1,
    REPORT_STAT_PACKETS_IN = 1 << 2,
    REPORT_STAT_PACKETS_OUT = 1 << 3,
};

/* Deltas since the previous report, each >= 0 when its bit is set. */
struct report_network_stats {
    unsigned present; /* enum report_stat bits */
    int64_t bytes_in;
    int64_t bytes_out;
    int64_t packets_in;
    int64_t packets_out;
};

/* Listening ports. Agents sample long lists, so total may exceed n_ports. */
struct report_ports {
    uint16_t *ports; /* owned; n_ports entries, each 1..65535; NULL when empty */
    size_t n_ports;
    int64_t total;      /* the reported total, or n_ports when none was sent */
    bool total_present; /* the report carried a total */
};

/* One established TCP connection: the remote end of remote_addr. */
struct report_connection {
    char remote_ip[REPORT_IP_MAX]; /* IPv4 or IPv6 text, as sent, no brackets */
    uint16_t remote_port;          /* 1..65535 */
};

struct report_connections {
    struct report_connection *items; /* owned; n_items entries; NULL when empty */
    size_t n_items;
    int64_t total; /* the reported total, or n_items */
    bool total_present;
};

enum report_custom_kind {
    REPORT_CUSTOM_NUMBER,      /* [{"number": n}]: n_values is 1 */
    REPORT_CUSTOM_NUMBER_LIST, /* [{"number_list": [...]}] */
    REPORT_CUSTOM_STRING_LIST, /* [{"string_list": [...]}] */
    REPORT_CUSTOM_IP_LIST,     /* [{"ip_list": [...]}] */
};

struct report_custom {
    char *name; /* owned; the key in custom_metrics */
    enum report_custom_kind kind;
    size_t n_values;
    double *numbers; /* owned; number kinds only, else NULL */
    char **strings;  /* owned array of owned strings; list kinds of text, else NULL */
};

/* A validated report. Free with report_free(). */
struct report {
    int64_t report_id;
    char version[16]; /* "Major.Minor" */
    bool short_names; /* the report used hed/rid/met/... */
    unsigned blocks;  /* enum report_block bits */
    struct report_network_stats network_stats;
    struct report_ports tcp_ports;
    struct report_ports udp_ports;
    struct report_connections connections;
    struct report_custom *custom; /* owned; n_custom entries in report order */
    size_t n_custom;
};

/* Why report_parse() refused a report, for the reply and for logs. */
struct report_error {
    bool has_report_id; /* the header's report_id was read before the failure */
    int64_t report_id;
    struct dd_errbuf detail; /* the specific reason ("metrics.network_stats.bytes_in: ...") */
};

/* Parse and validate a metrics report of len bytes (payload borrowed, need
 * not be NUL-terminated) in the format its topic names. On DD_OK *out owns
 * a new report: free it with report_free(). err (the caller's, not NULL) is
 * cleared first and filled on DD_ERR_INVALID / DD_ERR_TOO_LARGE. Errors:
 * DD_ERR_TOO_LARGE (len > REPORT_MAX_PAYLOAD, decided before parsing),
 * DD_ERR_INVALID (any rule in the file header of report.c), DD_ERR_NOMEM.
 * On error *out is NULL. Pure: any thread. Tested by test_report.c. */
int report_parse(const uint8_t *payload, size_t len, enum report_format fmt, struct report **out,
                 struct report_error *err);

/* Free a report and everything it owns. NULL and half-built reports are
 * fine. Cannot fail. */
void report_free(struct report *r);

/* Build the reply for .../accepted:
 *   {"thingName":T,"reportId":N,"status":"ACCEPTED","timestamp":now_ms}
 * as compact JSON, or as a CBOR map with the same keys in the same order
 * when fmt is REPORT_CBOR. thing is borrowed (NUL-terminated, not NULL).
 * On DD_OK *out is a new buffer of *out_len bytes (JSON is also
 * NUL-terminated past *out_len) for free(). Errors: DD_ERR_NOMEM, with *out
 * NULL and *out_len 0. Pure: any thread. */
int report_accepted_payload(const char *thing, int64_t report_id, int64_t now_ms,
                            enum report_format fmt, uint8_t **out, size_t *out_len);

/* Build the reply for .../rejected: like the accepted one, with status
 * "REJECTED", "statusDetails":{"ErrorCode":"InvalidPayload","ErrorMessage":
 * "Malformed metrics report"} before timestamp, and reportId only when
 * err->has_report_id. thing and err are borrowed, not NULL. Ownership and
 * errors as report_accepted_payload(). Pure: any thread. */
int report_rejected_payload(const char *thing, const struct report_error *err, int64_t now_ms,
                            enum report_format fmt, uint8_t **out, size_t *out_len);

/* Split a metrics topic $aws/things/{thing}/defender/metrics/{json|cbor}
 * into thing (the caller's buffer of REPORT_THING_MAX + 1 bytes) and fmt.
 * topic is borrowed, NUL-terminated, not NULL. Errors: DD_ERR_NOT_FOUND for
 * any other topic (the /accepted and /rejected reply topics included);
 * DD_ERR_INVALID for a metrics topic whose thing name is empty, longer than
 * REPORT_THING_MAX bytes or holds a control character (AWS rejects those
 * reports; with no usable name there is no reply to build). On error thing
 * is "" and *fmt REPORT_JSON. Pure: any thread, cannot fail otherwise. */
int report_topic_parse(const char *topic, char thing[REPORT_THING_MAX + 1],
                       enum report_format *fmt);

#endif
