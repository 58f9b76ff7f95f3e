/* SPDX-License-Identifier: MIT */
/* bench_audit.c: bench-audit, the benchmark of an on-demand audit of a
 * large account: N device certificates (100,000 by default) and P policies
 * (1,000), written through store/ as the API writes them, then one task of
 * the six checks that read them (two policy checks, four device
 * certificate checks, ROCA's fingerprint on every RSA key included) run by
 * store_audit_run_next(), as the server's audit worker runs it: one read
 * snapshot, then the findings in one write. Every certificate carries the
 * same EC certificate text (the checks parse each one), every tenth policy
 * allows iot:* on *. The target is under 2 s for the run.
 *
 * Test code, built by tests/run_all.sh (build-bench) and run by
 * tests/bench/run.sh (make bench). Prints a human-readable report and one
 * JSON line (prefix "json: "); exits 1 on a usage error, 2 when a step
 * fails. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/audit/store_audit.h"
#include "store/iot/store_certs.h"
#include "store/iot/store_policies.h"
#include "store/store.h"
#include "tests/bench/bench_util.h"

#define NOW 1700000000000LL

static const char device_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBgzCCASmgAwIBAgIUTBnJK6YtbMp8r4OF7ZvUuMbxRrkwCgYIKoZIzj0EAwIw\n"
    "FzEVMBMGA1UEAwwMYmVuY2gtZGV2aWNlMB4XDTI2MTIwNzAyMjEyMloXDTM2MTIw\n"
    "NDAyMjEyMlowFzEVMBMGA1UEAwwMYmVuY2gtZGV2aWNlMFkwEwYHKoZIzj0CAQYI\n"
    "KoZIzj0DAQcDQgAExWwo9JZlSa9+e2LTg3DTitXE4dOeFna0tU/TNiTs3B0iCXpg\n"
    "21lJY6xxkktoXMeyLv5lTWM3ofzSErUJR0D9q6NTMFEwHQYDVR0OBBYEFCwzdszM\n"
    "6mMuUOZbnEjCLRVEZ5ebMB8GA1UdIwQYMBaAFCwzdszM6mMuUOZbnEjCLRVEZ5eb\n"
    "MA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIhAP3Bwv9d4XDZgKoM\n"
    "PzUF/uxD+uFy7f20YvzrisHTNblIAiBXYTBGE+MULSPqP6JrsQucLBfhXP2xz95s\n"
    "ver9QtlFGg==\n"
    "-----END CERTIFICATE-----\n";

static const char *const checks[] = {
    "DEVICE_CERTIFICATE_AGE_CHECK",
    "DEVICE_CERTIFICATE_EXPIRING_CHECK",
    "DEVICE_CERTIFICATE_KEY_QUALITY_CHECK",
    "IOT_POLICY_OVERLY_PERMISSIVE_CHECK",
    "IOT_POLICY_POTENTIAL_MISCONFIGURATION_CHECK",
    "REVOKED_DEVICE_CERTIFICATE_STILL_ACTIVE_CHECK",
};

#define N_CHECKS (sizeof(checks) / sizeof(checks[0]))

/* CPU time of this process in ms: on a shared machine, what the run
 * itself costs, beside the wall clock. */
static double cpu_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void fail(const char *what, int rc, const struct dd_errbuf *eb)
{
    fprintf(stderr, "bench-audit: %s: %s %s\n", what, dd_strerror(rc), eb ? eb->msg : "");
    exit(2);
}

