/* SPDX-License-Identifier: MIT */
/* origin.c: Host and Origin checks (see origin.h). */
#include "core/origin.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>
#include <strings.h>

static bool port_ok(const char *p)
{
    size_t n = strlen(p);

    return n >= 1 && n <= 5 && strspn(p, "0123456789") == n;
}

int origin_host_of(const char *value, char *host, size_t size)
{
    const char *start = value, *end, *colon;
    size_t i, n;

    host[0] = '\0';
    if (!value || !*value)
        return DD_ERR_INVALID;
    if (value[0] == '[') {
        end = strchr(value, ']');
        if (!end || (end[1] && (end[1] != ':' || !port_ok(end + 2))))
            return DD_ERR_INVALID;
        start = value + 1;
    } else {
        colon = strchr(value, ':');
        if (colon && !port_ok(colon + 1))
            return DD_ERR_INVALID;
        end = colon ? colon : value + strlen(value);
    }
    n = (size_t)(end - start);
    if (n == 0 || n >= size || n > ORIGIN_HOST_MAX)
        return DD_ERR_INVALID;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)start[i];

        if (c <= ' ' || c >= 0x7f || c == '/' || c == '@') {
            host[0] = '\0';
            return DD_ERR_INVALID;
        }
        host[i] = (char)tolower(c);
    }
    host[n] = '\0';
    return DD_OK;
}

bool origin_host_is_ip(const char *host)
{
    unsigned char addr[16];

    return inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
}

bool origin_host_is_loopback(const char *host)
{
    static const char suffix[] = ".localhost";
    unsigned char addr[16];
    size_t n = strlen(host);

    if (strcmp(host, "localhost") == 0 || strcmp(host, "::1") == 0)
        return true;
    if (n > sizeof(suffix) - 1 && strcmp(host + n - (sizeof(suffix) - 1), suffix) == 0)
        return true;
    return inet_pton(AF_INET, host, addr) == 1 && addr[0] == 127;
}

bool origin_host_served(const char *host, const char *bind, const char *const *extra, size_t n)
{
    size_t i;

    if (origin_host_is_loopback(host) || strcasecmp(host, bind) == 0)
        return true;
    if ((strcmp(bind, "0.0.0.0") == 0 || strcmp(bind, "::") == 0) && origin_host_is_ip(host))
        return true;
    for (i = 0; i < n; i++)
        if (strcasecmp(host, extra[i]) == 0)
            return true;
    return false;
}

bool origin_is_same(const char *origin, const char *host_header)
{
    static const char scheme[] = "http://";

    return host_header && strncasecmp(origin, scheme, sizeof(scheme) - 1) == 0 &&
           strcasecmp(origin + sizeof(scheme) - 1, host_header) == 0;
}

bool origin_is_listed(const char *origin, const char *const *allowed, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (strcmp(allowed[i], "*") == 0 || strcasecmp(origin, allowed[i]) == 0)
            return true;
    return false;
}
