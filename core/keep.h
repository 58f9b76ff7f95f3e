/* SPDX-License-Identifier: MIT */
/* keep.h: which judged datapoints a large fleet keeps for the teaching
 * view (docs/performance.md, "A million things").
 *
 * Up to a fleet-size budget every datapoint is kept. Beyond it, a window
 * keeps the datapoints of things someone watches or lately inspected, and
 * of every thing whose datapoint matters to a violation: a violating
 * verdict, any transition, any datapoint while a violation is open (the
 * compliant ones that clear it), and the first compliant one after a
 * violating streak (the verdict changed). A steady compliant thing of a
 * large fleet keeps nothing but its state and its retained values.
 * Pure: any thread, cannot fail. */
#ifndef DD_CORE_KEEP_H
#define DD_CORE_KEEP_H

#include <stdbool.h>
#include <stddef.h>

#include "core/judge.h"

/* Whether a window over n_things things is over budget (things whose
 * every datapoint is kept): more things than that. */
bool keep_bounded(size_t n_things, size_t budget);

/* Whether one judged datapoint is written to the datapoints table: always
 * when the fleet is not bounded or the thing is watched or inspected
 * (thing_kept), else only when it matters to a violation (file comment).
 * prev is the state before the datapoint, res the judgment. */
bool keep_datapoint(bool bounded, bool thing_kept, const struct evaluate_state *prev,
                    const struct judge_result *res);

#endif
