/* SPDX-License-Identifier: MIT */
/* words.c: a behavior in words, and why a behavior did not alarm (see
 * words.h).
 *
 * A sentence is built from three parts: what the device does (a verb and a
 * noun per metric, from the table below), how much of it alarms (the
 * complement of the comparison operator: less-than 5 alarms at "5 or more"),
 * and over what (the window: durationSeconds, a 5-minute bucket, or one
 * report). The clearing half states the operator itself, the normal
 * condition. Statistical thresholds read "the fleet's p90"; ML behaviors
 * name the metric, since the model has no threshold to state. */
#include "core/words.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* List members shown before "and N more". */
#define WORDS_LIST_MAX 8

/* How a metric reads. Set metrics use verb + article + member; numeric
 * ones verb + amount + noun (one/many). many NULL: a measure without a
 * noun ("80 or more"). */
struct phrase {
    const char *metric;
    const char *verb;
    const char *one;
    const char *many;
    bool bucketed; /* judged per 5-minute bucket even without durationSeconds */
};

static const struct phrase phrases[] = {
    { "aws:num-messages-sent", "sends", "message", "messages", true },
    { "aws:num-messages-received", "receives", "message", "messages", true },
    { "aws:num-authorization-failures", "has", "authorization failure", "authorization failures",
      true },
    { "aws:num-connection-attempts", "makes", "connection attempt", "connection attempts", true },
    { "aws:num-disconnects", "disconnects", "time", "times", true },
    { "aws:disconnect-duration", "stays disconnected for", "minute", "minutes", false },
    { "aws:message-byte-size", "sends a message of", "byte", "bytes", true },
    { "aws:source-ip-address", "connects from", "an address", NULL, false },
    { "aws:all-bytes-out", "sends", "byte", "bytes", false },
    { "aws:all-bytes-in", "receives", "byte", "bytes", false },
    { "aws:all-packets-out", "sends", "packet", "packets", false },
    { "aws:all-packets-in", "receives", "packet", "packets", false },
    { "aws:num-listening-tcp-ports", "listens on", "TCP port", "TCP ports", false },
    { "aws:num-listening-udp-ports", "listens on", "UDP port", "UDP ports", false },
    { "aws:num-established-tcp-connections", "has", "established TCP connection",
      "established TCP connections", false },
    { "aws:listening-tcp-ports", "listens on", "a TCP port", NULL, false },
    { "aws:listening-udp-ports", "listens on", "a UDP port", NULL, false },
    { "aws:destination-ip-addresses", "talks to", "an address", NULL, false },
};

/* A growing string. rc turns DD_ERR_NOMEM at the first failed allocation
 * and every later put is ignored, so builders check once at the end. */
struct text {
    char *p;
    size_t len, cap;
    int rc;
};

static void put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct text *t, const char *fmt, ...)
{
    va_list ap;
    int n;
    size_t need;
    char *p;

    if (t->rc)
        return;
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        t->rc = DD_ERR_INTERNAL;
        return;
    }
    need = t->len + (size_t)n + 1;
    if (need > t->cap) {
        size_t cap = t->cap ? t->cap : 128;

        while (cap < need)
            cap *= 2;
        p = realloc(t->p, cap);
        if (!p) {
            t->rc = DD_ERR_NOMEM;
            return;
        }
        t->p = p;
        t->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    t->len += (size_t)n;
}

/* Hand the text to *out, or free it on error. */
static int finish(struct text *t, char **out)
{
    if (!t->rc && !t->p)
        put(t, "%s", "");
    if (t->rc) {
        free(t->p);
        return t->rc;
    }
    *out = t->p;
    return DD_OK;
}

static const struct phrase *phrase_of(const struct behavior *b)
{
    size_t i;

    for (i = 0; i < sizeof(phrases) / sizeof(phrases[0]); i++)
        if (strcmp(phrases[i].metric, b->metric) == 0)
            return &phrases[i];
    return NULL;
}

/* The four amount forms. The violating form of an operator is the normal
 * form of its complement. */
enum form { FORM_LT, FORM_LE, FORM_GT, FORM_GE };

