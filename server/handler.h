/* SPDX-License-Identifier: MIT */
/* handler.h: what the handlers of server/<service>/api_*.c share above the
 * request: the skeleton of an operation (check the input, call the store,
 * render the JSON answer, free) as one call, handler_run(), and the small
 * pieces every family needs: members of a JSON body, tags, ARNs of this
 * emulator's partition, pagination tokens, stored JSON put back in an
 * answer.
 *
 * Depends on request.h and core/ only; the router (which runs a route's
 * handler_ops) and the handlers sit above it. Any MHD worker thread:
 * nothing here keeps state. */
#ifndef DD_SERVER_HANDLER_H
#define DD_SERVER_HANDLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/names.h"
#include "core/paging.h"
#include "server/request.h"

struct cJSON;

/* One operation in progress, as handler_run() hands it to each step. */
struct handler {
    struct request *req;           /* borrowed */
    struct response *res;          /* borrowed: for answers that are not a JSON 200 */
    struct store *s;               /* borrowed: set before the call step */
    struct cJSON *body;            /* owned: set by handler_body(), freed by handler_run() */
    void *op;                      /* owned by handler_run(): the operation's state, zeroed */
    const void *arg;               /* borrowed: the operation's handler_ops.arg */
    const struct handler_ops *ops; /* borrowed: the operation (static) */
};

/* One operation: its steps, run in this order by handler_run(), and its
 * state. Each step returns DD_OK or an error with the reason in
 * h->req->eb; any may be NULL. A step that answers by itself (an AWS error
 * of a specific type) fills h->res and returns DD_OK: the later steps then
 * do not run. A route names its operation's handler_ops (router.h). */
struct handler_ops {
    /* Path, query and body: everything checked before the store opens. */
    int (*check)(struct handler *h);
    /* The store call(s), with h->s. */
    int (*call)(struct handler *h);
    /* The members of the 200 answer into o (a new object); NULL answers an
     * empty 200. A render that fills h->res itself (another content type)
     * has o dropped. */
    int (*render)(struct handler *h, struct cJSON *o);
    /* Free what the steps made; runs on every path. */
    void (*cleanup)(struct handler *h);
    size_t op_size;  /* bytes of the state h->op points to */
    const void *arg; /* static: what tells this operation from its siblings */
};

/* The handler_ops of an operation written the way the handler files write
 * them: its state is the including file's struct op, freed by the file's
 * static cleanup(). */
#define HANDLER_OPERATION(check, call, render, arg)                                                \
    {                                                                                              \
        check, call, render, cleanup, sizeof(struct op), arg                                       \
    }

/* Run ops for req: check, open this thread's store, call, render the
 * answer into res, cleanup, free the body and the state. Returns the first
 * error (the router renders it), or DD_OK with res filled. DD_ERR_NOMEM
 * when the state cannot be allocated. Any MHD worker thread. */
int handler_run(struct request *req, struct response *res, const struct handler_ops *ops);

/* handler_run() in three parts, for a write that is checked on its MHD
 * worker and stored on the writer thread (http.c): handler_begin() fills
 * *h and runs the check step; when it returns DD_OK and res is still
 * unanswered, handler_finish() opens the store and runs the call and
 * render steps, on any thread; handler_end() frees what the steps made,
 * always, once, after the last of the others. Returns as handler_run(). */
int handler_begin(struct handler *h, struct request *req, struct response *res,
                  const struct handler_ops *ops);
int handler_finish(struct handler *h);
void handler_end(struct handler *h);

/* Parse the request body as a JSON object into h->body (request_json_body;
 * handler_run frees it). DD_ERR_INVALID (req->eb says why), DD_ERR_NOMEM. */
int handler_body(struct handler *h);

/* The path parameter param into *out (borrowed from req), checked as a
 * name of shape: DD_ERR_INVALID (req->eb says why, naming param) when it
 * is not one. */
int handler_param_name(struct request *req, enum names_shape shape, const char *param,
                       const char **out);

/* The optional query argument key into *out (borrowed from req; NULL when
 * absent), checked as a name of shape when given: DD_ERR_INVALID (req->eb
 * says why, naming key) when it is not one. */
int handler_query_name(struct request *req, const char *key, enum names_shape shape,
                       const char **out);

/* Member key of o, NULL when absent or JSON null (clients never send null;
 * botocore treats it as absent). Borrowed from o; o may be NULL. */
const struct cJSON *handler_member(const struct cJSON *o, const char *key);

/* A string member: *out borrowed from o, NULL when absent or null.
 * DD_ERR_INVALID ("<field> must be a string", req->eb) for another type;
 * field NULL names the member by key. */
int handler_member_string(struct request *req, const struct cJSON *o, const char *key,
                          const char *field, const char **out);

/* A boolean member: *out false when absent or null. DD_ERR_INVALID
 * ("<key> must be a boolean", req->eb) for another type. */
int handler_member_bool(struct request *req, const struct cJSON *o, const char *key, bool *out);

/* The tags member of body as pairs, when given: a list of {Key, Value}
 * with the model's shapes and AWS's tag rules (core/tags.h: the reserved
 * prefix and duplicates are DD_ERR_INVALID, more than 50 DD_ERR_LIMIT).
 * Members are named as for handler_tags(). On DD_OK *out is a new array of
 * *n pairs (free() it; NULL when there are none) whose strings borrow from
 * body. req->eb says why on error; DD_ERR_NOMEM. */
struct tags_pair;
int handler_tag_pairs(struct request *req, const struct cJSON *body, const char *type_prefix,
                      const char *shape_prefix, struct tags_pair **out, size_t *n);

