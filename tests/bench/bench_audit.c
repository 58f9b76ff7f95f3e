/* SPDX-License-Identifier: MIT */
/* bench_audit.c: bench-audit, the benchmark of an on-demand audit of a
 * large account, with a fleet shaped like the one ddlocal really holds:
 *
 * - N device certificates (100,000 by default), RSA 2048 keys as
 *   CreateKeysAndCertificate issues them, each a distinct X.509
 *   certificate (its own serial, subject and validity) signed by an EC
 *   P-256 CA as ddlocal's own CA signs them. Generating 100,000 RSA keys
 *   would take minutes, so the certificates share 8 keys generated at
 *   start: the checks parse every certificate and every modulus all the
 *   same. One in 10 is older than the age threshold, one in 100 expires
 *   within 30 days, one in 50 is INACTIVE, one in 1,000 is on its CA's
 *   revocation list while still ACTIVE.
 * - Three registered CA certificates: the fleet's EC CA, an RSA 2048 root
 *   and an RSA intermediate it signed.
 * - P policies (1,000) with 1 to 3 versions each; one in 10 allows iot:*
 *   on *.
 * - A connection history of N rows over the look-back window, with a
 *   client id shared by two certificates and a certificate shared by two
 *   client ids every 1,000 rows.
 * - 10 role aliases; logging off.
 *
 * Certificates, policies, CAs and role aliases are written through
 * store/ as the API writes them; the connection history, which the
 * plugin writes one connection at a time, is written in one SQL
 * transaction. Then RUNS tasks (3) of every check ddlocal implements are
 * each run by store_audit_run_next(), as the server's audit worker runs
 * them, with the server's X.509 reader for the CRL check: the median is
 * the figure (target < 2 s).
 *
 * With --keep DIR the account is written to DIR/ddlocal.db (DIR must
 * exist) and left there, for tests/bench/audit_tick.py to start the
 * emulator on.
 *
 * Test code, built by tests/run_all.sh (build-bench) and run by
 * tests/bench/run.sh (make bench). Prints a human-readable report and one
 * JSON line (prefix "json: "); exits 1 on a usage error, 2 when a step
 * fails. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sqlite3.h>

#include "core/audit.h"
#include "server/iot/ca.h"
#include "store/audit/store_audit.h"
#include "store/iot/store_cacerts.h"
#include "store/iot/store_certs.h"
#include "store/iot/store_policies.h"
#include "store/iot/store_role_aliases.h"
#include "store/store.h"
#include "tests/bench/bench_util.h"

#define DAY_S     86400LL
#define N_KEYS    8
#define RUNS      3
#define BATCH     5000 /* rows per group commit while filling */
#define ROLE_ARN  "arn:aws:iam::123456789012:role/Audit"
#define N_ALIASES 10

/* The account's "now": midnight UTC of today, so that an emulator started
 * on the kept database (real clock) sees the same ages and expiries. */
static int64_t now_ms;

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

static void need(bool ok, const char *what)
{
    if (!ok)
        fail(what, DD_ERR_INTERNAL, NULL);
}

/* Set x's subject to CN=cn, its serial and validity. */
static void set_fields(X509 *x, const char *cn, long serial, int64_t not_before_s,
                       int64_t not_after_s)
{
    X509_NAME *name = X509_NAME_new();

    need(name &&
             X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1,
                                        0) &&
             X509_set_subject_name(x, name) && ASN1_INTEGER_set(X509_get_serialNumber(x), serial) &&
             ASN1_TIME_set(X509_getm_notBefore(x), (time_t)not_before_s) &&
             ASN1_TIME_set(X509_getm_notAfter(x), (time_t)not_after_s),
         "fill a certificate");
    X509_NAME_free(name);
}

/* Sign x with signer; its PEM into pem (size bytes) and its id (SHA-256 of
 * the DER, lowercase hex, as AWS's certificateId) into id. */
