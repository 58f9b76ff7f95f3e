#!/bin/bash
# SPDX-License-Identifier: MIT
# `make bench`: the broker's cost with the ddlocal plugin against plain
# mosquitto, then one window close of a large fleet (build/bench-detect,
# built from tests/bench/bench_detect.c beside this script), then SearchIndex
# over as many things (build/bench-index, from bench_index.c), then the HTTP
# write path against reads (tests/bench/write_path.sh); between them, an
# on-demand audit of a large account and the broker's responsiveness
# during it (bench_audit.c, audit_tick.py).
#
# Two brokers run side by side from generated configs on free loopback
# ports, both pinned to one CPU: plain mosquitto, and mosquitto with
# build/ddlocal.so and three security profiles attached to all things.
# build/ddlocal-loadgen runs pinned to the other CPU, alternately against
# each broker (the order flips every round, so drift hits both alike), and
# the figures are medians. The broker's CPU time comes from
# /proc/PID/schedstat (field 1: nanoseconds on CPU; field 2: nanoseconds
# waiting for a CPU), read just before and after each run: CPU time per
# delivered message is the stable figure on a shared machine, where the
# message rate also depends on what else runs.
#
# Both brokers set set_tcp_nodelay (otherwise Nagle's algorithm holds back
# the small PUBACKs and PUBLISHes of QoS 1 and the broker idles). QoS 1
# uses one subscriber per publisher: mosquitto 2.0 reads one packet per
# socket per pass of its loop, so a single subscriber's PUBACKs fall behind
# four publishers and its queue overflows (dropped messages).
#
# Settings (environment): BENCH_RUNS (5 per broker and QoS), BENCH_SECONDS
# (3), BENCH_BROKER_CPU (0), BENCH_GEN_CPU (1), BENCH_THINGS (100000),
# BENCH_CHURN_IDS (8000) and BENCH_CHURN_ROUNDS (3) for the rounds of
# departing client ids, BENCH_STARTUP_ROUNDS (5) for the start-up rounds,
# BENCH_ALERTS (1000) for the alert latency.
set -euo pipefail

cd "$(dirname "$0")/../.."
root=$(pwd)
runs=${BENCH_RUNS:-5}
seconds=${BENCH_SECONDS:-3}
broker_cpu=${BENCH_BROKER_CPU:-0}
gen_cpu=${BENCH_GEN_CPU:-1}
things=${BENCH_THINGS:-100000}
churn_ids=${BENCH_CHURN_IDS:-8000}
churn_rounds=${BENCH_CHURN_ROUNDS:-3}
startup_rounds=${BENCH_STARTUP_ROUNDS:-5}
alerts=${BENCH_ALERTS:-1000}
mosquitto=$(command -v mosquitto || echo /usr/sbin/mosquitto)

make --no-print-directory -s all build/ddlocal-loadgen build/bench-detect build/bench-index build/bench-audit
[ -x "$mosquitto" ] || { echo "bench: mosquitto is not installed (make deps)" >&2; exit 1; }
for tool in taskset sqlite3 python3; do
    command -v $tool >/dev/null || { echo "bench: $tool is missing" >&2; exit 1; }
done

tmp=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$tmp"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# write_conf NAME PORT [plugin lines...]
write_conf() {
    local name=$1 port=$2
    shift 2
    {
        echo "per_listener_settings false"
        echo "allow_anonymous true"
        echo "persistence false"
        echo "user $(id -un)"
        echo "set_tcp_nodelay true"
        echo "log_dest file $tmp/$name.log"
        echo "log_type error"
        echo "log_type warning"
        echo "log_type notice"
        echo "log_type information"
        echo "listener $port 127.0.0.1"
        for line in "$@"; do echo "$line"; done
    } >"$tmp/$name.conf"
}

