/* SPDX-License-Identifier: MIT */
/* loadgen.c: ddlocal-loadgen, an MQTT 3.1.1 load generator for the broker
 * benchmark: many client connections in one thread on raw non-blocking
 * sockets and epoll (no libmosquitto).
 *
 * It must be much cheaper per message than the broker, or every ratio the
 * benchmark prints reads 1.0. So it speaks only the packets it needs
 * (CONNECT, SUBSCRIBE, PUBLISH, PUBACK, DISCONNECT), builds each publisher's
 * PUBLISH packet once and copies it into a large output buffer (patching
 * the packet id at QoS 1), writes whole buffers per system call, and parses
 * what it reads in place.
 *
 * Publisher i publishes on its own topic PREFIX/i; subscribers split those
 * topics between them (when there are more subscribers than publishers,
 * several share one topic), so the number of deliveries expected is known.
 * Two windows bound a publisher: at QoS 1, --window PUBLISHes not yet
 * acknowledged; with subscribers, --lag messages not yet delivered, which
 * keeps the broker's per-client queues short. At QoS 1 prefer as many
 * subscribers as publishers: mosquitto 2.0 reads one packet per socket per
 * pass of its loop, so one subscriber's PUBACKs fall behind several
 * publishers, its queue passes max_queued_messages and the broker drops
 * messages (reported as received < expected).
 *
 * Phases: connect and subscribe everyone, publish for --duration seconds or
 * until --count messages, then wait until every expected delivery (and every
 * PUBACK) arrived or nothing moved for a second. The rate is deliveries (or,
 * without subscribers, acknowledged or written publishes) over the time from
 * the first publish to the last one counted, printed with the counts as one
 * JSON line on stdout. Exit status: 1 on a usage error, 2 when the broker is
 * unreachable, refuses or drops a connection. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define OUT_CAP    ((size_t)256 * 1024)
#define IN_MIN_CAP ((size_t)256 * 1024)
#define READ_CHUNK ((size_t)16 * 1024)
/* A PUBLISH is at least 7 bytes and its PUBACK 4: room for one chunk's acks. */
#define ACK_RESERVE  (READ_CHUNK / 7 * 4 + 4)
#define READS_PER_GO 4
#define TOPIC_MAX    64
#define ID_MAX       64
#define SETUP_MS     10000
#define IDLE_DONE_MS 1000
#define MAX_EVENTS   256
#define PAYLOAD_MAX  ((size_t)16 * 1024 * 1024)

enum role { ROLE_PUB, ROLE_SUB };

struct conn {
    int fd;
    enum role role;
    int index;
    bool connacked, subacked;
    bool readable, writable; /* edge-triggered: set by events, cleared on EAGAIN */
    unsigned char *out;      /* owned; OUT_CAP bytes */
    size_t out_off, out_len;
    unsigned char *in; /* owned; gen.in_cap bytes */
    size_t in_len;
    /* publishers */
    unsigned char *pkt;    /* owned; this publisher's PUBLISH packet */
    size_t pkt_len, id_at; /* id_at: offset of the packet id (QoS 1) */
    uint16_t next_id;
    int fanout;     /* subscribers of this topic */
    uint64_t limit; /* messages this publisher may send in all */
    uint64_t sent, acked, delivered;
    /* subscribers */
    uint64_t received;
};

struct opts {
    const char *host, *port, *prefix;
    const char *id; /* client id prefix; NULL = loadgen-PID */
    int publishers, subscribers, qos;
    size_t size;
    double rate; /* messages per second over all publishers; 0 = as fast as possible */
    double duration;
    uint64_t count; /* 0 = no bound */
    unsigned window, lag;
    int keepalive;
};

struct gen {
    struct opts o;
    int ep;
    struct conn *conns; /* owned; publishers first, then subscribers */
    int n;
    size_t in_cap, prefix_len;
    bool publishing;
    int64_t t_first_ns, t_last_ns;
};

static int64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *what)
{
    fprintf(stderr, "ddlocal-loadgen: %s\n", what);
    exit(2);
}

static void die_errno(const char *what)
{
    fprintf(stderr, "ddlocal-loadgen: %s: %s\n", what, strerror(errno));
    exit(2);
}

/* After a failed send or recv (what): true to try again at once (EINTR);
 * false when the socket would block, with *ready cleared; any other error
 * ends the run. */
