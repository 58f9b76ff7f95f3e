/* SPDX-License-Identifier: MIT */
/* api.h: the route tables of the API families, one file each. */
#ifndef DD_SERVER_API_H
#define DD_SERVER_API_H

#include "server/router.h"

/* /_ddlocal/: health, clock, reset (api_emulator.c). */
extern const struct route api_emulator_routes[];
/* Policies, versions, attachments, effective policies (api_policies.c). */
extern const struct route api_policies_routes[];
/* Device Defender dimensions and custom metrics (api_dimensions.c). */
extern const struct route api_dimensions_routes[];

/* Things, thing groups, membership, DescribeEndpoint (api_registry.c). */
extern const struct route api_registry_routes[];

#endif
