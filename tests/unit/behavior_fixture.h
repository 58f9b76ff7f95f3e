/* SPDX-License-Identifier: MIT */
/* behavior_fixture.h: what the behavior tests share (test_behavior.c,
 * test_judge.c, test_words.c, test_evaluate.c and the behaviors fuzz target):
 * one custom metric of each type, and initializers for a struct metric_value
 * of each kind. Header only, so that the fuzz target's plain and libFuzzer
 * builds need no extra object. */
#ifndef DD_TESTS_BEHAVIOR_FIXTURE_H
#define DD_TESTS_BEHAVIOR_FIXTURE_H

#include "core/behavior.h"
#include "core/metric.h"

/* The number of elements of an array. */
#define FIXTURE_N(a) (sizeof(a) / sizeof((a)[0]))

/* The custom metrics a test's behavior_context declares, one of each type. */
static const struct behavior_custom_metric fixture_customs[] = {
    { "fan_rpm", METRIC_CUSTOM_NUMBER },
    { "open_files", METRIC_CUSTOM_NUMBER_LIST },
    { "services", METRIC_CUSTOM_STRING_LIST },
    { "peers", METRIC_CUSTOM_IP_ADDRESS_LIST },
};

/* Initializers of a struct metric_value; a list's array a is borrowed. */
#define FIXTURE_VALUE(k, member, v)                                                                \
    {                                                                                              \
        .kind = (k), .member = (v)                                                                 \
    }
#define FIXTURE_LIST(k, member, a)                                                                 \
    {                                                                                              \
        .kind = (k), .n = FIXTURE_N(a), .member = (a)                                              \
    }
#define COUNT(x)  FIXTURE_VALUE(METRIC_KIND_COUNT, count, x)
#define NUMBER(x) FIXTURE_VALUE(METRIC_KIND_NUMBER, number, x)
#define EMPTY(k)  FIXTURE_VALUE(k, n, 0)
#define CIDRS(a)  FIXTURE_LIST(METRIC_KIND_CIDRS, strings, a)
#define PORTS(a)  FIXTURE_LIST(METRIC_KIND_PORTS, ports, a)
#define NUMS(a)   FIXTURE_LIST(METRIC_KIND_NUMBERS, numbers, a)
#define STRS(a)   FIXTURE_LIST(METRIC_KIND_STRINGS, strings, a)

#endif
