/* SPDX-License-Identifier: MIT */
/* store_counts.h: how many rows Detect's history holds, for the benchmark
 * (tests/bench/bench_detect.c) and anything else that reports sizes. */
#ifndef DD_STORE_COUNTS_H
#define DD_STORE_COUNTS_H

#include <stdint.h>

#include "core/error.h"
#include "store/store.h"

/* The numbers of stored datapoints and of violations (active and closed),
 * read in one statement. Both are 0 on error: DD_ERR_BUSY, DD_ERR_STORE. */
int store_counts_detect(struct store *s, int64_t *datapoints, int64_t *violations);

#endif
