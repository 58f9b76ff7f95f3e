# ddlocal: one Makefile for the plugin, the server, the tools and the tests.
#
#   make                 build/ddlocal.so, build/ddlocal-server, build/ddlocal-device
#   make run             install missing Debian packages, build, start everything
#   make test            install missing packages, then every suite (see README)
#   make SANITIZE=address,undefined unit   unit tests under ASan+UBSan
#   make docker-check    build and smoke-test the Docker images (README)
#   make conformance MOTO_TESTS=DIR [SUITE=iot,sns,sqs]   moto's tests against ddlocal
#   make soak            crash, churn, slow-client and steady-load runs (minutes)
#
# Objects live in build/obj/<variant>/ so sanitizer and plain objects never
# mix; a sanitizer variant also puts its binaries in build/<variant>/.

SHELL := /bin/bash
SANITIZE ?=
comma := ,
ifeq ($(SANITIZE),)
VARIANT := plain
OUT := build
else
VARIANT := san-$(subst $(comma),-,$(SANITIZE))
OUT := build/$(VARIANT)
endif
OBJ := build/obj/$(VARIANT)

CC := gcc
PKGS_CORE := libcjson
PKGS := libcjson sqlite3 libmicrohttpd libcurl openssl
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)

WARN := -std=c17 -Wall -Wextra -Wpedantic -Wformat=2 -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wvla -Wcast-qual -Wundef -Werror
CFLAGS ?= -O2 -g
ALL_CFLAGS := $(WARN) $(CFLAGS) -fPIC -D_GNU_SOURCE -I. -MMD -MP $(PKG_CFLAGS)
LDFLAGS ?=
ifneq ($(SANITIZE),)
ALL_CFLAGS += -fsanitize=$(SANITIZE) -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS += -fsanitize=$(SANITIZE)
endif

LIBS_CORE := -lcjson -lm -lcrypto
LIBS_STORE := -lsqlite3
LIBS_PLUGIN := $(LIBS_STORE) $(LIBS_CORE) -ldl -lcrypto -lpthread
LIBS_SERVER := -lmicrohttpd $(LIBS_STORE) $(LIBS_CORE) -lcrypto -lpthread

CORE_SRC := $(sort $(wildcard core/*.c))
STORE_SRC := $(sort $(wildcard store/*.c store/*/*.c))
PLUGIN_SRC := $(sort $(wildcard plugin/*.c))
SERVER_SRC := $(sort $(wildcard server/*.c server/*/*.c))
SCHEMA_SQL := $(sort $(wildcard schema/[0-9][0-9][0-9]_*.sql))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))

CORE_OBJ := $(CORE_SRC:%.c=$(OBJ)/%.o)
STORE_OBJ := $(STORE_SRC:%.c=$(OBJ)/%.o) $(OBJ)/gen/schema_sql.o
PLUGIN_OBJ := $(PLUGIN_SRC:%.c=$(OBJ)/%.o)
SERVER_OBJ := $(SERVER_SRC:%.c=$(OBJ)/%.o)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(OUT)/tests/%)
FUZZ_REPLAY_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(OUT)/fuzz-replay/%)

# core/ is held to -Wconversion as well (STYLE.md section 8).
$(OBJ)/core/%.o: ALL_CFLAGS += -Wconversion

.PHONY: FORCE all run test check unit integration integration-sanitized conformance e2e bench soak fuzz fuzz-replay format format-check \
	clean deps build-deps tools deps-docker docker-check
all: $(OUT)/ddlocal.so $(OUT)/ddlocal-server tools

# Keep objects that pattern rules build on the way.
.SECONDARY:

# Compiles first check that the build's Debian packages are there (build-deps).
BUILD_DEPS_STAMP := build/.build-deps-ok

# make V=1 shows whole command lines.
Q := $(if $(V),,@)
$(OBJ)/%.o: %.c | build-deps
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

FORCE:

# Migrations are compiled into store/ so both processes carry the same schema.
# Their names are listed in a file rewritten only when the list changes, so
# a migration removed or renamed rebuilds the table as one added does.
$(OBJ)/gen/schema.list: FORCE
	@mkdir -p $(@D)
	@echo '$(notdir $(SCHEMA_SQL))' | cmp -s - $@ || echo '$(notdir $(SCHEMA_SQL))' > $@
