/* SPDX-License-Identifier: MIT */
/* test_report.c: metrics reports from AWS's own agent are accepted with the
 * values they carry, in JSON and CBOR alike; every validation rule has a
 * rejection row; replies are byte-exact; the CBOR decoder and encoder are
 * checked on their own; every allocation of a parse can fail cleanly.
 *
 * The agent_* fixtures are the captured payloads of the AWS IoT Device
 * Defender Agent SDK for Python (v1.1.1 JSON and CBOR, 2.0.0 JSON with a
 * custom metric), byte for byte; the *_cbor twins of JSON fixtures and the
 * CBOR replies were encoded by an independent CBOR encoder. The same files,
 * behind a format byte, seed tests/fuzz/corpus/fuzz_report/. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "core/cbor.h"
#include "core/error.h"
#include "core/report.h"
#include "tests/unit/alloc_fail.h"

static const char agent_111_json[] =
    "{\"header\":{\"report_id\":1795838042,\"version\":\"1.0\"},\"metrics\":{\"network_stats\":"
    "{\"bytes_in\":52,\"bytes_out\":52,\"packets_in\":1,\"packets_out\":1},\"tcp_connections\":"
    "{\"established_connections\":{\"connections\":[{\"remote_addr\":\"127.0.0.1:60236\",\"loca"
    "l_interface\":\"lo\",\"local_port\":43579},{\"remote_addr\":\"127.0.0.1:1883\",\"local_int"
    "erface\":\"lo\",\"local_port\":35261},{\"remote_addr\":\"127.0.0.1:43579\",\"local_interfa"
    "ce\":\"lo\",\"local_port\":60236},{\"remote_addr\":\"127.0.0.1:8883\",\"local_interface\":"
    "\"lo\",\"local_port\":57355},{\"remote_addr\":\"127.0.0.1:1883\",\"local_interface\":\"lo"
    "\",\"local_port\":57386},{\"remote_addr\":\"127.0.0.1:57355\",\"local_interface\":\"lo\","
    "\"local_port\":8883},{\"remote_addr\":\"127.0.0.1:57386\",\"local_interface\":\"lo\",\"loc"
    "al_port\":1883},{\"remote_addr\":\"127.0.0.1:35261\",\"local_interface\":\"lo\",\"local_po"
    "rt\":1883}],\"total\":8}},\"listening_tcp_ports\":{\"ports\":[{\"port\":8883,\"interface\""
    ":\"lo\"},{\"port\":1883,\"interface\":\"lo\"},{\"port\":18765,\"interface\":\"lo\"},{\"por"
    "t\":2024,\"interface\":\"0.0.0.0\"}],\"total\":4}}}";
static const uint8_t agent_111_cbor[] = {
    0xa2, 0x66, 0x68, 0x65, 0x61, 0x64, 0x65, 0x72, 0xa2, 0x69, 0x72, 0x65, 0x70, 0x6f, 0x72, 0x74,
    0x5f, 0x69, 0x64, 0x1a, 0x6b, 0x0a, 0x50, 0x6f, 0x67, 0x76, 0x65, 0x72, 0x73, 0x69, 0x6f, 0x6e,
    0x63, 0x31, 0x2e, 0x30, 0x67, 0x6d, 0x65, 0x74, 0x72, 0x69, 0x63, 0x73, 0xa3, 0x6d, 0x6e, 0x65,
    0x74, 0x77, 0x6f, 0x72, 0x6b, 0x5f, 0x73, 0x74, 0x61, 0x74, 0x73, 0xa4, 0x68, 0x62, 0x79, 0x74,
    0x65, 0x73, 0x5f, 0x69, 0x6e, 0x18, 0x34, 0x69, 0x62, 0x79, 0x74, 0x65, 0x73, 0x5f, 0x6f, 0x75,
    0x74, 0x18, 0x34, 0x6a, 0x70, 0x61, 0x63, 0x6b, 0x65, 0x74, 0x73, 0x5f, 0x69, 0x6e, 0x01, 0x6b,
    0x70, 0x61, 0x63, 0x6b, 0x65, 0x74, 0x73, 0x5f, 0x6f, 0x75, 0x74, 0x01, 0x6f, 0x74, 0x63, 0x70,
    0x5f, 0x63, 0x6f, 0x6e, 0x6e, 0x65, 0x63, 0x74, 0x69, 0x6f, 0x6e, 0x73, 0xa1, 0x77, 0x65, 0x73,
    0x74, 0x61, 0x62, 0x6c, 0x69, 0x73, 0x68, 0x65, 0x64, 0x5f, 0x63, 0x6f, 0x6e, 0x6e, 0x65, 0x63,
    0x74, 0x69, 0x6f, 0x6e, 0x73, 0xa2, 0x6b, 0x63, 0x6f, 0x6e, 0x6e, 0x65, 0x63, 0x74, 0x69, 0x6f,
    0x6e, 0x73, 0x88, 0xa3, 0x6b, 0x72, 0x65, 0x6d, 0x6f, 0x74, 0x65, 0x5f, 0x61, 0x64, 0x64, 0x72,
    0x6e, 0x31, 0x32, 0x37, 0x2e, 0x30, 0x2e, 0x30, 0x2e, 0x31, 0x3a, 0x38, 0x38, 0x38, 0x33, 0x6f,
    0x6c, 0x6f, 0x63, 0x61, 0x6c, 0x5f, 0x69, 0x6e, 0x74, 0x65, 0x72, 0x66, 0x61, 0x63, 0x65, 0x62,
    0x6c, 0x6f, 0x6a, 0x6c, 0x6f, 0x63, 0x61, 0x6c, 0x5f, 0x70, 0x6f, 0x72, 0x74, 0x19, 0xaa, 0x65,
    0xa3, 0x6b, 0x72, 0x65, 0x6d, 0x6f, 0x74, 0x65, 0x5f, 0x61, 0x64, 0x64, 0x72, 0x6e, 0x31, 0x32,
    0x37, 0x2e, 0x30, 0x2e, 0x30, 0x2e, 0x31, 0x3a, 0x31, 0x38, 0x38, 0x33, 0x6f, 0x6c, 0x6f, 0x63,
    0x61, 0x6c, 0x5f, 0x69, 0x6e, 0x74, 0x65, 0x72, 0x66, 0x61, 0x63, 0x65, 0x62, 0x6c, 0x6f, 0x6a,
    0x6c, 0x6f, 0x63, 0x61, 0x6c, 0x5f, 0x70, 0x6f, 0x72, 0x74, 0x19, 0x89, 0xbd, 0xa3, 0x6b, 0x72,
    0x65, 0x6d, 0x6f, 0x74, 0x65, 0x5f, 0x61, 0x64, 0x64, 0x72, 0x6f, 0x31, 0x32, 0x37, 0x2e, 0x30,
    0x2e, 0x30, 0x2e, 0x31, 0x3a, 0x34, 0x34, 0x38, 0x32, 0x31, 0x6f, 0x6c, 0x6f, 0x63, 0x61, 0x6c,
    0x5f, 0x69, 0x6e, 0x74, 0x65, 0x72, 0x66, 0x61, 0x63, 0x65, 0x62, 0x6c, 0x6f, 0x6a, 0x6c, 0x6f,
    0x63, 0x61, 0x6c, 0x5f, 0x70, 0x6f, 0x72, 0x74, 0x19, 0xb8, 0xb6, 0xa3, 0x6b, 0x72, 0x65, 0x6d,
    0x6f, 0x74, 0x65, 0x5f, 0x61, 0x64, 0x64, 0x72, 0x6f, 0x31, 0x32, 0x37, 0x2e, 0x30, 0x2e, 0x30,
    0x2e, 0x31, 0x3a, 0x34, 0x30, 0x38, 0x36, 0x30, 0x6f, 0x6c, 0x6f, 0x63, 0x61, 0x6c, 0x5f, 0x69,
    0x6e, 0x74, 0x65, 0x72, 0x66, 0x61, 0x63, 0x65, 0x62, 0x6c, 0x6f, 0x6a, 0x6c, 0x6f, 0x63, 0x61,
    0x6c, 0x5f, 0x70, 0x6f, 0x72, 0x74, 0x19, 0x07, 0x5b, 0xa3, 0x6b, 0x72, 0x65, 0x6d, 0x6f, 0x74,
    0x65, 0x5f, 0x61, 0x64, 0x64, 0x72, 0x6f, 0x31, 0x32, 0x37, 0x2e, 0x30, 0x2e, 0x30, 0x2e, 0x31,
    0x3a, 0x34, 0x37, 0x32, 0x38, 0x36, 0x6f, 0x6c, 0x6f, 0x63, 0x61, 0x6c, 0x5f, 0x69, 0x6e, 0x74,
    0x65, 0x72, 0x66, 0x61, 0x63, 0x65, 0x62, 0x6c, 0x6f, 0x6a, 0x6c, 0x6f, 0x63, 0x61, 0x6c, 0x5f,
    0x70, 0x6f, 0x72, 0x74, 0x19, 0xaf, 0x15, 0xa3, 0x6b, 0x72, 0x65, 0x6d, 0x6f, 0x74, 0x65, 0x5f,
    0x61, 0x64, 0x64, 0x72, 0x6e, 0x31, 0x32, 0x37, 0x2e, 0x30, 0x2e, 0x30, 0x2e, 0x31, 0x3a, 0x31,
    0x38, 0x38, 0x33, 0x6f, 0x6c, 0x6f, 0x63, 0x61, 0x6c, 0x5f, 0x69, 0x6e, 0x74, 0x65, 0x72, 0x66,
    0x61, 0x63, 0x65, 0x62, 0x6c, 0x6f, 0x6a, 0x6c, 0x6f, 0x63, 0x61, 0x6c, 0x5f, 0x70, 0x6f, 0x72,
    0x74, 0x19, 0x9f, 0x9c, 0xa3, 0x6b, 0x72, 0x65, 0x6d, 0x6f, 0x74, 0x65, 0x5f, 0x61, 0x64, 0x64,
    0x72, 0x6f, 0x31, 0x32, 0x37, 0x2e, 0x30, 0x2e, 0x30, 0x2e, 0x31, 0x3a, 0x33, 0x35, 0x32, 0x36,
    0x31, 0x6f, 0x6c, 0x6f, 0x63, 0x61, 0x6c, 0x5f, 0x69, 0x6e, 0x74, 0x65, 0x72, 0x66, 0x61, 0x63,
    0x65, 0x62, 0x6c, 0x6f, 0x6a, 0x6c, 0x6f, 0x63, 0x61, 0x6c, 0x5f, 0x70, 0x6f, 0x72, 0x74, 0x19,
    0x07, 0x5b, 0xa3, 0x6b, 0x72, 0x65, 0x6d, 0x6f, 0x74, 0x65, 0x5f, 0x61, 0x64, 0x64, 0x72, 0x6f,
    0x31, 0x32, 0x37, 0x2e, 0x30, 0x2e, 0x30, 0x2e, 0x31, 0x3a, 0x34, 0x33, 0x36, 0x32, 0x31, 0x6f,
    0x6c, 0x6f, 0x63, 0x61, 0x6c, 0x5f, 0x69, 0x6e, 0x74, 0x65, 0x72, 0x66, 0x61, 0x63, 0x65, 0x62,
    0x6c, 0x6f, 0x6a, 0x6c, 0x6f, 0x63, 0x61, 0x6c, 0x5f, 0x70, 0x6f, 0x72, 0x74, 0x19, 0x22, 0xb3,
    0x65, 0x74, 0x6f, 0x74, 0x61, 0x6c, 0x08, 0x73, 0x6c, 0x69, 0x73, 0x74, 0x65, 0x6e, 0x69, 0x6e,
    0x67, 0x5f, 0x74, 0x63, 0x70, 0x5f, 0x70, 0x6f, 0x72, 0x74, 0x73, 0xa2, 0x65, 0x70, 0x6f, 0x72,
    0x74, 0x73, 0x84, 0xa2, 0x64, 0x70, 0x6f, 0x72, 0x74, 0x19, 0x07, 0xe8, 0x69, 0x69, 0x6e, 0x74,
    0x65, 0x72, 0x66, 0x61, 0x63, 0x65, 0x67, 0x30, 0x2e, 0x30, 0x2e, 0x30, 0x2e, 0x30, 0xa2, 0x64,
    0x70, 0x6f, 0x72, 0x74, 0x19, 0x22, 0xb3, 0x69, 0x69, 0x6e, 0x74, 0x65, 0x72, 0x66, 0x61, 0x63,
    0x65, 0x62, 0x6c, 0x6f, 0xa2, 0x64, 0x70, 0x6f, 0x72, 0x74, 0x19, 0x49, 0x4d, 0x69, 0x69, 0x6e,
    0x74, 0x65, 0x72, 0x66, 0x61, 0x63, 0x65, 0x62, 0x6c, 0x6f, 0xa2, 0x64, 0x70, 0x6f, 0x72, 0x74,
    0x19, 0x07, 0x5b, 0x69, 0x69, 0x6e, 0x74, 0x65, 0x72, 0x66, 0x61, 0x63, 0x65, 0x62, 0x6c, 0x6f,
    0x65, 0x74, 0x6f, 0x74, 0x61, 0x6c, 0x04,
};
static const char agent_200_json[] =
    "{\"header\":{\"report_id\":1795838101,\"version\":\"1.0\"},\"metrics\":{\"network_stats\":"
    "{\"bytes_in\":52,\"bytes_out\":52,\"packets_in\":1,\"packets_out\":1},\"tcp_connections\":"
    "{\"established_connections\":{\"connections\":[{\"remote_addr\":\"127.0.0.1:43970\",\"loca"
    "l_interface\":\"lo\",\"local_port\":11883},{\"remote_addr\":\"127.0.0.1:1883\",\"local_int"
    "erface\":\"lo\",\"local_port\":48294},{\"remote_addr\":\"127.0.0.1:1883\",\"local_interfac"
    "e\":\"lo\",\"local_port\":35261},{\"remote_addr\":\"127.0.0.1:49694\",\"local_interface\":"
    "\"lo\",\"local_port\":443},{\"remote_addr\":\"127.0.0.1:11883\",\"local_interface\":\"lo\""
    ",\"local_port\":43970},{\"remote_addr\":\"127.0.0.1:35261\",\"local_interface\":\"lo\",\"l"
    "ocal_port\":1883},{\"remote_addr\":\"127.0.0.1:48294\",\"local_interface\":\"lo\",\"local_"
    "port\":1883},{\"remote_addr\":\"127.0.0.1:443\",\"local_interface\":\"lo\",\"local_port\":"
    "49694}],\"total\":8}},\"listening_tcp_ports\":{\"ports\":[{\"port\":18765,\"interface\":\""
    "lo\"},{\"port\":1883,\"interface\":\"lo\"},{\"port\":11883,\"interface\":\"lo\"},{\"port\""
    ":8883,\"interface\":\"lo\"},{\"port\":2024,\"interface\":\"0.0.0.0\"},{\"port\":443,\"inte"
    "rface\":\"lo\"}],\"total\":6}},\"custom_metrics\":{\"cpu_usage\":[{\"number\":0.3}]}}";
static const uint8_t agent_200_cbor[] = {
    0xa3, 0x66, 0x68, 0x65, 0x61, 0x64, 0x65, 0x72, 0xa2, 0x69, 0x72, 0x65, 0x70, 0x6f, 0x72, 0x74,
    0x5f, 0x69, 0x64, 0x1a, 0x6b, 0x0a, 0x50, 0x95, 0x67, 0x76, 0x65, 0x72, 0x73, 0x69, 0x6f, 0x6e,
    0x63, 0x31, 0x2e, 0x30, 0x67, 0x6d, 0x65, 0x74, 0x72, 0x69, 0x63, 0x73, 0xa3, 0x6d, 0x6e, 0x65,
    0x74, 0x77, 0x6f, 0x72, 0x6b, 0x5f, 0x73, 0x74, 0x61, 0x74, 0x73, 0xa4, 0x68, 0x62, 0x79, 0x74,
    0x65, 0x73, 0x5f, 0x69, 0x6e, 0x18, 0x34, 0x69, 0x62, 0x79, 0x74, 0x65, 0x73, 0x5f, 0x6f, 0x75,
    0x74, 0x18, 0x34, 0x6a, 0x70, 0x61, 0x63, 0x6b, 0x65, 0x74, 0x73, 0x5f, 0x69, 0x6e, 0x01, 0x6b,
    0x70, 0x61, 0x63, 0x6b, 0x65, 0x74, 0x73, 0x5f, 0x6f, 0x75, 0x74, 0x01, 0x6f, 0x74, 0x63, 0x70,
    0x5f, 0x63, 0x6f, 0x6e, 0x6e, 0x65, 0x63, 0x74, 0x69, 0x6f, 0x6e, 0x73, 0xa1, 0x77, 0x65, 0x73,
    0x74, 0x61, 0x62, 0x6c, 0x69, 0x73, 0x68, 0x65, 0x64, 0x5f, 0x63, 0x6f, 0x6e, 0x6e, 0x65, 0x63,
    0x74, 0x69, 0x6f, 0x6e, 0x73, 0xa2, 0x6b, 0x63, 0x6f, 0x6e, 0x6e, 0x65, 0x63, 0x74, 0x69, 0x6f,
    0x6e, 0x73, 0x88, 0xa3, 0x6b, 0x72, 0x65, 0x6d, 0x6f, 0x74, 0x65, 0x5f, 0x61, 0x64, 0x64, 0x72,
    0x6f, 0x31, 0x32, 0x37, 0x2e, 0x30, 0x2e, 0x30, 0x2e, 0x31, 0x3a, 0x34, 0x33, 0x39, 0x37, 0x30,
    0x6f, 0x6c, 0x6f, 0x63, 0x61, 0x6c, 0x5f, 0x69, 0x6e, 0x74, 0x65, 0x72, 0x66, 0x61, 0x63, 0x65,
    0x62, 0x6c, 0x6f, 0x6a, 0x6c, 0x6f, 0x63, 0x61, 0x6c, 0x5f, 0x70, 0x6f, 0x72, 0x74, 0x19, 0x2e,
    0x6b, 0xa3, 0x6b, 0x72, 0x65, 0x6d, 0x6f, 0x74, 0x65, 0x5f, 0x61, 0x64, 0x64, 0x72, 0x6e, 0x31,
    0x32, 0x37, 0x2e, 0x30, 0x2e, 0x30, 0x2e, 0x31, 0x3a, 0x31, 0x38, 0x38, 0x33, 0x6f, 0x6c, 0x6f,
    0x63, 0x61, 0x6c, 0x5f, 0x69, 0x6e, 0x74, 0x65, 0x72, 0x66, 0x61, 0x63, 0x65, 0x62, 0x6c, 0x6f,
    0x6a, 0x6c, 0x6f, 0x63, 0x61, 0x6c, 0x5f, 0x70, 0x6f, 0x72, 0x74, 0x19, 0xbc, 0xa6, 0xa3, 0x6b,
    0x72, 0x65, 0x6d, 0x6f, 0x74, 0x65, 0x5f, 0x61, 0x64, 0x64, 0x72, 0x6e, 0x31, 0x32, 0x37, 0x2e,
    0x30, 0x2e, 0x30, 0x2e, 0x31, 0x3a, 0x31, 0x38, 0x38, 0x33, 0x6f, 0x6c, 0x6f, 0x63, 0x61, 0x6c,
    0x5f, 0x69, 0x6e, 0x74, 0x65, 0x72, 0x66, 0x61, 0x63, 0x65, 0x62, 0x6c, 0x6f, 0x6a, 0x6c, 0x6f,
    0x63, 0x61, 0x6c, 0x5f, 0x70, 0x6f, 0x72, 0x74, 0x19, 0x89, 0xbd, 0xa3, 0x6b, 0x72, 0x65, 0x6d,
    0x6f, 0x74, 0x65, 0x5f, 0x61, 0x64, 0x64, 0x72, 0x6f, 0x31, 0x32, 0x37, 0x2e, 0x30, 0x2e, 0x30,
    0x2e, 0x31, 0x3a, 0x34, 0x39, 0x36, 0x39, 0x34, 0x6f, 0x6c, 0x6f, 0x63, 0x61, 0x6c, 0x5f, 0x69,
    0x6e, 0x74, 0x65, 0x72, 0x66, 0x61, 0x63, 0x65, 0x62, 0x6c, 0x6f, 0x6a, 0x6c, 0x6f, 0x63, 0x61,
    0x6c, 0x5f, 0x70, 0x6f, 0x72, 0x74, 0x19, 0x01, 0xbb, 0xa3, 0x6b, 0x72, 0x65, 0x6d, 0x6f, 0x74,
    0x65, 0x5f, 0x61, 0x64, 0x64, 0x72, 0x6f, 0x31, 0x32, 0x37, 0x2e, 0x30, 0x2e, 0x30, 0x2e, 0x31,
    0x3a, 0x31, 0x31, 0x38, 0x38, 0x33, 0x6f, 0x6c, 0x6f, 0x63, 0x61, 0x6c, 0x5f, 0x69, 0x6e, 0x74,
    0x65, 0x72, 0x66, 0x61, 0x63, 0x65, 0x62, 0x6c, 0x6f, 0x6a, 0x6c, 0x6f, 0x63, 0x61, 0x6c, 0x5f,
    0x70, 0x6f, 0x72, 0x74, 0x19, 0xab, 0xc2, 0xa3, 0x6b, 0x72, 0x65, 0x6d, 0x6f, 0x74, 0x65, 0x5f,
    0x61, 0x64, 0x64, 0x72, 0x6f, 0x31, 0x32, 0x37, 0x2e, 0x30, 0x2e, 0x30, 0x2e, 0x31, 0x3a, 0x33,
    0x35, 0x32, 0x36, 0x31, 0x6f, 0x6c, 0x6f, 0x63, 0x61, 0x6c, 0x5f, 0x69, 0x6e, 0x74, 0x65, 0x72,
    0x66, 0x61, 0x63, 0x65, 0x62, 0x6c, 0x6f, 0x6a, 0x6c, 0x6f, 0x63, 0x61, 0x6c, 0x5f, 0x70, 0x6f,
    0x72, 0x74, 0x19, 0x07, 0x5b, 0xa3, 0x6b, 0x72, 0x65, 0x6d, 0x6f, 0x74, 0x65, 0x5f, 0x61, 0x64,
    0x64, 0x72, 0x6f, 0x31, 0x32, 0x37, 0x2e, 0x30, 0x2e, 0x30, 0x2e, 0x31, 0x3a, 0x34, 0x38, 0x32,
    0x39, 0x34, 0x6f, 0x6c, 0x6f, 0x63, 0x61, 0x6c, 0x5f, 0x69, 0x6e, 0x74, 0x65, 0x72, 0x66, 0x61,
    0x63, 0x65, 0x62, 0x6c, 0x6f, 0x6a, 0x6c, 0x6f, 0x63, 0x61, 0x6c, 0x5f, 0x70, 0x6f, 0x72, 0x74,
    0x19, 0x07, 0x5b, 0xa3, 0x6b, 0x72, 0x65, 0x6d, 0x6f, 0x74, 0x65, 0x5f, 0x61, 0x64, 0x64, 0x72,
    0x6d, 0x31, 0x32, 0x37, 0x2e, 0x30, 0x2e, 0x30, 0x2e, 0x31, 0x3a, 0x34, 0x34, 0x33, 0x6f, 0x6c,
    0x6f, 0x63, 0x61, 0x6c, 0x5f, 0x69, 0x6e, 0x74, 0x65, 0x72, 0x66, 0x61, 0x63, 0x65, 0x62, 0x6c,
    0x6f, 0x6a, 0x6c, 0x6f, 0x63, 0x61, 0x6c, 0x5f, 0x70, 0x6f, 0x72, 0x74, 0x19, 0xc2, 0x1e, 0x65,
    0x74, 0x6f, 0x74, 0x61, 0x6c, 0x08, 0x73, 0x6c, 0x69, 0x73, 0x74, 0x65, 0x6e, 0x69, 0x6e, 0x67,
    0x5f, 0x74, 0x63, 0x70, 0x5f, 0x70, 0x6f, 0x72, 0x74, 0x73, 0xa2, 0x65, 0x70, 0x6f, 0x72, 0x74,
    0x73, 0x86, 0xa2, 0x64, 0x70, 0x6f, 0x72, 0x74, 0x19, 0x49, 0x4d, 0x69, 0x69, 0x6e, 0x74, 0x65,
    0x72, 0x66, 0x61, 0x63, 0x65, 0x62, 0x6c, 0x6f, 0xa2, 0x64, 0x70, 0x6f, 0x72, 0x74, 0x19, 0x07,
    0x5b, 0x69, 0x69, 0x6e, 0x74, 0x65, 0x72, 0x66, 0x61, 0x63, 0x65, 0x62, 0x6c, 0x6f, 0xa2, 0x64,
    0x70, 0x6f, 0x72, 0x74, 0x19, 0x2e, 0x6b, 0x69, 0x69, 0x6e, 0x74, 0x65, 0x72, 0x66, 0x61, 0x63,
    0x65, 0x62, 0x6c, 0x6f, 0xa2, 0x64, 0x70, 0x6f, 0x72, 0x74, 0x19, 0x22, 0xb3, 0x69, 0x69, 0x6e,
    0x74, 0x65, 0x72, 0x66, 0x61, 0x63, 0x65, 0x62, 0x6c, 0x6f, 0xa2, 0x64, 0x70, 0x6f, 0x72, 0x74,
    0x19, 0x07, 0xe8, 0x69, 0x69, 0x6e, 0x74, 0x65, 0x72, 0x66, 0x61, 0x63, 0x65, 0x67, 0x30, 0x2e,
    0x30, 0x2e, 0x30, 0x2e, 0x30, 0xa2, 0x64, 0x70, 0x6f, 0x72, 0x74, 0x19, 0x01, 0xbb, 0x69, 0x69,
    0x6e, 0x74, 0x65, 0x72, 0x66, 0x61, 0x63, 0x65, 0x62, 0x6c, 0x6f, 0x65, 0x74, 0x6f, 0x74, 0x61,
    0x6c, 0x06, 0x6e, 0x63, 0x75, 0x73, 0x74, 0x6f, 0x6d, 0x5f, 0x6d, 0x65, 0x74, 0x72, 0x69, 0x63,
    0x73, 0xa1, 0x69, 0x63, 0x70, 0x75, 0x5f, 0x75, 0x73, 0x61, 0x67, 0x65, 0x81, 0xa1, 0x66, 0x6e,
    0x75, 0x6d, 0x62, 0x65, 0x72, 0xfb, 0x3f, 0xd3, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33,
};
static const char lists_json[] =
    "{\"header\":{\"report_id\":1717171717123,\"version\":\"1.0\"},\"metrics\":{\"listening_udp"
    "_ports\":{\"ports\":[{\"port\":53,\"interface\":\"eth0\"},{\"port\":5353}],\"total\":2},\""
    "tcp_connections\":{\"established_connections\":{\"connections\":[{\"remote_addr\":\"[2001:"
    "db8::7]:8883\",\"local_port\":51514,\"local_interface\":\"eth0\"},{\"remote_addr\":\"198.5"
    "1.100.7:443\"}],\"total\":5}}},\"custom_metrics\":{\"temps\":[{\"number_list\":[21.5,-3,10"
    "000000000]}],\"tasks\":[{\"string_list\":[\"idle\",\"net/rx:1\",\"a_b-c.d\"]}],\"peers\":["
    "{\"ip_list\":[\"203.0.113.9\",\"2001:db8::1\"]}],\"fan_rpm\":[{\"number\":1800}]}}";
static const uint8_t lists_cbor[] = {
    0xa3, 0x66, 0x68, 0x65, 0x61, 0x64, 0x65, 0x72, 0xa2, 0x69, 0x72, 0x65, 0x70, 0x6f, 0x72, 0x74,
    0x5f, 0x69, 0x64, 0x1b, 0x00, 0x00, 0x01, 0x8f, 0xcf, 0x69, 0x04, 0x03, 0x67, 0x76, 0x65, 0x72,
    0x73, 0x69, 0x6f, 0x6e, 0x63, 0x31, 0x2e, 0x30, 0x67, 0x6d, 0x65, 0x74, 0x72, 0x69, 0x63, 0x73,
    0xa2, 0x73, 0x6c, 0x69, 0x73, 0x74, 0x65, 0x6e, 0x69, 0x6e, 0x67, 0x5f, 0x75, 0x64, 0x70, 0x5f,
    0x70, 0x6f, 0x72, 0x74, 0x73, 0xa2, 0x65, 0x70, 0x6f, 0x72, 0x74, 0x73, 0x82, 0xa2, 0x64, 0x70,
    0x6f, 0x72, 0x74, 0x18, 0x35, 0x69, 0x69, 0x6e, 0x74, 0x65, 0x72, 0x66, 0x61, 0x63, 0x65, 0x64,
    0x65, 0x74, 0x68, 0x30, 0xa1, 0x64, 0x70, 0x6f, 0x72, 0x74, 0x19, 0x14, 0xe9, 0x65, 0x74, 0x6f,
    0x74, 0x61, 0x6c, 0x02, 0x6f, 0x74, 0x63, 0x70, 0x5f, 0x63, 0x6f, 0x6e, 0x6e, 0x65, 0x63, 0x74,
    0x69, 0x6f, 0x6e, 0x73, 0xa1, 0x77, 0x65, 0x73, 0x74, 0x61, 0x62, 0x6c, 0x69, 0x73, 0x68, 0x65,
    0x64, 0x5f, 0x63, 0x6f, 0x6e, 0x6e, 0x65, 0x63, 0x74, 0x69, 0x6f, 0x6e, 0x73, 0xa2, 0x6b, 0x63,
    0x6f, 0x6e, 0x6e, 0x65, 0x63, 0x74, 0x69, 0x6f, 0x6e, 0x73, 0x82, 0xa3, 0x6b, 0x72, 0x65, 0x6d,
    0x6f, 0x74, 0x65, 0x5f, 0x61, 0x64, 0x64, 0x72, 0x72, 0x5b, 0x32, 0x30, 0x30, 0x31, 0x3a, 0x64,
    0x62, 0x38, 0x3a, 0x3a, 0x37, 0x5d, 0x3a, 0x38, 0x38, 0x38, 0x33, 0x6a, 0x6c, 0x6f, 0x63, 0x61,
    0x6c, 0x5f, 0x70, 0x6f, 0x72, 0x74, 0x19, 0xc9, 0x3a, 0x6f, 0x6c, 0x6f, 0x63, 0x61, 0x6c, 0x5f,
    0x69, 0x6e, 0x74, 0x65, 0x72, 0x66, 0x61, 0x63, 0x65, 0x64, 0x65, 0x74, 0x68, 0x30, 0xa1, 0x6b,
    0x72, 0x65, 0x6d, 0x6f, 0x74, 0x65, 0x5f, 0x61, 0x64, 0x64, 0x72, 0x70, 0x31, 0x39, 0x38, 0x2e,
    0x35, 0x31, 0x2e, 0x31, 0x30, 0x30, 0x2e, 0x37, 0x3a, 0x34, 0x34, 0x33, 0x65, 0x74, 0x6f, 0x74,
    0x61, 0x6c, 0x05, 0x6e, 0x63, 0x75, 0x73, 0x74, 0x6f, 0x6d, 0x5f, 0x6d, 0x65, 0x74, 0x72, 0x69,
    0x63, 0x73, 0xa4, 0x65, 0x74, 0x65, 0x6d, 0x70, 0x73, 0x81, 0xa1, 0x6b, 0x6e, 0x75, 0x6d, 0x62,
    0x65, 0x72, 0x5f, 0x6c, 0x69, 0x73, 0x74, 0x83, 0xfb, 0x40, 0x35, 0x80, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x22, 0x1b, 0x00, 0x00, 0x00, 0x02, 0x54, 0x0b, 0xe4, 0x00, 0x65, 0x74, 0x61, 0x73, 0x6b,
    0x73, 0x81, 0xa1, 0x6b, 0x73, 0x74, 0x72, 0x69, 0x6e, 0x67, 0x5f, 0x6c, 0x69, 0x73, 0x74, 0x83,
    0x64, 0x69, 0x64, 0x6c, 0x65, 0x68, 0x6e, 0x65, 0x74, 0x2f, 0x72, 0x78, 0x3a, 0x31, 0x67, 0x61,
    0x5f, 0x62, 0x2d, 0x63, 0x2e, 0x64, 0x65, 0x70, 0x65, 0x65, 0x72, 0x73, 0x81, 0xa1, 0x67, 0x69,
    0x70, 0x5f, 0x6c, 0x69, 0x73, 0x74, 0x82, 0x6b, 0x32, 0x30, 0x33, 0x2e, 0x30, 0x2e, 0x31, 0x31,
    0x33, 0x2e, 0x39, 0x6b, 0x32, 0x30, 0x30, 0x31, 0x3a, 0x64, 0x62, 0x38, 0x3a, 0x3a, 0x31, 0x67,
    0x66, 0x61, 0x6e, 0x5f, 0x72, 0x70, 0x6d, 0x81, 0xa1, 0x66, 0x6e, 0x75, 0x6d, 0x62, 0x65, 0x72,
    0x19, 0x07, 0x08,
};
static const char short_json[] =
    "{\"hed\":{\"rid\":1717171717,\"v\":\"1.0\"},\"met\":{\"tp\":{\"pts\":[{\"pt\":8883,\"if\":"
    "\"eth0\"}],\"t\":1},\"ns\":{\"bi\":5120,\"bo\":2048,\"pi\":40,\"po\":31},\"tc\":{\"ec\":{"
    "\"cs\":[{\"rad\":\"198.51.100.7:8883\",\"lp\":51514}],\"t\":1}}},\"cmet\":{\"fan_rpm\":[{"
    "\"number\":1800}]}}";
static const uint8_t short_cbor[] = {
    0xa3, 0x63, 0x68, 0x65, 0x64, 0xa2, 0x63, 0x72, 0x69, 0x64, 0x1a, 0x66, 0x59, 0xf6, 0x05,
    0x61, 0x76, 0x63, 0x31, 0x2e, 0x30, 0x63, 0x6d, 0x65, 0x74, 0xa3, 0x62, 0x74, 0x70, 0xa2,
    0x63, 0x70, 0x74, 0x73, 0x81, 0xa2, 0x62, 0x70, 0x74, 0x19, 0x22, 0xb3, 0x62, 0x69, 0x66,
    0x64, 0x65, 0x74, 0x68, 0x30, 0x61, 0x74, 0x01, 0x62, 0x6e, 0x73, 0xa4, 0x62, 0x62, 0x69,
    0x19, 0x14, 0x00, 0x62, 0x62, 0x6f, 0x19, 0x08, 0x00, 0x62, 0x70, 0x69, 0x18, 0x28, 0x62,
    0x70, 0x6f, 0x18, 0x1f, 0x62, 0x74, 0x63, 0xa1, 0x62, 0x65, 0x63, 0xa2, 0x62, 0x63, 0x73,
    0x81, 0xa2, 0x63, 0x72, 0x61, 0x64, 0x71, 0x31, 0x39, 0x38, 0x2e, 0x35, 0x31, 0x2e, 0x31,
    0x30, 0x30, 0x2e, 0x37, 0x3a, 0x38, 0x38, 0x38, 0x33, 0x62, 0x6c, 0x70, 0x19, 0xc9, 0x3a,
    0x61, 0x74, 0x01, 0x64, 0x63, 0x6d, 0x65, 0x74, 0xa1, 0x67, 0x66, 0x61, 0x6e, 0x5f, 0x72,
    0x70, 0x6d, 0x81, 0xa1, 0x66, 0x6e, 0x75, 0x6d, 0x62, 0x65, 0x72, 0x19, 0x07, 0x08,
};
static const uint8_t accepted_cbor[] = {
    0xa4, 0x69, 0x74, 0x68, 0x69, 0x6e, 0x67, 0x4e, 0x61, 0x6d, 0x65, 0x67, 0x70, 0x75,
    0x6d, 0x70, 0x2d, 0x30, 0x37, 0x68, 0x72, 0x65, 0x70, 0x6f, 0x72, 0x74, 0x49, 0x64,
    0x1a, 0x66, 0x59, 0xf6, 0x05, 0x66, 0x73, 0x74, 0x61, 0x74, 0x75, 0x73, 0x68, 0x41,
    0x43, 0x43, 0x45, 0x50, 0x54, 0x45, 0x44, 0x69, 0x74, 0x69, 0x6d, 0x65, 0x73, 0x74,
    0x61, 0x6d, 0x70, 0x1b, 0x00, 0x00, 0x01, 0x8f, 0xcf, 0x69, 0x07, 0xeb,
};
static const uint8_t rejected_cbor[] = {
    0xa5, 0x69, 0x74, 0x68, 0x69, 0x6e, 0x67, 0x4e, 0x61, 0x6d, 0x65, 0x67, 0x70, 0x75, 0x6d,
    0x70, 0x2d, 0x30, 0x37, 0x68, 0x72, 0x65, 0x70, 0x6f, 0x72, 0x74, 0x49, 0x64, 0x1a, 0x66,
    0x59, 0xf6, 0x05, 0x66, 0x73, 0x74, 0x61, 0x74, 0x75, 0x73, 0x68, 0x52, 0x45, 0x4a, 0x45,
    0x43, 0x54, 0x45, 0x44, 0x6d, 0x73, 0x74, 0x61, 0x74, 0x75, 0x73, 0x44, 0x65, 0x74, 0x61,
    0x69, 0x6c, 0x73, 0xa2, 0x69, 0x45, 0x72, 0x72, 0x6f, 0x72, 0x43, 0x6f, 0x64, 0x65, 0x6e,
    0x49, 0x6e, 0x76, 0x61, 0x6c, 0x69, 0x64, 0x50, 0x61, 0x79, 0x6c, 0x6f, 0x61, 0x64, 0x6c,
    0x45, 0x72, 0x72, 0x6f, 0x72, 0x4d, 0x65, 0x73, 0x73, 0x61, 0x67, 0x65, 0x78, 0x18, 0x4d,
    0x61, 0x6c, 0x66, 0x6f, 0x72, 0x6d, 0x65, 0x64, 0x20, 0x6d, 0x65, 0x74, 0x72, 0x69, 0x63,
    0x73, 0x20, 0x72, 0x65, 0x70, 0x6f, 0x72, 0x74, 0x69, 0x74, 0x69, 0x6d, 0x65, 0x73, 0x74,
    0x61, 0x6d, 0x70, 0x1b, 0x00, 0x00, 0x01, 0x8f, 0xcf, 0x69, 0x07, 0xeb,
};
static const uint8_t rejected_noid_cbor[] = {
    0xa4, 0x69, 0x74, 0x68, 0x69, 0x6e, 0x67, 0x4e, 0x61, 0x6d, 0x65, 0x67, 0x70, 0x75, 0x6d, 0x70,
    0x2d, 0x30, 0x37, 0x66, 0x73, 0x74, 0x61, 0x74, 0x75, 0x73, 0x68, 0x52, 0x45, 0x4a, 0x45, 0x43,
    0x54, 0x45, 0x44, 0x6d, 0x73, 0x74, 0x61, 0x74, 0x75, 0x73, 0x44, 0x65, 0x74, 0x61, 0x69, 0x6c,
    0x73, 0xa2, 0x69, 0x45, 0x72, 0x72, 0x6f, 0x72, 0x43, 0x6f, 0x64, 0x65, 0x6e, 0x49, 0x6e, 0x76,
    0x61, 0x6c, 0x69, 0x64, 0x50, 0x61, 0x79, 0x6c, 0x6f, 0x61, 0x64, 0x6c, 0x45, 0x72, 0x72, 0x6f,
    0x72, 0x4d, 0x65, 0x73, 0x73, 0x61, 0x67, 0x65, 0x78, 0x18, 0x4d, 0x61, 0x6c, 0x66, 0x6f, 0x72,
    0x6d, 0x65, 0x64, 0x20, 0x6d, 0x65, 0x74, 0x72, 0x69, 0x63, 0x73, 0x20, 0x72, 0x65, 0x70, 0x6f,
    0x72, 0x74, 0x69, 0x74, 0x69, 0x6d, 0x65, 0x73, 0x74, 0x61, 0x6d, 0x70, 0x20,
};

#define JSON_IN(s) REPORT_JSON, (const uint8_t *)(s), sizeof(s) - 1
#define CBOR_IN(a) REPORT_CBOR, (a), sizeof(a)

static struct report *parse_ok(enum report_format fmt, const void *data, size_t len)
{
    struct report_error err;
    struct report *r = NULL;
    int rc = report_parse(data, len, fmt, &r, &err);

    if (rc != DD_OK)
        fail_msg("rejected (%d): %s", rc, err.detail.msg);
    assert_non_null(r);
    return r;
}

static void check_ports(const struct report_ports *p, const uint16_t *want, size_t n, int64_t total)
{
    assert_int_equal(p->n_ports, n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(p->ports[i], want[i]);
    assert_int_equal(p->total, total);
}

static void check_conns(const struct report_connections *c, const char *const *ips,
                        const uint16_t *ports, size_t n, int64_t total)
{
    assert_int_equal(c->n_items, n);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(c->items[i].remote_ip, ips[i]);
        assert_int_equal(c->items[i].remote_port, ports[i]);
    }
    assert_int_equal(c->total, total);
}

static void check_stats(const struct report *r, int64_t bi, int64_t bo, int64_t pi, int64_t po)
{
    assert_true(r->blocks & REPORT_HAS_NETWORK_STATS);
    assert_int_equal(r->network_stats.present, REPORT_STAT_BYTES_IN | REPORT_STAT_BYTES_OUT |
                                                   REPORT_STAT_PACKETS_IN |
                                                   REPORT_STAT_PACKETS_OUT);
    assert_int_equal(r->network_stats.bytes_in, bi);
    assert_int_equal(r->network_stats.bytes_out, bo);
    assert_int_equal(r->network_stats.packets_in, pi);
    assert_int_equal(r->network_stats.packets_out, po);
}

static const char *const loopback8[] = { "127.0.0.1", "127.0.0.1", "127.0.0.1", "127.0.0.1",
                                         "127.0.0.1", "127.0.0.1", "127.0.0.1", "127.0.0.1" };

static void test_agent_111_json(void **state)
{
    static const uint16_t conn_ports[] = { 60236, 1883, 43579, 8883, 1883, 57355, 57386, 35261 };
    static const uint16_t tcp[] = { 8883, 1883, 18765, 2024 };
    struct report *r = parse_ok(JSON_IN(agent_111_json));

    (void)state;
    assert_int_equal(r->report_id, 1795838042);
    assert_string_equal(r->version, "1.0");
    assert_false(r->short_names);
    assert_int_equal(r->blocks, REPORT_HAS_METRICS | REPORT_HAS_NETWORK_STATS |
                                    REPORT_HAS_TCP_PORTS | REPORT_HAS_CONNECTIONS);
    check_stats(r, 52, 52, 1, 1);
    check_conns(&r->connections, loopback8, conn_ports, 8, 8);
    assert_true(r->connections.total_present);
    check_ports(&r->tcp_ports, tcp, 4, 4);
    assert_int_equal(r->udp_ports.n_ports, 0);
    assert_int_equal(r->n_custom, 0);
    report_free(r);
}

static void test_agent_111_cbor(void **state)
{
    static const uint16_t conn_ports[] = { 8883, 1883, 44821, 40860, 47286, 1883, 35261, 43621 };
    static const uint16_t tcp[] = { 2024, 8883, 18765, 1883 };
    struct report *r = parse_ok(CBOR_IN(agent_111_cbor));

    (void)state;
    assert_int_equal(r->report_id, 1795838063);
    assert_string_equal(r->version, "1.0");
    assert_int_equal(r->blocks, REPORT_HAS_METRICS | REPORT_HAS_NETWORK_STATS |
                                    REPORT_HAS_TCP_PORTS | REPORT_HAS_CONNECTIONS);
    check_stats(r, 52, 52, 1, 1);
    check_conns(&r->connections, loopback8, conn_ports, 8, 8);
    check_ports(&r->tcp_ports, tcp, 4, 4);
    report_free(r);
}

static void test_agent_200_json(void **state)
{
    static const uint16_t conn_ports[] = { 43970, 1883, 1883, 49694, 11883, 35261, 48294, 443 };
    static const uint16_t tcp[] = { 18765, 1883, 11883, 8883, 2024, 443 };
    struct report *r = parse_ok(JSON_IN(agent_200_json));

    (void)state;
    assert_int_equal(r->report_id, 1795838101);
    assert_int_equal(r->blocks, REPORT_HAS_METRICS | REPORT_HAS_CUSTOM | REPORT_HAS_NETWORK_STATS |
                                    REPORT_HAS_TCP_PORTS | REPORT_HAS_CONNECTIONS);
    check_stats(r, 52, 52, 1, 1);
    check_conns(&r->connections, loopback8, conn_ports, 8, 8);
    check_ports(&r->tcp_ports, tcp, 6, 6);
    assert_int_equal(r->n_custom, 1);
    assert_string_equal(r->custom[0].name, "cpu_usage");
    assert_int_equal(r->custom[0].kind, REPORT_CUSTOM_NUMBER);
    assert_int_equal(r->custom[0].n_values, 1);
    assert_true(r->custom[0].numbers[0] == 0.3);
    assert_null(r->custom[0].strings);
    report_free(r);
}

static void test_custom_lists(void **state)
{
    static const uint16_t udp[] = { 53, 5353 };
    static const char *const ips[] = { "2001:db8::7", "198.51.100.7" };
    static const uint16_t conn_ports[] = { 8883, 443 };
    struct report *r = parse_ok(JSON_IN(lists_json));
    const struct report_custom *c = r->custom;

    (void)state;
    assert_int_equal(r->report_id, 1717171717123);
    assert_int_equal(r->blocks, REPORT_HAS_METRICS | REPORT_HAS_CUSTOM | REPORT_HAS_UDP_PORTS |
                                    REPORT_HAS_CONNECTIONS);
    assert_int_equal(r->network_stats.present, 0);
    check_ports(&r->udp_ports, udp, 2, 2);
    check_conns(&r->connections, ips, conn_ports, 2, 5);
    assert_int_equal(r->n_custom, 4);
    assert_string_equal(c[0].name, "temps");
    assert_int_equal(c[0].kind, REPORT_CUSTOM_NUMBER_LIST);
    assert_int_equal(c[0].n_values, 3);
    assert_true(c[0].numbers[0] == 21.5 && c[0].numbers[1] == -3 && c[0].numbers[2] == 1e10);
    assert_string_equal(c[1].name, "tasks");
    assert_int_equal(c[1].kind, REPORT_CUSTOM_STRING_LIST);
    assert_int_equal(c[1].n_values, 3);
    assert_string_equal(c[1].strings[0], "idle");
    assert_string_equal(c[1].strings[1], "net/rx:1");
    assert_string_equal(c[1].strings[2], "a_b-c.d");
    assert_string_equal(c[2].name, "peers");
    assert_int_equal(c[2].kind, REPORT_CUSTOM_IP_LIST);
    assert_int_equal(c[2].n_values, 2);
    assert_string_equal(c[2].strings[0], "203.0.113.9");
    assert_string_equal(c[2].strings[1], "2001:db8::1");
    assert_string_equal(c[3].name, "fan_rpm");
    assert_int_equal(c[3].kind, REPORT_CUSTOM_NUMBER);
    assert_true(c[3].numbers[0] == 1800);
    report_free(r);
}

static void test_short_names(void **state)
{
    static const uint16_t tcp[] = { 8883 };
    static const char *const ips[] = { "198.51.100.7" };
    static const uint16_t conn_ports[] = { 8883 };
    struct report *r = parse_ok(JSON_IN(short_json));

    (void)state;
    assert_true(r->short_names);
    assert_int_equal(r->report_id, 1717171717);
    check_stats(r, 5120, 2048, 40, 31);
    check_ports(&r->tcp_ports, tcp, 1, 1);
    check_conns(&r->connections, ips, conn_ports, 1, 1);
    assert_int_equal(r->n_custom, 1);
    report_free(r);
}

static void assert_same_ports(const struct report_ports *a, const struct report_ports *b)
{
    assert_int_equal(a->n_ports, b->n_ports);
    assert_int_equal(a->total, b->total);
    assert_int_equal(a->total_present, b->total_present);
    if (a->n_ports)
        assert_memory_equal(a->ports, b->ports, a->n_ports * sizeof(*a->ports));
}

static void assert_same_report(const struct report *a, const struct report *b)
{
    assert_int_equal(a->report_id, b->report_id);
    assert_string_equal(a->version, b->version);
    assert_int_equal(a->short_names, b->short_names);
    assert_int_equal(a->blocks, b->blocks);
    assert_memory_equal(&a->network_stats, &b->network_stats, sizeof(a->network_stats));
    assert_same_ports(&a->tcp_ports, &b->tcp_ports);
    assert_same_ports(&a->udp_ports, &b->udp_ports);
    assert_int_equal(a->connections.n_items, b->connections.n_items);
    assert_int_equal(a->connections.total, b->connections.total);
    for (size_t i = 0; i < a->connections.n_items; i++) {
        assert_string_equal(a->connections.items[i].remote_ip, b->connections.items[i].remote_ip);
        assert_int_equal(a->connections.items[i].remote_port, b->connections.items[i].remote_port);
    }
    assert_int_equal(a->n_custom, b->n_custom);
    for (size_t i = 0; i < a->n_custom; i++) {
        const struct report_custom *x = &a->custom[i], *y = &b->custom[i];

        assert_string_equal(x->name, y->name);
        assert_int_equal(x->kind, y->kind);
        assert_int_equal(x->n_values, y->n_values);
        for (size_t k = 0; k < x->n_values; k++) {
            if (x->numbers)
                assert_true(x->numbers[k] == y->numbers[k]);
            else
                assert_string_equal(x->strings[k], y->strings[k]);
        }
    }
}

static void test_json_and_cbor_agree(void **state)
{
    static const struct {
        const char *json;
        size_t json_len;
        const uint8_t *cbor;
        size_t cbor_len;
    } rows[] = {
        { agent_200_json, sizeof(agent_200_json) - 1, agent_200_cbor, sizeof(agent_200_cbor) },
        { lists_json, sizeof(lists_json) - 1, lists_cbor, sizeof(lists_cbor) },
        { short_json, sizeof(short_json) - 1, short_cbor, sizeof(short_cbor) },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct report *a = parse_ok(REPORT_JSON, rows[i].json, rows[i].json_len);
        struct report *b = parse_ok(REPORT_CBOR, rows[i].cbor, rows[i].cbor_len);

        assert_same_report(a, b);
        report_free(a);
        report_free(b);
    }
}

/* Edge cases that must be accepted; blocks and a total checked per row. */
static void test_accept_rows(void **state)
{
    static const struct {
        const char *json;
        unsigned blocks;
        int64_t id;
        int64_t tcp_total;
    } rows[] = {
        /* an empty metrics object is a report with no datapoints */
        { "{\"header\":{\"report_id\":1,\"version\":\"1.0\"},\"metrics\":{}}", REPORT_HAS_METRICS,
          1, 0 },
        { "{\"header\":{\"report_id\":-5,\"version\":\"10.25\"},\"custom_metrics\":{}}",
          REPORT_HAS_CUSTOM, -5, 0 },
        /* no total: the list length */
        { "{\"header\":{\"report_id\":2,\"version\":\"1.0\"},\"metrics\":{\"listening_tcp_ports\":"
          "{\"ports\":[{\"port\":1},{\"port\":65535}]}}}",
          REPORT_HAS_METRICS | REPORT_HAS_TCP_PORTS, 2, 2 },
        /* a total and no list (sampled away) */
        { "{\"header\":{\"report_id\":3,\"version\":\"1.0\"},\"metrics\":{\"listening_tcp_ports\":"
          "{\"total\":70}}}",
          REPORT_HAS_METRICS | REPORT_HAS_TCP_PORTS, 3, 70 },
        /* an empty list is present (it clears) */
        { "{\"header\":{\"report_id\":4,\"version\":\"1.0\"},\"metrics\":{\"listening_tcp_ports\":"
          "{\"ports\":[],\"total\":0}}}",
          REPORT_HAS_METRICS | REPORT_HAS_TCP_PORTS, 4, 0 },
        /* tcp_connections without established_connections: no datapoint */
        { "{\"header\":{\"report_id\":5,\"version\":\"1.0\"},\"metrics\":{\"tcp_connections\":{}}}",
          REPORT_HAS_METRICS, 5, 0 },
        /* the bare IPv6 form of the 1.x agent, and the IPv4-mapped form */
        { "{\"header\":{\"report_id\":6,\"version\":\"1.0\"},\"metrics\":{\"tcp_connections\":{"
          "\"established_connections\":{\"connections\":[{\"remote_addr\":\"::1:8883\"},"
          "{\"remote_addr\":\"[::ffff:10.0.0.1]:1\"}]}}}}",
          REPORT_HAS_METRICS | REPORT_HAS_CONNECTIONS, 6, 0 },
        /* integral exponent form, whitespace, a negative 15-digit number */
        { " {\"header\" : {\"report_id\" : 1.7e12 , \"version\":\"1.0\"},\n"
          "\"custom_metrics\":{\"t\":[{\"number\":-123456789012345}],\"l\":[{\"number_list\":[]}],"
          "\"s\":[{\"string_list\":[\"\"]}]}} ",
          REPORT_HAS_CUSTOM, 1700000000000, 0 },
        /* a name no CreateCustomMetric could define is still accepted */
        { "{\"hed\":{\"rid\":7,\"v\":\"1.0\"},\"cmet\":{\"aws:x y\":[{\"ip_list\":[]}]}}",
          REPORT_HAS_CUSTOM, 7, 0 },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct report *r = parse_ok(REPORT_JSON, rows[i].json, strlen(rows[i].json));

        assert_int_equal(r->blocks, rows[i].blocks);
        assert_int_equal(r->report_id, rows[i].id);
        assert_int_equal(r->tcp_ports.total, rows[i].tcp_total);
        report_free(r);
    }
}

