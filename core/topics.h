/* SPDX-License-Identifier: MIT */
/* topics.h: the MQTT topics only AWS IoT itself publishes to.
 *
 * AWS's reserved-topics table lets a client subscribe to the answers of the
 * shadow, Device Defender and jobs services and to lifecycle events, but not
 * publish to them: a device that could would forge another thing's
 * /update/accepted or /delta. The broker refuses such a PUBLISH in every
 * authorization mode and counts it as an authorization failure. The
 * emulator's own answers are not client publishes and never meet this rule.
 * Pure: no I/O; any thread. @unittest test_topics.c */
#ifndef DD_CORE_TOPICS_H
#define DD_CORE_TOPICS_H

#include <stdbool.h>

/* True when topic is one only the service publishes to:
 *   $aws/events/...
 *   $aws/things/{thing}/shadow/.../{accepted|rejected|delta|documents}
 *   $aws/things/{thing}/defender/metrics/{format}/{accepted|rejected}
 *   $aws/things/{thing}/jobs/.../{accepted|rejected|notify|notify-next}
 * topic is borrowed, NUL-terminated, not NULL. Cannot fail; costs one
 * comparison for a topic outside $aws/. */
bool topics_service_only(const char *topic);

#endif
