/* SPDX-License-Identifier: MIT */
/* mqtt_limits.c: AWS IoT Core's message broker limits (mqtt_limits.h). */
#include "core/mqtt_limits.h"

#include <assert.h>
#include <string.h>

static const struct mqtt_limit_info limits[MQTT_LIMIT_COUNT] = {
    [MQTT_LIMIT_CLIENT_ID] = { MQTT_LIMIT_CLIENT_ID, "Client ID size", 128, "bytes",
                               "CONNECT refused" },
    [MQTT_LIMIT_TOPIC_SIZE] = { MQTT_LIMIT_TOPIC_SIZE, "Topic size", 256, "bytes",
                                "PUBLISH disconnects, SUBSCRIBE refused" },
    [MQTT_LIMIT_TOPIC_SLASHES] = { MQTT_LIMIT_TOPIC_SLASHES,
                                   "Maximum number of slashes in topic and topic filter", 7,
                                   "slashes", "PUBLISH disconnects, SUBSCRIBE refused" },
    [MQTT_LIMIT_PAYLOAD] = { MQTT_LIMIT_PAYLOAD, "Message size", 131072, "bytes",
                             "PUBLISH disconnects" },
    [MQTT_LIMIT_SUBSCRIPTIONS] = { MQTT_LIMIT_SUBSCRIPTIONS, "Subscriptions per connection", 50,
                                   "subscriptions", "SUBSCRIBE refused" },
    [MQTT_LIMIT_PUBLISH_RATE] = { MQTT_LIMIT_PUBLISH_RATE,
                                  "Publish requests per second per connection", 100,
                                  "requests per second",
                                  "PUBLISH dropped, with --publish-rate-limit" },
    [MQTT_LIMIT_THROUGHPUT] = { MQTT_LIMIT_THROUGHPUT, "Throughput per connection", 524288,
                                "bytes per second", "not applied" },
    [MQTT_LIMIT_SUBSCRIBE_FILTERS] = { MQTT_LIMIT_SUBSCRIBE_FILTERS,
                                       "Maximum subscriptions per subscribe request", 8,
                                       "topic filters", "not applied" },
};

const struct mqtt_limit_info *mqtt_limits_info(enum mqtt_limit limit)
{
    assert(limit > MQTT_LIMIT_NONE && limit < MQTT_LIMIT_COUNT);
    assert(limits[limit].limit == limit);
    return &limits[limit];
}

enum mqtt_limit mqtt_limits_client_id(size_t len)
{
    return len == 0 || len > limits[MQTT_LIMIT_CLIENT_ID].value ? MQTT_LIMIT_CLIENT_ID
                                                                : MQTT_LIMIT_NONE;
}

/* The length of a Basic Ingest prefix "$aws/rules/<rule-name>/" at the
 * start of topic, or 0 when there is none. */
static size_t basic_ingest_prefix(const char *topic, size_t len)
{
    static const char rules[] = "$aws/rules/";
    const size_t n = sizeof(rules) - 1;
    const char *end;

    if (len <= n || memcmp(topic, rules, n) != 0)
        return 0;
    end = memchr(topic + n, '/', len - n);
    return end && end > topic + n ? (size_t)(end - topic) + 1 : 0;
}

enum mqtt_limit mqtt_limits_topic(const char *topic, size_t len)
{
    size_t skip, i, slashes = 0;

    assert(topic || len == 0);
    skip = basic_ingest_prefix(topic, len);
    if (len - skip > limits[MQTT_LIMIT_TOPIC_SIZE].value)
        return MQTT_LIMIT_TOPIC_SIZE;
    for (i = skip; i < len; i++)
        slashes += topic[i] == '/';
    return slashes > limits[MQTT_LIMIT_TOPIC_SLASHES].value ? MQTT_LIMIT_TOPIC_SLASHES
                                                            : MQTT_LIMIT_NONE;
}

enum mqtt_limit mqtt_limits_payload(size_t len)
{
    return len > limits[MQTT_LIMIT_PAYLOAD].value ? MQTT_LIMIT_PAYLOAD : MQTT_LIMIT_NONE;
}

enum mqtt_limit mqtt_limits_publish_rate(struct mqtt_rate *r, int64_t now_ms, uint32_t limit,
                                         bool *first)
{
    int64_t second = now_ms / 1000;

    *first = false;
    if (second != r->second) {
        r->second = second;
        r->n = 0;
    }
    if (r->n < UINT32_MAX)
        r->n++;
    if (limit == 0 || r->n <= limit)
        return MQTT_LIMIT_NONE;
    *first = r->n == limit + 1;
    return MQTT_LIMIT_PUBLISH_RATE;
}