static bool io_retry(bool *ready, const char *what)
{
    if (errno == EINTR)
        return true;
    if (errno != EAGAIN && errno != EWOULDBLOCK)
        die_errno(what);
    *ready = false;
    return false;
}

static size_t put_len(unsigned char *p, size_t n)
{
    size_t i = 0;

    do {
        unsigned char b = (unsigned char)(n % 128);

        n /= 128;
        p[i++] = (unsigned char)(b | (n ? 0x80 : 0));
    } while (n);
    return i;
}

static size_t put_str(unsigned char *p, const char *s)
{
    size_t n = strlen(s);

    p[0] = (unsigned char)(n >> 8);
    p[1] = (unsigned char)n;
    memcpy(p + 2, s, n);
    return n + 2;
}

/* Whether subscriber s subscribes to publisher p's topic. */
static bool subscribes(const struct opts *o, int s, int p)
{
    if (o->subscribers <= o->publishers)
        return p % o->subscribers == s;
    return s % o->publishers == p;
}

static bool out_room(const struct conn *c, size_t n)
{
    return OUT_CAP - (c->out_len - c->out_off) >= n;
}

static void out_append(struct conn *c, const void *data, size_t n)
{
    if (OUT_CAP - c->out_len < n) {
        memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
        c->out_len -= c->out_off;
        c->out_off = 0;
    }
    memcpy(c->out + c->out_len, data, n);
    c->out_len += n;
}

static void flush(struct conn *c)
{
    while (c->out_off < c->out_len && c->writable) {
        ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);

        if (w < 0) {
            if (io_retry(&c->writable, "send"))
                continue;
            break;
        }
        c->out_off += (size_t)w;
    }
    if (c->out_off == c->out_len)
        c->out_off = c->out_len = 0;
}

static void open_conn(struct gen *g, struct conn *c, const struct addrinfo *ai, const char *id)
{
    struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLET, .data.ptr = c };
    unsigned char buf[16 + ID_MAX];
    size_t n = 0;
    int one = 1;

    c->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (c->fd < 0)
        die_errno("socket");
    if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) < 0)
        die_errno("connect");
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK) < 0 ||
        epoll_ctl(g->ep, EPOLL_CTL_ADD, c->fd, &ev) < 0)
        die_errno("epoll");
    c->out = malloc(OUT_CAP);
    c->in = malloc(g->in_cap);
    if (!c->out || !c->in)
        die("out of memory");
    buf[n++] = 0x10;
    n += put_len(buf + n, 10 + 2 + strlen(id));
    n += put_str(buf + n, "MQTT");
    buf[n++] = 4;    /* protocol level: 3.1.1 */
    buf[n++] = 0x02; /* clean session */
    buf[n++] = (unsigned char)(g->o.keepalive >> 8);
    buf[n++] = (unsigned char)g->o.keepalive;
    n += put_str(buf + n, id);
    out_append(c, buf, n);
    c->writable = true;
    flush(c);
}

static void send_subscribe(struct gen *g, struct conn *c)
{
    unsigned char *buf;
    size_t body = 2, n = 0;
    char topic[TOPIC_MAX];
    int p;

    for (p = 0; p < g->o.publishers; p++)
        if (subscribes(&g->o, c->index, p))
            body += 2 + (size_t)snprintf(topic, sizeof(topic), "%s/%d", g->o.prefix, p) + 1;
    buf = malloc(body + 5);
    if (!buf)
        die("out of memory");
    buf[n++] = 0x82;
    n += put_len(buf + n, body);
    buf[n++] = 0;
    buf[n++] = 1; /* packet id */
    for (p = 0; p < g->o.publishers; p++) {
        if (!subscribes(&g->o, c->index, p))
            continue;
        snprintf(topic, sizeof(topic), "%s/%d", g->o.prefix, p);
        n += put_str(buf + n, topic);
        buf[n++] = (unsigned char)g->o.qos;
    }
    if (!out_room(c, n))
        die("too many topics for one SUBSCRIBE");
    out_append(c, buf, n);
    free(buf);
    flush(c);
}

static void build_publish(struct gen *g, struct conn *c)
{
    char topic[TOPIC_MAX];
    size_t tlen = (size_t)snprintf(topic, sizeof(topic), "%s/%d", g->o.prefix, c->index);
    size_t body = 2 + tlen + (g->o.qos ? 2 : 0) + g->o.size, n = 0;

    c->pkt = malloc(body + 5);
    if (!c->pkt)
        die("out of memory");
    c->pkt[n++] = (unsigned char)(0x30 | (g->o.qos << 1));
    n += put_len(c->pkt + n, body);
    n += put_str(c->pkt + n, topic);
    c->id_at = n;
    if (g->o.qos)
        n += 2;
    memset(c->pkt + n, 'x', g->o.size);
    c->pkt_len = n + g->o.size;
    c->next_id = 1;
}