static enum form normal_form(enum metric_op op)
{
    switch (op) {
    case METRIC_OP_LESS_THAN_EQUALS:
        return FORM_LE;
    case METRIC_OP_GREATER_THAN:
        return FORM_GT;
    case METRIC_OP_GREATER_THAN_EQUALS:
        return FORM_GE;
    default:
        return FORM_LT;
    }
}

static enum form complement(enum form f)
{
    switch (f) {
    case FORM_LT:
        return FORM_GE;
    case FORM_LE:
        return FORM_GT;
    case FORM_GT:
        return FORM_LE;
    default:
        return FORM_LT;
    }
}

/* "5 or more messages", "more than 1 message", "fewer than 5"; counted
 * says fewer/less. With a statistic the threshold is a phrase, so the noun
 * goes in the middle: "more messages than the fleet's p90". */
static void put_amount(struct text *t, enum form f, const char *th, bool statistic, bool counted,
                       const char *one, const char *many)
{
    bool single = strcmp(th, "1") == 0;
    const char *less = counted ? "fewer" : "less";
    const char *noun = many ? (single && (f == FORM_LT || f == FORM_GT) ? one : many) : NULL;

    if (statistic && noun) {
        switch (f) {
        case FORM_LT:
            put(t, "%s %s than %s", less, many, th);
            break;
        case FORM_LE:
            put(t, "no more %s than %s", many, th);
            break;
        case FORM_GT:
            put(t, "more %s than %s", many, th);
            break;
        case FORM_GE:
            put(t, "as many %s as %s or more", many, th);
            break;
        }
        return;
    }
    if (noun && f == FORM_LE && strcmp(th, "0") == 0) {
        put(t, "no %s", many);
        return;
    }
    switch (f) {
    case FORM_LT:
        put(t, "%s than %s", less, th);
        break;
    case FORM_LE:
        put(t, "%s or %s", th, less);
        break;
    case FORM_GT:
        put(t, "more than %s", th);
        break;
    case FORM_GE:
        put(t, "%s or more", th);
        break;
    }
    if (noun)
        put(t, " %s", noun);
}

/* The static threshold as text: a count or a number. */
static void threshold_text(const struct behavior *b, char *buf, size_t size)
{
    if (b->type == BEHAVIOR_TYPE_STATISTICAL)
        snprintf(buf, size, "the fleet's %s", b->statistic ? b->statistic : "statistic");
    else if (b->value.kind == METRIC_KIND_NUMBER)
        snprintf(buf, size, "%g", b->value.number);
    else
        snprintf(buf, size, "%" PRIu64, b->value.count);
}

/* The members of a set value, comma-separated, at most WORDS_LIST_MAX. */
static void put_set(struct text *t, const struct metric_value *v)
{
    size_t i, shown = v->n < WORDS_LIST_MAX ? v->n : WORDS_LIST_MAX;

    if (v->n == 0) {
        put(t, "%s", "(empty)");
        return;
    }
    for (i = 0; i < shown; i++) {
        if (i)
            put(t, "%s", ", ");
        switch (v->kind) {
        case METRIC_KIND_PORTS:
            put(t, "%u", (unsigned)v->ports[i]);
            break;
        case METRIC_KIND_NUMBERS:
            put(t, "%g", v->numbers[i]);
            break;
        default:
            put(t, "%s", v->strings[i]);
            break;
        }
    }
    if (v->n > shown)
        put(t, " and %zu more", v->n - shown);
}

static bool set_op(enum metric_op op)
{
    return op >= METRIC_OP_IN_CIDR_SET;
}

static bool in_op(enum metric_op op)
{
    return op == METRIC_OP_IN_CIDR_SET || op == METRIC_OP_IN_PORT_SET || op == METRIC_OP_IN_SET;
}

