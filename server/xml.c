/* SPDX-License-Identifier: MIT */
/* xml.c: query-protocol XML (see xml.h). */
#include "server/xml.h"

#include <stdlib.h>
#include <string.h>

#include "core/ids.h"

void xml_put(struct xml *x, const char *s, size_t n)
{
    if (x->oom)
        return;
    if (x->len + n + 1 > x->cap) {
        size_t cap = (x->len + n + 1) * 2 + 256;
        char *p = realloc(x->p, cap);

        if (!p) {
            x->oom = 1;
            return;
        }
        x->p = p;
        x->cap = cap;
    }
    memcpy(x->p + x->len, s, n);
    x->len += n;
    x->p[x->len] = '\0';
}

void xml_raw(struct xml *x, const char *s)
{
    xml_put(x, s, strlen(s));
}

void xml_text(struct xml *x, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&':
            xml_raw(x, "&amp;");
            break;
        case '<':
            xml_raw(x, "&lt;");
            break;
        case '>':
            xml_raw(x, "&gt;");
            break;
        case '"':
            xml_raw(x, "&quot;");
            break;
        case '\r': /* a parser would turn a raw CR into LF */
            xml_raw(x, "&#xD;");
            break;
        default:
            xml_put(x, s, 1);
        }
    }
}

void xml_elem(struct xml *x, const char *name, const char *text)
{
    xml_raw(x, "<");
    xml_raw(x, name);
    xml_raw(x, ">");
    xml_text(x, text);
    xml_raw(x, "</");
    xml_raw(x, name);
    xml_raw(x, ">");
}

void xml_response_begin(struct xml *x, const char *xmlns, const char *action, int with_result)
{
    xml_raw(x, "<");
    xml_raw(x, action);
    xml_raw(x, "Response xmlns=\"");
    xml_raw(x, xmlns);
    xml_raw(x, "\">");
    if (with_result) {
        xml_raw(x, "<");
        xml_raw(x, action);
        xml_raw(x, "Result>");
    }
}

int xml_response_finish(struct xml *x, struct response *res, const char *action, int with_result)
{
    char id[IDS_UUID_SIZE];

    if (with_result) {
        xml_raw(x, "</");
        xml_raw(x, action);
        xml_raw(x, "Result>");
    }
    if (ids_uuid(id)) {
        free(x->p);
        x->p = NULL;
        return DD_ERR_INTERNAL;
    }
    xml_raw(x, "<ResponseMetadata>");
    xml_elem(x, "RequestId", id);
    xml_raw(x, "</ResponseMetadata></");
    xml_raw(x, action);
    xml_raw(x, "Response>");
    if (x->oom) {
        free(x->p);
        x->p = NULL;
        return DD_ERR_NOMEM;
    }
    response_take_body(res, 200, "text/xml", x->p, x->len);
    x->p = NULL; /* the response's now */
    return DD_OK;
}

void xml_error_response(struct response *res, const char *xmlns, unsigned status, const char *code,
                        const char *message)
{
    struct xml x = { 0 };
    char id[IDS_UUID_SIZE];

    if (ids_uuid(id)) { /* no request id to give: say so, and leave it out */
        status = 500;
        code = "InternalError";
        message = "cannot generate a request id";
    }
    xml_raw(&x, "<ErrorResponse xmlns=\"");
    xml_raw(&x, xmlns);
    xml_raw(&x, "\"><Error><Type>");
    xml_raw(&x, status >= 500 ? "Receiver" : "Sender");
    xml_raw(&x, "</Type>");
    xml_elem(&x, "Code", code);
    xml_elem(&x, "Message", message);
    xml_raw(&x, "</Error>");
    if (id[0])
        xml_elem(&x, "RequestId", id);
    xml_raw(&x, "</ErrorResponse>");
    if (x.oom) {
        free(x.p);
        response_take_body(res, 500, "text/xml", NULL, 0);
        return;
    }
    response_take_body(res, status, "text/xml", x.p, x.len);
}