static void sign_out(X509 *x, EVP_PKEY *signer, char *pem, size_t size, char id[65])
{
    static const char hex[] = "0123456789abcdef";
    BIO *bio = BIO_new(BIO_s_mem());
    unsigned char md[32];
    unsigned int md_len = 0;
    char *p;
    long n;
    int i;

    need(bio && X509_sign(x, signer, EVP_sha256()) > 0 && PEM_write_bio_X509(bio, x) == 1,
         "sign a certificate");
    n = BIO_get_mem_data(bio, &p);
    need(n > 0 && (size_t)n < size, "certificate size");
    memcpy(pem, p, (size_t)n);
    pem[n] = '\0';
    need(X509_digest(x, EVP_sha256(), md, &md_len) && md_len == 32, "digest a certificate");
    for (i = 0; i < 32; i++) {
        id[2 * i] = hex[md[i] >> 4];
        id[2 * i + 1] = hex[md[i] & 15];
    }
    id[64] = '\0';
    BIO_free(bio);
}

/* A certificate of key for subject cn, serial, valid from not_before_s to
 * not_after_s, signed by signer (whose certificate is issuer_cert; NULL:
 * self-signed), as a CA when ca: sign_out() into pem and id, the X509 into
 * *keep (X509_free()) unless keep is NULL. */
static void make_cert(EVP_PKEY *key, const char *cn, long serial, int64_t not_before_s,
                      int64_t not_after_s, EVP_PKEY *signer, X509 *issuer_cert, bool ca, char *pem,
                      size_t size, char id[65], X509 **keep)
{
    X509 *x = X509_new();

    need(x && X509_set_version(x, 2) && X509_set_pubkey(x, key), "allocate a certificate");
    set_fields(x, cn, serial, not_before_s, not_after_s);
    need(X509_set_issuer_name(x, X509_get_subject_name(issuer_cert ? issuer_cert : x)),
         "name the issuer");
    if (ca) {
        X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, NULL, NID_basic_constraints, "CA:TRUE");

        need(ext && X509_add_ext(x, ext, -1), "mark a CA");
        X509_EXTENSION_free(ext);
    }
    sign_out(x, signer, pem, size, id);
    if (keep)
        *keep = x;
    else
        X509_free(x);
}

/* Re-issue the template certificate x (a device key's) as the device cert
 * number i: its own serial, subject and validity, signed by signer, into
 * pem and id (sign_out()), its serial (lowercase hex, as ca_cert_names()
 * writes it) into serial. Reusing one X509 per key spares encoding the
 * public key 100,000 times. */
static void reissue(X509 *x, long i, int64_t not_before_s, int64_t not_after_s, EVP_PKEY *signer,
                    char *pem, size_t size, char id[65], char serial[64])
{
    BIGNUM *bn = NULL;
    char cn[32], *h = NULL;
    int k;

    snprintf(cn, sizeof(cn), "bench-thing-%06ld", i);
    set_fields(x, cn, 1000 + i, not_before_s, not_after_s);
    sign_out(x, signer, pem, size, id);
    bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    h = bn ? BN_bn2hex(bn) : NULL;
    need(h && strlen(h) < 64, "serial");
    for (k = 0; h[k]; k++)
        serial[k] = (char)tolower((unsigned char)h[k]);
    serial[k] = '\0';
    OPENSSL_free(h);
    BN_free(bn);
}

/* Register the CA certificate pem (id) as ACTIVE. */
static void register_ca(struct store *s, const char *pem, const char *id)
{
    struct store_cacert_spec spec = { 0 };
    struct ca_names names;
    struct dd_errbuf eb = { { 0 } };
    int rc = ca_cert_names(pem, &names, &eb);

    if (rc)
        fail("read a CA certificate", rc, &eb);
    spec.cert_id = id;
    spec.pem = pem;
    spec.subject = names.subject;
    spec.issuer = names.issuer;
    spec.serial = names.serial;
    spec.generation_id = "00000000-0000-4000-8000-00000000ca00";
    spec.active = true;
    spec.not_before_s = now_ms / 1000 - 400 * DAY_S;
    spec.not_after_s = now_ms / 1000 + 3650 * DAY_S;
    spec.now_ms = now_ms;
    rc = store_cacert_create(s, &spec, &eb);
    if (rc)
        fail("register a CA", rc, &eb);
}

/* Commit the group of writes since the last one, and start the next. */
static void group_commit(void)
{
    int rc = store_batch_commit();

    if (rc)
        fail("commit", rc, NULL);
    store_batch_begin();
}

