/* SPDX-License-Identifier: MIT */
/*
 * tools/device.c: the virtual device factory behind `bin/ddlocal device`.
 *
 * It registers things with CreateThing on the emulator's HTTP API, then runs
 * one MQTT client per thing (client id = thing name) that behaves as its
 * profile says: telemetry bursts, denied publishes, connection flapping,
 * oversized messages or device-side metrics reports. Every device listens to
 * its shadow delta and obeys desired.quarantine. It prints one line per event,
 * prefixed with the emulated time and the device name.
 *
 * The design choice to know first: devices run on *emulated* time. One thread
 * polls GET /_ddlocal/clock every 200 ms (a small HTTP client of our own, so
 * the tool needs only libmosquitto and cJSON) and drives every client with
 * poll() and libmosquitto's loop_read/loop_write/loop_misc, so no state is
 * shared between threads. A device acts when the clock has passed its due
 * time *and* the broker has evaluated up to the start of the 5-minute bucket
 * that holds it (the clock's evaluatedUntil), so a burst always lands in the
 * bucket it was meant for. With the manual clock, due times sit on period
 * boundaries: advancing the clock across one makes the device act once, at
 * the new time. With real or scaled clocks they sit mid-period, far from the
 * bucket edges. A clock that jumps over several due times makes the device
 * act once, not once per missed period, so no bucket gets two bursts.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <mosquitto.h>

#include "core/ids.h"

#define PROG               "ddlocal-device"
#define THING_NAME_MAX     128
#define TOPIC_MAX          (THING_NAME_MAX + 64)
#define BUCKET_S           300.0 /* the emulator's cloud-side metric bucket */
#define CLOCK_POLL_MS      200
#define HTTP_TIMEOUT_MS    2000
#define HTTP_RESPONSE_MAX  (64 * 1024)
#define HTTP_LOST_AFTER_MS 10000 /* the API gone this long: the emulator stopped */
#define CONNACK_WAIT_MS    10000 /* at start, every device must get an answer */
#define RETRY_LOST_MS      1000  /* reconnect after a lost connection */
#define RETRY_REFUSED_MS   2000  /* reconnect after a refused CONNECT */
#define KEEPALIVE_S        60
#define COUNT_MAX          1000
#define MID_SLOTS          65536 /* message ids are 16-bit */

enum profile_kind {
    KIND_TELEMETRY, /* QoS 1 messages to telemetry/<name> */
    KIND_DENIED,    /* QoS 0 messages to forbidden/<name> */
    KIND_FLAP,      /* disconnect and reconnect */
    KIND_REPORT,    /* a device-side metrics report */
};

struct profile {
    const char *name;
    enum profile_kind kind;
    double period_s;    /* emulated seconds between actions */
    int n_messages;     /* per action */
    size_t payload_len; /* 0: a small JSON document */
    const char *help;   /* what it does and what it triggers */
};

static const struct profile profiles[] = {
    { "generic", KIND_TELEMETRY, 300, 30, 0,
      "30 messages every 5 min on telemetry/<name> (the lab's rogue device):\n"
      "                 violates aws:num-messages-sent less-than 5 over 300 s" },
    { "normal", KIND_TELEMETRY, 300, 2, 0,
      "2 messages every 5 min on telemetry/<name>: within the lab's behavior,\n"
      "                 triggers nothing" },
    { "auth-failure", KIND_DENIED, 300, 3, 0,
      "3 QoS 0 messages every 5 min on forbidden/<name>; needs a policy that\n"
      "                 denies iot:Publish on topic/forbidden/* for the thing (or its\n"
      "                 group): triggers aws:num-authorization-failures" },
    { "flapping", KIND_FLAP, 60, 0, 0,
      "disconnects and reconnects every emulated minute, publishes nothing:\n"
      "                 triggers aws:num-connection-attempts and aws:num-disconnects" },
    { "big-payload", KIND_TELEMETRY, 300, 2, 100 * 1024,
      "2 messages of 100 KB every 5 min on telemetry/<name>:\n"
      "                 triggers aws:message-byte-size (and aws:all-bytes-out style limits)" },
    { "scanner", KIND_REPORT, 300, 1, 0,
      "a device-side metrics report every 5 min on\n"
      "                 $aws/things/<name>/defender/metrics/json listing TCP ports 22,\n"
      "                 23 and 4444; logs the accepted/rejected reply: triggers\n"
      "                 aws:listening-tcp-ports and aws:num-listening-tcp-ports" },
};

