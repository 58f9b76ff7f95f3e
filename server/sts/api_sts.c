/* SPDX-License-Identifier: MIT */
/* api_sts.c: STS GetCallerIdentity, the one STS operation ddlocal has, so
 * test suites can ask which account they run in. In the query protocol
 * (Action=GetCallerIdentity&Version=2011-06-15 as a POST form or a GET
 * query; XML answer and ErrorResponse) and the JSON protocol (X-Amz-Target
 * AWSSecurityTokenServiceV20110615.GetCallerIdentity). server/query.c
 * hands both here. The identity is the request's account's root user
 * (core/sts.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/ids.h"
#include "core/jsonprint.h"
#include "core/sts.h"
#include "server/api.h"
#include "server/aws_error.h"
#include "server/query.h"
#include "server/xml.h"

#define STS_XMLNS   "https://sts.amazonaws.com/doc/2011-06-15/"
#define STS_VERSION "2011-06-15"

int api_sts_query(struct request *req, struct response *res, struct query_form *f)
{
    const char *action = query_form_get(f, "Action");
    struct sts_identity id;
    struct xml x = { 0 };
    char msg[160];
    int rc;

    if (!action || !action[0]) {
        xml_error_response(res, STS_XMLNS, 400, "MissingAction",
                           "The request must contain the parameter Action");
        return DD_OK;
    }
    if (strcmp(action, "GetCallerIdentity") != 0) {
        snprintf(msg, sizeof(msg), "Could not find operation %.64s for version " STS_VERSION,
                 action);
        xml_error_response(res, STS_XMLNS, 400, "InvalidAction", msg);
        return DD_OK;
    }
    rc = sts_caller_identity(req->account, req->region, &id);
    if (rc) {
        xml_error_response(res, STS_XMLNS, 500, "InternalError", "the request has no account");
        return DD_OK;
    }
    xml_response_begin(&x, STS_XMLNS, action, 1);
    xml_elem(&x, "Arn", id.arn);
    xml_elem(&x, "UserId", id.user_id);
    xml_elem(&x, "Account", id.account);
    rc = xml_response_finish(&x, res, action, 1);
    if (rc == DD_ERR_INTERNAL) {
        xml_error_response(res, STS_XMLNS, 500, "InternalError", "cannot generate a request id");
        rc = DD_OK;
    }
    return rc;
}

int api_sts_json(struct request *req, struct response *res, const char *op)
{
    const char *type = request_header(req, "Content-Type");
    const char *content_type = "application/x-amz-json-1.1";
    struct sts_identity id;
    char request_id[IDS_UUID_SIZE];
    cJSON *o = NULL;
    char *body = NULL;
    int rc;

    if (type && strncmp(type, "application/x-amz-json-1.0", 26) == 0)
        content_type = "application/x-amz-json-1.0";
    if (strcmp(op, "GetCallerIdentity") != 0) {
        aws_error_respond(res, DD_ERR_INVALID, 400, "UnknownOperationException",
                          "STS has no operation by that name here");
        return DD_OK;
    }
    rc = sts_caller_identity(req->account, req->region, &id);
    if (rc) {
        rc = dd_fail(&req->eb, DD_ERR_INTERNAL, "the request has no account");
        goto out;
    }
    o = cJSON_CreateObject();
    if (!o || !cJSON_AddStringToObject(o, "UserId", id.user_id) ||
        !cJSON_AddStringToObject(o, "Account", id.account) ||
        !cJSON_AddStringToObject(o, "Arn", id.arn) || !(body = jsonprint(o))) {
        rc = DD_ERR_NOMEM;
        goto out;
    }
    response_take_body(res, 200, content_type, body, strlen(body));
    if (!ids_uuid(request_id)) /* botocore reads it; an answer without one still parses */
        response_header(res, "x-amzn-RequestId", request_id);
out:
    cJSON_Delete(o);
    return rc;
}