#define HDR     "{\"header\":{\"report_id\":42,\"version\":\"1.0\"},"
#define MET(x)  HDR "\"metrics\":{" x "}}"
#define TCP(x)  MET("\"listening_tcp_ports\":{" x "}")
#define CONN(x) MET("\"tcp_connections\":{\"established_connections\":{\"connections\":[" x "]}}")
#define CUST(x) HDR "\"custom_metrics\":{" x "}}"

struct reject_row {
    const char *name;
    enum report_format fmt;
    const uint8_t *data;
    size_t len;
    bool has_id;     /* the reply can echo reportId 42 */
    const char *why; /* a substring of err.detail */
};

#define JROW(n, s, id, why)                                                                        \
    {                                                                                              \
        n, JSON_IN(s), id, why                                                                     \
    }
#define CROW(n, id, why, ...)                                                                      \
    {                                                                                              \
        n, REPORT_CBOR, (const uint8_t[]){ __VA_ARGS__ },                                          \
            sizeof((const uint8_t[]){ __VA_ARGS__ }), id, why                                      \
    }

static const struct reject_row reject_rows[] = {
    /* syntax */
    JROW("empty", "", false, "not JSON"),
    JROW("truncated", "{\"header\":", false, "not JSON"),
    JROW("trailing", MET("") " x", false, "not JSON"),
    JROW("plus sign", "{\"header\":{\"report_id\":+1,\"version\":\"1.0\"},\"metrics\":{}}", false,
         "not JSON"),
    JROW("leading zero", "{\"header\":{\"report_id\":01,\"version\":\"1.0\"},\"metrics\":{}}",
         false, "not JSON"),
    JROW("bad escape", "{\"header\\x\":1}", false, "not JSON"),
    JROW("NUL escape", "{\"header\\u0000\":1}", false, "not JSON"),
    JROW("raw control", "{\"a\tb\":1}", false, "not JSON"),
    JROW("not UTF-8", "{\"header\":\"\xc3\x28\"}", false, "not UTF-8"),
    JROW("too deep", "{\"a\":[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]}", false, "deeper"),
    JROW("root array", "[]", false, "report: must be an object"),
    /* header */
    JROW("no header", "{\"metrics\":{}}", false, "header: required"),
    JROW("header not object", "{\"header\":1,\"metrics\":{}}", false, "header: must be an object"),
    JROW("no report_id", "{\"header\":{\"version\":\"1.0\"},\"metrics\":{}}", false,
         "report_id: required"),
    JROW("report_id string",
         "{\"header\":{\"report_id\":\"1\",\"version\":\"1.0\"},\"metrics\":{}}", false,
         "64-bit integer"),
    JROW("report_id fraction",
         "{\"header\":{\"report_id\":1.5,\"version\":\"1.0\"},\"metrics\":{}}", false,
         "64-bit integer"),
    JROW("report_id too big",
         "{\"header\":{\"report_id\":1e19,\"version\":\"1.0\"},\"metrics\":{}}", false,
         "64-bit integer"),
    JROW("no version", "{\"header\":{\"report_id\":42},\"metrics\":{}}", false,
         "version: required"),
    JROW("version number", "{\"header\":{\"report_id\":42,\"version\":1.0},\"metrics\":{}}", false,
         "must be a string"),
    JROW("version major only", "{\"header\":{\"report_id\":42,\"version\":\"1\"},\"metrics\":{}}",
         false, "Major.Minor"),
    JROW("version three parts",
         "{\"header\":{\"report_id\":42,\"version\":\"1.0.0\"},\"metrics\":{}}", false,
         "Major.Minor"),
    JROW("version prefix", "{\"header\":{\"report_id\":42,\"version\":\"v1.0\"},\"metrics\":{}}",
         false, "Major.Minor"),
    JROW("version too long",
         "{\"header\":{\"report_id\":42,\"version\":\"1234567890.12345\"},\"metrics\":{}}", false,
         "at most 15"),
    JROW("header unknown field",
         "{\"header\":{\"report_id\":42,\"version\":\"1.0\",\"x\":1},\"metrics\":{}}", false,
         "header.x: unknown field"),
    /* top level */
    JROW("no metrics", HDR "\"x\":1}", true, "report.x: unknown field"),
    JROW("neither block", "{\"header\":{\"report_id\":42,\"version\":\"1.0\"}}", true,
         "metrics or custom_metrics required"),
    JROW("metrics not object", HDR "\"metrics\":[]}", true, "metrics: must be an object"),
    JROW("repeated metrics", HDR "\"metrics\":{},\"metrics\":{}}", true, "repeated field"),
    JROW("header and hed", HDR "\"hed\":{\"rid\":1,\"v\":\"1.0\"},\"metrics\":{}}", false,
         "mixes long and short"),
    JROW("long header short met", HDR "\"met\":{}}", true, "mixes long and short"),
    JROW("short header long metrics", "{\"hed\":{\"rid\":42,\"v\":\"1.0\"},\"metrics\":{}}", true,
         "mixes long and short"),
    JROW("long header short rid", "{\"header\":{\"rid\":42,\"version\":\"1.0\"},\"metrics\":{}}",
         false, "mixes long and short"),
    JROW("nested short name", MET("\"ns\":{}"), true, "mixes long and short"),
    JROW("deep short name", MET("\"network_stats\":{\"bi\":1}"), true, "mixes long and short"),
    JROW("metrics unknown field", MET("\"foo\":{}"), true, "metrics.foo: unknown field"),
    /* listening ports */
    JROW("ports not array", TCP("\"ports\":{}"), true, "must be an array"),
    JROW("port item not object", TCP("\"ports\":[80]"), true, "must be an object"),
    JROW("port missing", TCP("\"ports\":[{\"interface\":\"lo\"}]"), true, "port: required"),
    JROW("port zero", TCP("\"ports\":[{\"port\":0}]"), true, "from 1 to 65535"),
    JROW("port too big", TCP("\"ports\":[{\"port\":65536}]"), true, "from 1 to 65535"),
    JROW("port string", TCP("\"ports\":[{\"port\":\"80\"}]"), true, "from 1 to 65535"),
    JROW("port fraction", TCP("\"ports\":[{\"port\":80.5}]"), true, "from 1 to 65535"),
    JROW("interface not string", TCP("\"ports\":[{\"port\":80,\"interface\":1}]"), true,
         "interface: must be a string"),
    JROW("total negative", TCP("\"total\":-1"), true, "total: must be an integer >= 0"),
    JROW("total fraction", TCP("\"total\":1.5"), true, "total: must be an integer >= 0"),
    JROW("udp port zero", MET("\"listening_udp_ports\":{\"ports\":[{\"port\":0}]}"), true,
         "listening_udp_ports.ports[0].port"),
    /* network stats */
    JROW("bytes_in negative", MET("\"network_stats\":{\"bytes_in\":-1}"), true,
         "network_stats.bytes_in: must be an integer >= 0"),
    JROW("packets_out string", MET("\"network_stats\":{\"packets_out\":\"1\"}"), true,
         "packets_out"),
    JROW("network_stats null", MET("\"network_stats\":null"), true, "must be an object"),
    /* connections */
    JROW("connections not array",
         MET("\"tcp_connections\":{\"established_connections\":{"
             "\"connections\":{}}}"),
         true, "must be an array"),
    JROW("ec total negative",
         MET("\"tcp_connections\":{\"established_connections\":{"
             "\"total\":-2}}"),
         true, "total: must be an integer >= 0"),
    JROW("remote_addr missing", CONN("{\"local_port\":1}"), true, "remote_addr: required"),
    JROW("remote_addr number", CONN("{\"remote_addr\":1}"), true, "ip:port"),
    JROW("remote_addr no port", CONN("{\"remote_addr\":\"127.0.0.1\"}"), true, "ip:port"),
    JROW("remote_addr empty port", CONN("{\"remote_addr\":\"127.0.0.1:\"}"), true, "ip:port"),
    JROW("remote_addr port zero", CONN("{\"remote_addr\":\"127.0.0.1:0\"}"), true, "ip:port"),
    JROW("remote_addr port big", CONN("{\"remote_addr\":\"127.0.0.1:65536\"}"), true, "ip:port"),
    JROW("remote_addr port sign", CONN("{\"remote_addr\":\"127.0.0.1:+80\"}"), true, "ip:port"),
    JROW("remote_addr bad ipv4", CONN("{\"remote_addr\":\"999.0.0.1:80\"}"), true, "ip:port"),
    JROW("remote_addr host name", CONN("{\"remote_addr\":\"example.com:80\"}"), true, "ip:port"),
    JROW("remote_addr no colon after bracket", CONN("{\"remote_addr\":\"[::1]8883\"}"), true,
         "ip:port"),
    JROW("remote_addr bad ipv6", CONN("{\"remote_addr\":\"[zz::1]:80\"}"), true, "ip:port"),
    JROW("remote_addr ipv4 in brackets", CONN("{\"remote_addr\":\"[127.0.0.1]:80\"}"), true,
         "ip:port"),
    JROW("remote_addr empty ip", CONN("{\"remote_addr\":\":80\"}"), true, "ip:port"),
    JROW("local_port too big", CONN("{\"remote_addr\":\"1.2.3.4:5\",\"local_port\":70000}"), true,
         "local_port: must be an integer from 1 to 65535"),
    JROW("local_interface number", CONN("{\"remote_addr\":\"1.2.3.4:5\",\"local_interface\":1}"),
         true, "local_interface: must be a string"),
    JROW("connection unknown field", CONN("{\"remote_addr\":\"1.2.3.4:5\",\"state\":\"x\"}"), true,
         "unknown field"),
    /* custom metrics */
    JROW("custom not object", HDR "\"custom_metrics\":[]}", true, "custom_metrics: must be an"),
    JROW("custom bare object", CUST("\"n\":{\"number\":1}"), true, "array of one object"),
    JROW("custom empty array", CUST("\"n\":[]"), true, "array of one object"),
    JROW("custom two objects", CUST("\"n\":[{\"number\":1},{\"number\":2}]"), true,
         "array of one object"),
    JROW("custom two members", CUST("\"n\":[{\"number\":1,\"number_list\":[]}]"), true,
         "array of one object"),
    JROW("custom empty object", CUST("\"n\":[{}]"), true, "array of one object"),
    JROW("custom array of number", CUST("\"n\":[1]"), true, "array of one object"),
    JROW("custom unknown kind", CUST("\"n\":[{\"text\":\"a\"}]"), true, "unknown value type"),
    JROW("custom repeated name", CUST("\"n\":[{\"number\":1}],\"n\":[{\"number\":2}]"), true,
         "repeated field"),
    JROW("number string", CUST("\"n\":[{\"number\":\"1\"}]"), true, "<= 15 digits"),
    JROW("number 16 digits", CUST("\"n\":[{\"number\":1234567890123456}]"), true, "<= 15 digits"),
    JROW("number 17 digits", CUST("\"n\":[{\"number\":0.30000000000000004}]"), true,
         "<= 15 digits"),
    JROW("number_list not array", CUST("\"n\":[{\"number_list\":1}]"), true, "must be an array"),
    JROW("number_list 16 digits", CUST("\"n\":[{\"number_list\":[1,1.000000000000001]}]"), true,
         "number_list[1]"),
    JROW("number_list string", CUST("\"n\":[{\"number_list\":[\"1\"]}]"), true, "number_list[0]"),
    JROW("string_list space", CUST("\"n\":[{\"string_list\":[\"a b\"]}]"), true,
         "only letters, digits"),
    JROW("string_list non-ASCII", CUST("\"n\":[{\"string_list\":[\"caf\xc3\xa9\"]}]"), true,
         "only letters, digits"),
    JROW("string_list comma", CUST("\"n\":[{\"string_list\":[\"ok\",\"a,b\"]}]"), true,
         "string_list[1]"),
    JROW("string_list number", CUST("\"n\":[{\"string_list\":[1]}]"), true, "must be a string"),
    JROW("ip_list cidr", CUST("\"n\":[{\"ip_list\":[\"10.0.0.0/8\"]}]"), true, "IPv4 or IPv6"),
    JROW("ip_list host", CUST("\"n\":[{\"ip_list\":[\"1.2.3.4\",\"host\"]}]"), true, "ip_list[1]"),
    JROW("ip_list brackets", CUST("\"n\":[{\"ip_list\":[\"[::1]\"]}]"), true, "IPv4 or IPv6"),
    /* CBOR encodings outside the subset (each otherwise a valid report where it can be) */
    { "cbor empty", REPORT_CBOR, (const uint8_t *)"", 0, false, "truncated" },
    CROW("cbor map value missing", false, "truncated", 0xa1, 0x61, 'a'),
    CROW("cbor indefinite map", false, "indefinite", 0xbf, 0xff),
    CROW("cbor break", false, "simple value 31", 0xff),
    CROW("cbor reserved", false, "reserved", 0x1c),
    CROW("cbor byte string", false, "major type 2", 0x41, 0x00),
    CROW("cbor tag", false, "major type 6", 0xc1, 0x01),
    CROW("cbor undefined", false, "simple value 23", 0xf7),
    CROW("cbor simple 16", false, "simple value 16", 0xf0),
    CROW("cbor NaN", false, "not finite", 0xf9, 0x7e, 0x00),
    CROW("cbor infinity", false, "not finite", 0xfa, 0x7f, 0x80, 0x00, 0x00),
    CROW("cbor trailing", false, "after the item", 0xa0, 0x00),
    CROW("cbor truncated head", false, "truncated", 0x19, 0x01),
    CROW("cbor text past end", false, "past the end", 0x63, 0x61),
    CROW("cbor huge map", false, "longer than the input", 0xbb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
         0xff, 0xff),
    CROW("cbor huge array", false, "longer than the input", 0x9a, 0xff, 0xff, 0xff, 0xff, 0x00),
    CROW("cbor int key", false, "not text", 0xa1, 0x01, 0x02),
    CROW("cbor bad UTF-8", false, "not UTF-8", 0x62, 0xc3, 0x28),
    CROW("cbor surrogate", false, "not UTF-8", 0x63, 0xed, 0xa0, 0x80),
    CROW("cbor overlong", false, "not UTF-8", 0x62, 0xc0, 0x80),
    CROW("cbor NUL in text", false, "not UTF-8", 0x61, 0x00),
    CROW("cbor 17 deep", false, "deeper than 16", 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81,
         0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x00),
    CROW("cbor report_id beyond int64", false, "64-bit integer", 0xa2, 0x66, 'h', 'e', 'a', 'd',
         'e', 'r', 0xa2, 0x69, 'r', 'e', 'p', 'o', 'r', 't', '_', 'i', 'd', 0x1b, 0x80, 0, 0, 0, 0,
         0, 0, 0, 0x67, 'v', 'e', 'r', 's', 'i', 'o', 'n', 0x63, '1', '.', '0', 0x67, 'm', 'e', 't',
         'r', 'i', 'c', 's', 0xa0),
    CROW("cbor float port", true, "from 1 to 65535", 0xa2, 0x63, 'h', 'e', 'd', 0xa2, 0x63, 'r',
         'i', 'd', 0x18, 42, 0x61, 'v', 0x63, '1', '.', '0', 0x63, 'm', 'e', 't', 0xa1, 0x62, 't',
         'p', 0xa1, 0x63, 'p', 't', 's', 0x81, 0xa1, 0x62, 'p', 't', 0xf9, 0x3c, 0x01),
};