static void make_policies(struct store *s, long n_policies)
{
    struct dd_errbuf eb;
    long i, v;
    int rc;

    for (i = 0; i < n_policies; i++) {
        char name[32], doc[256];

        snprintf(name, sizeof(name), "policy-%04ld", i);
        for (v = 0; v <= i % 3; v++) {
            struct store_policy_version out;

            snprintf(doc, sizeof(doc),
                     "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":"
                     "\"iot:Publish\",\"Resource\":\"arn:aws:iot:us-east-1:123456789012:topic/"
                     "fleet/%ld/v%ld/*\"}]}",
                     i, v);
            if (i % 10 == 0 && v == 0)
                snprintf(doc, sizeof(doc),
                         "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":"
                         "\"Allow\",\"Action\":\"iot:*\",\"Resource\":\"*\"}]}");
            if (v == 0) {
                rc = store_policy_create(s, name, doc, now_ms, &eb);
            } else {
                rc = store_policy_version_create(s, name, doc, false, now_ms, &out, &eb);
                store_policy_version_cleanup(&out);
            }
            if (rc)
                fail("create a policy", rc, &eb);
        }
    }
}

/* The connection history: one connection of each certificate's thing, an
 * hour long, spread over 20 days before now_ms; every 1,000th row a second
 * connection of the previous client id with another certificate, and
 * every 1,000th row (offset 500) one of the previous certificate with
 * another client id, both overlapping the previous one (end_seq), the
 * first taking the client id over. */
static void make_history(const char *path, char (*ids)[65], long n)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    long i;

    need(sqlite3_open(path, &db) == SQLITE_OK, "open the history");
    sqlite3_busy_timeout(db, 5000);
    need(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK &&
             sqlite3_prepare_v2(
                 db,
                 "INSERT INTO connection_history (seq, client_id, certificate_id, "
                 "connected_ms, disconnected_ms, end_seq, taken_over) VALUES (?1, ?2, "
                 "?3, ?4, ?4 + 3600000, ?1 + 1, ?5)",
                 -1, &st, NULL) == SQLITE_OK,
         "prepare the history");
    for (i = 0; i < n; i++) {
        char client[32];
        long thing = i, cert = i;

        if (i % 1000 == 999)
            thing = i - 1;
        if (i % 1000 == 499)
            cert = i - 1;
        snprintf(client, sizeof(client), "bench-thing-%06ld", thing);
        sqlite3_bind_int64(st, 1, i + 1);
        sqlite3_bind_text(st, 2, client, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, ids[cert], -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, now_ms - 20 * DAY_S * 1000 + i * (20 * DAY_S * 1000 / n));
        sqlite3_bind_int(st, 5, i % 1000 == 998); /* the next one takes its client id over */
        need(sqlite3_step(st) == SQLITE_DONE, "write the history");
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    need(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK, "commit the history");
    sqlite3_close(db);
}

