/* SPDX-License-Identifier: MIT */
/* main.c: ddlocal-server: parse the command line, open every partition's
 * database once to migrate it (and refuse a newer one), start the HTTP daemon, and stop it
 * cleanly on SIGINT or SIGTERM. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "core/partition.h"
#include "server/audit/worker_audit.h"
#include "server/auth.h"
#include "server/defender/worker_mitigation.h"
#include "server/http.h"
#include "server/iot/ca.h"
#include "server/longpoll.h"
#include "server/partitions.h"
#include "server/server.h"
#include "server/worker.h"
#include "store/iot/store_certs.h"
#include "store/store.h"

long long server_real_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Bytes free at the top of a malloc arena before glibc gives them back.
 * Its default (128 KiB, raised as big blocks come and go) made the writer
 * thread's arena shrink after nearly every request: releasing a request's
 * savepoint frees SQLite's statement journal, glibc then returned 20 KiB
 * with madvise(MADV_DONTNEED), and each call flushed the TLB of every CPU
 * running one of the server's threads (docs/performance.md, "Off the
 * writer thread"). A few MiB per arena stays mapped instead. */
#define SERVER_TRIM_THRESHOLD (4 << 20)

static void usage(FILE *f)
{
    fprintf(f, "usage: ddlocal-server --database PATH [--port N] [--bind ADDR] [--region R]\n"
               "                      [--account A] [--threads N] [--max-body-bytes N]\n"
               "                      [--mqtts-endpoint HOST:PORT] [--public-url URL]\n"
               "                      [--sqs-endpoint URL]\n"
               "                      [--allow-host NAME]... [--cors-origin O]...\n"
               "                      [--mitigation-step-seconds N]\n"
               "                      [--verify-signatures --credentials KEY:SECRET ...]\n"
               "                      [--tls-dir DIR]\n"
               "       ddlocal-server --database PATH --issue-server-cert DIR [--bind ADDR]\n"
               "                      [--mqtts-endpoint HOST:PORT]\n"
               "Serves the AWS IoT, IoT data plane, SNS and STS APIs of ddlocal over HTTP.\n"
               "--mqtts-endpoint names the MQTT/TLS listener devices reach, which\n"
               "DescribeEndpoint answers for iot:Data-ATS and iot:Data (none by default).\n"
               "With --issue-server-cert, writes the emulator's CA (ca.pem) and a new TLS\n"
               "server certificate (server.pem, server.key) for localhost, 127.0.0.1, ::1,\n"
               "the --bind address and the --mqtts-endpoint host into DIR and exits.\n"
               "--tls-dir writes the same files into DIR (keeping those an earlier start\n"
               "wrote for the same CA and names, unless they end within 30 days), says so\n"
               "on stdout, then serves.\n"
               "With --verify-signatures, every AWS request must be signed (SigV4) with one\n"
               "of the --credentials pairs (repeatable).\n");
}

static int parse_uint(const char *flag, const char *v, unsigned long max, unsigned long *out)
{
    char *end;

    errno = 0;
    *out = strtoul(v, &end, 10);
    if (errno || *end || !*v || v[0] == '-' || *out > max) {
        fprintf(stderr, "ddlocal-server: %s needs a number up to %lu, not '%s'\n", flag, max, v);
        return -1;
    }
    return 0;
}

static int copy_arg(char *dst, size_t size, const char *flag, const char *v)
{
    if (strlen(v) >= size || !*v) {
        fprintf(stderr, "ddlocal-server: %s '%s' is empty or too long\n", flag, v);
        return -1;
    }
    memcpy(dst, v, strlen(v) + 1);
    return 0;
}

/* Keep v (borrowed from argv) in a --allow-host or --cors-origin list. */
static int list_add(const char **list, size_t *n, const char *flag, const char *v)
{
    if (*n == SERVER_MAX_LISTED || !*v) {
        fprintf(stderr, "ddlocal-server: %s takes up to %d non-empty values\n", flag,
                SERVER_MAX_LISTED);
        return -1;
    }
    list[(*n)++] = v;
    return 0;
}

/* The host of --public-url (scheme://host[:port][/path]) into
 * srv->public_host: the name devices and subscribers use for the server. */