static void test_reject_rows(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(reject_rows) / sizeof(reject_rows[0]); i++) {
        const struct reject_row *row = &reject_rows[i];
        struct report_error err;
        struct report *r = (struct report *)&err; /* must be cleared */
        int rc = report_parse(row->data, row->len, row->fmt, &r, &err);

        if (rc != DD_ERR_INVALID || !strstr(err.detail.msg, row->why))
            fail_msg("row \"%s\": rc %d, detail \"%s\", want \"%s\"", row->name, rc, err.detail.msg,
                     row->why);
        assert_null(r);
        if (err.has_report_id != row->has_id)
            fail_msg("row \"%s\": has_report_id %d", row->name, err.has_report_id);
        if (row->has_id)
            assert_int_equal(err.report_id, 42);
    }
}

static void test_too_large(void **state)
{
    size_t n = REPORT_MAX_PAYLOAD + 1;
    uint8_t *big = malloc(n);
    struct report_error err;
    struct report *r = (struct report *)&err;

    (void)state;
    assert_non_null(big);
    memset(big, ' ', n);
    assert_int_equal(report_parse(big, n, REPORT_JSON, &r, &err), DD_ERR_TOO_LARGE);
    assert_null(r);
    assert_false(err.has_report_id);
    assert_non_null(strstr(err.detail.msg, "131073"));
    /* exactly at the limit it is parsed (and here refused as not JSON) */
    assert_int_equal(report_parse(big, n - 1, REPORT_JSON, &r, &err), DD_ERR_INVALID);
    free(big);
}

