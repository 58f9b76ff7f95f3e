/* SPDX-License-Identifier: MIT */
/* test_ids.c: the shapes of core/ids.c (UUID v4, hex, alphabet text) from
 * fixed bytes, the real generator's output, and every failure path. The
 * binary is linked with -Wl,--wrap=getrandom (Makefile): a scripted kernel
 * answers with failures, short reads and EINTR, or the real one answers. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include <cmocka.h>

#include "core/ids.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- the scripted kernel ---- */

struct step {
    ssize_t ret; /* bytes handed out (capped at the request), or -1 */
    int err;     /* errno when ret is -1 */
    unsigned char fill;
};

static const struct step *script; /* NULL: the real getrandom */
static size_t n_script, at_step, n_calls;

ssize_t __real_getrandom(void *buf, size_t len, unsigned flags);
ssize_t __wrap_getrandom(void *buf, size_t len, unsigned flags);

ssize_t __wrap_getrandom(void *buf, size_t len, unsigned flags)
{
    const struct step *s;

    n_calls++;
    if (!script)
        return __real_getrandom(buf, len, flags);
    assert_true(at_step < n_script); /* the code asked more often than the row says */
    s = &script[at_step++];
    if (s->ret < 0) {
        errno = s->err;
        return -1;
    }
    if ((size_t)s->ret < len)
        len = (size_t)s->ret;
    memset(buf, s->fill, len);
    return (ssize_t)len;
}

static void use_script(const struct step *steps, size_t n)
{
    script = steps;
    n_script = n;
    at_step = 0;
    n_calls = 0;
}

static int reset(void **state)
{
    (void)state;
    use_script(NULL, 0);
    return 0;
}

/* ---- pure formats ---- */

struct uuid_row {
    unsigned char first, step; /* byte i = first + i * step */
    const char *want;
};

static const struct uuid_row uuid_rows[] = {
    { 0xff, 0, "ffffffff-ffff-4fff-bfff-ffffffffffff" },
    { 0x00, 0, "00000000-0000-4000-8000-000000000000" },
    { 0x00, 17, "00112233-4455-4677-8899-aabbccddeeff" },
    { 0xf0, 1, "f0f1f2f3-f4f5-46f7-b8f9-fafbfcfdfeff" },
};

static void test_uuid_format(void **state)
{
    unsigned char b[16];
    char out[IDS_UUID_SIZE];
    size_t r, i;

    (void)state;
    for (r = 0; r < N(uuid_rows); r++) {
        for (i = 0; i < 16; i++)
            b[i] = (unsigned char)(uuid_rows[r].first + i * uuid_rows[r].step);
        memset(out, 'x', sizeof(out));
        ids_uuid_format(b, out);
        assert_string_equal(out, uuid_rows[r].want);
        assert_int_equal(strlen(out), IDS_UUID_SIZE - 1);
    }
}

struct hex_row {
    const char *bytes;
    size_t n;
    const char *want;
};

static const struct hex_row hex_rows[] = {
    { "", 0, "" },
    { "\x00", 1, "00" },
    { "\xff\x0a", 2, "ff0a" },
    { "\x01\x23\x45\x67\x89\xab\xcd\xef", 8, "0123456789abcdef" },
};

static void test_hex_format(void **state)
{
    char out[IDS_HEX_SIZE(8)];
    size_t r;

    (void)state;
    for (r = 0; r < N(hex_rows); r++) {
        memset(out, 'x', sizeof(out));
        ids_hex_format((const unsigned char *)hex_rows[r].bytes, hex_rows[r].n, out);
        assert_string_equal(out, hex_rows[r].want);
    }
}

/* ---- the real kernel: shapes ---- */

static void assert_only(const char *s, const char *allowed, size_t len)
{
    assert_int_equal(strlen(s), len);
    assert_int_equal(strspn(s, allowed), len);
}

static void test_real_shapes(void **state)
{
    char uuid[IDS_UUID_SIZE], other[IDS_UUID_SIZE], hex[IDS_HEX_SIZE(32)], text[9];

    (void)state;
    assert_int_equal(ids_uuid(uuid), DD_OK);
    assert_int_equal(ids_uuid(other), DD_OK);
    assert_string_not_equal(uuid, other);
    assert_only(uuid, "0123456789abcdef-", 36);
    assert_int_equal(uuid[14], '4');
    assert_non_null(strchr("89ab", uuid[19]));
    assert_true(uuid[8] == '-' && uuid[13] == '-' && uuid[18] == '-' && uuid[23] == '-');

    assert_int_equal(ids_hex(hex, sizeof(hex), 32), DD_OK);
    assert_only(hex, "0123456789abcdef", 64);
    assert_int_equal(ids_hex(hex, IDS_HEX_SIZE(16), 16), DD_OK);
    assert_only(hex, "0123456789abcdef", 32);

    assert_int_equal(ids_text(text, 4, "AB"), DD_OK);
    assert_only(text, "AB", 4);
    assert_int_equal(ids_text(text, 8, "z"), DD_OK);
    assert_string_equal(text, "zzzzzzzz");
    assert_int_equal(ids_random(NULL, 0), DD_OK);
}

