/* SPDX-License-Identifier: MIT */
/* fuzz_jsonprint.c: jsonprint() against cJSON_PrintUnformatted().
 *
 * Input layout: one control byte, then the rest. Control byte 'd' makes
 * the rest an array of doubles (8 bytes each, host order, any bit pattern:
 * NaN, infinities, subnormals, -0), printed as one JSON array; any other
 * control byte makes the rest a JSON text that cJSON parses. Whatever
 * cJSON can print, jsonprint() must print byte for byte the same. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "../../core/jsonprint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static cJSON *numbers(const uint8_t *p, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    double d;

    for (; a && n >= sizeof(d); p += sizeof(d), n -= sizeof(d)) {
        memcpy(&d, p, sizeof(d));
        cJSON_AddItemToArray(a, cJSON_CreateNumber(d));
    }
    return a;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cJSON *item;
    char *want, *got;

    if (size == 0)
        return 0;
    if (data[0] == 'd')
        item = numbers(data + 1, size - 1);
    else
        item = cJSON_ParseWithLength((const char *)data + 1, size - 1);
    if (!item)
        return 0;
    want = cJSON_PrintUnformatted(item);
    got = jsonprint(item);
    if (!want != !got || (want && strcmp(want, got) != 0))
        abort();
    cJSON_free(want);
    free(got);
    cJSON_Delete(item);
    return 0;
}
