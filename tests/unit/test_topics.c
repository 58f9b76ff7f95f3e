/* SPDX-License-Identifier: MIT */
/* test_topics.c: which topics only the service publishes to, and the
 * request topics a device must keep reaching. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/topics.h"

static const struct topic_case {
    const char *topic;
    bool service_only;
} cases[] = {
    /* shadow answers, classic and named */
    { "$aws/things/dev-1/shadow/update/accepted", true },
    { "$aws/things/dev-1/shadow/update/rejected", true },
    { "$aws/things/dev-1/shadow/update/delta", true },
    { "$aws/things/dev-1/shadow/update/documents", true },
    { "$aws/things/dev-1/shadow/get/accepted", true },
    { "$aws/things/dev-1/shadow/delete/rejected", true },
    { "$aws/things/dev-1/shadow/name/cfg/update/delta", true },
    { "$aws/things/dev-1/shadow/name/cfg/get/accepted", true },
    /* shadow requests a device sends */
    { "$aws/things/dev-1/shadow/update", false },
    { "$aws/things/dev-1/shadow/get", false },
    { "$aws/things/dev-1/shadow/delete", false },
    { "$aws/things/dev-1/shadow/name/cfg/update", false },
    /* a shadow named like an answer is still a request */
    { "$aws/things/dev-1/shadow/name/accepted/update", false },
    { "$aws/things/dev-1/shadow/name/delta/get", false },
    /* Device Defender */
    { "$aws/things/dev-1/defender/metrics/json/accepted", true },
    { "$aws/things/dev-1/defender/metrics/cbor/rejected", true },
    { "$aws/things/dev-1/defender/metrics/json", false },
    { "$aws/things/dev-1/defender/metrics/cbor", false },
    /* jobs */
    { "$aws/things/dev-1/jobs/notify", true },
    { "$aws/things/dev-1/jobs/notify-next", true },
    { "$aws/things/dev-1/jobs/get/accepted", true },
    { "$aws/things/dev-1/jobs/job-7/update/rejected", true },
    { "$aws/things/dev-1/jobs/get", false },
    { "$aws/things/dev-1/jobs/start-next", false },
    /* events */
    { "$aws/events/presence/connected/dev-1", true },
    { "$aws/events/thing/dev-1/created", true },
    { "$aws/events/", true },
    /* a thing named like a service level */
    { "$aws/things/shadow/shadow/update", false },
    { "$aws/things/accepted", false },
    { "$aws/things/dev-1", false },
    { "$aws/things/", false },
    { "$aws/rules/my_rule", false },
    /* ordinary topics, and look-alikes outside $aws/ */
    { "telemetry/dev-1", false },
    { "things/dev-1/shadow/update/accepted", false },
    { "aws/things/dev-1/shadow/update/accepted", false },
    { "$awsx/events/a", false },
    { "", false },
};

static void test_service_only_table(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (topics_service_only(cases[i].topic) != cases[i].service_only)
            fail_msg("%s: expected %s", cases[i].topic,
                     cases[i].service_only ? "service-only" : "open to clients");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_service_only_table),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