static void on_publish(struct gen *g, struct conn *c, unsigned flags, const unsigned char *b,
                       size_t len)
{
    size_t tlen;
    unsigned long p = 0;
    size_t i;

    if (len < 2 || (tlen = (size_t)b[0] << 8 | b[1]) + 2 > len)
        die("malformed PUBLISH from the broker");
    for (i = g->prefix_len + 1; i < tlen; i++)
        p = p * 10 + (unsigned long)(b[2 + i] - '0');
    if (p < (unsigned long)g->o.publishers)
        g->conns[p].delivered++;
    c->received++;
    if ((flags >> 1 & 3) == 1 && tlen + 4 <= len) {
        unsigned char ack[4] = { 0x40, 2, b[2 + tlen], b[3 + tlen] };

        out_append(c, ack, sizeof(ack));
    }
}

/* Handle every whole packet in c->in; true when one was counted. */
static bool parse(struct gen *g, struct conn *c)
{
    size_t off = 0;
    bool counted = false;

    while (c->in_len - off >= 2) {
        const unsigned char *p = c->in + off;
        size_t rem = 0, hdr = 1, mult = 1;

        do {
            if (hdr >= c->in_len - off)
                goto partial;
            rem += (p[hdr] & 0x7fu) * mult;
            mult *= 128;
        } while (p[hdr++] & 0x80 && hdr < 5);
        if (hdr + rem > c->in_len - off) {
            if (hdr + rem > g->in_cap)
                die("packet from the broker larger than the input buffer");
            break;
        }
        switch (p[0] >> 4) {
        case 2: /* CONNACK */
            if (rem < 2 || p[hdr + 1] != 0)
                die("the broker refused a CONNECT");
            c->connacked = true;
            break;
        case 9: /* SUBACK */
            for (size_t i = 2; i < rem; i++)
                if (p[hdr + i] & 0x80)
                    die("the broker refused a subscription");
            c->subacked = true;
            break;
        case 3:
            on_publish(g, c, p[0] & 0x0fu, p + hdr, rem);
            counted = true;
            break;
        case 4: /* PUBACK */
            c->acked++;
            counted = true;
            break;
        default:
            break;
        }
        off += hdr + rem;
    }
partial:
    memmove(c->in, c->in + off, c->in_len - off);
    c->in_len -= off;
    return counted;
}

static void do_read(struct gen *g, struct conn *c)
{
    int k;

    for (k = 0; k < READS_PER_GO && c->readable; k++) {
        size_t want = g->in_cap - c->in_len;
        ssize_t r;

        if (c->role == ROLE_SUB && !out_room(c, ACK_RESERVE)) {
            flush(c);
            if (!out_room(c, ACK_RESERVE))
                return; /* stay readable; go on once the acks are out */
        }
        if (want > READ_CHUNK)
            want = READ_CHUNK;
        r = recv(c->fd, c->in + c->in_len, want, 0);
        if (r == 0)
            die("the broker closed a connection");
        if (r < 0) {
            if (io_retry(&c->readable, "recv"))
                continue;
            break;
        }
        c->in_len += (size_t)r;
        if (parse(g, c) && g->t_first_ns)
            g->t_last_ns = now_ns();
        /* Acknowledge at once: the broker counts an unacknowledged delivery
         * against the client's queue limit. */
        flush(c);
    }
}

/* Append as many PUBLISHes as the windows, the rate and the buffer allow,
 * and write them. */
static void fill(struct gen *g, struct conn *c, int64_t now)
{
    uint64_t allowed = c->limit;

    if (g->o.rate > 0) {
        double per = g->o.rate / g->o.publishers;
        uint64_t due = (uint64_t)(per * (double)(now - g->t_first_ns) / 1e9) + 1;

        if (due < allowed)
            allowed = due;
    }
    while (c->sent < allowed && out_room(c, c->pkt_len)) {
        if (g->o.qos && c->sent - c->acked >= g->o.window)
            break;
        if (c->fanout && g->o.lag &&
            c->sent * (uint64_t)c->fanout - c->delivered >= (uint64_t)g->o.lag * c->fanout)
            break;
        if (g->o.qos) {
            c->pkt[c->id_at] = (unsigned char)(c->next_id >> 8);
            c->pkt[c->id_at + 1] = (unsigned char)c->next_id;
            if (++c->next_id == 0)
                c->next_id = 1;
        }
        out_append(c, c->pkt, c->pkt_len);
        c->sent++;
    }
    flush(c);
}