static void test_topics(void **state)
{
    static const struct {
        const char *topic;
        int rc;
        const char *thing;
        enum report_format fmt;
    } rows[] = {
        { "$aws/things/pump-07/defender/metrics/json", DD_OK, "pump-07", REPORT_JSON },
        { "$aws/things/pump-07/defender/metrics/cbor", DD_OK, "pump-07", REPORT_CBOR },
        { "$aws/things/a:b_c-d/defender/metrics/json", DD_OK, "a:b_c-d", REPORT_JSON },
        { "$aws/things/caf\xc3\xa9/defender/metrics/json", DD_OK, "caf\xc3\xa9", REPORT_JSON },
        { "$aws/things/pump-07/defender/metrics/json/accepted", DD_ERR_NOT_FOUND, "", REPORT_JSON },
        { "$aws/things/pump-07/defender/metrics/json/rejected", DD_ERR_NOT_FOUND, "", REPORT_JSON },
        { "$aws/things/pump-07/defender/metrics/cbor/accepted", DD_ERR_NOT_FOUND, "", REPORT_JSON },
        { "$aws/things/pump-07/defender/metrics/xml", DD_ERR_NOT_FOUND, "", REPORT_JSON },
        { "$aws/things/pump-07/defender/metrics/", DD_ERR_NOT_FOUND, "", REPORT_JSON },
        { "$aws/things/pump-07/defender/metrics", DD_ERR_NOT_FOUND, "", REPORT_JSON },
        { "$aws/things/pump-07/shadow/update", DD_ERR_NOT_FOUND, "", REPORT_JSON },
        { "$aws/things/a/b/defender/metrics/json", DD_ERR_NOT_FOUND, "", REPORT_JSON },
        { "$aws/things/pump-07", DD_ERR_NOT_FOUND, "", REPORT_JSON },
        { "things/pump-07/defender/metrics/json", DD_ERR_NOT_FOUND, "", REPORT_JSON },
        { "", DD_ERR_NOT_FOUND, "", REPORT_JSON },
        { "$aws/things//defender/metrics/json", DD_ERR_INVALID, "", REPORT_JSON },
        { "$aws/things/a\tb/defender/metrics/json", DD_ERR_INVALID, "", REPORT_JSON },
        { "$aws/things/a\x7f/defender/metrics/cbor", DD_ERR_INVALID, "", REPORT_JSON },
        { "$aws/things/a\xc2\x85/defender/metrics/json", DD_ERR_INVALID, "", REPORT_JSON },
    };

    char thing[REPORT_THING_MAX + 1];
    char topic[300];
    enum report_format fmt;

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        memset(thing, 'x', sizeof(thing));
        fmt = REPORT_CBOR;
        if (report_topic_parse(rows[i].topic, thing, &fmt) != rows[i].rc)
            fail_msg("topic \"%s\"", rows[i].topic);
        assert_string_equal(thing, rows[i].thing);
        assert_int_equal(fmt, rows[i].fmt);
    }
    /* 128 bytes is the longest name */
    memset(thing, 0, sizeof(thing));
    snprintf(topic, sizeof(topic), "$aws/things/%0128d/defender/metrics/cbor", 7);
    assert_int_equal(report_topic_parse(topic, thing, &fmt), DD_OK);
    assert_int_equal(strlen(thing), 128);
    assert_int_equal(fmt, REPORT_CBOR);
    snprintf(topic, sizeof(topic), "$aws/things/%0129d/defender/metrics/cbor", 7);
    assert_int_equal(report_topic_parse(topic, thing, &fmt), DD_ERR_INVALID);
    assert_string_equal(thing, "");
}

