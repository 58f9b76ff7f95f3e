/* SPDX-License-Identifier: MIT */
/* fuzz_behaviors.c: a security profile's "behaviors" JSON array, as the HTTP
 * server receives it for Create/Update/ValidateSecurityProfileBehaviors.
 *
 * Besides crashes, it checks the properties the server relies on, and aborts
 * when one breaks: parse succeeds exactly when validate reports no message,
 * and parse's message is validate's first; a parsed list's echo parses again
 * and echoes identically; an alert can be built for every parsed behavior. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/alert.h"
#include "core/behavior.h"
#include "tests/unit/behavior_fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const dims[] = { "AlarmTopics", "Telemetry" };
static const struct behavior_context ctx = { fixture_customs, FIXTURE_N(fixture_customs), dims, 2 };

/* Echo the list, parse the echo, echo again: both texts must match. */
static void check_round_trip(const struct behavior_list *list)
{
    struct behavior_list *again = NULL;
    cJSON *echo = behavior_list_to_json(list), *echo2 = NULL;
    char *t1 = NULL, *t2 = NULL;

    if (!echo)
        return;
    if (behavior_list_parse(echo, &ctx, &again, NULL) != DD_OK)
        abort();
    echo2 = behavior_list_to_json(again);
    t1 = cJSON_PrintUnformatted(echo);
    t2 = echo2 ? cJSON_PrintUnformatted(echo2) : NULL;
    if (t1 && t2 && strcmp(t1, t2) != 0)
        abort();
    cJSON_free(t1);
    cJSON_free(t2);
    cJSON_Delete(echo2);
    behavior_list_free(again);
    cJSON_Delete(echo);
}

static void check_alerts(const struct behavior_list *list)
{
    struct metric_value v = { .kind = METRIC_KIND_COUNT, .count = 54 };
    size_t i;

    for (i = 0; i < list->n; i++) {
        struct alert a = { 1573786800000, "dev", &list->items[i], EVALUATE_EVENT_IN_ALARM, &v,
                           "id",          "SP" };
        char *text = NULL;

        if (alert_build(&a, &text, NULL) != DD_OK)
            abort();
        free(text);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct behavior_list *list = NULL;
    struct dd_errbuf eb;
    cJSON *root, *errors = NULL;
    const cJSON *first;
    int rc;

    root = cJSON_ParseWithLength((const char *)data, size);
    if (!root)
        return 0;
    rc = behavior_list_parse(root, &ctx, &list, &eb);
    if (behavior_list_validate(root, &ctx, &errors) != DD_OK)
        abort();
    if ((rc == DD_OK) != (cJSON_GetArraySize(errors) == 0))
        abort();
    if (rc == DD_ERR_INVALID) {
        first = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(errors, 0), "errorMessage");
        if (!cJSON_IsString(first) || strcmp(first->valuestring, eb.msg) != 0)
            abort();
    }
    if (rc == DD_OK) {
        check_round_trip(list);
        check_alerts(list);
    }
    behavior_list_free(list);
    cJSON_Delete(errors);
    cJSON_Delete(root);
    return 0;
}