/* One pass: wait for events (not at all when work is pending), then read,
 * publish and flush. */
static void step(struct gen *g, int timeout_ms)
{
    struct epoll_event ev[MAX_EVENTS];
    int64_t now;
    int i, n;

    for (i = 0; i < g->n; i++)
        if (g->conns[i].readable)
            timeout_ms = 0;
    n = epoll_wait(g->ep, ev, MAX_EVENTS, timeout_ms);
    if (n < 0 && errno != EINTR)
        die_errno("epoll_wait");
    for (i = 0; i < n; i++) {
        struct conn *c = ev[i].data.ptr;

        if (ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
            c->readable = true;
        if (ev[i].events & EPOLLOUT)
            c->writable = true;
    }
    for (i = 0; i < g->n; i++)
        if (g->conns[i].readable)
            do_read(g, &g->conns[i]);
    now = now_ns();
    for (i = 0; i < g->n; i++) {
        struct conn *c = &g->conns[i];

        if (c->role == ROLE_PUB && g->publishing)
            fill(g, c, now);
        else
            flush(c);
    }
}

static bool all(const struct gen *g, enum role role, bool subacked)
{
    int i;

    for (i = 0; i < g->n; i++)
        if (g->conns[i].role == role && !(subacked ? g->conns[i].subacked : g->conns[i].connacked))
            return false;
    return true;
}

static void wait_setup(struct gen *g, enum role role, bool subacked)
{
    int64_t deadline = now_ns() + (int64_t)SETUP_MS * 1000000;

    while (!all(g, role, subacked)) {
        if (now_ns() > deadline)
            die("the broker did not answer CONNECT or SUBSCRIBE in time");
        step(g, 10);
    }
}

static uint64_t total(const struct gen *g, int what)
{
    uint64_t t = 0;
    int i;

    for (i = 0; i < g->n; i++) {
        const struct conn *c = &g->conns[i];

        if (what == 0 && c->role == ROLE_PUB)
            t += c->sent;
        else if (what == 1 && c->role == ROLE_PUB)
            t += c->acked;
        else if (what == 2 && c->role == ROLE_SUB)
            t += c->received;
        else if (what == 3 && c->role == ROLE_PUB)
            t += c->sent * (uint64_t)c->fanout;
    }
    return t;
}

static bool publishers_done(const struct gen *g, int64_t now, int64_t end)
{
    int i;

    if (g->o.duration > 0 && now >= end)
        return true;
    for (i = 0; i < g->o.publishers; i++)
        if (g->conns[i].sent < g->conns[i].limit)
            return false;
    return true;
}

static void run(struct gen *g)
{
    int64_t end, idle_since, now;
    uint64_t progress = UINT64_MAX;
    bool flushed;
    int i;

    g->publishing = true;
    g->t_first_ns = g->t_last_ns = now_ns();
    end = g->t_first_ns + (int64_t)(g->o.duration * 1e9);
    while (!publishers_done(g, now_ns(), end))
        step(g, g->o.rate > 0 ? 1 : 0);
    g->publishing = false;
    idle_since = now_ns();
    for (;;) {
        uint64_t sent = total(g, 0), acked = total(g, 1), received = total(g, 2);

        flushed = true;
        for (i = 0; i < g->o.publishers; i++)
            flushed &= g->conns[i].out_len == 0;
        if (flushed && (!g->o.qos || acked == sent) && received == total(g, 3))
            break;
        now = now_ns();
        if (acked + received != progress) {
            progress = acked + received;
            idle_since = now;
        } else if (now - idle_since > (int64_t)IDLE_DONE_MS * 1000000) {
            break;
        }
        step(g, 10);
    }
    if (!g->o.subscribers && !g->o.qos)
        g->t_last_ns = now_ns();
}

static void usage(FILE *f)
{
    fprintf(f, "usage: ddlocal-loadgen [options]\n"
               "  -h, --host HOST         broker address (127.0.0.1)\n"
               "  -p, --port PORT         broker port (1883)\n"
               "  -P, --publishers N      publishing connections (4)\n"
               "  -S, --subscribers N     subscribing connections (1)\n"
               "  -q, --qos 0|1           QoS of publishes and subscriptions (0)\n"
               "  -s, --size BYTES        payload size (64)\n"
               "  -r, --rate MSGS         total publish rate per second; 0 = max (0)\n"
               "  -d, --duration SECONDS  how long to publish (5)\n"
               "  -c, --count N           stop after N messages in all; 0 = no bound (0)\n"
               "  -w, --window N          unacknowledged QoS 1 PUBLISHes per publisher (64)\n"
               "  -l, --lag N             undelivered messages per publisher; 0 = no bound "
               "(200)\n"
               "  -t, --topic PREFIX      topic prefix; publisher i uses PREFIX/i (bench)\n"
               "  -k, --keepalive S       MQTT keepalive (60)\n"
               "  -i, --id PREFIX         client ids PREFIX-pN and PREFIX-sN (loadgen-PID)\n"
               "Prints one JSON line: sent, acked, received, expected, elapsed_s, msgs_per_s.\n");
}

/* Client ids: PREFIX-pN / PREFIX-sN, by default with the process id so that
 * two generators never take each other's sessions over. */
static void client_id(const struct opts *o, char *buf, size_t size, char role, int i)
{
    if (o->id)
        snprintf(buf, size, "%s-%c%d", o->id, role, i);
    else
        snprintf(buf, size, "loadgen-%d-%c%d", (int)getpid(), role, i);
}

static bool number(const char *s, double min, double max, double *out)
{
    char *end;

    errno = 0;
    *out = strtod(s, &end);
    return !errno && end != s && !*end && *out >= min && *out <= max;
}

static void parse_args(int argc, char **argv, struct opts *o)
{
    static const struct option longs[] = {
        { "host", required_argument, NULL, 'h' },
        { "port", required_argument, NULL, 'p' },
        { "publishers", required_argument, NULL, 'P' },
        { "subscribers", required_argument, NULL, 'S' },
        { "qos", required_argument, NULL, 'q' },
        { "size", required_argument, NULL, 's' },
        { "rate", required_argument, NULL, 'r' },
        { "duration", required_argument, NULL, 'd' },
        { "count", required_argument, NULL, 'c' },
        { "window", required_argument, NULL, 'w' },
        { "lag", required_argument, NULL, 'l' },
        { "topic", required_argument, NULL, 't' },
        { "keepalive", required_argument, NULL, 'k' },
        { "id", required_argument, NULL, 'i' },
        { "help", no_argument, NULL, 'H' },
        { NULL, 0, NULL, 0 },
    };
    double v;
    int ch;

    *o = (struct opts){ .host = "127.0.0.1",
                        .port = "1883",
                        .prefix = "bench",
                        .publishers = 4,
                        .subscribers = 1,
                        .size = 64,
                        .duration = 5,
                        .window = 64,
                        .lag = 200,
                        .keepalive = 60 };
    while ((ch = getopt_long(argc, argv, "h:p:P:S:q:s:r:d:c:w:l:t:k:i:", longs, NULL)) != -1) {
        bool ok = true;

        switch (ch) {
        case 'h':
            o->host = optarg;
            break;
        case 'p':
            o->port = optarg;
            break;
        case 'i':
            o->id = optarg;
            ok = strlen(optarg) > 0 && strlen(optarg) < ID_MAX - 12;
            break;
        case 't':
            o->prefix = optarg;
            ok = strlen(optarg) > 0 && strlen(optarg) < TOPIC_MAX - 12 && !strpbrk(optarg, "+#");
            break;
        case 'P':
        case 'S':
        case 'q':
        case 'w':
        case 'l':
        case 'k':
            ok = number(optarg, 0,
                        ch == 'q'   ? 1
                        : ch == 'k' ? 65535
                                    : 1e6,
                        &v) &&
                 v == (double)(long)v;
            if (ch == 'P')
                o->publishers = (int)v;
            else if (ch == 'S')
                o->subscribers = (int)v;
            else if (ch == 'q')
                o->qos = (int)v;
            else if (ch == 'w')
                o->window = (unsigned)v;
            else if (ch == 'l')
                o->lag = (unsigned)v;
            else
                o->keepalive = (int)v;
            break;
        case 's':
            ok = number(optarg, 0, (double)PAYLOAD_MAX, &v);
            o->size = (size_t)v;
            break;
        case 'r':
            ok = number(optarg, 0, 1e9, &o->rate);
            break;
        case 'd':
            ok = number(optarg, 0, 86400, &o->duration);
            break;
        case 'c':
            ok = number(optarg, 0, 1e15, &v);
            o->count = (uint64_t)v;
            break;
        case 'H':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            exit(1);
        }
        if (!ok) {
            fprintf(stderr, "ddlocal-loadgen: bad value for -%c: %s\n", ch, optarg);
            exit(1);
        }
    }
    if (optind < argc || o->publishers < 1 || (o->qos && o->window < 1) ||
        (o->duration <= 0 && o->count == 0)) {
        fprintf(stderr, "ddlocal-loadgen: need at least one publisher, a QoS 1 window of at "
                        "least 1, and a duration or a count\n");
        exit(1);
    }
}

int main(int argc, char **argv)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *ai;
    struct gen g = { 0 };
    char id[ID_MAX];
    uint64_t sent, acked, received, expected, counted;
    double elapsed;
    int i, rc;

    parse_args(argc, argv, &g.o);
    g.prefix_len = strlen(g.o.prefix);
    g.in_cap = g.o.size + 256 > IN_MIN_CAP / 2 ? 2 * (g.o.size + 256) : IN_MIN_CAP;
    rc = getaddrinfo(g.o.host, g.o.port, &hints, &ai);
    if (rc) {
        fprintf(stderr, "ddlocal-loadgen: %s:%s: %s\n", g.o.host, g.o.port, gai_strerror(rc));
        return 2;
    }
    g.ep = epoll_create1(EPOLL_CLOEXEC);
    g.n = g.o.publishers + g.o.subscribers;
    g.conns = calloc((size_t)g.n, sizeof(*g.conns));
    if (g.ep < 0 || !g.conns)
        die("cannot set up epoll");
    for (i = 0; i < g.o.subscribers; i++) {
        struct conn *c = &g.conns[g.o.publishers + i];

        c->role = ROLE_SUB;
        c->index = i;
        client_id(&g.o, id, sizeof(id), 's', i);
        open_conn(&g, c, ai, id);
    }
    wait_setup(&g, ROLE_SUB, false);
    for (i = 0; i < g.o.subscribers; i++)
        send_subscribe(&g, &g.conns[g.o.publishers + i]);
    wait_setup(&g, ROLE_SUB, true);
    for (i = 0; i < g.o.publishers; i++) {
        struct conn *c = &g.conns[i];
        int s;

        c->role = ROLE_PUB;
        c->index = i;
        for (s = 0; s < g.o.subscribers; s++)
            c->fanout += subscribes(&g.o, s, i);
        c->limit = g.o.count ? g.o.count / (uint64_t)g.o.publishers +
                                   ((uint64_t)i < g.o.count % (uint64_t)g.o.publishers)
                             : UINT64_MAX;
        build_publish(&g, c);
        client_id(&g.o, id, sizeof(id), 'p', i);
        open_conn(&g, c, ai, id);
    }
    freeaddrinfo(ai);
    wait_setup(&g, ROLE_PUB, false);
    run(&g);

    sent = total(&g, 0);
    acked = total(&g, 1);
    received = total(&g, 2);
    expected = total(&g, 3);
    counted = g.o.subscribers ? received : g.o.qos ? acked : sent;
    elapsed = (double)(g.t_last_ns - g.t_first_ns) / 1e9;
    printf("{\"qos\":%d,\"publishers\":%d,\"subscribers\":%d,\"payload_bytes\":%zu,"
           "\"sent\":%" PRIu64 ",\"acked\":%" PRIu64 ",\"received\":%" PRIu64
           ",\"expected\":%" PRIu64 ",\"elapsed_s\":%.6f,\"msgs_per_s\":%.0f}\n",
           g.o.qos, g.o.publishers, g.o.subscribers, g.o.size, sent, acked, received, expected,
           elapsed, elapsed > 0 ? (double)counted / elapsed : 0.0);
    for (i = 0; i < g.n; i++) {
        static const unsigned char disconnect[2] = { 0xe0, 0 };

        (void)send(g.conns[i].fd, disconnect, sizeof(disconnect), MSG_NOSIGNAL);
        close(g.conns[i].fd);
        free(g.conns[i].out);
        free(g.conns[i].in);
        free(g.conns[i].pkt);
    }
    free(g.conns);
    close(g.ep);
    return 0;
}