static int public_url_host(struct server *srv, const char *url)
{
    const char *start = strstr(url, "://");
    char authority[ORIGIN_HOST_MAX + 16];
    size_t n;

    if (start) {
        start += 3;
        n = strcspn(start, "/?#");
        if (n < sizeof(authority)) {
            snprintf(authority, sizeof(authority), "%.*s", (int)n, start);
            if (!origin_host_of(authority, srv->public_host, sizeof(srv->public_host)))
                return 0;
        }
    }
    fprintf(stderr, "ddlocal-server: --public-url needs scheme://host[:port], not '%s'\n", url);
    return -1;
}

/* --mqtts-endpoint HOST:PORT, or [IPV6]:PORT, into srv. */
static int parse_endpoint(struct server *srv, const char *v)
{
    const char *host = v, *colon = strrchr(v, ':');
    size_t len;
    unsigned long n;

    if (v[0] == '[') {
        const char *close = strchr(v, ']');

        host = v + 1;
        colon = close && close[1] == ':' ? close + 1 : NULL;
        len = close ? (size_t)(close - host) : 0;
    } else {
        len = colon ? (size_t)(colon - v) : 0;
    }
    if (!colon || len == 0 || len >= sizeof(srv->mqtts_host) || memchr(host, ',', len) ||
        memchr(host, ' ', len) || (v[0] != '[' && memchr(host, ':', len))) {
        fprintf(stderr, "ddlocal-server: --mqtts-endpoint is HOST:PORT or [IPV6]:PORT, not '%s'\n",
                v);
        return -1;
    }
    if (parse_uint("--mqtts-endpoint", colon + 1, 65535, &n))
        return -1;
    if (n == 0) {
        fprintf(stderr, "ddlocal-server: --mqtts-endpoint needs a port from 1 to 65535\n");
        return -1;
    }
    memcpy(srv->mqtts_host, host, len);
    srv->mqtts_host[len] = '\0';
    srv->mqtts_port = (unsigned)n;
    return 0;
}

static int parse_args(int argc, char **argv, struct server *srv, const char **issue_dir,
                      const char **tls_dir)
{
    int i;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        unsigned long n;

        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            exit(0);
        }
        if (strcmp(a, "--verify-signatures") == 0) {
            srv->verify_signatures = true;
            continue;
        }
        if (!v) {
            fprintf(stderr, "ddlocal-server: %s needs a value\n", a);
            return -1;
        }
        i++;
        if (strcmp(a, "--issue-server-cert") == 0) {
            *issue_dir = v;
        } else if (strcmp(a, "--tls-dir") == 0) {
            *tls_dir = v;
        } else if (strcmp(a, "--database") == 0) {
            if (copy_arg(srv->db_path, sizeof(srv->db_path), a, v))
                return -1;
        } else if (strcmp(a, "--bind") == 0) {
            if (copy_arg(srv->bind, sizeof(srv->bind), a, v))
                return -1;
        } else if (strcmp(a, "--region") == 0) {
            if (copy_arg(srv->region, sizeof(srv->region), a, v))
                return -1;
        } else if (strcmp(a, "--account") == 0) {
            if (copy_arg(srv->account, sizeof(srv->account), a, v))
                return -1;
        } else if (strcmp(a, "--credentials") == 0) {
            struct dd_errbuf eb = { { 0 } };

            if (auth_add_credential(srv, v, &eb)) {
                fprintf(stderr, "ddlocal-server: %s\n", eb.msg);
                return -1;
            }
        } else if (strcmp(a, "--mqtts-endpoint") == 0) {
            if (parse_endpoint(srv, v))
                return -1;
        } else if (strcmp(a, "--port") == 0) {
            if (parse_uint(a, v, 65535, &n))
                return -1;
            srv->port = (unsigned)n;
        } else if (strcmp(a, "--threads") == 0) {
            if (parse_uint(a, v, 64, &n) || n == 0)
                return -1;
            srv->threads = (unsigned)n;
        } else if (strcmp(a, "--allow-host") == 0) {
            if (list_add(srv->allowed_hosts, &srv->n_allowed_hosts, a, v))
                return -1;
        } else if (strcmp(a, "--cors-origin") == 0) {
            if (list_add(srv->cors_origins, &srv->n_cors_origins, a, v))
                return -1;
        } else if (strcmp(a, "--public-url") == 0) {
            if (public_url_host(srv, v) ||
                list_add(srv->allowed_hosts, &srv->n_allowed_hosts, a, srv->public_host))
                return -1;
            snprintf(srv->public_url, sizeof(srv->public_url), "%s", v);
        } else if (strcmp(a, "--sqs-endpoint") == 0) {
            srv->sqs_endpoint = v[0] != '\0';
        } else if (strcmp(a, "--mitigation-step-seconds") == 0) {
            if (parse_uint(a, v, 86400, &n))
                return -1;
            srv->mitigation_step_ms = (int64_t)n * 1000;
        } else if (strcmp(a, "--max-body-bytes") == 0) {
            if (parse_uint(a, v, 64UL << 20, &n) || n == 0)
                return -1;
            srv->max_body_bytes = n;
        } else {
            fprintf(stderr, "ddlocal-server: unknown option %s\n", a);
            usage(stderr);
            return -1;
        }
    }
    if (!srv->db_path[0]) {
        fprintf(stderr, "ddlocal-server: --database is required\n");
        return -1;
    }
    if (!srv->public_url[0])
        snprintf(srv->public_url, sizeof(srv->public_url), "http://127.0.0.1:%u", srv->port);
    if (srv->verify_signatures && !srv->n_credentials) {
        fprintf(stderr, "ddlocal-server: --verify-signatures needs at least one --credentials "
                        "KEY:SECRET\n");
        return -1;
    }
    return 0;
}