# start NAME PORT: start a pinned broker, wait for its port; prints its pid.
start() {
    local name=$1 port=$2 i
    taskset -c "$broker_cpu" "$mosquitto" -c "$tmp/$name.conf" 2>>"$tmp/$name.log" &
    local pid=$!
    pids+=("$pid")
    for i in $(seq 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            started_pid=$pid
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    echo "bench: $name broker did not start; its log:" >&2
    cat "$tmp/$name.log" >&2
    exit 1
}

plain_port=$(free_port)
write_conf plain "$plain_port"
start plain "$plain_port"
plain_pid=$started_pid

plugin_port=$(free_port)
while [ "$plugin_port" = "$plain_port" ]; do plugin_port=$(free_port); done
db=$tmp/ddlocal.db
write_conf plugin "$plugin_port" "plugin $root/build/ddlocal.so" "plugin_opt_database $db"
start plugin "$plugin_port"
plugin_pid=$started_pid

# Three profiles on cloud-side metrics, attached to all things. The plugin
# has migrated the database; its engine notices these rows through
# PRAGMA data_version, as it notices the server's.
arn='arn:aws:iot:us-east-1:123456789012:all/things'
sqlite3 "$db" <<EOF
.timeout 5000
INSERT INTO security_profiles (name, behaviors, created_ms, modified_ms) VALUES
 ('BenchTraffic', '[{"name":"Sent","metric":"aws:num-messages-sent","criteria":{"comparisonOperator":"less-than","value":{"count":100000000},"durationSeconds":300,"consecutiveDatapointsToAlarm":1,"consecutiveDatapointsToClear":1}},{"name":"Received","metric":"aws:num-messages-received","criteria":{"comparisonOperator":"less-than","value":{"count":100000000},"durationSeconds":300,"consecutiveDatapointsToAlarm":1,"consecutiveDatapointsToClear":1}}]', 0, 0),
 ('BenchSize', '[{"name":"Size","metric":"aws:message-byte-size","criteria":{"comparisonOperator":"less-than","value":{"count":4096},"consecutiveDatapointsToAlarm":1,"consecutiveDatapointsToClear":1}}]', 0, 0),
 ('BenchConnections', '[{"name":"Attempts","metric":"aws:num-connection-attempts","criteria":{"comparisonOperator":"less-than","value":{"count":100},"durationSeconds":300,"consecutiveDatapointsToAlarm":1,"consecutiveDatapointsToClear":1}},{"name":"Disconnects","metric":"aws:num-disconnects","criteria":{"comparisonOperator":"less-than","value":{"count":100},"durationSeconds":300,"consecutiveDatapointsToAlarm":1,"consecutiveDatapointsToClear":1}}]', 0, 0);
INSERT INTO security_profile_targets (profile_name, target_arn)
 SELECT name, '$arn' FROM security_profiles;
EOF
n=$(sqlite3 "$db" "SELECT count(*) FROM security_profile_targets WHERE target_arn = '$arn'")
[ "$n" = 3 ] || { echo "bench: expected 3 attached profiles, found $n" >&2; exit 1; }

# A third broker: the plugin with the same profiles, and 10 policies of 10
# statements each attached to the group of the generator's things (client ids
# bench-pN / bench-sN), so every CONNECT, PUBLISH, SUBSCRIBE and delivery is
# decided against 100 statements. None of them denies the bench traffic.
policies_port=$(free_port)
while [ "$policies_port" = "$plain_port" ] || [ "$policies_port" = "$plugin_port" ]; do
    policies_port=$(free_port)
done
pdb=$tmp/policies.db
write_conf policies "$policies_port" "plugin $root/build/ddlocal.so" "plugin_opt_database $pdb"
start policies "$policies_port"
policies_pid=$started_pid
python3 - "$pdb" <<'PY'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=5)
db.execute("PRAGMA foreign_keys = ON")
db.execute("INSERT INTO thing_groups (name, group_id, version, created_ms) "
           "VALUES ('BenchFleet', 'g-bench', 1, 0)")
for role in "ps":
    for i in range(4):
        name = "bench-%s%d" % (role, i)
        db.execute("INSERT INTO things (name, thing_id, version, created_ms) VALUES (?, ?, 1, 0)",
                   (name, "t-" + name))
        db.execute("INSERT INTO thing_group_members VALUES (?, 'BenchFleet')", (name,))
