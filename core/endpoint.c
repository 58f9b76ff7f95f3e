/* SPDX-License-Identifier: MIT */
/* endpoint.c: DescribeEndpoint's addresses (see endpoint.h). */
#include "core/endpoint.h"

#include <stdint.h>
#include <string.h>

#include "core/error.h"
#include "core/strbuf.h"
#include "core/sts.h"

static uint64_t fnv1a(uint64_t h, const char *s)
{
    for (; s && *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* One step of splitmix64: spreads every bit of the hash over the output. */
static uint64_t mix(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void endpoint_prefix(enum endpoint_type type, const char *account, const char *region,
                     char out[ENDPOINT_PREFIX_LEN + 1])
{
    static const char letters[] = "abcdefghijklmnopqrstuvwxyz";
    static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    const char *kind = type == ENDPOINT_CREDENTIALS ? "credentials"
                       : type == ENDPOINT_JOBS      ? "jobs"
                                                    : "data";
    uint64_t state = 0xcbf29ce484222325ULL;
    size_t i;

    state = fnv1a(state, kind);
    state = fnv1a(state, "/");
    state = fnv1a(state, account);
    state = fnv1a(state, "/");
    state = fnv1a(state, region);
    /* AWS's prefixes start with a letter (a1b2c3d4e5f6g7). */
    out[0] = letters[mix(&state) % (sizeof(letters) - 1)];
    for (i = 1; i < ENDPOINT_PREFIX_LEN; i++)
        out[i] = alnum[mix(&state) % (sizeof(alnum) - 1)];
    out[ENDPOINT_PREFIX_LEN] = '\0';
}

int endpoint_address(char *buf, size_t size, enum endpoint_type type, const char *account,
                     const char *region, const char *tls_host, unsigned tls_port)
{
    /* What follows the prefix: PREFIX<infix>.iot.REGION.amazonaws.com */
    static const char *const infixes[] = {
        [ENDPOINT_DATA] = "",
        [ENDPOINT_DATA_ATS] = "-ats",
        [ENDPOINT_CREDENTIALS] = ".credentials",
        [ENDPOINT_JOBS] = ".jobs",
    };
    char prefix[ENDPOINT_PREFIX_LEN + 1];
    struct strbuf sb;
    int rc;

    strbuf_init(&sb, buf, size);
    if ((type == ENDPOINT_DATA || type == ENDPOINT_DATA_ATS) && tls_host && tls_host[0]) {
        if (tls_port == ENDPOINT_DEFAULT_TLS)
            strbuf_append(&sb, tls_host);
        else if (strchr(tls_host, ':'))
            strbuf_appendf(&sb, "[%s]:%u", tls_host, tls_port);
        else
            strbuf_appendf(&sb, "%s:%u", tls_host, tls_port);
    } else {
        endpoint_prefix(type, account, region, prefix);
        strbuf_appendf(&sb, "%s%s.iot.%s.%s", prefix, infixes[type], region,
                       strcmp(sts_partition(region), "aws-cn") == 0 ? "amazonaws.com.cn"
                                                                    : "amazonaws.com");
    }
    rc = strbuf_check(&sb);
    if (rc && size)
        buf[0] = '\0';
    return rc;
}
