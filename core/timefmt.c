/* SPDX-License-Identifier: MIT */
/* timefmt.c: ISO 8601 and epoch-seconds parsing, SNS and ISO formatting.
 *
 * The calendar is Howard Hinnant's days_from_civil / civil_from_days: a year
 * is shifted to start in March so the leap day is the last day of the
 * shifted year, and a 400-year era has a fixed 146097 days. Both work for
 * negative days, so no case needs libc. */
#include "timefmt.h"

#include <stdio.h>
#include <string.h>

#define MS_PER_DAY 86400000LL

/* Epoch milliseconds of 0001-01-01T00:00:00Z, the earliest instant parsed. */
#define PARSE_MIN_MS (-62135596800000LL)

/* Largest epoch-seconds value accepted: 9999-12-31T23:59:59Z. */
#define EPOCH_MAX_S 253402300799LL

/* Days since 1970-01-01 of the proleptic Gregorian date y-m-d. */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* The date of day z since 1970-01-01. */
static void civil_from_days(int64_t z, int64_t *y, int64_t *m, int64_t *d)
{
    int64_t era, doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yoe + era * 400 + (*m <= 2);
}

static int is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int64_t days_in_month(int64_t y, int64_t m)
{
    static const unsigned char days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Read exactly n digits at *p into *v and advance. 0 when a digit is
 * missing. */
static int digits(const char **p, int n, int64_t *v)
{
    int64_t acc = 0;
    int i;

    for (i = 0; i < n; i++) {
        if (!is_digit((*p)[i]))
            return 0;
        acc = acc * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *v = acc;
    return 1;
}

/* Read ".f" (1-9 digits) if present and return its milliseconds in *ms
 * (truncated). 0 when a '.' has no digits or too many. */
static int fraction(const char **p, int64_t *ms)
{
    int i, n = 0;
    int64_t acc = 0;

    *ms = 0;
    if (**p != '.')
        return 1;
    (*p)++;
    while (is_digit((*p)[n])) {
        if (n < 3)
            acc = acc * 10 + ((*p)[n] - '0');
        n++;
    }
    if (n == 0 || n > 9)
        return 0;
    for (i = n; i < 3; i++)
        acc *= 10;
    *p += n;
    *ms = acc;
    return 1;
}

static int fail(struct dd_errbuf *eb, const char *field, const char *text, const char *why)
{
    char echo[68];
    size_t i;

    for (i = 0; text[i] && i < 64; i++)
        echo[i] = text[i] >= 0x20 && text[i] < 0x7F ? text[i] : '?';
    echo[i] = '\0';
    if (text[i])
        memcpy(echo + 61, "...", 4);
    return dd_fail(eb, DD_ERR_INVALID, "Invalid timestamp '%s' for %s: %s", echo, field, why);
}

/* SECONDS[.f] with nothing else. */
static int parse_epoch(const char *field, const char *text, int64_t *out_ms, struct dd_errbuf *eb)
{
    const char *p = text;
    int64_t s = 0, ms;
    int n = 0;

    while (is_digit(*p)) {
        if (++n > 12)
            return fail(eb, field, text, "epoch seconds out of range");
        s = s * 10 + (*p - '0');
        p++;
    }
    if (!fraction(&p, &ms) || *p)
        return fail(eb, field, text, "expected epoch seconds or an ISO 8601 timestamp");
    if (s > EPOCH_MAX_S)
        return fail(eb, field, text, "epoch seconds out of range");
    *out_ms = s * 1000 + ms;
    return DD_OK;
}

int timefmt_parse(const char *field, const char *text, int64_t *out_ms, struct dd_errbuf *eb)
{
    const char *p = text;
    int64_t y, mo, d, h, mi, s, frac_ms, off_h = 0, off_m = 0, off_sign = 0, ms;

    *out_ms = 0;
    if (!text)
        return dd_fail(eb, DD_ERR_INVALID, "Missing timestamp for %s", field);
    if (is_digit(text[0]) && strspn(text, "0123456789.") == strlen(text))
        return parse_epoch(field, text, out_ms, eb);
    if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' ||
        !digits(&p, 2, &d) || (*p != 'T' && *p != 't'))
        return fail(eb, field, text, "expected YYYY-MM-DDTHH:MM:SSZ");
    p++;
    if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi) || *p++ != ':' ||
        !digits(&p, 2, &s) || !fraction(&p, &frac_ms))
        return fail(eb, field, text, "expected YYYY-MM-DDTHH:MM:SSZ");
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        off_sign = *p++ == '+' ? 1 : -1;
        if (!digits(&p, 2, &off_h))
            return fail(eb, field, text, "expected a UTC offset such as +00:00");
        if (*p == ':')
            p++;
        if (!digits(&p, 2, &off_m))
            return fail(eb, field, text, "expected a UTC offset such as +00:00");
    } else {
        return fail(eb, field, text, "expected Z or a UTC offset");
    }
    if (*p)
        return fail(eb, field, text, "unexpected text after the timestamp");
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
        return fail(eb, field, text, "no such date");
    if (h > 23 || mi > 59 || s > 59)
        return fail(eb, field, text, "no such time of day");
    if (off_h > 23 || off_m > 59)
        return fail(eb, field, text, "UTC offset out of range");
    ms = days_from_civil(y, mo, d) * MS_PER_DAY + ((h * 60 + mi) * 60 + s) * 1000 + frac_ms;
    ms -= off_sign * (off_h * 60 + off_m) * 60000;
    if (ms < PARSE_MIN_MS || ms >= TIMEFMT_MAX_MS)
        return fail(eb, field, text, "outside years 0001-9999");
    *out_ms = ms;
    return DD_OK;
}

