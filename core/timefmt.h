/* SPDX-License-Identifier: MIT */
/* timefmt.h: timestamps on the wire, to and from epoch milliseconds.
 *
 * AWS clients send query-string timestamps as ISO 8601 UTC
 * (2023-11-14T00:00:00Z, sometimes with a .ffffff fraction or a +00:00
 * offset); people also pass epoch seconds. SNS stamps messages with exactly
 * three fraction digits (2019-11-15T03:00:36.527Z). All conversions use our
 * own proleptic Gregorian arithmetic (days from civil), not timegm/gmtime:
 * core/ has no dependency on the C library's time zone machinery. Pure: no
 * I/O, no clock; any thread. */
#ifndef DD_CORE_TIMEFMT_H
#define DD_CORE_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* Buffer sizes, NUL included: "2019-11-15T03:00:36.527Z" and
 * "2019-11-15T03:00:36Z". */
#define TIMEFMT_MILLIS_SIZE  25
#define TIMEFMT_SECONDS_SIZE 21

/* Epoch milliseconds of 0000-01-01T00:00:00Z and 10000-01-01T00:00:00Z:
 * the formatters handle [TIMEFMT_MIN_MS, TIMEFMT_MAX_MS). */
#define TIMEFMT_MIN_MS (-62167219200000LL)
#define TIMEFMT_MAX_MS 253402300800000LL

/* Parse text into epoch milliseconds. Accepted:
 *   YYYY-MM-DDTHH:MM:SS[.f...]Z       ('T' and 'Z' in either case)
 *   YYYY-MM-DDTHH:MM:SS[.f...]+HH:MM  (or -HH:MM, or +HHMM; converted to UTC)
 *   SECONDS[.f...]                    epoch seconds, not negative
 * A fraction has 1 to 9 digits and is truncated to milliseconds. Every field
 * is range-checked (month 1-12, day within its month with leap years, hour
 * 0-23, minute and second 0-59, offset below 24 hours) and the instant must
 * lie in years 0001-9999. field names the member for the message; text and
 * field are borrowed, text NULL is an error. *out_ms is cleared first and
 * stays 0 on error. Returns DD_OK or DD_ERR_INVALID. */
int timefmt_parse(const char *field, const char *text, int64_t *out_ms, struct dd_errbuf *eb);

/* Write ms as YYYY-MM-DDTHH:MM:SS.mmmZ (the SNS Timestamp form) into buf of
 * size bytes (TIMEFMT_MILLIS_SIZE is enough). Returns DD_OK, DD_ERR_INVALID
 * when ms is outside [TIMEFMT_MIN_MS, TIMEFMT_MAX_MS), or DD_ERR_TOO_LARGE
 * when buf is too small; on error buf is "" (when size > 0). */
int timefmt_format_millis(int64_t ms, char *buf, size_t size);

/* Write ms, rounded down to the second, as YYYY-MM-DDTHH:MM:SSZ. Same
 * errors as timefmt_format_millis(); TIMEFMT_SECONDS_SIZE is enough. */
int timefmt_format_seconds(int64_t ms, char *buf, size_t size);

/* Proleptic Gregorian calendar arithmetic, for rules over dates (a
 * scheduled audit's day of the month): days since 1970-01-01 of y-m-d, the
 * date of day z, and the days of month m of year y. Pure, cannot fail. */
int64_t timefmt_days_from_civil(int64_t y, int64_t m, int64_t d);
void timefmt_civil_from_days(int64_t z, int64_t *y, int64_t *m, int64_t *d);
int64_t timefmt_days_in_month(int64_t y, int64_t m);

#endif
