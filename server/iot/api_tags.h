/* SPDX-License-Identifier: MIT */
/* api_tags.h: what the IoT create handlers share with the tagging
 * operations (api_tags.c): storing the tags a create call was given. */
#ifndef DD_SERVER_API_TAGS_H
#define DD_SERVER_API_TAGS_H

#include "server/handler.h"

/* Store the tags member of h->body (already checked by the create's check
 * step with handler_tags()) on the resource of kind named name that the
 * call step has just created, under its ARN in the request's partition,
 * so ListTagsForResource reads them. No tags member: nothing to do.
 * DD_ERR_NOMEM, DD_ERR_LIMIT (h->req->eb says why), DD_ERR_BUSY,
 * DD_ERR_STORE, DD_ERR_INVALID when the ARN does not fit. Any MHD worker
 * thread, with h->s open. */
int api_tags_create(struct handler *h, enum names_arn_type kind, const char *name);

#endif