$(OBJ)/gen/schema_sql.c: $(SCHEMA_SQL) $(OBJ)/gen/schema.list Makefile
	@mkdir -p $(@D)
	@{ echo '/* generated from schema/ by the Makefile: do not edit */'; \
	  echo '#include "store/migrations.h"'; \
	  echo 'const struct store_migration store_migrations[] = {'; \
	  for f in $(SCHEMA_SQL); do \
	    b=$$(basename $$f .sql); n=$${b%%_*}; \
	    printf '    { %d, "%s",\n' "$$((10#$$n))" "$$b"; \
	    sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/      "/' -e 's/$$/\\n"/' $$f; \
	    echo '    },'; \
	  done; \
	  echo '};'; \
	  echo 'const int store_n_migrations = (int)(sizeof(store_migrations) / sizeof(store_migrations[0]));'; \
	} > $@
# Whole migrations are long string literals, which GCC handles.
$(OBJ)/gen/schema_sql.o: ALL_CFLAGS += -Wno-overlength-strings
$(OBJ)/gen/schema_sql.o: $(OBJ)/gen/schema_sql.c
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

# The dashboard (ui/) is compiled into the server the same way: one byte
# array per file, so the server serves it offline with no file system access.
UI_FILES := $(sort $(shell find ui -type f 2>/dev/null))
$(OBJ)/gen/ui_files.c: $(UI_FILES) Makefile
	@mkdir -p $(@D)
	@{ echo '/* generated from ui/ by the Makefile: do not edit */'; \
	  echo '#include "server/emulator/ui_files.h"'; \
	  i=0; for f in $(UI_FILES); do \
	    echo "static const unsigned char ui_data_$$i[] = {"; \
	    od -An -v -tx1 $$f | sed -e 's/ *\([0-9a-f][0-9a-f]\)/0x\1,/g' -e 's/^/    /'; \
	    echo '    0x00 };'; i=$$((i + 1)); \
	  done; \
	  echo 'const struct ui_file ui_files[] = {'; \
	  i=0; for f in $(UI_FILES); do \
	    printf '    { "%s", ui_data_%d, sizeof(ui_data_%d) - 1 },\n' "$${f#ui/}" $$i $$i; \
	    i=$$((i + 1)); \
	  done; \
	  echo '};'; \
	  echo 'const int ui_n_files = (int)(sizeof(ui_files) / sizeof(ui_files[0]));'; \
	} > $@
$(OBJ)/gen/ui_files.o: $(OBJ)/gen/ui_files.c
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

# The plugin does not link libmosquitto: the broker supplies those symbols.
$(OUT)/ddlocal.so: $(PLUGIN_OBJ) $(STORE_OBJ) $(CORE_OBJ) plugin/exports.map
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) -shared -Wl,--version-script=plugin/exports.map $(LDFLAGS) -o $@ $(filter %.o,$^) $(LIBS_PLUGIN)
$(PLUGIN_OBJ): ALL_CFLAGS += -fvisibility=hidden

$(OUT)/ddlocal-server: $(SERVER_OBJ) $(OBJ)/gen/ui_files.o $(STORE_OBJ) $(CORE_OBJ)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_SERVER)

# The tools are clients: libmosquitto (the client library), cJSON and core/ids.c.
TOOLS_BIN := $(OUT)/ddlocal-device
tools: $(TOOLS_BIN)
$(OUT)/ddlocal-device: $(OBJ)/tools/device.o $(OBJ)/core/ids.o
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ -lmosquitto -lcjson -lm

# Unit tests of core/ link core only; tests of store/ (test_store*) add store.
WRAP_ALLOC := -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free
STORE_TEST_BIN := $(filter $(OUT)/tests/test_store%,$(UNIT_BIN))
CLIENTS_TEST_BIN := $(filter $(OUT)/tests/test_clients $(OUT)/tests/test_strmap,$(UNIT_BIN))
DETECT_TEST_BIN := $(filter $(OUT)/tests/test_detect $(OUT)/tests/test_config,$(UNIT_BIN))
CORE_TEST_BIN := $(filter-out $(STORE_TEST_BIN) $(CLIENTS_TEST_BIN) $(DETECT_TEST_BIN),$(UNIT_BIN))
# The broker thread's counters (plugin/clients.c) and the engine's maps
# (plugin/strmap.c) use no mosquitto API.
$(CLIENTS_TEST_BIN): $(OUT)/tests/%: $(OBJ)/tests/unit/%.o $(OBJ)/tests/unit/alloc_fail.o \
		$(OBJ)/plugin/clients.o $(OBJ)/plugin/strmap.o $(CORE_OBJ)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) $(WRAP_ALLOC) -o $@ $^ -lcmocka $(LIBS_CORE)
