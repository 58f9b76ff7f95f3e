#!/bin/bash
# SPDX-License-Identifier: MIT
# `make docker-check`: build docker/Dockerfile through docker/compose.yaml on a
# private Docker engine, run the stack and smoke-test it from the host, as the
# workshop will run it, with no registry.
#
# The engine is Debian's docker.io, started here with its own folders under
# build/docker/ and stopped when the check ends. The base image is made with
# debootstrap from the machine's own Debian mirror (read from its apt sources
# at run time) and imported as debian:bookworm-slim, so the Dockerfile keeps
# its official FROM line and nothing asks a registry. The tarball, the engine's
# images and its build cache stay in build/docker/ between runs, which is what
# makes a warm run fast; `rm -rf build/docker` makes the next run cold.
#
# Each step and smoke test prints "ok" or "FAIL"; the last line is
# "docker-check: N passed, N failed" and any failure makes the exit status
# non-zero.
set -u

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 1
state=$root/build/docker
compose_file=$root/docker/compose.yaml
project=ddlocal-check
image=ddlocal:latest
account=123456789012
region=us-east-1
# The engine's default network reaches the mirror; BuildKit needs Debian's
# 20.10 client (a newer static client may lack buildx), hence /usr/bin first.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH
export DOCKER_BUILDKIT=1 COMPOSE_DOCKER_CLI_BUILD=1
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=$region
export AWS_PAGER='' AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null

passed=0
failed=0
t0=$(date +%s)

