/* SPDX-License-Identifier: MIT */
/* endpoint.h: the addresses DescribeEndpoint answers (aws-fidelity.md 6).
 *
 * iot:Data and iot:Data-ATS reach the emulator's MQTT/TLS listener when
 * there is one: its host alone when it listens on 8883, the port devices
 * use by default, and host:port otherwise. Without a listener, and always
 * for iot:CredentialProvider and iot:Jobs (which ddlocal does not serve),
 * the address is AWS's form: PREFIX-ats.iot.REGION.amazonaws.com,
 * PREFIX.iot..., PREFIX.credentials.iot..., PREFIX.jobs.iot...
 * (amazonaws.com.cn in the aws-cn partition), where PREFIX is 14
 * characters of [a-z0-9] that depend only on the account, the region and
 * whether the endpoint is a data, credentials or jobs one, so every call
 * answers the same, as AWS's do. Pure: any thread. */
#ifndef DD_CORE_ENDPOINT_H
#define DD_CORE_ENDPOINT_H

#include <stddef.h>

#define ENDPOINT_PREFIX_LEN  14
#define ENDPOINT_DEFAULT_TLS 8883 /* the port AWS's data endpoint and SDKs use */
#define ENDPOINT_ADDRESS_MAX 300

enum endpoint_type {
    ENDPOINT_DATA,        /* iot:Data (the legacy VeriSign endpoint) */
    ENDPOINT_DATA_ATS,    /* iot:Data-ATS */
    ENDPOINT_CREDENTIALS, /* iot:CredentialProvider */
    ENDPOINT_JOBS,        /* iot:Jobs */
};

/* The prefix of type's endpoints for account and region (borrowed) into
 * out. iot:Data and iot:Data-ATS share theirs, as on AWS. Cannot fail. */
void endpoint_prefix(enum endpoint_type type, const char *account, const char *region,
                     char out[ENDPOINT_PREFIX_LEN + 1]);

/* The address of type for account and region into buf (size bytes). For
 * the data types, tls_host (borrowed; NULL or "" when there is no TLS
 * listener) and tls_port name the listener; an IPv6 host with a port is
 * written [host]:port. DD_OK, or DD_ERR_TOO_LARGE (buf "") when it does
 * not fit. */
int endpoint_address(char *buf, size_t size, enum endpoint_type type, const char *account,
                     const char *region, const char *tls_host, unsigned tls_port);

#endif
