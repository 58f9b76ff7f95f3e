/* SPDX-License-Identifier: MIT */
/* fuzz_sqs.c: the SQS inputs core/sqs.c checks: RedrivePolicy values,
 * queue names with attribute values, and message attributes with their
 * digest.
 *
 * Input: byte 0 picks the mode, then fields separated by NUL bytes.
 * - 0: the rest is a RedrivePolicy; a parsed one must carry an ARN and a
 *   count within 1..1000.
 * - 1: name NUL value: a queue name, then the value of the attribute whose
 *   rule the name's length picks; each answer must be DD_OK or the
 *   documented error.
 * - 2: up to 10 attributes of name NUL type NUL value NUL: checked, then
 *   digested; the digest is 32 hex digits, and the same for any order. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/sqs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FIELDS 30

/* Split data into NUL-terminated fields in buf (size + 1 bytes). */
static size_t split(const uint8_t *data, size_t size, char *buf, char **fields)
{
    size_t n = 0, i;

    memcpy(buf, data, size);
    buf[size] = '\0';
    fields[n++] = buf;
    for (i = 0; i < size && n < MAX_FIELDS; i++)
        if (buf[i] == '\0')
            fields[n++] = buf + i + 1;
    return n;
}

static void redrive(const char *text, size_t len)
{
    struct dd_errbuf eb = { 0 };
    struct sqs_redrive r;

    if (sqs_redrive_parse(text, len, &r, &eb) == DD_OK) {
        if (strncmp(r.arn, "arn:", 4) != 0 || r.max_receives < 1 || r.max_receives > 1000)
            abort();
    } else if (r.arn[0] || r.max_receives) {
        abort();
    }
}

static void name_and_value(char **f, size_t n)
{
    struct dd_errbuf eb = { 0 };
    const struct sqs_attr_rule *rules, *r;
    bool fifo = n > 2;
    size_t n_rules;
    int rc;

    (void)sqs_queue_name_valid(f[0]);
    (void)sqs_fifo_name_valid(f[0]);
    (void)sqs_fifo_id_valid(f[0]);
    rules = sqs_attr_rules(&n_rules);
    r = &rules[strlen(f[0]) % n_rules];
    rc = sqs_attr_check(r->name, n > 1 ? f[1] : "", fifo, &eb);
    /* a known name is only ever out of range, or a FIFO one on a standard queue */
    if (rc != DD_OK && rc != DD_ERR_INVALID && !(rc == DD_ERR_NOT_FOUND && r->fifo && !fifo))
        abort();
    if (sqs_attr_check(f[0], "1", fifo, &eb) == DD_OK && !sqs_attr_rule_find(f[0]))
        abort();
}

static void message_attributes(char **f, size_t n)
{
    struct sqs_msg_attr a[10], b[10];
    struct dd_errbuf eb = { 0 };
    char d1[SQS_MD5_HEX], d2[SQS_MD5_HEX];
    size_t i, k = 0;

    for (i = 0; i + 2 < n && k < 10; i += 3, k++) {
        a[k].name = f[i];
        a[k].data_type = f[i + 1];
        a[k].value = (const unsigned char *)f[i + 2];
        a[k].value_len = strlen(f[i + 2]);
        a[k].binary = f[i + 1][0] == 'B';
        (void)sqs_msg_attr_check(&a[k], &eb);
    }
    for (i = 0; i < k; i++)
        b[i] = a[k - 1 - i];
    if (sqs_md5_attributes(a, k, d1) || sqs_md5_attributes(b, k, d2))
        abort();
    if (strcmp(d1, d2) != 0 || strlen(d1) != (k ? 32u : 0u))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *fields[MAX_FIELDS];
    char *buf;
    size_t n;

    if (size < 1 || size > 4096)
        return 0;
    buf = malloc(size);
    if (!buf)
        return 0;
    n = split(data + 1, size - 1, buf, fields);
    switch (data[0] % 3) {
    case 0:
        redrive((const char *)data + 1, size - 1);
        break;
    case 1:
        name_and_value(fields, n);
        break;
    default:
        message_attributes(fields, n);
    }
    free(buf);
    return 0;
}