arn = "arn:aws:iot:us-east-1:123456789012:"
for p in range(10):
    statements = [
        {"Effect": "Allow", "Action": "iot:Connect", "Resource": arn + "client/${iot:ClientId}"},
        {"Effect": "Allow", "Action": ["iot:Publish", "iot:Receive"],
         "Resource": arn + "topic/bench/*"},
        {"Effect": "Allow", "Action": "iot:Subscribe", "Resource": arn + "topicfilter/bench/*"},
        {"Effect": "Deny", "Action": "iot:Publish", "Resource": arn + "topic/forbidden/%d/*" % p},
        {"Effect": "Deny", "Action": "iot:Subscribe", "Resource": arn + "topicfilter/admin/#"},
        {"Effect": "Deny", "Action": "iot:*", "Resource": arn + "client/blocked-%d-*" % p},
        {"Effect": "Allow", "Action": "iot:Publish",
         "Resource": arn + "topic/devices/${iot:Connection.Thing.ThingName}/*"},
        {"Effect": "Deny", "Action": "iot:Receive", "Resource": arn + "topic/secret/????/%d" % p},
        {"Effect": "Allow", "Action": "iot:Publish",
         "Resource": arn + "topic/$aws/things/${iot:ClientId}/shadow/*"},
        {"Effect": "Deny", "Action": "iot:RetainPublish", "Resource": arn + "topic/bench/*",
         "Condition": {"StringEquals": {"iot:Connection.Thing.ThingTypeName": "locked"}}},
    ]
    name = "BenchPolicy%d" % p
    doc = json.dumps({"Version": "2012-10-17", "Statement": statements})
    db.execute("INSERT INTO policies (name, default_version, next_version, generation, "
               "created_ms, modified_ms) VALUES (?, 1, 2, 1, 0, 0)", (name,))
    db.execute("INSERT INTO policy_versions VALUES (?, 1, ?, 0)", (name, doc))
    db.execute("INSERT INTO policy_targets VALUES (?, 'thinggroup', 'BenchFleet')", (name,))
db.commit()
PY
sqlite3 "$pdb" ".timeout 5000" "ATTACH '$db' AS src;
    INSERT INTO security_profiles SELECT * FROM src.security_profiles;
    INSERT INTO security_profile_targets SELECT * FROM src.security_profile_targets;"
sleep 0.3

# thread_ns PID: on-CPU nanoseconds of all the process's threads.
thread_ns() {
    cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%.0f\n", s }'
}

results=$tmp/results
: >"$results"

# one NAME PID PORT QOS SUBSCRIBERS: one generator run; appends a result line
# "name qos rate ns_per_msg all_ns_per_msg busy_pct wait_pct lost".
one() {
    local name=$1 pid=$2 port=$3 qos=$4 subs=$5 out
    local cpu0 wait0 all0 t0 cpu1 wait1 all1 t1 received expected rate
    read -r cpu0 wait0 _ </proc/"$pid"/schedstat
    all0=$(thread_ns "$pid")
    t0=$(date +%s%N)
    out=$(taskset -c "$gen_cpu" "$root/build/ddlocal-loadgen" -p "$port" -q "$qos" -P 4 \
        -S "$subs" -s 64 -d "$seconds" -i bench)
    t1=$(date +%s%N)
    read -r cpu1 wait1 _ </proc/"$pid"/schedstat
    all1=$(thread_ns "$pid")
    received=$(sed 's/.*"received":\([0-9]*\).*/\1/' <<<"$out")
    expected=$(sed 's/.*"expected":\([0-9]*\).*/\1/' <<<"$out")
    rate=$(sed 's/.*"msgs_per_s":\([0-9.]*\).*/\1/' <<<"$out")
    [ "$received" -gt 0 ] || { echo "bench: no message delivered: $out" >&2; exit 1; }
    echo "$name $qos $rate $(((cpu1 - cpu0) / received)) $(((all1 - all0) / received))" \
        "$(((cpu1 - cpu0) * 100 / (t1 - t0))) $(((wait1 - wait0) * 100 / (t1 - t0)))" \
        "$((expected - received))" >>"$results"
}

median() { # field name qos
    awk -v f="$1" -v n="$2" -v q="$3" '$1 == n && $2 == q { print $f }' "$results" |
        sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2];
            else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

sum() { # field name qos
    awk -v f="$1" -v n="$2" -v q="$3" '$1 == n && $2 == q { s += $f } END { print s + 0 }' "$results"
}

