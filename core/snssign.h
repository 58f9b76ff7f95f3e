/* SPDX-License-Identifier: MIT */
/* snssign.h: the key SNS messages are signed with, and the signature.
 *
 * ddlocal signs its SNS messages as AWS does (sns.md 3.2): RSA PKCS#1 v1.5
 * over SHA-1 (SignatureVersion "1") or SHA-256 ("2"), with a key and a
 * self-signed certificate made once per database and kept there. The
 * plugin's delivery thread signs what it sends, and the server signs what
 * Publish writes straight into its own queues, so both call this module.
 * Signatures are deterministic, so a retry carries the same one. No I/O;
 * any thread (a key object is used by one thread at a time). */
#ifndef DD_CORE_SNSSIGN_H
#define DD_CORE_SNSSIGN_H

#include "core/error.h"
#include "core/sns.h"

/* A loaded signing key. */
struct snssign;

/* Make an RSA-2048 key and a self-signed certificate valid for ten years,
 * as PEM texts: on DD_OK *key_pem and *cert_pem are new strings to free();
 * on error both are NULL and eb says why (DD_ERR_INTERNAL, DD_ERR_NOMEM). */
int snssign_key_new(char **key_pem, char **cert_pem, struct dd_errbuf *eb);

/* Load key_pem (borrowed). On DD_OK *out is a new key to free with
 * snssign_free(); DD_ERR_INVALID when the text is not a private key. */
int snssign_load(const char *key_pem, struct snssign **out, struct dd_errbuf *eb);

/* Free a key; NULL-safe. */
void snssign_free(struct snssign *k);

/* Sign m (a Notification or a confirmation, every field of
 * sns_string_to_sign() and sns_http_body() but the signature given) and
 * build its body: the Lambda event when lambda, else the HTTP (and SQS)
 * body. m->signature_version picks the hash. On DD_OK *body is a new
 * string to free(); else NULL, with the errors of sns_http_body() and
 * DD_ERR_INTERNAL when signing fails. */
int snssign_body(const struct snssign *k, const struct sns_message *m, int lambda, char **body,
                 struct dd_errbuf *eb);

#endif