static void make_account(struct store *s, long n_certs, long n_policies)
{
    struct store_audit_check_set set[N_CHECKS];
    struct store_audit_config_update u = { .role_arn = "arn:aws:iam::123456789012:role/Audit",
                                           .checks = set,
                                           .n_checks = N_CHECKS };
    struct dd_errbuf eb;
    size_t c;
    long i;
    int rc;

    for (c = 0; c < N_CHECKS; c++)
        set[c] = (struct store_audit_check_set){ checks[c], true, NULL };
    rc = store_audit_config_update(s, &u, &eb);
    if (rc)
        fail("configure", rc, &eb);
    for (i = 0; i < n_policies; i++) {
        char name[32], doc[256];

        snprintf(name, sizeof(name), "policy-%04ld", i);
        snprintf(doc, sizeof(doc),
                 "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":"
                 "\"%s\",\"Resource\":\"arn:aws:iot:us-east-1:123456789012:topic/fleet/%ld/*\"}]}",
                 i % 10 ? "iot:Publish" : "iot:*", i);
        if (i % 10 == 0)
            snprintf(doc, sizeof(doc),
                     "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":"
                     "\"Allow\",\"Action\":\"iot:*\",\"Resource\":\"*\"}]}");
        rc = store_policy_create(s, name, doc, NOW, &eb);
        if (rc)
            fail("create a policy", rc, &eb);
    }
    for (i = 0; i < n_certs; i++) {
        struct store_cert_spec spec = { 0 };
        char id[80], gen[64];

        snprintf(id, sizeof(id), "%064lx", i + 1);
        snprintf(gen, sizeof(gen), "00000000-0000-4000-8000-%012ld", i);
        spec.cert_id = id;
        spec.pem = device_pem;
        spec.generation_id = gen;
        spec.status = STORE_CERT_ACTIVE;
        spec.not_before_s = NOW / 1000 - 86400;
        spec.not_after_s = NOW / 1000 + (i % 100 ? 3650 : 10) * 86400;
        spec.now_ms = NOW;
        rc = store_cert_create(s, &spec, &eb);
        if (rc)
            fail("create a certificate", rc, &eb);
    }
}

int main(int argc, char **argv)
{
    long n_certs = argc > 1 ? atol(argv[1]) : 100000, n_policies = argc > 2 ? atol(argv[2]) : 1000;
    char dir[] = "/tmp/ddlocal-bench-audit-XXXXXX", path[128];
    struct store_audit_task t;
    struct store *s = NULL;
    struct dd_errbuf eb = { { 0 } };
    double t0, ms, c0, cpu;
    bool ran;
    size_t i;
    int rc;

    if (n_certs < 1 || n_policies < 1) {
        fprintf(stderr, "usage: bench-audit [CERTIFICATES [POLICIES]]\n");
        return 1;
    }
    if (!mkdtemp(dir))
        return 2;
    snprintf(path, sizeof(path), "%s/ddlocal.db", dir);
    rc = store_open(path, &s, &eb);
    if (rc)
        fail("open", rc, &eb);
    make_account(s, n_certs, n_policies);
    rc = store_audit_task_start(s, "bench", "ON_DEMAND_AUDIT_TASK", NULL, checks, N_CHECKS, NOW,
                                &eb);
    if (rc)
        fail("start", rc, &eb);
    t0 = bench_now_ms();
    c0 = cpu_ms();
    rc = store_audit_run_next(s, "123456789012", "us-east-1", NOW, NOW, NULL, &ran, &eb);
    ms = bench_now_ms() - t0;
    cpu = cpu_ms() - c0;
    if (rc || !ran)
        fail("run", rc, &eb);
    rc = store_audit_task_get(s, "bench", &t, &eb);
    if (rc)
        fail("describe", rc, &eb);
    printf("bench-audit: an on-demand audit of %ld certificates and %ld policies, %zu checks: "
           "%.0f ms (target < 2000 ms), %.0f ms of CPU\n",
           n_certs, n_policies, N_CHECKS, ms, cpu);
    for (i = 0; i < t.n_checks; i++)
        printf("  %-48s %-24s %7lld resources %6lld non-compliant\n", t.checks[i].name,
               t.checks[i].run_status, (long long)t.checks[i].total,
               (long long)t.checks[i].non_compliant);
    printf("json: {\"bench\":\"audit\",\"certificates\":%ld,\"policies\":%ld,\"ms\":%.1f,"
           "\"cpu_ms\":%.1f}\n",
           n_certs, n_policies, ms, cpu);
    store_audit_task_cleanup(&t);
    store_close(s);
    bench_remove_db(dir, "ddlocal.db");
    return 0;
}
