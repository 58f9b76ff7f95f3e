/* SPDX-License-Identifier: MIT */
/* keep.c: which judged datapoints a large fleet keeps (see keep.h). */
#include "core/keep.h"

bool keep_bounded(size_t n_things, size_t budget)
{
    return n_things > budget;
}

bool keep_datapoint(bool bounded, bool thing_kept, const struct evaluate_state *prev,
                    const struct judge_result *res)
{
    if (!bounded || thing_kept)
        return true;
    return res->verdict == JUDGE_VIOLATING || res->event != EVALUATE_EVENT_NONE || prev->in_alarm ||
           res->state.in_alarm || prev->streak_violating > 0;
}