static void check_reply(int rc, uint8_t *got, size_t got_len, const void *want, size_t want_len)
{
    assert_int_equal(rc, DD_OK);
    assert_int_equal(got_len, want_len);
    assert_memory_equal(got, want, want_len);
    free(got);
}

static void check_json(int rc, uint8_t *got, size_t got_len, const char *want)
{
    assert_int_equal(rc, DD_OK);
    assert_int_equal(got[got_len], '\0');
    assert_string_equal((const char *)got, want);
    check_reply(rc, got, got_len, want, strlen(want));
}

static void test_replies(void **state)
{
    struct report_error with_id = { true, 1717171717, { "" } };
    struct report_error no_id = { false, 0, { "" } };
    uint8_t *out;
    size_t len;
    int rc;

    (void)state;
    rc = report_accepted_payload("pump-07", 1717171717, 1717171718123, REPORT_JSON, &out, &len);
    check_json(rc, out, len,
               "{\"thingName\":\"pump-07\",\"reportId\":1717171717,\"status\":\"ACCEPTED\","
               "\"timestamp\":1717171718123}");
    rc = report_rejected_payload("pump-07", &with_id, 1717171718123, REPORT_JSON, &out, &len);
    check_json(rc, out, len,
               "{\"thingName\":\"pump-07\",\"reportId\":1717171717,\"status\":\"REJECTED\","
               "\"statusDetails\":{\"ErrorCode\":\"InvalidPayload\",\"ErrorMessage\":"
               "\"Malformed metrics report\"},\"timestamp\":1717171718123}");
    rc = report_rejected_payload("pump-07", &no_id, 5, REPORT_JSON, &out, &len);
    check_json(rc, out, len,
               "{\"thingName\":\"pump-07\",\"status\":\"REJECTED\",\"statusDetails\":{"
               "\"ErrorCode\":\"InvalidPayload\",\"ErrorMessage\":\"Malformed metrics "
               "report\"},\"timestamp\":5}");
    /* names are escaped; ids span int64 */
    rc = report_accepted_payload("a\"b\\c\x01\xc3\xa9", INT64_MIN, INT64_MAX, REPORT_JSON, &out,
                                 &len);
    check_json(rc, out, len,
               "{\"thingName\":\"a\\\"b\\\\c\\u0001\xc3\xa9\",\"reportId\":-9223372036854775808,"
               "\"status\":\"ACCEPTED\",\"timestamp\":9223372036854775807}");
    rc = report_accepted_payload("pump-07", 1717171717, 1717171718123, REPORT_CBOR, &out, &len);
    check_reply(rc, out, len, accepted_cbor, sizeof(accepted_cbor));
    rc = report_rejected_payload("pump-07", &with_id, 1717171718123, REPORT_CBOR, &out, &len);
    check_reply(rc, out, len, rejected_cbor, sizeof(rejected_cbor));
    rc = report_rejected_payload("pump-07", &no_id, -1, REPORT_CBOR, &out, &len);
    check_reply(rc, out, len, rejected_noid_cbor, sizeof(rejected_noid_cbor));
}

