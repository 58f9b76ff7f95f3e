/* SPDX-License-Identifier: MIT */
/* aws_error.c: dd_err to HTTP status and AWS error type, and the rest-json
 * error body. The statuses are the iot/iot-data model's (aws-api.md 1.5);
 * throttling and limit codes are kept for real limits, because AWS CLI v2
 * retries them. */
#include "server/aws_error.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/ids.h"
#include "core/jsonprint.h"
#include "core/strbuf.h"

static const struct aws_error {
    enum dd_err err;
    unsigned status;
    const char *type; /* x-amzn-ErrorType */
} aws_errors[] = {
    { DD_ERR_INVALID, 400, "InvalidRequestException" },
    { DD_ERR_NOT_FOUND, 404, "ResourceNotFoundException" },
    { DD_ERR_EXISTS, 409, "ResourceAlreadyExistsException" },
    { DD_ERR_VERSION_CONFLICT, 409, "VersionConflictException" },
    { DD_ERR_DELETE_CONFLICT, 409, "DeleteConflictException" },
    { DD_ERR_TOO_LARGE, 413, "RequestEntityTooLargeException" },
    { DD_ERR_ENCODING, 415, "UnsupportedDocumentEncodingException" },
    { DD_ERR_MALFORMED_POLICY, 400, "MalformedPolicyException" },
    { DD_ERR_SERIALIZATION, 400, "SerializationException" },
    { DD_ERR_LIMIT, 410, "LimitExceededException" },
    { DD_ERR_STATE, 409, "ConflictException" },
    { DD_ERR_TIMEOUT, 504, "EvaluationTimeoutException" },
    { DD_ERR_BUSY, 503, "ServiceUnavailableException" },
};

static const struct aws_error *find(int err)
{
    size_t i;

    for (i = 0; i < sizeof(aws_errors) / sizeof(aws_errors[0]); i++)
        if ((int)aws_errors[i].err == err)
            return &aws_errors[i];
    return NULL;
}

unsigned aws_error_status(int err)
{
    const struct aws_error *e = find(err);

    return e ? e->status : 500;
}

const char *aws_error_type(int err)
{
    const struct aws_error *e = find(err);

    return e ? e->type : "InternalFailureException";
}

void aws_error_respond(struct response *res, int err, unsigned status, const char *type,
                       const char *message)
{
    cJSON *o = cJSON_CreateObject();
    char *body = NULL;

    if (!type)
        type = aws_error_type(err);
    if (!status)
        status = aws_error_status(err);
    assert(err != DD_OK && status >= 400); /* an error answer is never a success */
    if (!message || !message[0])
        message = dd_strerror(err);
    if (o && cJSON_AddStringToObject(o, "message", message) &&
        cJSON_AddStringToObject(o, "__type", type))
        body = jsonprint(o);
    cJSON_Delete(o);
    response_take_body(res, status, "application/json", body, body ? strlen(body) : 0);
    response_header(res, "x-amzn-ErrorType", type);
}

int aws_error_exists(struct response *res, const char *message, const char *id, const char *arn)
{
    static const char type[] = "ResourceAlreadyExistsException";
    cJSON *o = cJSON_CreateObject();
    char *body = NULL;

    if (o && cJSON_AddStringToObject(o, "message", message) &&
        cJSON_AddStringToObject(o, "__type", type) &&
        cJSON_AddStringToObject(o, "resourceId", id) &&
        cJSON_AddStringToObject(o, "resourceArn", arn))
        body = jsonprint(o);
    cJSON_Delete(o);
    if (!body)
        return DD_ERR_NOMEM;
    response_take_body(res, 409, "application/json", body, strlen(body));
    response_header(res, "x-amzn-ErrorType", type);
    return DD_OK;
}