report() { # qos subscribers
    local q=$1 subs=$2 name
    echo
    echo "QoS $q: 4 publishers -> $subs subscriber(s), 64-byte payloads," \
        "$runs x ${seconds} s per broker, alternating (medians)"
    printf '  %-34s %12s %12s %8s %12s %8s   %s\n' "" plain plugin ratio "+policies" ratio target
    row() { # label field divisor format target
        local p x y
        p=$(median "$2" plain "$q")
        x=$(median "$2" plugin "$q")
        y=$(median "$2" policies "$q")
        printf "  %-34s %12.${4}f %12.${4}f %8.3f %12.${4}f %8.3f   %s\n" "$1" \
            "$(awk -v a="$p" -v d="$3" 'BEGIN { print a / d }')" \
            "$(awk -v a="$x" -v d="$3" 'BEGIN { print a / d }')" \
            "$(awk -v a="$x" -v b="$p" 'BEGIN { print a / b }')" \
            "$(awk -v a="$y" -v d="$3" 'BEGIN { print a / d }')" \
            "$(awk -v a="$y" -v b="$p" 'BEGIN { print a / b }')" "$5"
    }
    row "end-to-end msgs/s" 3 1 0 ">= 0.95"
    row "broker CPU us/msg (broker thread)" 4 1000 3 "<= 1.10"
    row "broker CPU us/msg (all threads)" 5 1000 3 ""
    for name in plain plugin policies; do
        printf '  %-34s %s busy %s%%, waiting for its CPU %s%%, lost %s\n' "" "$name" \
            "$(median 6 "$name" "$q")" "$(median 7 "$name" "$q")" "$(sum 8 "$name" "$q")"
    done
}

echo "bench: broker on CPU $broker_cpu, ddlocal-loadgen on CPU $gen_cpu; plain on port" \
    "$plain_port, plugin (3 profiles, all things) on $plugin_port, plugin + 10 policies x 10" \
    "statements on $policies_port"
for q in 0 1; do
    subs=1
    [ "$q" = 1 ] && subs=4
    for r in $(seq "$runs"); do
        # Rotate the order so no broker always runs first.
        case $((r % 3)) in
        1) order="plain plugin policies" ;;
        2) order="plugin policies plain" ;;
        0) order="policies plain plugin" ;;
        esac
        for name in $order; do
            case $name in
            plain) one plain "$plain_pid" "$plain_port" "$q" "$subs" ;;
            plugin) one plugin "$plugin_pid" "$plugin_port" "$q" "$subs" ;;
            policies) one policies "$policies_pid" "$policies_port" "$q" "$subs" ;;
            esac
        done
        printf '.'
    done
done
echo
report 0 1
report 1 4
cat <<'EOF'

  busy share near 100% means the broker was saturated (the generator keeps up);
  "waiting for its CPU" is time other processes held the broker's CPU.
EOF
for name in plugin policies; do
    if ! grep -q 'ddlocal: plugin ready' "$tmp/$name.log"; then
        echo "bench: the plugin did not report ready; its log:" >&2
        cat "$tmp/$name.log" >&2
        exit 1
    fi
done
if grep -q 'not enforced' "$tmp/policies.log"; then
    echo "bench: the policies were not compiled:" >&2
    grep 'not enforced' "$tmp/policies.log" >&2
    exit 1
fi

echo
"$root/build/bench-detect" "$things"

# The same fleet with five more retained metrics and metrics export on
# (docs/performance.md), to read next to the figure above.
echo
"$root/build/bench-detect" --retain "$things"
# The same fleet registered, with ten dynamic thing groups kept up to date
# in each window close: the close and the upkeep side by side
# (docs/fleet-indexing.md, "How membership is kept").
echo
"$root/build/bench-detect" --dyngroups "$things"

# Rounds of new client ids that leave and age out: the memory and the
# window close must come back to where they were (docs/performance.md).
echo
"$root/build/bench-detect" --churn "$churn_ids" "$churn_rounds"

# SearchIndex over the same number of things (docs/fleet-indexing.md).
echo
"$root/build/bench-index" "$things"

# Start-up time and idle memory next to plain mosquitto's (startup.py).
echo
/usr/bin/python3 "$root/tests/bench/startup.py" "$startup_rounds"

# From a bucket's close to the alert at a webhook and in a queue.
echo
/usr/bin/python3 "$root/tests/bench/alert_latency.py" "$alerts"

# An on-demand audit of 100,000 certificates and 1,000 policies, then the
# broker's round trips during audits of that account through the API,
# against none (docs/audit.md "How long it takes").
echo
mkdir "$tmp/audit"
"$root/build/bench-audit" --keep "$tmp/audit" 100000 1000
echo
/usr/bin/python3 "$root/tests/bench/audit_tick.py" "$tmp/audit"

# The HTTP write path against reads, and the version check (write_path.sh).
bash "$root/tests/bench/write_path.sh"
