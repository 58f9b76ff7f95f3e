#!/bin/bash
# SPDX-License-Identifier: MIT
# `make bench`: the broker's cost with the ddlocal plugin against plain
# mosquitto, then one window close of a large fleet (build/bench-detect).
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
# (3), BENCH_BROKER_CPU (0), BENCH_GEN_CPU (1), BENCH_THINGS (100000).
set -euo pipefail

cd "$(dirname "$0")/../.."
root=$(pwd)
runs=${BENCH_RUNS:-5}
seconds=${BENCH_SECONDS:-3}
broker_cpu=${BENCH_BROKER_CPU:-0}
gen_cpu=${BENCH_GEN_CPU:-1}
things=${BENCH_THINGS:-100000}
mosquitto=$(command -v mosquitto || echo /usr/sbin/mosquitto)

make --no-print-directory -s all build/ddlocal-loadgen build/bench-detect
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
        -S "$subs" -s 64 -d "$seconds")
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
    local q=$1 subs=$2
    local rp rq cp cq ap aq
    rp=$(median 3 plain "$q")
    rq=$(median 3 plugin "$q")
    cp=$(median 4 plain "$q")
    cq=$(median 4 plugin "$q")
    ap=$(median 5 plain "$q")
    aq=$(median 5 plugin "$q")
    echo
    echo "QoS $q: 4 publishers -> $subs subscriber(s), 64-byte payloads," \
        "$runs x ${seconds} s per broker, alternating (medians)"
    printf '  %-34s %12s %12s %8s   %s\n' "" plain plugin ratio target
    printf '  %-34s %12.0f %12.0f %8.3f   %s\n' "end-to-end msgs/s" "$rp" "$rq" \
        "$(awk -v a="$rq" -v b="$rp" 'BEGIN { print a / b }')" ">= 0.95"
    printf '  %-34s %12.3f %12.3f %8.3f   %s\n' "broker CPU us/msg (broker thread)" \
        "$(awk -v a="$cp" 'BEGIN { print a / 1000 }')" "$(awk -v a="$cq" 'BEGIN { print a / 1000 }')" \
        "$(awk -v a="$cq" -v b="$cp" 'BEGIN { print a / b }')" "<= 1.10"
    printf '  %-34s %12.3f %12.3f %8.3f\n' "broker CPU us/msg (all threads)" \
        "$(awk -v a="$ap" 'BEGIN { print a / 1000 }')" "$(awk -v a="$aq" 'BEGIN { print a / 1000 }')" \
        "$(awk -v a="$aq" -v b="$ap" 'BEGIN { print a / b }')"
    printf '  %-34s %11s%% %11s%%\n' "broker busy share (CPU/wall)" \
        "$(median 6 plain "$q")" "$(median 6 plugin "$q")"
    printf '  %-34s %11s%% %11s%%\n' "broker waiting for its CPU" \
        "$(median 7 plain "$q")" "$(median 7 plugin "$q")"
    printf '  %-34s %12s %12s\n' "messages lost (all runs)" "$(sum 8 plain "$q")" \
        "$(sum 8 plugin "$q")"
}

echo "bench: broker on CPU $broker_cpu, ddlocal-loadgen on CPU $gen_cpu;" \
    "plain on port $plain_port, plugin (3 profiles, all things) on port $plugin_port"
for q in 0 1; do
    subs=1
    [ "$q" = 1 ] && subs=4
    for r in $(seq "$runs"); do
        if [ $((r % 2)) = 1 ]; then
            one plain "$plain_pid" "$plain_port" "$q" "$subs"
            one plugin "$plugin_pid" "$plugin_port" "$q" "$subs"
        else
            one plugin "$plugin_pid" "$plugin_port" "$q" "$subs"
            one plain "$plain_pid" "$plain_port" "$q" "$subs"
        fi
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
if ! grep -q 'ddlocal: plugin ready' "$tmp/plugin.log"; then
    echo "bench: the plugin did not report ready; its log:" >&2
    cat "$tmp/plugin.log" >&2
    exit 1
fi

echo
"$root/build/bench-detect" "$things"
