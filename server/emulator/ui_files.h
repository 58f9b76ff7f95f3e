/* SPDX-License-Identifier: MIT */
/* ui_files.h: the dashboard's files (ui/), compiled into the server by the
 * Makefile (gen/ui_files.c), so it serves them with no file system access
 * and no network. */
#ifndef DD_SERVER_UI_FILES_H
#define DD_SERVER_UI_FILES_H

#include <stddef.h>

struct ui_file {
    const char *name;          /* path below ui/, e.g. "app.js" */
    const unsigned char *data; /* static */
    size_t len;
};

extern const struct ui_file ui_files[];
extern const int ui_n_files;

#endif
