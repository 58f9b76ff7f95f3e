/* SPDX-License-Identifier: MIT */
/* api_certs.h: what the certificate handlers (api_certs.c) share with the
 * CA certificate handlers (api_cacerts.c). Any MHD worker thread. */
#ifndef DD_SERVER_API_CERTS_H
#define DD_SERVER_API_CERTS_H

#include "server/iot/ca.h"
#include "server/request.h"
#include "store/iot/store_certs.h"

struct cJSON;

/* A certificateId (or caCertificateId): 64 characters of pattern
 * (0x)?[a-fA-F0-9]+, copied lowercased into id, as the store keeps them.
 * DD_ERR_INVALID with AWS's validation message. */
int api_certs_check_id(struct request *req, const char *v, char id[STORE_CERT_ID_SIZE]);

/* A required string member of 1..max characters; *out borrowed from o.
 * DD_ERR_INVALID with AWS's validation message. */
int api_certs_member_text(struct request *req, const struct cJSON *o, const char *key, size_t max,
                          const char **out);

/* This thread's store into *s and the emulator's CA into *ca (free it
 * with ca_free()). DD_ERR_STORE, or DD_ERR_INTERNAL when the CA cannot be
 * loaded. */
int api_certs_load_ca(struct request *req, struct store **s, struct ca **ca);

/* Answer one page of certificates (pageSize, marker, isAscendingOrder of
 * req; the marker scoped by operation), of CA ca_id or, when NULL, all of
 * them, as {certificates, nextMarker}. */
int api_certs_respond_page(struct request *req, struct response *res, struct store *s,
                           const char *ca_id, const char *operation);

#endif