/* Split ms into its civil fields; DD_ERR_INVALID outside the 4-digit
 * years. */
static int split(int64_t ms, int64_t f[7])
{
    int64_t day, rem;

    if (ms < TIMEFMT_MIN_MS || ms >= TIMEFMT_MAX_MS)
        return DD_ERR_INVALID;
    day = ms / MS_PER_DAY;
    rem = ms % MS_PER_DAY;
    if (rem < 0) {
        rem += MS_PER_DAY;
        day--;
    }
    civil_from_days(day, &f[0], &f[1], &f[2]);
    f[3] = rem / 3600000;
    f[4] = rem / 60000 % 60;
    f[5] = rem / 1000 % 60;
    f[6] = rem % 1000;
    return DD_OK;
}

static int format(int64_t ms, char *buf, size_t size, int with_millis)
{
    int64_t f[7];
    int n;

    if (size)
        buf[0] = '\0';
    if (split(ms, f))
        return DD_ERR_INVALID;
    if (with_millis)
        n = snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", (int)f[0], (int)f[1],
                     (int)f[2], (int)f[3], (int)f[4], (int)f[5], (int)f[6]);
    else
        n = snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02dZ", (int)f[0], (int)f[1], (int)f[2],
                     (int)f[3], (int)f[4], (int)f[5]);
    if (n < 0 || (size_t)n >= size) {
        if (size)
            buf[0] = '\0';
        return DD_ERR_TOO_LARGE;
    }
    return DD_OK;
}

int timefmt_format_millis(int64_t ms, char *buf, size_t size)
{
    return format(ms, buf, size, 1);
}

int timefmt_format_seconds(int64_t ms, char *buf, size_t size)
{
    return format(ms, buf, size, 0);
}

int64_t timefmt_days_from_civil(int64_t y, int64_t m, int64_t d)
{
    return days_from_civil(y, m, d);
}

void timefmt_civil_from_days(int64_t z, int64_t *y, int64_t *m, int64_t *d)
{
    civil_from_days(z, y, m, d);
}

int64_t timefmt_days_in_month(int64_t y, int64_t m)
{
    return days_in_month(y, m);
}