# The engine's Detect (plugin/detect.c) and the broker's snapshot
# (plugin/config.c) on a store, without a broker.
$(DETECT_TEST_BIN): $(OUT)/tests/%: $(OBJ)/tests/unit/%.o $(OBJ)/tests/unit/alloc_fail.o \
		$(OBJ)/tests/unit/store_fixture.o $(OBJ)/plugin/detect.o $(OBJ)/plugin/config.o \
		$(OBJ)/plugin/strlist.o $(OBJ)/plugin/strmap.o $(OBJ)/plugin/watchset.o $(STORE_OBJ) \
		$(CORE_OBJ)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) $(WRAP_ALLOC) -o $@ $^ -lcmocka $(LIBS_STORE) $(LIBS_CORE) -lpthread
$(STORE_TEST_BIN): $(OUT)/tests/%: $(OBJ)/tests/unit/%.o $(OBJ)/tests/unit/alloc_fail.o \
		$(OBJ)/tests/unit/store_fixture.o $(STORE_OBJ) $(CORE_OBJ)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) $(WRAP_ALLOC) -o $@ $^ -lcmocka $(LIBS_STORE) $(LIBS_CORE) -lpthread
# test_ids scripts the kernel's answers: its getrandom(2) calls are wrapped.
$(OUT)/tests/test_ids: LDFLAGS += -Wl,--wrap=getrandom
$(CORE_TEST_BIN): $(OUT)/tests/%: $(OBJ)/tests/unit/%.o $(OBJ)/tests/unit/alloc_fail.o $(CORE_OBJ)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) $(WRAP_ALLOC) -o $@ $^ -lcmocka $(LIBS_CORE)

# Each fuzz target also builds with a plain driver that replays its corpus.
$(OUT)/fuzz-replay/fuzz_%: $(OBJ)/tests/fuzz/fuzz_%.o $(OBJ)/tests/fuzz/replay.o $(CORE_OBJ)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_CORE)

unit: $(UNIT_BIN) $(FUZZ_REPLAY_BIN)
	@sh tests/unit/run.sh "$(VARIANT)" $(UNIT_BIN) -- $(FUZZ_REPLAY_BIN)

FUZZ_OUT := build/fuzz
FUZZ_SECONDS ?= 60
# libFuzzer needs clang and its runtime; only `make fuzz` installs them.
FUZZ_PACKAGES := clang libclang-rt-14-dev
fuzz:
	@$(MAKE) --no-print-directory deps DEBIAN_PACKAGES="$(FUZZ_PACKAGES)"
	@mkdir -p $(FUZZ_OUT)
	@for f in $(FUZZ_SRC); do \
	  n=$$(basename $$f .c); \
	  echo "clang $$n"; \
	  clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -I. $(PKG_CFLAGS) \
	    -o $(FUZZ_OUT)/$$n $$f $(CORE_SRC) $(LIBS_CORE) || exit 1; \
	done
	@for f in $(FUZZ_SRC); do \
	  n=$$(basename $$f .c); \
	  mkdir -p $(FUZZ_OUT)/corpus/$$n $(FUZZ_OUT)/crashes; \
	  echo "fuzz $$n for $(FUZZ_SECONDS) s"; \
	  $(FUZZ_OUT)/$$n -max_total_time=$(FUZZ_SECONDS) -print_final_stats=0 \
	    -artifact_prefix=$(FUZZ_OUT)/crashes/$$n- \
	    $(FUZZ_OUT)/corpus/$$n tests/fuzz/corpus/$$n 2>$(FUZZ_OUT)/$$n.log || \
	    { tail -n 30 $(FUZZ_OUT)/$$n.log; echo "fuzz: $$n failed; the input is in $(FUZZ_OUT)/crashes/"; exit 1; }; \
	done
	@echo "fuzz: every target ran $(FUZZ_SECONDS) s without a finding; new inputs are in $(FUZZ_OUT)/corpus/"