/* Every way the decoder turns an accepted item into JSON, as printed. */
static void test_cbor_decode_rows(void **state)
{
    const struct {
        const uint8_t *data;
        size_t len;
        const char *json;
    } rows[] = {

#define ROW(json, ...)                                                                             \
    { (const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ }), json }
        ROW("0", 0x00),
        ROW("23", 0x17),
        ROW("24", 0x18, 0x18),
        ROW("24", 0x19, 0x00, 0x18), /* not the shortest form: still well-formed */
        ROW("-1", 0x20),
        ROW("-500", 0x39, 0x01, 0xf3),
        ROW("4294967296", 0x1b, 0, 0, 0, 1, 0, 0, 0, 0),
        ROW("1.5", 0xf9, 0x3e, 0x00),
        ROW("-2", 0xf9, 0xc0, 0x00),
        ROW("5.9604644775390625e-08", 0xf9, 0x00, 0x01), /* smallest half subnormal */
        ROW("65504", 0xf9, 0x7b, 0xff),
        ROW("0.5", 0xfa, 0x3f, 0x00, 0x00, 0x00),
        ROW("0.3", 0xfb, 0x3f, 0xd3, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33),
        ROW("true", 0xf5),
        ROW("false", 0xf4),
        ROW("null", 0xf6),
        ROW("\"\"", 0x60),
        ROW("\"\xc3\xa9\"", 0x62, 0xc3, 0xa9),
        ROW("[]", 0x80),
        ROW("{}", 0xa0),
        ROW("{\"a\":[1,{\"b\":\"c\"}],\"a\":null}", 0xa2, 0x61, 'a', 0x82, 0x01, 0xa1, 0x61, 'b',
            0x61, 'c', 0x61, 'a', 0xf6),
        ROW("[[[[[[[[[[[[[[[0]]]]]]]]]]]]]]]", 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81,
            0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x00), /* depth 16 */
#undef ROW
    };

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct dd_errbuf eb;
        cJSON *tree = NULL;
        char *text;
        int rc = cbor_decode_json(rows[i].data, rows[i].len, &tree, &eb);

        if (rc)
            fail_msg("row %zu (%s): %s", i, rows[i].json, eb.msg);
        text = cJSON_PrintUnformatted(tree);
        assert_non_null(text);
        assert_string_equal(text, rows[i].json);
        cJSON_free(text);
        cJSON_Delete(tree);
    }
}

