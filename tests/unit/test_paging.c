/* SPDX-License-Identifier: MIT */
/* test_paging.c: offset and key tokens round-trip, are alphanumeric,
 * canonical and distinct per position; bad, altered, foreign-scope and
 * non-canonical tokens are rejected with out cleared; buffer limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/error.h"
#include "core/paging.h"
#include "tests/unit/alloc_fail.h"

static void assert_alnum(const char *s)
{
    for (; *s; s++)
        assert_true((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
                    (*s >= '0' && *s <= '9'));
}

static const int64_t offsets[] = { 0, 1, 15, 16, 250, 251, 65535, 1000000007LL, INT64_MAX };

static void test_offset_round_trip(void **state)
{
    char tok[PAGING_TOKEN_SIZE], prev[PAGING_TOKEN_SIZE] = "";
    struct paging_pos pos;
    struct dd_errbuf eb;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
        assert_int_equal(paging_encode_offset("ListThings", offsets[i], tok, sizeof(tok), &eb),
                         DD_OK);
        assert_alnum(tok);
        assert_string_not_equal(tok, prev);
        assert_int_equal(paging_decode("ListThings", "nextToken", tok, &pos, &eb), DD_OK);
        assert_int_equal(pos.kind, PAGING_OFFSET);
        assert_true(pos.offset == offsets[i]);
        memcpy(prev, tok, sizeof(tok));
    }
    /* Stable: the same position gives the same token. */
    assert_int_equal(paging_encode_offset("ListThings", 250, tok, sizeof(tok), &eb), DD_OK);
    assert_int_equal(paging_encode_offset("ListThings", 250, prev, sizeof(prev), &eb), DD_OK);
    assert_string_equal(tok, prev);
    /* NULL scope is the empty scope. */
    assert_int_equal(paging_encode_offset(NULL, 7, tok, sizeof(tok), &eb), DD_OK);
    assert_int_equal(paging_decode("", "nextToken", tok, &pos, &eb), DD_OK);
    assert_true(pos.offset == 7);
}

static void test_key_round_trip(void **state)
{
    static const char *const keys[] = { "dev-IZWB", "a", "thing:with:colons",
                                        "MsgSentSecProfile\x1f"
                                        "dev-1",
                                        "caf\xc3\xa9" };
    char tok[PAGING_TOKEN_SIZE], big[PAGING_KEY_MAX];
    struct paging_pos pos;
    struct dd_errbuf eb;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        assert_int_equal(
            paging_encode_key("ListThings", keys[i], strlen(keys[i]), tok, sizeof(tok), &eb),
            DD_OK);
        assert_alnum(tok);
        assert_int_equal(paging_decode("ListThings", "nextToken", tok, &pos, &eb), DD_OK);
        assert_int_equal(pos.kind, PAGING_KEY);
        assert_int_equal(pos.key_len, strlen(keys[i]));
        assert_string_equal(pos.key, keys[i]);
    }
    /* Binary keys with NUL bytes, the empty key, and the longest key. */
    assert_int_equal(paging_encode_key("s", "a\0b", 3, tok, sizeof(tok), &eb), DD_OK);
    assert_int_equal(paging_decode("s", "nextToken", tok, &pos, &eb), DD_OK);
    assert_int_equal(pos.key_len, 3);
    assert_memory_equal(pos.key, "a\0b", 4);
    assert_int_equal(paging_encode_key("s", "", 0, tok, sizeof(tok), &eb), DD_OK);
    assert_int_equal(paging_decode("s", "nextToken", tok, &pos, &eb), DD_OK);
    assert_int_equal(pos.kind, PAGING_KEY);
    assert_int_equal(pos.key_len, 0);
    for (i = 0; i < sizeof(big); i++)
        big[i] = (char)(i * 31);
    assert_int_equal(paging_encode_key("s", big, sizeof(big), tok, sizeof(tok), &eb), DD_OK);
    assert_int_equal(strlen(tok), PAGING_TOKEN_SIZE - 1);
    assert_true(strlen(tok) <= 1024);
    assert_int_equal(paging_decode("s", "marker", tok, &pos, &eb), DD_OK);
    assert_int_equal(pos.key_len, sizeof(big));
    assert_memory_equal(pos.key, big, sizeof(big));
    /* An offset and a key never share a token. */
    {
        char t2[PAGING_TOKEN_SIZE];

        assert_int_equal(paging_encode_offset("s", 0x61, t2, sizeof(t2), &eb), DD_OK);
        assert_int_equal(paging_encode_key("s", "a", 1, tok, sizeof(tok), &eb), DD_OK);
        assert_string_not_equal(tok, t2);
    }
}