/* The window: sets *period to the noun a datapoint is counted in. */
static void put_window(struct text *t, const struct behavior *b, const struct phrase *ph,
                       const char **period, const char **periods)
{
    int d = b->duration_seconds;

    *period = "period";
    *periods = "periods";
    if (b->has_duration) {
        if (d % 3600 == 0)
            put(t, " in a %d-hour period", d / 3600);
        else
            put(t, " in a %d-minute period", d / 60);
    } else if (ph && ph->bucketed) {
        put(t, " in a %d-minute period", METRIC_BUCKET_SECONDS / 60);
    } else if (b->info && b->info->side != METRIC_SIDE_CLOUD) {
        *period = "report";
        *periods = "reports";
    } else {
        *period = "datapoint";
        *periods = "datapoints";
    }
}

static void put_dimension(struct text *t, const struct behavior *b)
{
    if (b->dimension_name)
        put(t, " on topics %s dimension %s",
            b->dimension_op == BEHAVIOR_DIM_NOT_IN ? "outside" : "matching", b->dimension_name);
}

int words_behavior(const struct behavior *b, const char *thing, char **out)
{
    const struct phrase *ph = phrase_of(b);
    const char *who = thing ? thing : "a device";
    const char *period, *periods;
    bool counted = b->info && b->info->kind == METRIC_KIND_COUNT;
    int to_alarm = behavior_to_alarm(b), to_clear = behavior_to_clear(b);
    struct text t = { 0 };
    char th[64];

    *out = NULL;
    put(&t, "%s", "alarms when ");
    if (b->type == BEHAVIOR_TYPE_MACHINE_LEARNING) {
        put(&t, "ML Detect (%s confidence) finds the %s of %s",
            behavior_confidence_name(b->confidence), b->metric, who);
        put_dimension(&t, b);
        put_window(&t, b, ph, &period, &periods);
        put(&t, "%s", " anomalous");
    } else if (set_op(b->op)) {
        bool in = in_op(b->op);

        if (ph)
            put(&t, "%s %s %s", who, ph->verb, ph->one);
        else
            put(&t, "%s reports a value of %s", who, b->metric);
        put(&t, " %s the set ", in ? "outside" : "in");
        put_set(&t, &b->value);
        put_dimension(&t, b);
        put_window(&t, b, ph, &period, &periods);
    } else {
        bool stat = b->type == BEHAVIOR_TYPE_STATISTICAL;

        threshold_text(b, th, sizeof(th));
        if (ph)
            put(&t, "%s %s ", who, ph->verb);
        else
            put(&t, "%s reports %s of ", who, b->metric);
        put_amount(&t, complement(normal_form(b->op)), th, stat, counted, ph ? ph->one : NULL,
                   ph ? ph->many : NULL);
        put_dimension(&t, b);
        put_window(&t, b, ph, &period, &periods);
    }
    if (to_alarm == 1)
        put(&t, "%s", ", once");
    else
        put(&t, ", %d %s in a row", to_alarm, periods);
    put(&t, "; clears after %d %s ", to_clear, to_clear == 1 ? period : periods);
    if (b->type == BEHAVIOR_TYPE_MACHINE_LEARNING) {
        put(&t, "%s", "found normal");
    } else if (set_op(b->op)) {
        const char *member = ph ? ph->one : "a value";

        /* Drop the article: "with every TCP port in the set". */
        if (strncmp(member, "a ", 2) == 0)
            member += 2;
        else if (strncmp(member, "an ", 3) == 0)
            member += 3;
        put(&t, "with %s %s in the set", in_op(b->op) ? "every" : "no", member);
    } else {
        put(&t, "%s", "with ");
        put_amount(&t, normal_form(b->op), th, false, counted, NULL, NULL);
    }
    if (b->suppress_alerts)
        put(&t, "%s", "; alerts are suppressed (violations are still recorded)");
    return finish(&t, out);
}

enum words_reason words_reason_of(const struct behavior *b, const struct words_facts *f)
{
    if (!f->targeted)
        return WORDS_REASON_NOT_TARGETED;
    if (f->alarmed && b->suppress_alerts)
        return WORDS_REASON_SUPPRESSED;
    if (f->in_alarm)
        return WORDS_REASON_IN_ALARM;
    if (f->alarmed)
        return WORDS_REASON_CLEARED;
    if (f->n_datapoints == 0)
        return WORDS_REASON_NO_DATAPOINT;
    if (f->n_violating == 0)
        return f->n_no_verdict == f->n_datapoints ? WORDS_REASON_NO_VERDICT
                                                  : WORDS_REASON_COMPLIANT;
    return WORDS_REASON_STREAK_SHORT;
}