/* ---- bad arguments: refused before the kernel is asked ---- */

static void test_bad_arguments(void **state)
{
    char out[IDS_HEX_SIZE(65)];

    (void)state;
    memset(out, 'x', sizeof(out));
    assert_int_equal(ids_hex(out, IDS_HEX_SIZE(16) - 1, 16), DD_ERR_INVALID);
    assert_string_equal(out, "");
    assert_int_equal(ids_hex(out, sizeof(out), 0), DD_ERR_INVALID);
    assert_int_equal(ids_hex(out, sizeof(out), 65), DD_ERR_INVALID);
    assert_int_equal(ids_hex(out, 0, 1), DD_ERR_INVALID);
    assert_int_equal(ids_text(out, 4, ""), DD_ERR_INVALID);
    assert_int_equal(ids_text(out, 4, NULL), DD_ERR_INVALID);
    assert_int_equal(ids_text(out, 0, "AB"), DD_ERR_INVALID);
    assert_int_equal(ids_text(out, 65, "AB"), DD_ERR_INVALID);
    assert_string_equal(out, "");
    assert_int_equal(n_calls, 0);
}

/* ---- the scripted kernel: failure, short reads, EINTR ---- */

enum which { UUID, HEX16, TEXT4 };

struct kernel_row {
    const char *label;
    enum which which;
    struct step steps[4];
    size_t n_steps;
    int want_rc;
    const char *want; /* the id on DD_OK; "" on error */
};

static const struct kernel_row kernel_rows[] = {
    { "uuid: EIO", UUID, { { -1, EIO, 0 } }, 1, DD_ERR_INTERNAL, "" },
    { "uuid: ENOSYS", UUID, { { -1, ENOSYS, 0 } }, 1, DD_ERR_INTERNAL, "" },
    { "uuid: zero bytes", UUID, { { 0, 0, 0 } }, 1, DD_ERR_INTERNAL, "" },
    { "uuid: whole", UUID, { { 16, 0, 0x11 } }, 1, DD_OK, "11111111-1111-4111-9111-111111111111" },
    { "uuid: EINTR then whole",
      UUID,
      { { -1, EINTR, 0 }, { 16, 0, 0x22 } },
      2,
      DD_OK,
      "22222222-2222-4222-a222-222222222222" },
    { "uuid: short read then rest",
      UUID,
      { { 10, 0, 0x00 }, { 6, 0, 0xff } },
      2,
      DD_OK,
      "00000000-0000-4000-8000-ffffffffffff" },
    { "uuid: short read then EIO", UUID, { { 10, 0, 0 }, { -1, EIO, 0 } }, 2, DD_ERR_INTERNAL, "" },
    { "hex: EAGAIN", HEX16, { { -1, EAGAIN, 0 } }, 1, DD_ERR_INTERNAL, "" },
    { "hex: three reads",
      HEX16,
      { { 4, 0, 0xab }, { -1, EINTR, 0 }, { 12, 0, 0x01 } },
      3,
      DD_OK,
      "abababab010101010101010101010101" },
    { "text: EIO", TEXT4, { { -1, EIO, 0 } }, 1, DD_ERR_INTERNAL, "" },
    { "text: whole", TEXT4, { { 4, 0, 37 } }, 1, DD_OK, "BBBB" }, /* 37 % 36 = 1 */
};

static void test_kernel(void **state)
{
    char out[IDS_HEX_SIZE(18)]; /* room for a UUID and for 16 bytes in hex */
    size_t r;
    int rc = DD_OK;

    (void)state;
    for (r = 0; r < N(kernel_rows); r++) {
        const struct kernel_row *k = &kernel_rows[r];

        use_script(k->steps, k->n_steps);
        memset(out, 'x', sizeof(out));
        switch (k->which) {
        case UUID:
            rc = ids_uuid(out);
            break;
        case HEX16:
            rc = ids_hex(out, IDS_HEX_SIZE(16), 16);
            break;
        case TEXT4:
            rc = ids_text(out, 4, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
            break;
        }
        if (rc != k->want_rc || strcmp(out, k->want) != 0 || at_step != k->n_steps)
            fail_msg("%s: rc %d, \"%s\" after %zu of %zu steps", k->label, rc, out, at_step,
                     k->n_steps);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_uuid_format, reset),
        cmocka_unit_test_setup(test_hex_format, reset),
        cmocka_unit_test_setup(test_real_shapes, reset),
        cmocka_unit_test_setup(test_bad_arguments, reset),
        cmocka_unit_test_setup(test_kernel, reset),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
