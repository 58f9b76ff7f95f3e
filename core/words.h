/* SPDX-License-Identifier: MIT */
/* words.h: a behavior in words, and why a behavior did not alarm.
 *
 * Learners read behaviors backwards: a behavior describes what is *normal*,
 * and a datapoint violates when the criteria are not met. So the sentence
 * states the opposite of the criteria, the condition that alarms, and then
 * the normal condition that clears:
 *
 *   "alarms when dev-XBHY sends 5 or more messages in a 5-minute period,
 *    once; clears after 1 period with fewer than 5"
 *
 * The second half of this module names the reason a (thing, behavior) pair
 * shows no alarm (no datapoint, only compliant values, a streak shorter than
 * consecutiveDatapointsToAlarm, suppressed alerts) from facts the caller
 * gathered from the datapoints. Both are pure: the dashboard, the explain
 * endpoint and `ddlocal explain` show the same text. */
#ifndef DD_CORE_WORDS_H
#define DD_CORE_WORDS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/behavior.h"
#include "core/error.h"

/* The state a (thing, profile, behavior) is in, as the explain view says it.
 * Each value has a wire name (words_reason_name). */
enum words_reason {
    WORDS_REASON_NOT_TARGETED = 0, /* the profile does not apply to the thing */
    WORDS_REASON_NO_DATAPOINT,     /* nothing judged yet: offline or no period closed */
    WORDS_REASON_NO_VERDICT,       /* only datapoints without a verdict (statistics, ML) */
    WORDS_REASON_COMPLIANT,        /* every datapoint met the criteria */
    WORDS_REASON_STREAK_SHORT,     /* violations, but never enough in a row */
    WORDS_REASON_SUPPRESSED,       /* it alarmed, but suppressAlerts sends no alert */
    WORDS_REASON_IN_ALARM,         /* it alarmed and is in alarm now */
    WORDS_REASON_CLEARED,          /* it alarmed and has cleared since */
};

/* What the caller knows of one (thing, profile, behavior). */
struct words_facts {
    bool targeted;           /* the profile targets the thing (directly or by group) */
    size_t n_datapoints;     /* datapoints judged */
    size_t n_violating;      /* of which violating */
    size_t n_no_verdict;     /* of which without a verdict */
    unsigned longest_streak; /* the longest run of violating datapoints before an alarm */
    bool alarmed;            /* an in-alarm event was recorded */
    bool in_alarm;           /* a violation is open now */
};

/* The behavior b (borrowed, as behavior_list_parse made it) as one sentence
 * saying when it alarms and when it clears. thing (borrowed) names the
 * device; NULL says "a device". On DD_OK *out owns the NUL-terminated text
 * (free() it); on error *out is NULL. Errors: DD_ERR_NOMEM. Pure: any
 * thread. @unittest test_words.c */
int words_behavior(const struct behavior *b, const char *thing, char **out);

/* Which reason holds for facts f (borrowed) of behavior b (borrowed).
 * Pure: any thread, cannot fail. */
enum words_reason words_reason_of(const struct behavior *b, const struct words_facts *f);

/* The reason for f as a sentence naming thing (borrowed; NULL says "the
 * device"): *code gets words_reason_of(b, f), *out owns the text (free() it).
 * On error *out is NULL and *code is WORDS_REASON_NOT_TARGETED. Errors:
 * DD_ERR_NOMEM. Pure: any thread. */
int words_reason(const struct behavior *b, const char *thing, const struct words_facts *f,
                 enum words_reason *code, char **out);

/* The wire name of a reason ("no-datapoint", "streak-short", ...). Never
 * NULL. Pure: any thread, cannot fail. */
const char *words_reason_name(enum words_reason r);

#endif