/* --issue-server-cert: the TLS listener's files, made before mosquitto
 * starts (the CA is created here on a new database). */
static int issue_server_cert(const struct server *srv, const char *dir)
{
    struct dd_errbuf eb = { { 0 } };
    struct store *s = NULL;
    struct ca *ca = NULL;
    const char *hosts[] = { srv->bind, srv->mqtts_host };
    int64_t now_s = server_real_ms() / 1000;
    int rc;

    rc = store_open(srv->db_path, &s, &eb);
    if (!rc)
        rc = ca_load(s, now_s, &ca, &eb);
    if (!rc)
        rc = ca_write_server_files(ca, dir, hosts, 2, now_s, &eb);
    if (rc)
        fprintf(stderr, "ddlocal-server: %s\n", eb.msg);
    ca_free(ca);
    store_close(s);
    return rc ? 1 : 0;
}

/* Whether the TLS listener's files in dir, written by an earlier start,
 * still serve: made for this database's CA and these names, and not near
 * their end (ca_server_files_current). A check that cannot read the
 * database says no, and the child then writes them (or says why not). */
static bool tls_files_current(const struct server *srv, const char *dir)
{
    struct dd_errbuf eb = { { 0 } };
    struct store_ca stored = { 0 };
    struct store *s = NULL;
    const char *hosts[] = { srv->bind, srv->mqtts_host };
    int64_t now_s = server_real_ms() / 1000;
    bool current = false;

    /* A new data directory has no files: do not migrate a new database
     * here, in the process that stays (the child does, as it did). */
    if (!ca_server_files_current(NULL, dir, hosts, 2, now_s))
        return false;
    if (store_open(srv->db_path, &s, &eb) == DD_OK && store_ca_get(s, &stored, &eb) == DD_OK)
        current = ca_server_files_current(stored.cert_pem, dir, hosts, 2, now_s);
    store_ca_cleanup(&stored);
    store_close(s);
    return current;
}

