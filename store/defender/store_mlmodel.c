/* SPDX-License-Identifier: MIT */
/* store_mlmodel.c: ML Detect models (store_mlmodel.h). */
#include "store/defender/store_mlmodel.h"

#include <string.h>

#include <sqlite3.h>

#include "store/store_internal.h"

int store_mlmodel_put(struct store *s, const char *profile, const char *behavior,
                      const struct mlmodel *m, double percentage)
{
    static const char sql[] =
        "INSERT INTO ml_models (profile_name, behavior_name, status, start_ms, refresh_ms, "
        "checked_ms, last_data_ms, percentage, slots) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (profile_name, behavior_name) DO UPDATE SET status = excluded.status, "
        "start_ms = excluded.start_ms, refresh_ms = excluded.refresh_ms, "
        "checked_ms = excluded.checked_ms, last_data_ms = excluded.last_data_ms, "
        "percentage = excluded.percentage, slots = excluded.slots";
    char slots[MLMODEL_SLOTS_TEXT_SIZE];
    int rc = mlmodel_slots_format(m, slots, sizeof(slots));

    if (rc)
        return rc;
    return store__run(s, sql, "write ML model", "tttIIIIds", profile, behavior,
                      mlmodel_status_name(m->status), m->start_ms, m->refresh_ms, m->checked_ms,
                      m->last_data_ms, percentage, slots);
}

int store_mlmodel_get(struct store *s, const char *profile, const char *behavior,
                      struct store_mlmodel *out, bool *found)
{
    static const char sql[] =
        "SELECT status, start_ms, refresh_ms, checked_ms, last_data_ms, percentage, slots "
        "FROM ml_models WHERE profile_name = ? AND behavior_name = ?";
    char status[16];
    sqlite3_stmt *st;
    int rc;

    memset(out, 0, sizeof(*out));
    *found = false;
    rc = store__one(s, sql, &st, "read ML model", "tt", profile, behavior);
    if (rc == DD_ERR_NOT_FOUND)
        return DD_OK;
    if (rc)
        return rc;
    rc = store__columns(st, "sIIIIds", status, sizeof(status), &out->m.start_ms, &out->m.refresh_ms,
                        &out->m.checked_ms, &out->m.last_data_ms, &out->percentage, out->slots,
                        sizeof(out->slots));
    sqlite3_reset(st);
    if (!rc)
        rc = mlmodel_status_parse(status, &out->m.status) ? DD_ERR_STORE : DD_OK;
    if (rc)
        memset(out, 0, sizeof(*out));
    else
        *found = true;
    return rc;
}