#define N_PROFILES (sizeof(profiles) / sizeof(profiles[0]))

struct options {
    const struct profile *prof; /* borrowed from profiles[] */
    const char *name;           /* borrowed from argv; NULL: generate */
    int count;
    int mqtt_port;
    int http_port;
    const char *host; /* borrowed from argv or a literal */
};

struct emu_clock {
    double now;       /* emulated epoch seconds */
    double evaluated; /* the broker has evaluated up to here; now when unknown */
    bool manual;
};

struct fleet;

struct device {
    struct fleet *fleet; /* borrowed back pointer */
    char name[THING_NAME_MAX + 1];
    char topic[TOPIC_MAX];       /* where the profile publishes */
    char delta_topic[TOPIC_MAX]; /* $aws/things/<name>/shadow/update/delta */
    char update_topic[TOPIC_MAX];
    char accepted_topic[TOPIC_MAX]; /* scanner only */
    char rejected_topic[TOPIC_MAX];
    struct mosquitto *mosq; /* owned */
    bool connected;         /* CONNACK 0 seen, no disconnect since */
    bool answered;          /* the broker has answered a CONNECT at least once */
    bool quarantined;
    bool flapping;          /* we asked for this disconnect: reconnect at once */
    bool retry_failing;     /* the last reconnect failed (logged once per streak) */
    int64_t retry_ms;       /* real ms at which to reconnect; 0: no retry pending */
    double next_due;        /* emulated seconds */
    long seq;               /* telemetry sequence number */
    long long report_id;    /* last report id sent */
    int batch_n;            /* messages in the burst being acknowledged */
    int batch_pending;      /* of which not yet acknowledged */
    char batch_what[160];   /* how the burst is logged once acknowledged */
    unsigned char *pending; /* owned: one flag per message id of the burst */
};

struct fleet {
    const struct options *opt; /* borrowed */
    struct emu_clock clk;
    double phase;             /* offset of due times within a period, as a fraction */
    struct http_reply *reply; /* owned: one buffer for every request */
    struct device *dev;       /* owned array of n */
    int n;
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
    stop_signal = sig;
}

