/* SPDX-License-Identifier: MIT */
/* origin.h: which names a browser may use to reach the emulator, and from
 * which pages.
 *
 * A web page the user visits can send "simple" cross-origin POSTs to
 * localhost without asking, and DNS rebinding lets it reach the emulator
 * under a name of its own. Both are refused by looking at two headers: the
 * Host a request names must be one the emulator serves, and an Origin,
 * which browsers send and SDKs do not, must be the emulator's own or one
 * the user allowed. Pure: no I/O, any thread. */
#ifndef DD_CORE_ORIGIN_H
#define DD_CORE_ORIGIN_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"

/* The longest host name kept (DNS allows 253). */
#define ORIGIN_HOST_MAX 253

/* The host of a Host header value ("name", "name:port", "1.2.3.4:port",
 * "[::1]:port") into host (size bytes), lowercased, IPv6 brackets removed.
 * DD_ERR_INVALID for an empty host, a bad port or a value too long (host
 * is then ""). */
int origin_host_of(const char *value, char *host, size_t size);

/* Whether host (as origin_host_of() gives it) is a loopback name:
 * "localhost", a name under ".localhost" (RFC 6761), an IPv4 literal in
 * 127.0.0.0/8, or "::1". */
bool origin_host_is_loopback(const char *host);

/* Whether host is an IPv4 or IPv6 address literal. */
bool origin_host_is_ip(const char *host);

/* Whether host names the emulator: a loopback name, the bind address, any
 * address literal when bind is a wildcard (0.0.0.0 or ::: a rebinding
 * attack needs a name, never an address), or one of the n names in extra
 * (compared without case). */
bool origin_host_served(const char *host, const char *bind, const char *const *extra, size_t n);

/* Whether origin (an Origin header value) is the emulator's own page for
 * a request naming host_header: "http://" followed by the Host header's
 * value, without case. */
bool origin_is_same(const char *origin, const char *host_header);

/* Whether origin is one of the n allowed origins (exact, without case;
 * "*" allows any). */
bool origin_is_listed(const char *origin, const char *const *allowed, size_t n);

#endif
