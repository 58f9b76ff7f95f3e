/* SPDX-License-Identifier: MIT */
/* api_registry.h: what the dynamic thing group operations
 * (api_thing_groups_dynamic.c) share with the static ones (api_registry.c):
 * reading thingGroupProperties, the answer of a create, and the check that
 * an operation meant for one kind of group is not used on the other. */
#ifndef DD_SERVER_API_REGISTRY_H
#define DD_SERVER_API_REGISTRY_H

#include <stdbool.h>

#include "server/handler.h"

struct store;

/* thingGroupProperties (props may be NULL): *description borrowed from
 * props (NULL when absent), *attrs the attributes' JSON text (free(); NULL
 * keeps the stored ones), *merge the attributePayload's flag.
 * DD_ERR_INVALID (req->eb says why), DD_ERR_NOMEM. */
int api_registry_group_properties(struct request *req, const struct cJSON *props,
                                  const char **description, char **attrs, int *merge);

/* The start of the answer of a create once the store created (found DD_OK)
 * or found (DD_ERR_EXISTS) the resource: *o a new object {<what>Name,
 * <what>Arn, <what>Id} for the caller to complete and answer (cJSON_Delete
 * on error). On DD_ERR_EXISTS res already holds
 * ResourceAlreadyExistsException with resourceId and resourceArn, and *o is
 * NULL. DD_ERR_INVALID when the ARN does not fit, DD_ERR_NOMEM. */
int api_registry_created(struct request *req, struct response *res, int found,
                         enum names_arn_type type, const char *what, const char *name,
                         const char *id, struct cJSON **o);

/* Refuse an operation for dynamic groups (dynamic true) on a static group
 * and the other way round, with AWS's InvalidRequestException text naming
 * the group's ARN. DD_ERR_NOT_FOUND when the group is missing, store
 * errors. Any MHD worker thread. */
int api_registry_group_kind(struct request *req, struct store *s, const char *name, bool dynamic);

#endif