say() { printf 'docker-check: %s\n' "$*"; }
ok() {
    passed=$((passed + 1))
    printf '  ok    %s\n' "$1"
}
fail() {
    failed=$((failed + 1))
    printf '  FAIL  %s\n' "$1"
    shift
    [ $# -gt 0 ] && printf '        %s\n' "$@"
}
elapsed() { echo "$(($(date +%s) - t0)) s"; }
summary() {
    say "$passed passed, $failed failed ($(elapsed))"
}
# A failure that leaves nothing to test further: count it, clean up, stop.
abort() {
    fail "$@"
    summary
    exit 1
}

if [ "$(id -u)" != 0 ]; then
    exec sudo -E bash "$0" "$@"
fi
for p in dockerd docker docker-compose debootstrap mosquitto_pub mosquitto_sub curl; do
    command -v $p >/dev/null || {
        echo "docker-check: $p is missing (make deps-docker installs it)" >&2
        exit 1
    }
done
[ -x /usr/bin/aws ] || {
    echo "docker-check: /usr/bin/aws is missing (make deps installs it)" >&2
    exit 1
}

# Two checks would share the docker0 bridge: one at a time on the machine.
exec 9>"${TMPDIR:-/tmp}/ddlocal-docker-check.lock"
if ! flock -n 9; then
    say "another docker-check is running; waiting for it"
    flock -w 1200 9 || {
        echo "docker-check: gave up waiting for the other check" >&2
        exit 1
    }
fi
mkdir -p "$state"

# ---------------------------------------------------------------- compose file
say "1/6 compose file"
if out=$(docker-compose -f "$compose_file" config -q 2>&1); then
    ok "docker-compose config -q accepts docker/compose.yaml"
else
    abort "docker-compose config -q rejects docker/compose.yaml" "$out"
fi

# ---------------------------------------------------------------- base image
# The first bookworm URI (and those of bookworm-updates, bookworm-security) in
# the machine's apt sources, one-line or deb822 alike.
mirror_of() {
    apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 2>/dev/null |
        awk -v r="$1" '$2 == r { print $1; exit }'
}

make_base() {
    local tarball=$1 mirror rootfs upd sec
    mirror=${DEBIAN_MIRROR:-$(mirror_of bookworm)}
    [ -n "$mirror" ] || {
        echo "no bookworm mirror in the apt sources; set DEBIAN_MIRROR" >&2
        return 1
    }
    rootfs=$state/rootfs
    rm -rf "$rootfs"
    debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$state/debootstrap.log" 2>&1 ||
        {
            tail -n 20 "$state/debootstrap.log" >&2
            return 1
        }
    upd=$(mirror_of bookworm-updates)
    sec=$(mirror_of bookworm-security)
    {
        echo "deb $mirror bookworm main"
        [ -n "$upd" ] && echo "deb $upd bookworm-updates main"
        [ -n "$sec" ] && echo "deb $sec bookworm-security main"
    } >"$rootfs/etc/apt/sources.list"
    # Slim as the official -slim image is: no docs, man pages or locales now
    # or in later installs, no apt lists or caches, and no service started by
    # a package's postinst inside a build.
    cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
EOF
    cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
    echo 'Acquire::Languages "none";' >"$rootfs/etc/apt/apt.conf.d/docker-no-languages"
    echo 'Acquire::GzipIndexes "true";' >"$rootfs/etc/apt/apt.conf.d/docker-gzip-indexes"
    echo 'Apt::AutoRemove::SuggestsImportant "false";' \
        >"$rootfs/etc/apt/apt.conf.d/docker-autoremove-suggests"
    printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
    chmod 755 "$rootfs/usr/sbin/policy-rc.d"
    find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
    find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
    rm -rf "$rootfs"/usr/share/{man,groff,info,lintian,linda,locale}/* \
        "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin \
        "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/log/*.log \
        "$rootfs"/var/cache/debconf/*-old "$rootfs"/var/lib/dpkg/*-old
    tar --numeric-owner -C "$rootfs" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    local rc=$?
    rm -rf "$rootfs"
    return $rc
}

say "2/6 base image and private engine ($(elapsed))"
base_tar=$state/debian-bookworm-slim.tar
if [ -s "$base_tar" ]; then
    ok "base tarball cached ($(du -m "$base_tar" | cut -f1) MB)"
elif make_base "$base_tar"; then
    ok "base made with debootstrap ($(du -m "$base_tar" | cut -f1) MB, $(elapsed))"
else
    abort "debootstrap could not make the base" "see $state/debootstrap.log"
fi

# Unix socket paths are limited to 108 bytes; a deep checkout gets a short
# exec root in /tmp instead of build/.
exec_root=$state/exec
if [ ${#exec_root} -gt 50 ]; then
    exec_root=$(mktemp -d "${TMPDIR:-/tmp}/ddlocal-dx.XXXXXX")
fi
sock=$exec_root/docker.sock
export DOCKER_HOST=unix://$sock
dockerd_pid=

compose() { docker-compose -p "$project" -f "$compose_file" "$@"; }

cleanup() {
    if [ -n "$dockerd_pid" ]; then
        compose --profile devices down -v --remove-orphans >/dev/null 2>&1
        kill -TERM "$dockerd_pid" 2>/dev/null
        for _ in $(seq 1 100); do
            kill -0 "$dockerd_pid" 2>/dev/null || break
            sleep 0.2
        done
        kill -KILL "$dockerd_pid" 2>/dev/null
        dockerd_pid=
    fi
    [ "$exec_root" != "$state/exec" ] && rm -rf "$exec_root"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A daemon left by a check that was killed hard is ours: stop it first.
if [ -s "$state/dockerd.pid" ]; then
    old=$(cat "$state/dockerd.pid")
    if kill -0 "$old" 2>/dev/null && grep -q dockerd "/proc/$old/cmdline" 2>/dev/null; then
        kill -TERM "$old"
        while kill -0 "$old" 2>/dev/null; do sleep 0.2; done
    fi
fi
mkdir -p "$state/root" "$exec_root"
dockerd --data-root "$state/root" --exec-root "$exec_root" --pidfile "$state/dockerd.pid" \
    -H "$DOCKER_HOST" >"$state/dockerd.log" 2>&1 &
dockerd_pid=$!
for _ in $(seq 1 150); do
    docker version >/dev/null 2>&1 && break
    kill -0 "$dockerd_pid" 2>/dev/null || break
    sleep 0.2
done
if docker version >/dev/null 2>&1; then
    ok "private dockerd $(docker version -f '{{.Server.Version}}') up, storage $(docker info -f '{{.Driver}}')"
else
    tail -n 20 "$state/dockerd.log"
    abort "dockerd did not start (see $state/dockerd.log)"
fi

if docker image inspect debian:bookworm-slim >/dev/null 2>&1; then
    ok "debian:bookworm-slim already in the engine"
elif docker import --change 'CMD ["bash"]' "$base_tar" debian:bookworm-slim >/dev/null; then
    ok "base imported as debian:bookworm-slim"
else
    abort "docker import of the base failed"
fi

# ---------------------------------------------------------------- build
say "3/6 build through compose with BuildKit ($(elapsed))"
build_log=$state/build.log
if compose build >"$build_log" 2>&1; then
    ok "compose build: $image, $(docker image inspect -f '{{.Size}}' "$image" | awk '{ printf "%d MB", $1 / 1e6 }')"
else
    tail -n 40 "$build_log"
    abort "compose build failed (log: $build_log)"
fi

# ---------------------------------------------------------------- up
say "4/6 stack up on loopback ports ($(elapsed))"
# Free loopback ports below the ephemeral range, published on 127.0.0.1 only.
read -r mqtt_port mqtts_port http_port < <(python3 -c '
import random, socket
got, socks = [], []
while len(got) < 3:
    s = socket.socket()
    p = random.randrange(20000, 32000)
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    socks.append(s)
    got.append(p)
print(*got)')
export MQTT_PUBLISH=127.0.0.1:$mqtt_port MQTTS_PUBLISH=127.0.0.1:$mqtts_port
export HTTP_PUBLISH=127.0.0.1:$http_port
# 60 emulated seconds per real second: the lab's 5-minute window takes 5 s.
export DDLOCAL_TIME_SCALE=60
endpoint=http://127.0.0.1:$http_port
aws() { timeout 60 /usr/bin/aws --endpoint-url "$endpoint" --output json "$@"; }

compose --profile devices down -v --remove-orphans >/dev/null 2>&1
if ! out=$(compose up -d emulator mitigation 2>&1); then
    compose logs --no-color --tail 30
    abort "compose up -d failed" "$out"
fi
health() { docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "$1" 2>/dev/null; }
cid() { compose ps -q "$1"; }
for svc in emulator mitigation; do
    status=
    for _ in $(seq 1 120); do
        status=$(health "$(cid $svc)")
        [ "$status" = healthy ] || [ "$status" = unhealthy ] && break
        sleep 0.5
    done
    if [ "$status" = healthy ]; then
        ok "$svc is healthy"
    else
        compose logs --no-color --tail 30 "$svc"
        abort "$svc is $status"
    fi
done
published=$(docker port "$(cid emulator)" | sort | tr '\n' ' ')
case $published in
*0.0.0.0* | *'[::]'*) fail "ports published beyond loopback: $published" ;;
*) ok "published on loopback only: $published" ;;
esac

# ---------------------------------------------------------------- smoke tests
say "5/6 smoke tests from the host ($(elapsed))"
probe=probe-$$

# The AWS CLI against the API in the container.
if out=$(aws iot create-thing --thing-name "$probe" 2>&1) &&
    echo "$out" | grep -q "\"thingArn\": \"arn:aws:iot:$region:$account:thing/$probe\""; then
    ok "aws iot create-thing answers with the thing's ARN"
else
    fail "aws iot create-thing" "$out"
fi

# The dashboard is compiled into the server: the image serves it offline.
if [ "$(curl -s -o /dev/null -w '%{http_code}' "$endpoint/_ddlocal/ui/")" = 200 ]; then
    ok "the dashboard answers at /_ddlocal/ui/"
else
    fail "the dashboard does not answer at /_ddlocal/ui/"
fi

# An MQTT round trip only the plugin can answer: a shadow update over MQTT
# comes back on .../update/accepted, and the API then serves that shadow.
topic="\$aws/things/$probe/shadow/update"
mosquitto_sub -h 127.0.0.1 -p "$mqtt_port" -i "sub-$probe" -t "$topic/accepted" -C 1 -W 15 \
    >"$state/accepted.json" 2>&1 &
sub_pid=$!
sleep 0.5
mosquitto_pub -h 127.0.0.1 -p "$mqtt_port" -i "$probe" -q 1 -t "$topic" \
    -m '{"state":{"reported":{"probe":42}}}'
if wait "$sub_pid" && grep -q '"probe":[[:space:]]*42' "$state/accepted.json"; then
    ok "MQTT shadow update through the plugin comes back on update/accepted"
else
    fail "MQTT round trip through the plugin" "$(cat "$state/accepted.json")"
fi
if out=$(aws iot-data get-thing-shadow --thing-name "$probe" /dev/stdout 2>&1) &&
    echo "$out" | grep -q '"probe":[[:space:]]*42'; then
    ok "aws iot-data get-thing-shadow shows what MQTT reported"
else
    fail "aws iot-data get-thing-shadow" "$out"
fi

# MQTT over TLS on the published 8883: a device certificate from the API,
# the emulator's CA, and a message through the TLS listener to a TLS client.
tls=$state/tls
rm -rf "$tls" && mkdir -p "$tls"
if out=$(aws iot create-keys-and-certificate --set-as-active \
    --certificate-pem-outfile "$tls/dev.pem" --private-key-outfile "$tls/dev.key" 2>&1) &&
    curl -fsS "$endpoint/_ddlocal/ca.pem" -o "$tls/ca.pem" 2>&1; then
    mqtts() { "$@" -h localhost -p "$mqtts_port" --cafile "$tls/ca.pem" --cert "$tls/dev.pem" \
        --key "$tls/dev.key"; }
    mqtts mosquitto_sub -i "tls-sub-$probe" -t "tls/$probe" -C 1 -W 15 >"$tls/got" 2>&1 &
    sub_pid=$!
    sleep 0.5
    mqtts mosquitto_pub -i "tls-$probe" -q 1 -t "tls/$probe" -m "over-tls-$probe" >"$tls/pub" 2>&1
    if wait "$sub_pid" && grep -qx "over-tls-$probe" "$tls/got"; then
        ok "MQTT over TLS on 8883 with a device certificate from the API"
    else
        fail "MQTT over TLS on 8883" "$(cat "$tls/pub" "$tls/got")"
    fi
else
    fail "aws iot create-keys-and-certificate or the CA" "$out"
fi

# One service reaching another by its compose name.
if out=$(compose exec -T mitigation curl -fsS http://emulator:4566/_ddlocal/health 2>&1) &&
    echo "$out" | grep -q '"status":"ok"'; then
    ok "mitigation reaches http://emulator:4566 by name"
else
    fail "mitigation cannot reach the emulator by name" "$out"
fi

# The lab: a rogue device, the MsgSentSecProfile, an alert through SNS to the
# mitigation runner, and the device quarantined.
lab() {
    local fn=arn:aws:lambda:$region:$account:function:Alerts
    local topic_arn=arn:aws:sns:$region:$account:DDD_Alerts
    local role=arn:aws:iam::$account:role/DDDtoSNSRole
    local dev out

    # The lab's names: MsgSentSecProfile alerts DDD_Alerts, whose lambda
    # subscription is the function Alerts (compose maps it to mitigation).
    if ! {
        aws iot create-thing-group --thing-group-name Quarantine &&
            aws sns create-topic --name DDD_Alerts &&
            aws sns subscribe --topic-arn "$topic_arn" --protocol lambda \
                --notification-endpoint "$fn" &&
            aws iot create-security-profile --security-profile-name MsgSentSecProfile \
                --behaviors '[{"name":"MsgSentBehavior","metric":"aws:num-messages-sent","criteria":{"comparisonOperator":"less-than","value":{"count":5},"durationSeconds":300,"consecutiveDatapointsToAlarm":1,"consecutiveDatapointsToClear":1}}]' \
                --alert-targets "{\"SNS\":{\"alertTargetArn\":\"$topic_arn\",\"roleArn\":\"$role\"}}" &&
            aws iot attach-security-profile --security-profile-name MsgSentSecProfile \
                --security-profile-target-arn "arn:aws:iot:$region:$account:all/things"
    } >"$state/lab-setup.log" 2>&1; then
        fail "lab setup through the AWS CLI (group, topic, subscription, profile)" \
            "$(tail -n 5 "$state/lab-setup.log")"
        return
    fi
    if ! DEVICE_PROFILE=generic compose --profile devices up -d device >/dev/null 2>&1; then
        fail "the device-factory service did not start"
        return
    fi
    # At scale 60 the first window closes within 10 s; allow for a slow machine.
    device_log() { docker logs "$(cid device)" 2>&1; }
    local deadline=$((SECONDS + 60))
    until device_log | grep -q ' quarantined' || [ $SECONDS -ge $deadline ]; do
        sleep 0.5
    done
    dev=$(device_log | sed -n 's/.* \(dev-[A-Z0-9]*\) registered.*/\1/p' | head -n 1)
    # The lab's alert: the device's 30 messages, delivered to the function
    # (the runner answered 200) at the first attempt or a later one.
    out=$(curl -fsS "$endpoint/_ddlocal/alerts")
    if [ -n "$dev" ] && echo "$out" | python3 -c '
import json, sys
dev, fn = sys.argv[1:]
for a in json.load(sys.stdin)["alerts"]:
    m = json.loads(a["message"])
    if m["thingName"] != dev or m["metricValue"] != {"count": 30}:
        continue
    for d in a["deliveries"]:
        if d["endpoint"] == fn and d["status"] == "delivered" and d["lastHttpStatus"] == 200:
            sys.exit(0)
sys.exit(1)' "$dev" "$fn" &&
        docker logs "$(cid mitigation)" 2>&1 | grep -q 'runner: .*"POST / HTTP/1.1" 200'; then
        ok "an alert for $dev (count 30) reached the mitigation service, which answered 200"
    else
        fail "no alert delivered to the mitigation service" "$(echo "$out" | head -c 600)" \
            "$(docker logs --tail 5 "$(cid mitigation)" 2>&1)"
    fi
    local groups shadow
    groups=$(aws iot list-thing-groups-for-thing --thing-name "$dev" 2>&1)
    shadow=$(aws iot-data get-thing-shadow --thing-name "$dev" /dev/stdout 2>&1)
    if echo "$groups" | grep -q '"groupName": "Quarantine"' &&
        echo "$shadow" | grep -q '"quarantine":[[:space:]]*true' &&
        device_log | grep -q "$dev quarantined"; then
        ok "$dev is in Quarantine, its shadow says quarantine, the device stopped"
    else
        fail "the device was not quarantined" "$groups" "$shadow" \
            "$(device_log | tail -n 8)"
    fi
}
lab

# docker stop sends SIGTERM; the launcher must exit 0 well before the 10 s
# grace period, and the named volume must keep the database for the next start.
start=$(date +%s%N)
compose stop -t 10 emulator >/dev/null 2>&1
stop_ms=$((($(date +%s%N) - start) / 1000000))
code=$(docker inspect -f '{{.State.ExitCode}}' "$(cid emulator)")
if [ "$code" = 0 ] && [ "$stop_ms" -lt 5000 ]; then
    ok "docker stop: the emulator exits 0 in $stop_ms ms"
else
    fail "docker stop: exit code $code after $stop_ms ms"
fi
compose up -d emulator >/dev/null 2>&1
for _ in $(seq 1 120); do
    [ "$(health "$(cid emulator)")" = healthy ] && break
    sleep 0.5
done
if out=$(aws iot describe-thing --thing-name "$probe" 2>&1); then
    ok "the data volume kept $probe across a restart"
else
    fail "after a restart the thing is gone" "$out"
fi
compose --profile devices down -v --remove-orphans >/dev/null 2>&1

# ---------------------------------------------------------------- shipping
say "6/6 docker save | docker load, the offline shipping path ($(elapsed))"
ship=$state/ddlocal-images.tar.gz
id_before=$(docker image inspect -f '{{.Id}}' "$image")
if docker save "$image" | gzip -1 >"$ship" &&
    docker rmi "$image" >/dev/null &&
    docker load -i "$ship" >/dev/null &&
    [ "$(docker image inspect -f '{{.Id}}' "$image")" = "$id_before" ]; then
    ok "save, remove, load: $image comes back identical ($(du -m "$ship" | cut -f1) MB gzipped)"
else
    fail "docker save / docker load round trip"
fi
if out=$(docker run --rm --network none "$image" device --help 2>&1) &&
    echo "$out" | grep -q generic &&
    docker run --rm --network none --entrypoint aws "$image" --version >/dev/null 2>&1; then
    ok "the loaded image runs with no network (device factory, AWS CLI)"
else
    fail "the loaded image does not run offline" "$out"
fi
rm -f "$ship"

summary
[ "$failed" -eq 0 ]
