/* SPDX-License-Identifier: MIT */
/* xml.h: the XML of the query-protocol services (SNS, STS): a growing
 * buffer with escaped text, the <ActionResponse> envelope with its
 * ResponseMetadata, and the ErrorResponse document. Each service passes its
 * own namespace. Any thread: nothing here keeps state. */
#ifndef DD_SERVER_XML_H
#define DD_SERVER_XML_H

#include <stddef.h>

#include "server/request.h"

/* A document being built. Zero it to start; p is owned (malloc) and goes
 * to the response, or is freed by whoever gives up on it. Once oom is set
 * every later append does nothing. */
struct xml {
    char *p; /* owned, NUL-terminated */
    size_t len, cap;
    int oom;
};

/* Append n bytes of s as they are. */
void xml_put(struct xml *x, const char *s, size_t n);

/* Append s as it is (markup). */
void xml_raw(struct xml *x, const char *s);

/* Append s as text: & < > " escaped, and CR as &#xD; (a parser turns a raw
 * CR into LF). */
void xml_text(struct xml *x, const char *s);

/* Append <name>text</name>, the text escaped. */
void xml_elem(struct xml *x, const char *name, const char *text);

/* Start <ActionResponse xmlns="xmlns">, and <ActionResult> when
 * with_result. action and xmlns are borrowed. */
void xml_response_begin(struct xml *x, const char *xmlns, const char *action, int with_result);

/* Close what xml_response_begin() opened, add ResponseMetadata with a new
 * RequestId, and make it res's 200 text/xml body (res takes x->p). On
 * error x->p is freed and res untouched: DD_ERR_INTERNAL when no request
 * id can be made, DD_ERR_NOMEM. */
int xml_response_finish(struct xml *x, struct response *res, const char *action, int with_result);

/* Fill res with an ErrorResponse in namespace xmlns: Type Sender (Receiver
 * for a status of 500 and up), code, message, and a RequestId. All
 * strings are borrowed. Cannot fail: without a request id it answers 500
 * InternalError, out of memory an empty 500. */
void xml_error_response(struct response *res, const char *xmlns, unsigned status, const char *code,
                        const char *message);

#endif