/* The tags member of body, when given: a list of {Key, Value} with the
 * model's shapes and AWS's tag rules (handler_tag_pairs()). The families
 * word their messages differently, so a member of another type is named
 * type_prefix + "Key" and a shape error shape_prefix + "Key" (prefixes ""
 * or "tags.member."). With out non-NULL, *out gets the tags' text
 * (cJSON_free), NULL when there are none. DD_ERR_INVALID, DD_ERR_LIMIT
 * (req->eb), DD_ERR_NOMEM. */
int handler_tags(struct request *req, const struct cJSON *body, const char *type_prefix,
                 const char *shape_prefix, char **out);

/* Where the model gives an error its own status and type: when *rc is
 * err, answer res with that error (status, type, req->eb's message), set
 * *rc to DD_OK and return true; otherwise leave both alone and return
 * false. Cannot fail. */
bool handler_error_as(struct request *req, struct response *res, int *rc, int err, unsigned status,
                      const char *type);

/* The ARN of name (a thing, a group, a policy ...) in this server's region
 * and account into buf (NAMES_ARN_SIZE bytes). DD_ERR_INVALID when it does
 * not fit. */
int handler_arn(const struct request *req, enum names_arn_type type, const char *name, char *buf);

/* A version member of o (expectedVersion in a body): a whole number from 0,
 * into *out; -1 when absent. DD_ERR_INVALID (req->eb) for anything else. */
int handler_member_version(struct request *req, const struct cJSON *o, const char *key,
                           int64_t *out);

/* The same for the query argument key (expectedVersion of a Delete*). */
int handler_query_version(struct request *req, const char *key, int64_t *out);

/* A resource named in body by name_key (checked as shape) or, when that is
 * absent, by arn_key (an IoT ARN of type), as AddThingToThingGroup and
 * AddThingToBillingGroup take them: the name into out (size bytes).
 * DD_ERR_INVALID (req->eb says why) when neither is given, the name or the
 * ARN is malformed, the ARN names another kind, or the name does not fit. */
int handler_name_or_arn(struct request *req, const struct cJSON *body, const char *name_key,
                        const char *arn_key, enum names_shape shape, enum names_arn_type type,
                        char *out, size_t size);

/* A List* page in the older form (ListCertificates, ListRoleAliases,
 * ListCACertificates): pageSize, isAscendingOrder and a marker. */
struct handler_marker {
    size_t limit;                 /* pageSize, or the default */
    bool ascending;               /* isAscendingOrder */
    char scope[64];               /* "<operation>:asc" or ":desc": the marker's scope */
    char key[PAGING_KEY_MAX + 1]; /* the marker's key, "" when absent */
};

/* Read pageSize (NAMES_PAGE_SIZE, dflt when absent), isAscendingOrder and
 * marker (decoded under the scope "<operation>:asc" or ":desc", so a marker
 * of one order is refused in the other) into *out. DD_ERR_INVALID (req->eb
 * says why). */
int handler_marker_page(struct request *req, const char *operation, size_t dflt,
                        struct handler_marker *out);

/* Add member (nextToken, nextMarker) to o: the pagination token of key last
 * under scope. DD_ERR_INVALID (req->eb) when it does not fit, DD_ERR_NOMEM. */
int handler_add_token(struct request *req, struct cJSON *o, const char *member, const char *scope,
                      const char *last);

/* Answer o (built with rc so far) as one page of a listing and free it:
 * when rc is DD_OK and last is not NULL (more rows follow), add member
 * (nextToken, nextMarker) holding the token of last under scope first.
 * Returns rc, or the error of adding the token or of answering. */
int handler_respond_page(struct request *req, struct response *res, struct cJSON *o, int rc,
                         const char *member, const char *scope, const char *last);

/* {member: [names...], token_member: token of the last name when more}: a
 * page of names as a 200 answer. token_member NULL means "nextToken". */
int handler_respond_names(struct request *req, struct response *res, const char *member,
                          const char *const *names, size_t n, bool more, const char *scope,
                          const char *token_member);

/* A new empty object appended to the array arr (which owns it), or NULL
 * when out of memory. */
struct cJSON *handler_add_object(struct cJSON *arr);

/* The next row of a page a store row callback fills: n rows taken of at
 * most limit, and the row past limit only tells that more follow. A new
 * object appended to items for the row, or NULL with *rc DD_OK when the
 * page is full (*more set) or DD_ERR_NOMEM. */
struct cJSON *handler_page_row(struct cJSON *items, size_t n, size_t limit, bool *more, int *rc);

/* A new answer object holding an empty array under member; *items
 * borrows the array (the object owns it). NULL when out of memory: free
 * the object with cJSON_Delete(). */
struct cJSON *handler_list_new(const char *member, struct cJSON **items);

/* The start of a List* answer once its input is checked: this thread's
 * store into *s (borrowed) and handler_list_new(member) into *o (the
 * caller's: free with cJSON_Delete()) with *items borrowing its array.
 * On error *o is NULL: request_store()'s errors, DD_ERR_NOMEM. */
int handler_list_open(struct request *req, const char *member, struct store **s, struct cJSON **o,
                      struct cJSON **items);

/* Parse json (text this server stored, so valid) and add it to o under key.
 * json NULL adds {}. DD_ERR_NOMEM. */
int handler_add_json(struct cJSON *o, const char *key, const char *json);

/* Add ms (epoch milliseconds) to o under key as epoch seconds, the AWS
 * timestamp form. DD_ERR_NOMEM. */
int handler_add_seconds(struct cJSON *o, const char *key, int64_t ms);

#endif