int main(int argc, char **argv)
{
    struct server srv = {
        .region = "us-east-1",
        .account = "123456789012",
        .bind = "127.0.0.1",
        .port = 4566,
        .threads = 4,
        /* SNS and SQS take messages of up to 1 MiB (attributes included),
         * and the query protocol sends them form-encoded, where a byte can
         * become three (%XX): 3 MiB for the message, plus 64 KiB for the
         * other parameters. Bounded per request, so memory stays bounded. */
        .max_body_bytes = (3u << 20) + (64u << 10),
        .advance_timeout_ms = 10000,
        .mitigation_step_ms = 1000,
    };
    struct worker *mitigation = NULL, *audit = NULL;
    struct sockaddr_storage addr = { 0 };
    struct MHD_Daemon *d;
    struct dd_errbuf eb = { { 0 } };
    const char *issue_dir = NULL, *tls_dir = NULL;
    sigset_t sigs;
    int sig;

    if (parse_args(argc, argv, &srv, &issue_dir, &tls_dir))
        return 2;
    mallopt(M_TRIM_THRESHOLD, SERVER_TRIM_THRESHOLD); /* a hint: failing changes nothing */
    if (!partition_is_account(srv.account)) {
        fprintf(stderr, "ddlocal-server: --account needs 12 digits, not '%s'\n", srv.account);
        return 2;
    }
    if (!partition_region_ok(srv.region)) {
        fprintf(stderr,
                "ddlocal-server: --region needs a region name such as eu-west-1, not '%s'\n",
                srv.region);
        return 2;
    }
    if (issue_dir)
        return issue_server_cert(&srv, issue_dir);
    if (inet_pton(AF_INET, srv.bind, &((struct sockaddr_in *)&addr)->sin_addr) == 1) {
        ((struct sockaddr_in *)&addr)->sin_family = AF_INET;
        ((struct sockaddr_in *)&addr)->sin_port = htons((uint16_t)srv.port);
    } else if (inet_pton(AF_INET6, srv.bind, &((struct sockaddr_in6 *)&addr)->sin6_addr) == 1) {
        ((struct sockaddr_in6 *)&addr)->sin6_family = AF_INET6;
        ((struct sockaddr_in6 *)&addr)->sin6_port = htons((uint16_t)srv.port);
    } else {
        fprintf(stderr, "ddlocal-server: --bind needs an IPv4 or IPv6 address, not '%s'\n",
                srv.bind);
        return 2;
    }
    /* The launcher starts mosquitto, whose TLS listener reads these files,
     * as soon as this line is out, while this process goes on starting. A
     * child makes them: the key and certificate work touches about 3 MB of
     * OpenSSL that the server would otherwise keep resident for nothing.
     * Files an earlier start wrote for the same CA and names are kept: the
     * child's work was most of a restart's time (docs/performance.md). */
    if (tls_dir && tls_files_current(&srv, tls_dir)) {
        printf("ddlocal-server: TLS files ready (kept)\n");
        fflush(stdout);
    } else if (tls_dir) {
        pid_t child = fork();
        int status = 1;

        if (child == 0)
            _exit(issue_server_cert(&srv, tls_dir));
        if (child < 0) {
            fprintf(stderr, "ddlocal-server: cannot fork to write the TLS files\n");
            return 1;
        }
        /* On failure the child has said why, as the last line. */
        if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status))
            return 1;
        printf("ddlocal-server: TLS files ready (written)\n");
        fflush(stdout);
    }
    if (partitions_start(&srv, &eb)) {
        fprintf(stderr, "ddlocal-server: %s\n", eb.msg);
        return 1;
    }
    /* What the start freed (the connections that migrated and checked the
     * databases) stays in the main arena under the threshold above: give
     * it back once, about 200 KB idle. */
    malloc_trim(0);

    /* Signals are taken by sigwait below; MHD's threads inherit the mask.
     * SIGURG comes from the broker's delivery thread when it has written
     * to a queue (partitions_start recorded the pid it sends to). */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGURG);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (worker_mitigation_start(&srv, &mitigation, &eb) || worker_audit_start(&srv, &audit, &eb)) {
        fprintf(stderr, "ddlocal-server: %s\n", eb.msg);
        worker_stop(mitigation);
        return 1;
    }
    d = http_start(&srv, (struct sockaddr *)&addr, &eb);
    if (!d) {
        fprintf(stderr, "ddlocal-server: %s\n", eb.msg);
        worker_stop(audit);
        worker_stop(mitigation);
        return 1;
    }
    printf("ddlocal-server: listening on http://%s:%u\n", srv.bind, srv.port);
    fflush(stdout);
    while (!sigwait(&sigs, &sig) && sig == SIGURG)
        longpoll_wake(srv.longpoll, NULL); /* every long poll looks again */
    http_stop(&srv, d);
    worker_stop(audit);
    worker_stop(mitigation);
    return 0;
}
