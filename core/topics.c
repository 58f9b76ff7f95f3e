/* SPDX-License-Identifier: MIT */
/* topics.c: the service-only MQTT topics (topics.h). */
#include "core/topics.h"

#include <assert.h>
#include <stddef.h>
#include <string.h>

/* True when the last level of topic is one of words (a NULL-ended list). */
static bool last_level_is(const char *topic, const char *const *words)
{
    const char *last = strrchr(topic, '/');

    last = last ? last + 1 : topic;
    for (; *words; words++)
        if (strcmp(last, *words) == 0)
            return true;
    return false;
}

bool topics_service_only(const char *topic)
{
    static const char things[] = "$aws/things/";
    static const char *const shadow_answers[] = { "accepted", "rejected", "delta", "documents",
                                                  NULL };
    static const char *const defender_answers[] = { "accepted", "rejected", NULL };
    static const char *const jobs_answers[] = { "accepted", "rejected", "notify", "notify-next",
                                                NULL };
    const char *service;

    assert(topic);
    if (strncmp(topic, "$aws/", 5) != 0)
        return false;
    if (strncmp(topic, "$aws/events/", 12) == 0)
        return true;
    if (strncmp(topic, things, sizeof(things) - 1) != 0)
        return false;
    /* The level after the thing name names the service. */
    service = strchr(topic + sizeof(things) - 1, '/');
    if (!service)
        return false;
    service++;
    if (strncmp(service, "shadow/", 7) == 0)
        return last_level_is(service, shadow_answers);
    if (strncmp(service, "defender/metrics/", 17) == 0)
        return last_level_is(service, defender_answers);
    if (strncmp(service, "jobs/", 5) == 0)
        return last_level_is(service, jobs_answers);
    return false;
}