# The integration tests run TEST_JOBS at a time (pytest-xdist): each
# starts its own processes on free ports, and most of a test's time is
# waiting for the AWS CLI and the emulator, so two at a time on the 2-core
# machine take 0.6 of the time one at a time does.
TEST_JOBS ?= 2
integration: all
	@cd tests/integration && /usr/bin/python3 -m pytest -q -p no:cacheprovider -n $(TEST_JOBS) .

# The plugin and the server built with ASan and UBSan, driven through the
# integration tests that exercise them most. mosquitto is not instrumented:
# the tests preload the sanitizer runtime into it (tests/integration/conftest.py)
# and fail on any report in its log or the server's.
SANITIZED_INTEGRATION := test_detect.py test_detect_api.py test_dimensions.py test_shadow.py \
	test_authz.py test_policies.py test_sns.py test_teach.py test_sigv4.py \
	test_sns_subscriptions.py test_fleet_index.py
integration-sanitized:
	@$(MAKE) --no-print-directory SANITIZE=address,undefined all
	@cd tests/integration && DDLOCAL_BUILD=$(CURDIR)/build/san-address-undefined \
	  DDLOCAL_SANITIZER_RUNTIME=$$($(CC) -print-file-name=libasan.so) \
	  /usr/bin/python3 -m pytest -q -p no:cacheprovider -n $(TEST_JOBS) $(SANITIZED_INTEGRATION)

# moto's own tests against ddlocal (docs/conformance.md); not part of
# `make test`, whose integration tests only drive the harness. MOTO_TESTS is
# a moto source tree; SUITE (iot, sns, sqs; a comma list) picks the suites
# of tests/conformance/run.py, all of them when empty. moto needs three Debian
# packages more than the rest of the tests (they are in DEBIAN_PACKAGES too,
# as the harness checks them). INDEXING=MODE (e.g. REGISTRY_AND_SHADOW) has
# the proxy turn the thing index on after each reset, to measure moto's
# search tests past AWS's "Index AWS_Things does not exist".
MOTO_TESTS ?=
SUITE ?=
INDEXING ?=
CONFORMANCE_PACKAGES := python3-responses python3-werkzeug python3-freezegun
conformance:
	@if [ -z "$(MOTO_TESTS)" ]; then \
	  echo "conformance: no moto tree; get one with" >&2; \
	  echo "  git clone --depth 1 https://github.com/getmoto/moto.git" >&2; \
	  echo "and run: make conformance MOTO_TESTS=path/to/moto" >&2; \
	  exit 2; \
	fi
	@$(MAKE) --no-print-directory deps DEBIAN_PACKAGES="$(CONFORMANCE_PACKAGES)"
	@$(MAKE) --no-print-directory all
	@$(if $(INDEXING),CONFORMANCE_INDEXING="$(INDEXING)") /usr/bin/python3 tests/conformance/run.py \
	  $(if $(SUITE),--suite "$(SUITE)") "$(MOTO_TESTS)"

# The dashboard in Debian's headless Chromium, driven over the DevTools
# protocol (tests/e2e/cdp.py); the screenshot lands in build/e2e/.
e2e: all
	@cd tests/e2e && /usr/bin/python3 -m pytest -q -p no:cacheprovider .

# Every suite in order (tests/run_all.sh); a failure stops the run non-zero.
test check: deps
	@sh tests/run_all.sh

run: deps all
	@exec bin/ddlocal up $(ARGS)

# The benchmark's own programs (tests/bench/run.sh, README "Benchmarks"):
# the MQTT load generator, and the Detect evaluation benchmark, which links
# the plugin's broker-free parts (counters, detector, maps) with store/core.
BENCH_BIN := $(OUT)/ddlocal-loadgen $(OUT)/bench-detect $(OUT)/bench-index $(OUT)/bench-audit
$(OUT)/ddlocal-loadgen: $(OBJ)/tools/loadgen.o
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^
$(OUT)/bench-detect: $(OBJ)/tests/bench/bench_detect.o $(OBJ)/plugin/detect.o $(OBJ)/plugin/watchset.o \
		$(OBJ)/plugin/clients.o $(OBJ)/plugin/strlist.o $(OBJ)/plugin/strmap.o $(STORE_OBJ) $(CORE_OBJ)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_STORE) $(LIBS_CORE)

# SearchIndex over a large fleet (tests/bench/bench_index.c).
$(OUT)/bench-index: $(OBJ)/tests/bench/bench_index.o $(STORE_OBJ) $(CORE_OBJ)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_STORE) $(LIBS_CORE)