static void test_cbor_encode_ints(void **state)
{
    static const struct {
        int64_t v;
        uint8_t bytes[9];
        size_t len;
    } rows[] = {
        { 0, { 0x00 }, 1 },
        { 23, { 0x17 }, 1 },
        { 24, { 0x18, 0x18 }, 2 },
        { 255, { 0x18, 0xff }, 2 },
        { 256, { 0x19, 0x01, 0x00 }, 3 },
        { 65535, { 0x19, 0xff, 0xff }, 3 },
        { 65536, { 0x1a, 0x00, 0x01, 0x00, 0x00 }, 5 },
        { 4294967296, { 0x1b, 0, 0, 0, 1, 0, 0, 0, 0 }, 9 },
        { INT64_MAX, { 0x1b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, 9 },
        { -1, { 0x20 }, 1 },
        { -24, { 0x37 }, 1 },
        { -25, { 0x38, 0x18 }, 2 },
        { INT64_MIN, { 0x3b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, 9 },
    };

    uint8_t buf[9];
    struct cbor_writer w;

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        cbor_writer_init(&w, buf, sizeof(buf));
        cbor_put_int(&w, rows[i].v);
        assert_int_equal(w.len, rows[i].len);
        assert_memory_equal(buf, rows[i].bytes, rows[i].len);
    }
    /* a short buffer is never overrun and the count stays exact */
    memset(buf, 0xee, sizeof(buf));
    cbor_writer_init(&w, buf, 2);
    cbor_put_text(&w, "hello", 5);
    assert_int_equal(w.len, 6);
    assert_int_equal(buf[0], 0x65);
    assert_int_equal(buf[1], 'h');
    assert_int_equal(buf[2], 0xee);
}

struct parse_ctx {
    enum report_format fmt;
    const void *data;
    size_t len;
};

static int parse_case(void *ctx)
{
    const struct parse_ctx *c = ctx;
    struct report_error err;
    struct report *r = NULL;
    int rc = report_parse(c->data, c->len, c->fmt, &r, &err);

    if (rc)
        assert_null(r);
    report_free(r);
    return rc;
}

static void test_parse_alloc_failures(void **state)
{
    struct parse_ctx rows[] = {
        { JSON_IN(agent_111_json) }, { CBOR_IN(agent_111_cbor) }, { JSON_IN(agent_200_json) },
        { CBOR_IN(agent_200_cbor) }, { JSON_IN(lists_json) },     { CBOR_IN(lists_cbor) },
        { JSON_IN(short_json) },     { CBOR_IN(short_cbor) },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        assert_true(alloc_fail_sweep(parse_case, &rows[i]) > 0);
}

static int reply_case(void *ctx)
{
    static const struct report_error err = { true, 9, { "" } };
    enum report_format fmt = *(const enum report_format *)ctx;
    uint8_t sentinel = 0;
    uint8_t *out = &sentinel; /* must be cleared */
    size_t len = 9;
    int rc = report_accepted_payload("t", 9, 10, fmt, &out, &len);

    if (rc) {
        assert_null(out);
        assert_int_equal(len, 0);
        return rc;
    }
    free(out);
    rc = report_rejected_payload("t", &err, 10, fmt, &out, &len);
    if (rc)
        assert_null(out);
    free(out);
    return rc;
}

static void test_reply_alloc_failures(void **state)
{
    enum report_format fmts[] = { REPORT_JSON, REPORT_CBOR };

    (void)state;
    assert_int_equal(alloc_fail_sweep(reply_case, &fmts[0]), 2);
    assert_int_equal(alloc_fail_sweep(reply_case, &fmts[1]), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_agent_111_json),
        cmocka_unit_test(test_agent_111_cbor),
        cmocka_unit_test(test_agent_200_json),
        cmocka_unit_test(test_custom_lists),
        cmocka_unit_test(test_short_names),
        cmocka_unit_test(test_json_and_cbor_agree),
        cmocka_unit_test(test_accept_rows),
        cmocka_unit_test(test_reject_rows),
        cmocka_unit_test(test_too_large),
        cmocka_unit_test(test_topics),
        cmocka_unit_test(test_replies),
        cmocka_unit_test(test_cbor_decode_rows),
        cmocka_unit_test(test_cbor_encode_ints),
        cmocka_unit_test(test_parse_alloc_failures),
        cmocka_unit_test(test_reply_alloc_failures),
    };

    alloc_fail_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
