/* SPDX-License-Identifier: MIT */
/* aws_error.h: the one place a dd_err becomes an HTTP error that AWS clients
 * understand (rest-json: status, x-amzn-ErrorType, {"message": ...}; the
 * query protocol: an XML ErrorResponse). */
#ifndef DD_SERVER_AWS_ERROR_H
#define DD_SERVER_AWS_ERROR_H

#include "server/request.h"

/* The HTTP status for err in the iot / iot-data models. */
unsigned aws_error_status(int err);

/* The AWS error type for err ("ResourceNotFoundException"). Never NULL. */
const char *aws_error_type(int err);

/* Fill res with a rest-json error. type NULL means aws_error_type(err);
 * status 0 means aws_error_status(err). message is copied; an empty one
 * becomes dd_strerror(err). Cannot fail: out of memory leaves an empty body
 * with the status and header set. */
void aws_error_respond(struct response *res, int err, unsigned status, const char *type,
                       const char *message);

/* Fill res with the ResourceAlreadyExistsException (409) of a create that
 * found the resource, with the modelled resourceId and resourceArn members.
 * All strings are copied. DD_ERR_NOMEM leaves res untouched. */
int aws_error_exists(struct response *res, const char *message, const char *id, const char *arn);


#endif
