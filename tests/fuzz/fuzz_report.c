/* SPDX-License-Identifier: MIT */
/* fuzz_report.c: a metrics report as the plugin receives it. The first byte
 * picks the topic's format (odd: CBOR, even: JSON; the corpus uses 'C' and
 * 'J'), the rest is the payload. A parsed report must hold what the struct
 * promises, and the reply the plugin would send must build and, for CBOR,
 * decode back to a map. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/cbor.h"
#include "core/report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_report(const struct report *r)
{
    for (size_t i = 0; i < r->tcp_ports.n_ports; i++)
        assert(r->tcp_ports.ports[i] > 0);
    assert(r->tcp_ports.total >= 0 && r->udp_ports.total >= 0 && r->connections.total >= 0);
    for (size_t i = 0; i < r->connections.n_items; i++) {
        assert(r->connections.items[i].remote_port > 0);
        assert(strlen(r->connections.items[i].remote_ip) < REPORT_IP_MAX);
    }
    for (size_t i = 0; i < r->n_custom; i++)
        assert(r->custom[i].name != NULL);
    assert(r->blocks & (REPORT_HAS_METRICS | REPORT_HAS_CUSTOM));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    enum report_format fmt;
    struct report_error err;
    struct report *r = NULL;
    uint8_t *reply = NULL;
    size_t reply_len = 0;
    int rc;

    if (size < 1)
        return 0;
    fmt = (data[0] & 1) ? REPORT_CBOR : REPORT_JSON;
    rc = report_parse(data + 1, size - 1, fmt, &r, &err);
    if (rc == 0) {
        check_report(r);
        rc = report_accepted_payload("fuzz-thing", r->report_id, 1717171718123, fmt, &reply,
                                     &reply_len);
    } else {
        assert(r == NULL);
        rc = report_rejected_payload("fuzz-thing", &err, 1717171718123, fmt, &reply, &reply_len);
    }
    if (rc == 0 && fmt == REPORT_CBOR) {
        cJSON *tree = NULL;

        rc = cbor_decode_json(reply, reply_len, &tree, NULL);
        assert(rc == 0 && cJSON_IsObject(tree));
        cJSON_Delete(tree);
    }
    free(reply);
    report_free(r);
    return 0;
}