static void make_account(struct store *s, const char *path, long n_certs, long n_policies)
{
    struct store_audit_check_set set[AUDIT_N_CHECKS_MAX];
    struct store_audit_config_update u = { .role_arn = ROLE_ARN, .checks = set };
    EVP_PKEY *keys[N_KEYS], *ca_key = EVP_EC_gen("P-256"), *root_key = EVP_RSA_gen(2048);
    X509 *ca = NULL, *root = NULL, *templates[N_KEYS];
    struct ca_names ca_names;
    bool weak[N_KEYS];
    char(*ids)[65] = calloc((size_t)n_certs, sizeof(*ids));
    char pem[4096], id[65], name[64];
    struct dd_errbuf eb;
    double t0 = bench_now_ms();
    size_t c;
    long i;
    int rc;

    need(ids && ca_key && root_key, "generate the CA keys");
    for (c = 0; c < audit_n_checks; c++)
        set[u.n_checks++] = (struct store_audit_check_set){ audit_checks[c].name, true, NULL };
    rc = store_audit_config_update(s, &u, &eb);
    if (rc)
        fail("configure", rc, &eb);
    for (i = 0; i < N_KEYS; i++) {
        need((keys[i] = EVP_RSA_gen(2048)) != NULL, "generate a device key");
        make_cert(keys[i], "key", 1, 0, 0, keys[i], NULL, false, pem, sizeof(pem), id, NULL);
        weak[i] = audit_cert_key_quality(pem).reason_code != NULL;
    }
    make_cert(ca_key, "ddlocal bench CA", 1, now_ms / 1000 - 400 * DAY_S,
              now_ms / 1000 + 3650 * DAY_S, ca_key, NULL, true, pem, sizeof(pem), id, &ca);
    register_ca(s, pem, id);
    make_cert(root_key, "ddlocal bench RSA root", 2, now_ms / 1000 - 400 * DAY_S,
              now_ms / 1000 + 3650 * DAY_S, root_key, NULL, true, pem, sizeof(pem), id, &root);
    register_ca(s, pem, id);
    make_cert(keys[0], "ddlocal bench RSA intermediate", 3, now_ms / 1000 - 400 * DAY_S,
              now_ms / 1000 + 3650 * DAY_S, root_key, root, true, pem, sizeof(pem), id, NULL);
    register_ca(s, pem, id);
    for (i = 0; i < N_ALIASES; i++) {
        snprintf(name, sizeof(name), "bench-alias-%ld", i);
        rc = store_role_alias_create(s, name, ROLE_ARN, 3600, now_ms, &eb);
        if (rc)
            fail("create a role alias", rc, &eb);
    }
    make_policies(s, n_policies);
    for (i = 0; i < N_KEYS; i++)
        make_cert(keys[i], "template", 1, 0, 0, ca_key, ca, false, pem, sizeof(pem), id,
                  &templates[i]);
    rc = ca_cert_names(pem, &ca_names, &eb);
    if (rc)
        fail("read the template", rc, &eb);
    store_batch_begin();
    for (i = 0; i < n_certs; i++) {
        struct store_cert_spec spec = { 0 };
        char gen[64], serial[64];
        int64_t created_s = now_ms / 1000 - (i % 10 ? 30 : 400) * DAY_S;

        spec.not_before_s = created_s;
        spec.not_after_s = now_ms / 1000 + (i % 100 == 1 ? 10 : 3650) * DAY_S;
        reissue(templates[i % N_KEYS], i, spec.not_before_s, spec.not_after_s, ca_key, pem,
                sizeof(pem), ids[i], serial);
        snprintf(gen, sizeof(gen), "00000000-0000-4000-8000-%012ld", i);
        spec.cert_id = ids[i];
        spec.pem = pem;
        spec.generation_id = gen;
        spec.status = i % 50 == 2 ? STORE_CERT_INACTIVE : STORE_CERT_ACTIVE;
        spec.now_ms = created_s * 1000;
        /* What CreateKeysAndCertificate judges once per certificate
         * (api_certs.c): the bench knows it from what it made, and checks
         * it against the server's X.509 reader every 1,000th time. */
        spec.issuer = ca_names.issuer;
        spec.serial = serial;
        spec.key = weak[i % N_KEYS] ? STORE_CERT_KEY_WEAK : STORE_CERT_KEY_OK;
        if (i % 1000 == 3) {
            struct ca_names names;

            rc = ca_cert_names(pem, &names, &eb);
            if (rc)
                fail("read a certificate", rc, &eb);
            need(strcmp(names.issuer, spec.issuer) == 0 && strcmp(names.serial, serial) == 0,
                 "the issuer and serial the server would store");
            rc = store_crl_revoke(s, names.issuer, names.serial, now_ms / 1000);
            if (rc)
                fail("revoke a certificate", rc, NULL);
        }
        rc = store_cert_create(s, &spec, &eb);
        if (rc)
            fail("create a certificate", rc, &eb);
        if (i % BATCH == BATCH - 1)
            group_commit();
    }
    rc = store_batch_commit();
    if (rc)
        fail("commit", rc, NULL);
    make_history(path, ids, n_certs);
    printf("bench-audit: the account written in %.1f s\n", (bench_now_ms() - t0) / 1000.0);
    for (i = 0; i < N_KEYS; i++) {
        EVP_PKEY_free(keys[i]);
        X509_free(templates[i]);
    }
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(root_key);
    X509_free(ca);
    X509_free(root);
    free(ids);
}

