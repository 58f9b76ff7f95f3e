/* SPDX-License-Identifier: MIT */
/* api.h: the route tables of the API families, one file each. */
#ifndef DD_SERVER_API_H
#define DD_SERVER_API_H

#include "server/router.h"

/* /_ddlocal/: health, clock, reset (api_emulator.c). */
extern const struct route api_emulator_routes[];

/* Things, thing groups, membership, DescribeEndpoint (api_registry.c). */
extern const struct route api_registry_routes[];

/* SNS in the query protocol (POST / and the GET / links), the signing
 * certificate, alerts view, sink and Lambda mappings (api_sns.c). */
extern const struct route api_sns_routes[];

#endif