static int64_t real_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void fail(const char *fmt, ...)
{
    va_list ap;

    fflush(stdout);
    fputs(PROG ": ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

/* One event line: emulated time, device name, text. Flushed at once so a
 * reader of a pipe sees each event as it happens. */
static void log_event(const struct device *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void log_event(const struct device *d, const char *fmt, ...)
{
    time_t t = (time_t)floor(d->fleet->clk.now);
    struct tm tm;
    char when[32] = "?";
    va_list ap;

    if (gmtime_r(&t, &tm))
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    printf("%s %s ", when, d->name);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

/* ---- a small HTTP/1.1 client ------------------------------------------ */

struct http_reply {
    int status;
    char *body; /* points into buf, NUL-terminated */
    size_t body_len;
    char buf[HTTP_RESPONSE_MAX + 1];
};

static int connect_tcp(const char *host, int port, char *why, size_t why_len)
{
    struct addrinfo hints = { 0 }, *res = NULL, *ai;
    struct timeval tv = { HTTP_TIMEOUT_MS / 1000, (HTTP_TIMEOUT_MS % 1000) * 1000 };
    char port_s[16];
    int fd = -1, rc, err = 0;

    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(port_s, sizeof(port_s), "%d", port);
    rc = getaddrinfo(host, port_s, &hints, &res);
    if (rc) {
        snprintf(why, why_len, "%s", gai_strerror(rc));
        return -1;
    }
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            err = errno;
            continue;
        }
        /* On Linux the send timeout also bounds connect(). */
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        err = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        snprintf(why, why_len, "%s", strerror(err ? err : ECONNREFUSED));
    return fd;
}

static bool send_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t w = send(fd, p, len, MSG_NOSIGNAL);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        len -= (size_t)w;
    }
    return true;
}

/* Undo chunked transfer coding in place; false when malformed. */
static bool dechunk(char *body, size_t len, size_t *out_len)
{
    char *src = body, *end = body + len, *dst = body;

    for (;;) {
        char *eol;
        unsigned long n;

        eol = memmem(src, (size_t)(end - src), "\r\n", 2);
        if (!eol)
            return false;
        n = strtoul(src, NULL, 16);
        src = eol + 2;
        if (n == 0)
            break;
        if (n > (size_t)(end - src))
            return false;
        memmove(dst, src, n);
        dst += n;
        src += n + 2;
        if (src > end)
            return false;
    }
    *out_len = (size_t)(dst - body);
    return true;
}

/* One request with Connection: close; the whole reply lands in r. false
 * with why filled when the server cannot be reached or answers garbage. */
static bool http_request(const struct options *o, const char *method, const char *path,
                         const char *body, struct http_reply *r, char *why, size_t why_len)
{
    char head[512 + THING_NAME_MAX];
    size_t got = 0, body_len = body ? strlen(body) : 0;
    char *hdr_end, *cl;
    int fd, n;
    bool ok = false;

    r->status = 0;
    r->body = NULL;
    r->body_len = 0;
    fd = connect_tcp(o->host, o->http_port, why, why_len);
    if (fd < 0)
        return false;
    n = snprintf(head, sizeof(head),
                 "%s %s HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: " PROG "\r\n"
                 "Accept: application/json\r\nConnection: close\r\n"
                 "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                 method, path, o->host, o->http_port, body_len);
    if (n < 0 || (size_t)n >= sizeof(head) || !send_all(fd, head, (size_t)n) ||
        (body_len && !send_all(fd, body, body_len))) {
        snprintf(why, why_len, "sending the request failed: %s", strerror(errno));
        goto out;
    }
    for (;;) {
        ssize_t rd = recv(fd, r->buf + got, HTTP_RESPONSE_MAX - got, 0);

        if (rd < 0 && errno == EINTR)
            continue;
        if (rd < 0) {
            snprintf(why, why_len, "no reply: %s", strerror(errno));
            goto out;
        }
        if (rd == 0)
            break;
        got += (size_t)rd;
        if (got == HTTP_RESPONSE_MAX) {
            snprintf(why, why_len, "the reply is over %d bytes", HTTP_RESPONSE_MAX);
            goto out;
        }
    }
    r->buf[got] = '\0';
    hdr_end = strstr(r->buf, "\r\n\r\n");
    if (strncmp(r->buf, "HTTP/1.", 7) != 0 || got < 12 || !hdr_end) {
        snprintf(why, why_len, "the reply is not HTTP");
        goto out;
    }
    r->status = atoi(r->buf + 9);
    *hdr_end = '\0';
    r->body = hdr_end + 4;
    r->body_len = got - (size_t)(r->body - r->buf);
    if (strcasestr(r->buf, "\r\ntransfer-encoding: chunked")) {
        if (!dechunk(r->body, r->body_len, &r->body_len)) {
            snprintf(why, why_len, "the reply's chunked body is malformed");
            goto out;
        }
        r->body[r->body_len] = '\0';
    } else if ((cl = strcasestr(r->buf, "\r\ncontent-length:"))) {
        unsigned long want = strtoul(cl + 17, NULL, 10);

        if (want > r->body_len) {
            snprintf(why, why_len, "the reply was cut short");
            goto out;
        }
        r->body_len = want;
        r->body[want] = '\0';
    }
    ok = true;
out:
    close(fd);
    return ok;
}

/* GET /_ddlocal/clock into *clk; false with why on any failure. */
static bool clock_fetch(const struct options *o, struct http_reply *r, struct emu_clock *clk,
                        char *why, size_t why_len)
{
    const cJSON *now, *mode, *ev;
    cJSON *doc;
    bool ok = false;

    if (!http_request(o, "GET", "/_ddlocal/clock", NULL, r, why, why_len))
        return false;
    if (r->status != 200) {
        snprintf(why, why_len, "GET /_ddlocal/clock answered %d: %.200s", r->status, r->body);
        return false;
    }
    doc = cJSON_ParseWithLength(r->body, r->body_len);
    now = cJSON_GetObjectItemCaseSensitive(doc, "now");
    mode = cJSON_GetObjectItemCaseSensitive(doc, "mode");
    ev = cJSON_GetObjectItemCaseSensitive(doc, "evaluatedUntil");
    if (!cJSON_IsNumber(now) || !cJSON_IsString(mode)) {
        snprintf(why, why_len, "GET /_ddlocal/clock answered an unexpected document");
        goto out;
    }
    clk->now = now->valuedouble;
    clk->evaluated = cJSON_IsNumber(ev) ? ev->valuedouble : clk->now;
    clk->manual = strcmp(mode->valuestring, "manual") == 0;
    ok = true;
out:
    cJSON_Delete(doc);
    return ok;
}

/* CreateThing; an existing thing is fine. Exits on any other answer. */
static void register_thing(struct device *d)
{
    struct http_reply *r = d->fleet->reply;
    const struct options *o = d->fleet->opt;
    char path[32 + THING_NAME_MAX], why[256];

    snprintf(path, sizeof(path), "/things/%s", d->name);
    if (!http_request(o, "POST", path, "{}", r, why, sizeof(why)))
        fail("cannot reach the HTTP API at http://%s:%d: %s", o->host, o->http_port, why);
    if (r->status == 200)
        log_event(d, "registered (CreateThing)");
    else if (r->status == 409)
        log_event(d, "already registered");
    else
        fail("CreateThing %s answered %d: %.300s", d->name, r->status, r->body);
}

/* ---- device behaviour -------------------------------------------------- */

/* The first due time after t: due times sit at phase * period into each period. */
static double next_due_after(const struct fleet *f, double t)
{
    double p = f->opt->prof->period_s;

    return (floor(t / p) + 1) * p + f->phase * p;
}

static void burst_start(struct device *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Start logging a burst: the line appears once every message of it has been
 * acknowledged (QoS 1) or written (QoS 0). */
static void burst_start(struct device *d, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(d->batch_what, sizeof(d->batch_what), fmt, ap);
    va_end(ap);
    d->batch_n = 0;
    d->batch_pending = 0;
}

static void burst_publish(struct device *d, const char *topic, const void *payload, size_t len,
                          int qos)
{
    int mid, rc;

    rc = mosquitto_publish(d->mosq, &mid, topic, (int)len, payload, qos, false);
    if (rc) {
        log_event(d, "publish to %s failed: %s", topic, mosquitto_strerror(rc));
        return;
    }
    d->batch_n++;
    /* QoS 0 is done once written, which may happen inside the call above. */
    if (qos > 0) {
        d->batch_pending++;
        d->pending[(unsigned)mid % MID_SLOTS] = 1;
    }
}

/* After the last burst_publish(): log a burst that needs no acknowledgement. */
static void burst_end(struct device *d)
{
    if (d->batch_n > 0 && d->batch_pending == 0)
        log_event(d, "published %d message%s %s", d->batch_n, d->batch_n == 1 ? "" : "s",
                  d->batch_what);
}

static void burst_acked(struct device *d, int mid)
{
    unsigned char *slot = &d->pending[(unsigned)mid % MID_SLOTS];

    if (!*slot)
        return; /* a shadow report, not part of a burst */
    *slot = 0;
    if (--d->batch_pending == 0)
        log_event(d, "published %d message%s %s", d->batch_n, d->batch_n == 1 ? "" : "s",
                  d->batch_what);
}

static void publish_telemetry(struct device *d, const struct profile *p, int qos)
{
    size_t cap = p->payload_len ? p->payload_len + 1 : 256;
    char *buf = malloc(cap);
    int i;

    if (!buf) {
        log_event(d, "out of memory: burst skipped");
        return;
    }
    if (p->kind == KIND_DENIED)
        burst_start(d, "to %s (QoS 0; its policy should deny them)", d->topic);
    else if (p->payload_len)
        burst_start(d, "of %zu bytes to %s", p->payload_len, d->topic);
    else
        burst_start(d, "to %s", d->topic);
    for (i = 0; i < p->n_messages; i++) {
        int n;

        d->seq++;
        if (p->payload_len) {
            /* Pad a JSON document to exactly payload_len bytes. */
            n = snprintf(buf, cap, "{\"thing\":\"%s\",\"seq\":%ld,\"blob\":\"", d->name, d->seq);
            memset(buf + n, 'A', p->payload_len - (size_t)n - 2);
            memcpy(buf + p->payload_len - 2, "\"}", 2);
            n = (int)p->payload_len;
        } else {
            n = snprintf(buf, cap,
                         "{\"thing\":\"%s\",\"seq\":%ld,\"time\":%.0f,\"temperature\":%.1f}",
                         d->name, d->seq, d->fleet->clk.now, 20.0 + (double)(d->seq % 50) / 10);
        }
        burst_publish(d, d->topic, buf, (size_t)n, qos);
    }
    burst_end(d);
    free(buf);
}

static void publish_report(struct device *d)
{
    long long id = (long long)floor(d->fleet->clk.now);
    char buf[1024];
    int n;

    /* report_id must increase; epoch seconds do, unless the clock stood still. */
    if (id <= d->report_id)
        id = d->report_id + 1;
    d->report_id = id;
    n = snprintf(buf, sizeof(buf),
                 "{\"header\":{\"report_id\":%lld,\"version\":\"1.0\"},"
                 "\"metrics\":{"
                 "\"listening_tcp_ports\":{\"ports\":[{\"port\":22,\"interface\":\"eth0\"},"
                 "{\"port\":23,\"interface\":\"eth0\"},{\"port\":4444,\"interface\":\"eth0\"}],"
                 "\"total\":3},"
                 "\"listening_udp_ports\":{\"ports\":[{\"port\":68,\"interface\":\"eth0\"}],"
                 "\"total\":1},"
                 "\"network_stats\":{\"bytes_in\":5120,\"bytes_out\":2048,"
                 "\"packets_in\":40,\"packets_out\":31},"
                 "\"tcp_connections\":{\"established_connections\":{\"connections\":"
                 "[{\"remote_addr\":\"198.51.100.7:4444\",\"local_port\":4444,"
                 "\"local_interface\":\"eth0\"}],\"total\":1}}}}",
                 id);
    burst_start(d, "(metrics report %lld, listening TCP ports 22, 23, 4444) to %s", id, d->topic);
    burst_publish(d, d->topic, buf, (size_t)n, 1);
    burst_end(d);
}

/* Do what the profile does once. */
static void act(struct device *d)
{
    const struct profile *p = d->fleet->opt->prof;

    if (p->kind == KIND_FLAP) {
        d->flapping = true;
        mosquitto_disconnect(d->mosq);
        return;
    }
    if (d->quarantined) {
        log_event(d, "quarantined: held back %d message%s", p->n_messages,
                  p->n_messages == 1 ? "" : "s");
        return;
    }
    if (p->kind == KIND_REPORT)
        publish_report(d);
    else
        publish_telemetry(d, p, p->kind == KIND_DENIED ? 0 : 1);
}

/* Report reported.quarantine so the delta clears. */
static void report_quarantine(struct device *d, bool on)
{
    const char *doc = on ? "{\"state\":{\"reported\":{\"quarantine\":true}}}"
                         : "{\"state\":{\"reported\":{\"quarantine\":false}}}";
    int rc = mosquitto_publish(d->mosq, NULL, d->update_topic, (int)strlen(doc), doc, 1, false);

    if (rc)
        log_event(d, "reporting quarantine failed: %s", mosquitto_strerror(rc));
}

/* Print a payload on one line, control characters blanked. */
static void log_payload(const struct device *d, const char *what, const void *payload, int len)
{
    char *text = malloc((size_t)len + 1);
    int i;

    if (!text) {
        log_event(d, "%s (%d bytes)", what, len);
        return;
    }
    memcpy(text, payload, (size_t)len);
    text[len] = '\0';
    for (i = 0; i < len; i++)
        if ((unsigned char)text[i] < 0x20)
            text[i] = ' ';
    log_event(d, "%s %s", what, text);
    free(text);
}

static void on_delta(struct device *d, const struct mosquitto_message *m)
{
    cJSON *doc = cJSON_ParseWithLength(m->payload, (size_t)m->payloadlen);
    const cJSON *state = cJSON_GetObjectItemCaseSensitive(doc, "state");
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(state, "quarantine");

    log_payload(d, "delta received", m->payload, m->payloadlen);
    if (cJSON_IsBool(q)) {
        bool on = cJSON_IsTrue(q);

        if (on && !d->quarantined)
            log_event(d, "quarantined: publishing stops (reporting quarantine=true)");
        else if (!on && d->quarantined)
            log_event(d, "released from quarantine: publishing resumes");
        d->quarantined = on;
        report_quarantine(d, on);
    }
    cJSON_Delete(doc);
}

static void on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *m)
{
    struct device *d = obj;

    (void)mosq;
    if (strcmp(m->topic, d->delta_topic) == 0)
        on_delta(d, m);
    else if (strcmp(m->topic, d->accepted_topic) == 0)
        log_payload(d, "report accepted", m->payload, m->payloadlen);
    else if (strcmp(m->topic, d->rejected_topic) == 0)
        log_payload(d, "report rejected", m->payload, m->payloadlen);
}

static void on_connect(struct mosquitto *mosq, void *obj, int rc)
{
    struct device *d = obj;

    d->answered = true;
    if (rc) {
        log_event(d, "connection refused: %s", mosquitto_connack_string(rc));
        d->retry_ms = real_ms() + RETRY_REFUSED_MS;
        return;
    }
    d->connected = true;
    log_event(d, "connected");
    mosquitto_subscribe(mosq, NULL, d->delta_topic, 1);
    if (d->fleet->opt->prof->kind == KIND_REPORT) {
        mosquitto_subscribe(mosq, NULL, d->accepted_topic, 1);
        mosquitto_subscribe(mosq, NULL, d->rejected_topic, 1);
    }
}

static void on_disconnect(struct mosquitto *mosq, void *obj, int rc)
{
    struct device *d = obj;

    (void)mosq;
    if (d->connected) {
        if (rc)
            log_event(d, "disconnected (%s)", mosquitto_strerror(rc));
        else
            log_event(d, "disconnected");
    }
    d->connected = false;
    if (stop_signal)
        return;
    if (d->flapping)
        d->retry_ms = real_ms();
    else if (!d->retry_ms)
        d->retry_ms = real_ms() + RETRY_LOST_MS;
    d->flapping = false;
}

static void on_publish(struct mosquitto *mosq, void *obj, int mid)
{
    (void)mosq;
    burst_acked(obj, mid);
}

/* ---- setup ------------------------------------------------------------- */

static bool valid_name(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > THING_NAME_MAX)
        return false;
    return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:_-") == n;
}

/* dev-XXXX with four random capitals or digits, as the lab's devices are named. */
static void generate_name(char *out)
{
    memcpy(out, "dev-", 4);
    if (ids_text(out + 4, 4, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"))
        fail("cannot generate a device name: no randomness");
}

static void name_devices(struct fleet *f)
{
    const struct options *o = f->opt;
    int i, j;

    for (i = 0; i < f->n; i++) {
        struct device *d = &f->dev[i];

        if (o->name && o->count == 1) {
            snprintf(d->name, sizeof(d->name), "%s", o->name);
            continue;
        }
        if (o->name) {
            snprintf(d->name, sizeof(d->name), "%s-%d", o->name, i + 1);
            continue;
        }
        do {
            generate_name(d->name);
            for (j = 0; j < i && strcmp(f->dev[j].name, d->name) != 0; j++)
                ;
        } while (j < i);
    }
}

static void device_init(struct fleet *f, struct device *d)
{
    const struct profile *p = f->opt->prof;

    d->fleet = f;
    if (p->kind == KIND_DENIED)
        snprintf(d->topic, sizeof(d->topic), "forbidden/%s", d->name);
    else if (p->kind == KIND_REPORT)
        snprintf(d->topic, sizeof(d->topic), "$aws/things/%s/defender/metrics/json", d->name);
    else
        snprintf(d->topic, sizeof(d->topic), "telemetry/%s", d->name);
    snprintf(d->delta_topic, sizeof(d->delta_topic), "$aws/things/%s/shadow/update/delta", d->name);
    snprintf(d->update_topic, sizeof(d->update_topic), "$aws/things/%s/shadow/update", d->name);
    snprintf(d->accepted_topic, sizeof(d->accepted_topic),
             "$aws/things/%s/defender/metrics/json/accepted", d->name);
    snprintf(d->rejected_topic, sizeof(d->rejected_topic),
             "$aws/things/%s/defender/metrics/json/rejected", d->name);
    d->pending = calloc(MID_SLOTS, 1);
    d->mosq = mosquitto_new(d->name, true, d);
    if (!d->pending || !d->mosq)
        fail("out of memory creating %s", d->name);
    mosquitto_connect_callback_set(d->mosq, on_connect);
    mosquitto_disconnect_callback_set(d->mosq, on_disconnect);
    mosquitto_message_callback_set(d->mosq, on_message);
    mosquitto_publish_callback_set(d->mosq, on_publish);
}

static void device_connect(struct device *d)
{
    const struct options *o = d->fleet->opt;
    int rc = mosquitto_connect(d->mosq, o->host, o->mqtt_port, KEEPALIVE_S);

    if (rc)
        fail("cannot reach the MQTT broker at %s:%d: %s", o->host, o->mqtt_port,
             rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
}

/* Reconnect a device whose retry time has come; log a failure once per try. */
static void device_retry(struct device *d, int64_t now)
{
    int rc;

    if (d->connected || !d->retry_ms || now < d->retry_ms)
        return;
    d->retry_ms = 0;
    rc = mosquitto_reconnect(d->mosq);
    if (rc) {
        if (!d->retry_failing)
            log_event(d, "reconnect failed: %s (retrying every second)",
                      rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
        d->retry_failing = true;
        d->retry_ms = now + RETRY_LOST_MS;
        return;
    }
    d->retry_failing = false;
}

/* Act when the clock has passed the due time and the broker has evaluated
 * up to the start of the bucket holding it (so the burst is counted there). */
static void device_tick(struct device *d)
{
    const struct fleet *f = d->fleet;

    if (!d->connected || f->clk.now < d->next_due ||
        f->clk.evaluated < floor(d->next_due / BUCKET_S) * BUCKET_S)
        return;
    act(d);
    d->next_due = next_due_after(f, f->clk.now);
}

/* The first due time: now, unless a real or scaled period is nearly over
 * (a burst sent then could spill into the next bucket, which gets its own).
 * A flapping device's first connect is its first action. */
static double first_due(const struct fleet *f)
{
    double p = f->opt->prof->period_s, now = f->clk.now;
    double into = now - floor(now / p) * p;

    if (f->opt->prof->kind == KIND_FLAP || (!f->clk.manual && into > 0.8 * p))
        return next_due_after(f, now);
    return now;
}

static void usage(FILE *to)
{
    size_t i;

    fprintf(to, "usage: ddlocal device --profile P [--name NAME] [--count N]\n"
                "                      [--mqtt-port N] [--http-port N] [--host H]\n"
                "\n"
                "Registers things (CreateThing) and runs virtual devices on the emulated\n"
                "clock. Each device obeys desired.quarantine from its shadow delta: it stops\n"
                "publishing and reports {\"state\":{\"reported\":{\"quarantine\":true}}}.\n"
                "\n"
                "profiles:\n");
    for (i = 0; i < N_PROFILES; i++)
        fprintf(to, "  %-14s %s\n", profiles[i].name, profiles[i].help);
    fprintf(to, "\n"
                "  --name NAME      thing name and client id (default dev-XXXX, random);\n"
                "                   with --count N the things are NAME-1 .. NAME-N\n"
                "  --count N        run N devices in this process (default 1)\n"
                "  --mqtt-port N    broker port (default 1883)\n"
                "  --http-port N    emulator HTTP port (default 4566)\n"
                "  --host H         emulator host (default 127.0.0.1)\n"
                "\n"
                "SIGTERM or SIGINT disconnects every device and exits 0.\n");
}

static int parse_int(const char *opt, const char *s, int lo, int hi)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        fail("%s takes a number from %d to %d, not '%s'", opt, lo, hi, s);
    return (int)v;
}

static void parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        { "profile", required_argument, NULL, 'p' },
        { "name", required_argument, NULL, 'n' },
        { "count", required_argument, NULL, 'c' },
        { "mqtt-port", required_argument, NULL, 'm' },
        { "http-port", required_argument, NULL, 'w' },
        { "host", required_argument, NULL, 'H' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *profile = NULL;
    size_t i;
    int c;

    *o = (struct options){ NULL, NULL, 1, 1883, 4566, "127.0.0.1" };
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'p':
            profile = optarg;
            break;
        case 'n':
            o->name = optarg;
            break;
        case 'c':
            o->count = parse_int("--count", optarg, 1, COUNT_MAX);
            break;
        case 'm':
            o->mqtt_port = parse_int("--mqtt-port", optarg, 1, 65535);
            break;
        case 'w':
            o->http_port = parse_int("--http-port", optarg, 1, 65535);
            break;
        case 'H':
            o->host = optarg;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            fail("unknown option or missing value: %s (see ddlocal device --help)",
                 argv[optind - 1]);
        }
    }
    if (optind < argc)
        fail("unexpected argument '%s' (see ddlocal device --help)", argv[optind]);
    if (!profile)
        fail("--profile is required (see ddlocal device --help)");
    for (i = 0; i < N_PROFILES && strcmp(profiles[i].name, profile) != 0; i++)
        ;
    if (i == N_PROFILES)
        fail("unknown profile '%s' (generic, normal, auth-failure, flapping, big-payload, "
             "scanner)",
             profile);
    o->prof = &profiles[i];
    if (o->name && (!valid_name(o->name) || (o->count > 1 && strlen(o->name) > THING_NAME_MAX - 5)))
        fail("--name '%s' is not a thing name ([a-zA-Z0-9:_-], up to 128 characters)", o->name);
}

/* ---- the loop ---------------------------------------------------------- */

static void service_sockets(struct fleet *f, struct pollfd *pfd, int timeout_ms)
{
    int i;

    for (i = 0; i < f->n; i++) {
        pfd[i].fd = mosquitto_socket(f->dev[i].mosq);
        pfd[i].events = POLLIN | (mosquitto_want_write(f->dev[i].mosq) ? POLLOUT : 0);
        pfd[i].revents = 0;
    }
    /* Negative fds are ignored, so with every device down this just waits. */
    poll(pfd, (nfds_t)f->n, timeout_ms);
    for (i = 0; i < f->n; i++) {
        struct mosquitto *m = f->dev[i].mosq;

        if (pfd[i].fd < 0)
            continue;
        if (pfd[i].revents & (POLLIN | POLLERR | POLLHUP))
            mosquitto_loop_read(m, 1);
        if (mosquitto_socket(m) >= 0 && (pfd[i].revents & POLLOUT))
            mosquitto_loop_write(m, 1);
        mosquitto_loop_misc(m);
    }
}

int main(int argc, char **argv)
{
    struct sigaction sa = { 0 };
    struct options opt;
    struct fleet fleet = { 0 };
    struct pollfd *pfd;
    int64_t start, last_poll = 0, http_ok;
    char why[256];
    int i;

    parse_options(argc, argv, &opt);
    sa.sa_handler = on_signal; /* no SA_RESTART: poll() returns at once */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    fleet.opt = &opt;
    fleet.n = opt.count;
    fleet.dev = calloc((size_t)opt.count, sizeof(*fleet.dev));
    pfd = calloc((size_t)opt.count, sizeof(*pfd));
    fleet.reply = malloc(sizeof(*fleet.reply));
    if (!fleet.dev || !pfd || !fleet.reply)
        fail("out of memory for %d devices", opt.count);
    if (!clock_fetch(&opt, fleet.reply, &fleet.clk, why, sizeof(why)))
        fail("cannot reach the HTTP API at http://%s:%d: %s", opt.host, opt.http_port, why);
    fleet.phase = fleet.clk.manual ? 0.0 : 0.5;
    mosquitto_lib_init();
    name_devices(&fleet);
    for (i = 0; i < fleet.n && !stop_signal; i++) {
        device_init(&fleet, &fleet.dev[i]);
        register_thing(&fleet.dev[i]);
    }
    for (i = 0; i < fleet.n && !stop_signal; i++) {
        device_connect(&fleet.dev[i]);
        fleet.dev[i].next_due = first_due(&fleet);
    }

    start = http_ok = real_ms();
    while (!stop_signal) {
        int64_t now;

        service_sockets(&fleet, pfd, 50);
        now = real_ms();
        if (now - last_poll >= CLOCK_POLL_MS) {
            last_poll = now;
            if (clock_fetch(&opt, fleet.reply, &fleet.clk, why, sizeof(why)))
                http_ok = now;
            else if (now - http_ok >= HTTP_LOST_AFTER_MS)
                fail("lost the HTTP API at http://%s:%d: %s", opt.host, opt.http_port, why);
        }
        for (i = 0; i < fleet.n; i++) {
            struct device *d = &fleet.dev[i];

            if (!d->answered && now - start >= CONNACK_WAIT_MS)
                fail("the MQTT broker at %s:%d did not answer %s's CONNECT within %d s", opt.host,
                     opt.mqtt_port, d->name, CONNACK_WAIT_MS / 1000);
            device_retry(d, now);
            device_tick(d);
        }
    }

    for (i = 0; i < fleet.n; i++) {
        struct device *d = &fleet.dev[i];

        if (d->mosq) {
            if (d->connected)
                mosquitto_disconnect(d->mosq);
            mosquitto_destroy(d->mosq);
        }
        free(d->pending);
    }
    free(fleet.dev);
    free(fleet.reply);
    free(pfd);
    mosquitto_lib_cleanup();
    return 0;
}