/* Run task task_id; its wall-clock and CPU ms into *ms and *cpu. */
static void run_task(struct store *s, const char *task_id, double *ms, double *cpu)
{
    const char *names[AUDIT_N_CHECKS_MAX];
    struct dd_errbuf eb = { { 0 } };
    double t0, c0;
    size_t c;
    bool ran;
    int rc;

    for (c = 0; c < audit_n_checks; c++)
        names[c] = audit_checks[c].name;
    rc = store_audit_task_start(s, task_id, "ON_DEMAND_AUDIT_TASK", NULL, names, audit_n_checks,
                                now_ms, &eb);
    if (rc)
        fail("start", rc, &eb);
    t0 = bench_now_ms();
    c0 = cpu_ms();
    rc = store_audit_run_next(s, "123456789012", "us-east-1", now_ms, now_ms, ca_cert_issuer_serial,
                              &ran, &eb);
    *ms = bench_now_ms() - t0;
    *cpu = cpu_ms() - c0;
    if (rc || !ran)
        fail("run", rc, &eb);
}

int main(int argc, char **argv)
{
    const char *keep = argc > 2 && strcmp(argv[1], "--keep") == 0 ? argv[2] : NULL;
    int a = keep ? 3 : 1;
    long n_certs = argc > a ? atol(argv[a]) : 100000;
    long n_policies = argc > a + 1 ? atol(argv[a + 1]) : 1000;
    char dir[] = "/tmp/ddlocal-bench-audit-XXXXXX", path[4096];
    double ms[RUNS], cpu[RUNS], sorted[RUNS];
    struct store_audit_task t;
    struct store *s = NULL;
    struct dd_errbuf eb = { { 0 } };
    char task_id[32];
    size_t i;
    int rc;

    if (n_certs < 1 || n_policies < 1) {
        fprintf(stderr, "usage: bench-audit [--keep DIR] [CERTIFICATES [POLICIES]]\n");
        return 1;
    }
    now_ms = (int64_t)time(NULL) / DAY_S * DAY_S * 1000;
    if (!keep && !mkdtemp(dir))
        return 2;
    snprintf(path, sizeof(path), "%s/ddlocal.db", keep ? keep : dir);
    rc = store_open(path, &s, &eb);
    if (rc)
        fail("open", rc, &eb);
    make_account(s, path, n_certs, n_policies);
    for (i = 0; i < RUNS; i++) {
        snprintf(task_id, sizeof(task_id), "bench-%zu", i);
        run_task(s, task_id, &ms[i], &cpu[i]);
        sorted[i] = ms[i];
    }
    qsort(sorted, RUNS, sizeof(sorted[0]), bench_cmp_ms);
    rc = store_audit_task_get(s, task_id, &t, &eb);
    if (rc)
        fail("describe", rc, &eb);
    printf("bench-audit: an on-demand audit of %ld certificates (RSA 2048), %ld policies, "
           "%ld connections, %zu checks: median %.0f ms of %d runs (target < 2000 ms), "
           "%.0f ms of CPU\n",
           n_certs, n_policies, n_certs, t.n_checks, sorted[RUNS / 2], RUNS, cpu[RUNS - 1]);
    for (i = 0; i < t.n_checks; i++)
        printf("  %-60s %-24s %7lld resources %6lld non-compliant\n", t.checks[i].name,
               t.checks[i].run_status, (long long)t.checks[i].total,
               (long long)t.checks[i].non_compliant);
    printf("json: {\"bench\":\"audit\",\"certificates\":%ld,\"policies\":%ld,\"checks\":%zu,"
           "\"ms\":%.1f,\"ms_runs\":[%.1f,%.1f,%.1f],\"cpu_ms\":%.1f}\n",
           n_certs, n_policies, t.n_checks, sorted[RUNS / 2], ms[0], ms[1], ms[2], cpu[RUNS - 1]);
    store_audit_task_cleanup(&t);
    store_close(s);
    if (!keep)
        bench_remove_db(dir, "ddlocal.db");
    return 0;
}