# An on-demand audit of a large account (tests/bench/bench_audit.c).
$(OUT)/bench-audit: $(OBJ)/tests/bench/bench_audit.o $(OBJ)/server/iot/ca.o $(STORE_OBJ) \
		$(CORE_OBJ)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_STORE) $(LIBS_CORE)

# nginx-light is the write path's yardstick for reads (a static file):
# only `make bench` installs it, through its deps prerequisite, which sees
# this target-specific addition.
BENCH_PACKAGES := nginx-light
bench: DEBIAN_PACKAGES += $(BENCH_PACKAGES)
bench: deps all $(BENCH_BIN)
	@bash tests/bench/run.sh

# The soak and crash runs (docs/performance.md "Soak"); not part of `make
# test`: minutes, loopback only, free ports. SOAK_MINUTES and the other
# knobs are read by the runner; SOAK_SCENARIOS picks some of them.
SOAK_SCENARIOS ?=
soak: deps all $(OUT)/ddlocal-loadgen
	@/usr/bin/python3 tests/soak/run.py $(SOAK_SCENARIOS)

C_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null || find core store plugin server tools tests -name '*.[ch]')
format:
	@clang-format -i $(C_FILES)

format-check:
	@clang-format --dry-run --Werror $(C_FILES) && echo "format-check: $(words $(C_FILES)) files clean"

clean:
	rm -rf build

# Debian 12 packages the build, the emulator and the tests need.
# BUILD_PACKAGES is what compiling the plugin, the server and the tools takes.
BUILD_PACKAGES := gcc make pkg-config libc6-dev libcjson-dev libsqlite3-dev libmicrohttpd-dev \
	libcurl4-openssl-dev libssl-dev libmosquitto-dev mosquitto-dev
DEBIAN_PACKAGES := $(BUILD_PACKAGES) clang-format libcmocka-dev mosquitto mosquitto-clients \
	python3 python3-pytest python3-pytest-xdist python3-boto3 python3-paho-mqtt python3-cryptography awscli \
	openssl curl chromium python3-websocket sqlite3 python3-responses python3-werkzeug python3-freezegun wrk

# Every compile first runs this check: without it a machine that lacks a
# library stops at "cjson/cJSON.h: No such file". One dpkg-query names what
# is missing, in one line. A stamp newer than dpkg's database and this
# Makefile skips the query, so the check costs one test(1) when all is
# present; on a system without dpkg it is skipped.
DPKG_STATUS := $(wildcard /var/lib/dpkg/status)
build-deps:
	@if [ -n "$(DPKG_STATUS)" ] && ! { [ $(BUILD_DEPS_STAMP) -nt $(DPKG_STATUS) ] && \
	    [ $(BUILD_DEPS_STAMP) -nt Makefile ]; }; then \
	  installed=$$(dpkg-query -W -f='$${Package} $${Status}\n' $(BUILD_PACKAGES) 2>/dev/null | \
	    sed -n 's/ install ok installed$$//p'); \
	  missing=$$(for p in $(BUILD_PACKAGES); do \
	    echo "$$installed" | grep -qx "$$p" || printf ' %s' "$$p"; done); \
	  if [ -n "$$missing" ]; then \
	    echo "make: missing Debian packages:$$missing; run 'make deps' (or 'make run' / 'make test', which install them)" >&2; \
	    exit 1; \
	  fi; \
	  mkdir -p $(dir $(BUILD_DEPS_STAMP)) && touch $(BUILD_DEPS_STAMP); \
	fi

deps:
	@missing=$$(for p in $(DEBIAN_PACKAGES); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
	  echo "deps: installing Debian packages:" $$missing; \
	  sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  $$sudo apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing \
	    >/dev/null || { echo "deps: apt-get install failed" >&2; exit 1; }; \
	fi

# What `make docker-check` adds: a Docker engine, Compose v1 and debootstrap
# for the base image. Not part of `make deps`, so `make test` stays light.
DOCKER_PACKAGES := docker.io docker-compose debootstrap
deps-docker:
	@$(MAKE) --no-print-directory deps DEBIAN_PACKAGES="$(DOCKER_PACKAGES)"

# Build docker/ on a private engine and smoke-test the stack (README,
# "Offline workshop in Docker"). Root, or sudo, is needed for the engine.
docker-check: deps deps-docker
	@bash tests/docker/check.sh

-include $(shell find build/obj -name '*.d' 2>/dev/null)