int words_reason(const struct behavior *b, const char *thing, const struct words_facts *f,
                 enum words_reason *code, char **out)
{
    const char *who = thing ? thing : "the device";
    int to_alarm = behavior_to_alarm(b), to_clear = behavior_to_clear(b);
    enum words_reason r = words_reason_of(b, f);
    struct text t = { 0 };
    int rc;

    *out = NULL;
    *code = WORDS_REASON_NOT_TARGETED;
    switch (r) {
    case WORDS_REASON_NOT_TARGETED:
        put(&t, "The profile does not target %s: attach it to all things, or to a group %s is in.",
            who, who);
        break;
    case WORDS_REASON_NO_DATAPOINT:
        if (b->info && b->info->side != METRIC_SIDE_CLOUD)
            put(&t,
                "No datapoint yet, so nothing was judged: %s has sent no metrics report for "
                "this metric. No datapoint changes nothing.",
                who);
        else
            put(&t,
                "No datapoint yet, so nothing was judged: %s was offline (no MQTT session in "
                "any closed 5-minute period), or no period has closed since it connected. An "
                "offline device sends no datapoint, and no datapoint changes nothing.",
                who);
        break;
    case WORDS_REASON_NO_VERDICT:
        put(&t,
            "%zu datapoint%s, none with a verdict yet: the %s needs more datapoints before it "
            "judges.",
            f->n_datapoints, f->n_datapoints == 1 ? "" : "s",
            b->type == BEHAVIOR_TYPE_MACHINE_LEARNING ? "model" : "fleet statistic");
        break;
    case WORDS_REASON_COMPLIANT:
        put(&t,
            "Every datapoint met the criteria (%zu compliant): %s behaved normally, so nothing "
            "violated.",
            f->n_datapoints - f->n_no_verdict, who);
        break;
    case WORDS_REASON_STREAK_SHORT:
        put(&t,
            "%zu of %zu datapoints violated, but the longest streak was %u in a row and "
            "consecutiveDatapointsToAlarm is %d: a violation opens only after %d violating "
            "datapoints in a row.",
            f->n_violating, f->n_datapoints, f->longest_streak, to_alarm, to_alarm);
        break;
    case WORDS_REASON_SUPPRESSED:
        put(&t, "It alarmed, but the behavior has suppressAlerts: the violation is recorded and "
                "listed, and no alert is sent.");
        break;
    case WORDS_REASON_IN_ALARM:
        put(&t,
            "In alarm: %d violating datapoint%s in a row (consecutiveDatapointsToAlarm) opened a "
            "violation; %d compliant in a row (consecutiveDatapointsToClear) will clear it.",
            to_alarm, to_alarm == 1 ? "" : "s", to_clear);
        break;
    case WORDS_REASON_CLEARED:
        put(&t,
            "It alarmed and has cleared since: %d compliant datapoint%s in a row "
            "(consecutiveDatapointsToClear) closed the violation.",
            to_clear, to_clear == 1 ? "" : "s");
        break;
    }
    rc = finish(&t, out);
    if (!rc)
        *code = r;
    return rc;
}

const char *words_reason_name(enum words_reason r)
{
    static const char *const names[] = {
        [WORDS_REASON_NOT_TARGETED] = "not-targeted", [WORDS_REASON_NO_DATAPOINT] = "no-datapoint",
        [WORDS_REASON_NO_VERDICT] = "no-verdict",     [WORDS_REASON_COMPLIANT] = "compliant",
        [WORDS_REASON_STREAK_SHORT] = "streak-short", [WORDS_REASON_SUPPRESSED] = "suppressed",
        [WORDS_REASON_IN_ALARM] = "in-alarm",         [WORDS_REASON_CLEARED] = "cleared",
    };

    if ((unsigned)r >= sizeof(names) / sizeof(names[0]))
        return "unknown";
    return names[r];
}