static void test_encode_limits(void **state)
{
    char tok[PAGING_TOKEN_SIZE], big[PAGING_KEY_MAX + 1];
    struct dd_errbuf eb;

    (void)state;
    memset(big, 'k', sizeof(big));
    assert_int_equal(paging_encode_key("s", big, sizeof(big), tok, sizeof(tok), &eb),
                     DD_ERR_TOO_LARGE);
    assert_string_equal(tok, "");
    assert_int_equal(paging_encode_key("s", "abc", 3, tok, 10, &eb), DD_ERR_TOO_LARGE);
    assert_string_equal(tok, "");
    assert_int_equal(paging_encode_key("s", "abc", 3, tok, 12, &eb), DD_OK);
    assert_int_equal(paging_encode_offset("s", -1, tok, sizeof(tok), &eb), DD_ERR_INVALID);
    assert_string_equal(tok, "");
    assert_int_equal(paging_encode_offset("s", 0xFFF, tok, 8, &eb), DD_ERR_TOO_LARGE);
    assert_string_equal(tok, "");
    assert_int_equal(paging_encode_offset("s", 0xFFF, tok, 9, &eb), DD_OK);
    assert_int_equal(paging_encode_offset("s", 1, tok, 0, &eb), DD_ERR_TOO_LARGE);
    assert_int_equal(paging_encode_key("s", "a", 1, tok, 0, NULL), DD_ERR_TOO_LARGE);
}

/* body followed by the checksum paging.c documents (FNV-1a over scope, a
 * 0 byte and body, folded to 16 bits): lets a test build tokens whose
 * checksum is right but whose body is not canonical. */
static void sealed(const char *scope, const char *body, char *out, size_t size)
{
    uint32_t h = 2166136261u;
    size_t i;

    for (i = 0; scope[i]; i++)
        h = (h ^ (unsigned char)scope[i]) * 16777619u;
    h *= 16777619u;
    for (i = 0; body[i]; i++)
        h = (h ^ (unsigned char)body[i]) * 16777619u;
    snprintf(out, size, "%s%04x", body, (unsigned)((h ^ (h >> 16)) & 0xFFFFu));
}

static void test_bad_tokens(void **state)
{
    char tok[PAGING_TOKEN_SIZE], bad[PAGING_TOKEN_SIZE + 8];
    struct paging_pos pos;
    struct dd_errbuf eb;
    size_t i;
    static const char *const garbage[] = {
        "",         "N",      "N0",     "abcd",   "Nzzzz",   "X1234abcd",
        "tok/2+x=", "n1abcd", "N1ABCD", "K1abcd", "Kzz0000", "N10000000000000000000",
    };

    (void)state;
    for (i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
        memset(&pos, 0x5a, sizeof(pos));
        if (paging_decode("s", "nextToken", garbage[i], &pos, &eb) != DD_ERR_INVALID)
            fail_msg("token '%s' accepted", garbage[i]);
        assert_string_equal(eb.msg, "Invalid nextToken");
        assert_int_equal(pos.kind, PAGING_OFFSET);
        assert_true(pos.offset == 0);
        assert_int_equal(pos.key_len, 0);
    }
    assert_int_equal(paging_decode("s", "marker", NULL, &pos, &eb), DD_ERR_INVALID);
    assert_string_equal(eb.msg, "Invalid marker");

    /* Every single-character change of a good token is caught. */
    assert_int_equal(paging_encode_key("s", "dev-1", 5, tok, sizeof(tok), &eb), DD_OK);
    for (i = 0; tok[i]; i++) {
        memcpy(bad, tok, sizeof(tok));
        bad[i] = bad[i] == '0' ? '1' : '0';
        assert_int_equal(paging_decode("s", "nextToken", bad, &pos, &eb), DD_ERR_INVALID);
    }
    /* Truncated, extended and foreign-scope tokens. */
    memcpy(bad, tok, sizeof(tok));
    bad[strlen(bad) - 1] = '\0';
    assert_int_equal(paging_decode("s", "nextToken", bad, &pos, &eb), DD_ERR_INVALID);
    snprintf(bad, sizeof(bad), "%s0", tok);
    assert_int_equal(paging_decode("s", "nextToken", bad, &pos, &eb), DD_ERR_INVALID);
    assert_int_equal(paging_decode("other", "nextToken", tok, &pos, &eb), DD_ERR_INVALID);
    assert_int_equal(paging_decode(NULL, "nextToken", tok, &pos, &eb), DD_ERR_INVALID);

    /* Non-canonical bodies fail even with a valid checksum: a leading
     * zero, an offset past INT64_MAX, upper-case hex, an odd key. */
    {
        static const char *const bodies[] = { "N00", "N8000000000000000", "NA", "K6", "K6G", "N" };

        /* The oracle agrees with the encoder. */
        sealed("s", "N1", bad, sizeof(bad));
        assert_int_equal(paging_encode_offset("s", 1, tok, sizeof(tok), &eb), DD_OK);
        assert_string_equal(bad, tok);
        for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
            sealed("s", bodies[i], bad, sizeof(bad));
            memset(&pos, 0x5a, sizeof(pos));
            if (paging_decode("s", "nextToken", bad, &pos, &eb) != DD_ERR_INVALID)
                fail_msg("non-canonical '%s' accepted", bad);
            assert_true(pos.offset == 0);
        }
    }
    /* Over-long input is rejected before any work. */
    memset(bad, 'K', sizeof(bad) - 1);
    bad[sizeof(bad) - 1] = '\0';
    assert_int_equal(paging_decode("s", "nextToken", bad, &pos, NULL), DD_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_offset_round_trip),
        cmocka_unit_test(test_key_round_trip),
        cmocka_unit_test(test_encode_limits),
        cmocka_unit_test(test_bad_tokens),
    };

    alloc_fail_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
