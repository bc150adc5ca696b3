# shipd: single-host container orchestrator.
#
#   make            build shipd and shipctl into build/
#   make check      install what is missing, start dockerd, run every test
#   make demo       install what is missing, start dockerd, run the demo stack
#   make bench      side-by-side benchmark against docker-compose
#   make bench-rollback  rollback and update availability beside compose
#   make crash-soak SIGKILL at random instants, CRASH_ROUNDS (20) per scenario
#   make fuzz       run each libFuzzer harness FUZZ_SECONDS (300) seconds
#   make man        render the man pages from docs/ into build/man/ (pandoc)
#   make install    binaries, man pages, units, completion, docs under
#                   $(DESTDIR)$(PREFIX); make uninstall removes them
#
# SAN=1 builds with ASan+UBSan into build-san/.  WERROR=1 makes warnings fatal.

PREFIX    ?= /usr/local

CC        ?= cc
PKGS       = libuv libcurl jansson yaml-0.1 libcrypto libmicrohttpd
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CMOCKA_LIBS = $(shell pkg-config --libs cmocka 2>/dev/null)
# shipctl alone writes tar streams (build contexts).
ARCHIVE_CFLAGS = $(shell pkg-config --cflags libarchive 2>/dev/null)
ARCHIVE_LIBS = $(shell pkg-config --libs libarchive 2>/dev/null)

WARN = -Wall -Wextra -Wformat=2 -Wshadow -Wmissing-prototypes \
       -Wstrict-prototypes -Wpointer-arith -Wno-unused-parameter
ifeq ($(WERROR),1)
WARN += -Werror
endif

ifeq ($(SAN),1)
B        = build-san
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer \
           -fno-sanitize-recover=undefined
OPT      = -O1
else
B        = build
SANFLAGS =
OPT      = -O2
endif

CPPFLAGS += -D_GNU_SOURCE -Icommon -Idaemon -Icli
CFLAGS   += -std=c11 -g $(OPT) $(WARN) $(SANFLAGS) $(PKG_CFLAGS) \
            $(ARCHIVE_CFLAGS) -MMD -MP
LDFLAGS  += $(SANFLAGS)
LDLIBS   += $(PKG_LIBS)

COMMON_SRC = $(wildcard common/*.c)
# daemon/ is one folder per layer (docs/architecture.md); every .c of a
# layer folder is a module.
DAEMON_DIRS = core engine state backup ops ctl
DAEMON_SRC = $(foreach d,$(DAEMON_DIRS),$(wildcard daemon/$(d)/*.c))
CLI_SRC    = $(filter-out cli/shipctl.c,$(wildcard cli/*.c))
TEST_SRC   = $(wildcard tests/unit/test_*.c)

COMMON_OBJ = $(COMMON_SRC:%.c=$(B)/%.o)
DAEMON_OBJ = $(DAEMON_SRC:%.c=$(B)/%.o)
CLI_OBJ    = $(CLI_SRC:%.c=$(B)/%.o)
TEST_BIN   = $(TEST_SRC:tests/unit/%.c=$(B)/tests/%)
TEST_HELPER_OBJ = $(patsubst %.c,$(B)/%.o,$(wildcard tests/unit/helper_*.c))

all: $(B)/shipd $(B)/shipctl

$(B)/shipd: $(B)/daemon/main.o $(DAEMON_OBJ) $(COMMON_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/shipctl: $(B)/cli/shipctl.o $(CLI_OBJ) $(COMMON_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(ARCHIVE_LIBS)

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# Each unit test links the daemon's modules (not its main) and common/,
# so a test may reach any of them.
$(B)/tests/%: $(B)/tests/unit/%.o $(TEST_HELPER_OBJ) $(DAEMON_OBJ) $(COMMON_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(CMOCKA_LIBS)

# The engine client against the real dockerd: an integration test in C.
$(B)/tests/engine_real: $(B)/tests/integration/engine_real.o $(DAEMON_OBJ) $(COMMON_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(CMOCKA_LIBS)

$(B)/tests/ctlflood: tests/tools/ctlflood.c tests/tools/rawsock.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $^

$(B)/tests/ctlhangup: tests/tools/ctlhangup.c tests/tools/rawsock.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $^

# Links the fake engine helper and common/ (util.c), which it uses.
$(B)/tests/stallengine: tests/tools/stallengine.c $(B)/tests/unit/helper_fakeengine.o $(COMMON_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# ---- fuzzing ---------------------------------------------------------------
#
# libFuzzer harnesses of tests/fuzz/ (docs/testing.md), built with clang
# into build-fuzz/ with ASan+UBSan; they link common/ and the daemon's
# modules.  They run on a copy of the seeds, build-fuzz/corpus/, and leave
# crashes in build-fuzz/artifacts/: nothing the fuzzer makes is in the tree.

FUZZ_CC     ?= clang
FUZZ_B       = build-fuzz
FUZZ_SAN     = -fsanitize=address,undefined -fno-sanitize-recover=undefined \
               -fno-omit-frame-pointer
# clang (unlike gcc) warns on vasprintf(fmt) of a va_list wrapper.
FUZZ_CFLAGS  = -std=c11 -g -O1 $(WARN) -Wno-format-nonliteral $(FUZZ_SAN) \
               -fsanitize=fuzzer-no-link \
               $(PKG_CFLAGS) -MMD -MP
FUZZ_NAMES   = $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN     = $(FUZZ_NAMES:%=$(FUZZ_B)/fuzz_%)
FUZZ_OBJ     = $(patsubst %.c,$(FUZZ_B)/%.o,$(COMMON_SRC) $(DAEMON_SRC) \
               tests/fuzz/fuzzdir.c)
FUZZ_SECONDS ?= 300
FUZZ_SHORT   ?= 12

$(FUZZ_B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) -Itests/fuzz $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_B)/fuzz_%: $(FUZZ_B)/tests/fuzz/fuzz_%.o $(FUZZ_OBJ)
	$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $^ $(LDLIBS)

fuzz-build: $(FUZZ_BIN)

fuzz: fuzz-build
	@scripts/fuzz.sh -t $(FUZZ_SECONDS)

# What the test command runs: about a minute for them all.
fuzz-short: fuzz-build
	@scripts/fuzz.sh -t $(FUZZ_SHORT)

tests: $(TEST_BIN) $(B)/tests/ctlflood $(B)/tests/ctlhangup $(B)/tests/stallengine \
       $(B)/tests/engine_real

# ---- set-up ---------------------------------------------------------------

deps:
	@scripts/deps.sh

engine: deps
	@scripts/engine.sh

images: engine
	@tests/images/build.sh

# ---- tests ----------------------------------------------------------------

# The one test command: README and .ci/run call it.
check: deps engine
	@$(MAKE) --no-print-directory WERROR=1 all tests
	@$(MAKE) --no-print-directory WERROR=1 SAN=1 all tests
	@$(MAKE) --no-print-directory WERROR=1 fuzz-build
	@$(MAKE) --no-print-directory images
	@scripts/run-tests.sh

test-unit: tests
	@scripts/run-tests.sh unit

test-integration: all
	@scripts/run-tests.sh integration

# A 500 MiB build context through shipctl and shipd with both RSS
# measured flat (tests/slow/build_big.sh; slow, not in check).
test-build-big: all
	@tests/slow/build_big.sh

# shipd idle with 20 containers' stats streams and /metrics scraped each
# second: RSS and CPU flat over IDLE_SECONDS (600) (tests/slow/metrics_idle.sh).
test-metrics-idle: all
	@tests/slow/metrics_idle.sh

# The random-kill test's long mode: every scenario, CRASH_ROUNDS kills each, then a table of the outcomes
# (tests/integration/crashkill.sh; the test command runs a short mode).
CRASH_ROUNDS ?= 20
crash-soak: deps engine
	@$(MAKE) --no-print-directory WERROR=1 all
	@$(MAKE) --no-print-directory images
	@CRASH_TABLE=1 ROUNDS=$(CRASH_ROUNDS) \
	    SHIPD=$(CURDIR)/build/shipd SHIPCTL=$(CURDIR)/build/shipctl \
	    tests/integration/crashkill.sh

# Who calls whom, read from the objects' symbols: no upward calls, no
# cycles, no daemon or common .c over 800 lines (docs/architecture.md).
check-layers: all
	@scripts/check-layers.sh $(B)

# ---- the main job ---------------------------------------------------------

demo: deps engine
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory images
	@scripts/demo.sh

bench: deps engine
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory images
	@bench/run.sh

bench-rollback: deps engine
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory images
	@bench/rollback.sh

clean:
	rm -rf build build-san build-fuzz

.PHONY: all tests deps engine images check test-unit test-integration \
        test-build-big test-metrics-idle \
        check-layers crash-soak demo bench bench-rollback clean \
        fuzz-build fuzz fuzz-short

# ---- packaging ------------------------------------------------------------
# Where each file goes (README.md, "Installing"): PREFIX=/usr puts the
# units in /lib/systemd/system as a Debian package would; any other PREFIX
# in $(PREFIX)/lib/systemd/system, which systemd also reads for /usr/local.
# The units name /usr/local; install rewrites those paths for the PREFIX.

SBINDIR   ?= $(PREFIX)/sbin
BINDIR    ?= $(PREFIX)/bin
MANDIR    ?= $(PREFIX)/share/man
DOCDIR    ?= $(PREFIX)/share/doc/shipd
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
# shipd reads /etc/shipd/shipd.yaml whatever the PREFIX (shipd -c FILE
# names another).
SYSCONFDIR ?= /etc
ifeq ($(PREFIX),/usr)
UNITDIR   ?= /lib/systemd/system
else
UNITDIR   ?= $(PREFIX)/lib/systemd/system
endif
MAN_PAGES = $(B)/man/shipd.8 $(B)/man/shipctl.1 $(B)/man/shipd-units.5
UNITS     = $(wildcard systemd/*.service systemd/*.timer)
DOCS      = README.md $(wildcard docs/*.md) docs/grafana-shipd.json \
            docs/prometheus-scrape.yml

man: $(MAN_PAGES)

$(MAN_PAGES) &: scripts/man.sh docs/operations.md docs/units.md $(B)/shipctl
	@scripts/man.sh $(B)/man $(B)/shipctl

install: all man
	install -D -m 0755 $(B)/shipd $(DESTDIR)$(SBINDIR)/shipd
	install -D -m 0755 $(B)/shipctl $(DESTDIR)$(BINDIR)/shipctl
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(UNITDIR) $(DESTDIR)$(DOCDIR)
	install -m 0644 $(B)/man/shipctl.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 $(B)/man/shipd-units.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 $(B)/man/shipd.8 $(DESTDIR)$(MANDIR)/man8/
	for u in $(UNITS); do \
		sed -e 's|/usr/local/sbin/|$(SBINDIR)/|g' \
		    -e 's|/usr/local/bin/|$(BINDIR)/|g' \
		    -e 's|/usr/local/share/doc/shipd|$(DOCDIR)|g' "$$u" \
		    > $(DESTDIR)$(UNITDIR)/$${u##*/}.tmp && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$${u##*/}.tmp && \
		mv $(DESTDIR)$(UNITDIR)/$${u##*/}.tmp \
		    $(DESTDIR)$(UNITDIR)/$${u##*/} || exit 1; \
	done
	install -D -m 0644 cli/shipctl.bash $(DESTDIR)$(BASHCOMPDIR)/shipctl
	install -m 0644 $(DOCS) $(DESTDIR)$(DOCDIR)/
	install -m 0644 systemd/shipd.yaml $(DESTDIR)$(DOCDIR)/shipd.yaml.example
	@# The policy is the operator's: an existing file is never replaced.
	[ -e $(DESTDIR)$(SYSCONFDIR)/shipd/shipd.yaml ] || \
	    install -D -m 0644 systemd/shipd.yaml \
	    $(DESTDIR)$(SYSCONFDIR)/shipd/shipd.yaml

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/shipd $(DESTDIR)$(BINDIR)/shipctl \
	    $(DESTDIR)$(MANDIR)/man1/shipctl.1 \
	    $(DESTDIR)$(MANDIR)/man5/shipd-units.5 \
	    $(DESTDIR)$(MANDIR)/man8/shipd.8 \
	    $(DESTDIR)$(BASHCOMPDIR)/shipctl \
	    $(addprefix $(DESTDIR)$(UNITDIR)/,$(notdir $(UNITS))) \
	    $(addprefix $(DESTDIR)$(DOCDIR)/,$(notdir $(DOCS))) \
	    $(DESTDIR)$(DOCDIR)/shipd.yaml.example
	@# Only when unchanged: an edited policy stays.
	if cmp -s systemd/shipd.yaml $(DESTDIR)$(SYSCONFDIR)/shipd/shipd.yaml; \
	then rm -f $(DESTDIR)$(SYSCONFDIR)/shipd/shipd.yaml; \
	    rmdir $(DESTDIR)$(SYSCONFDIR)/shipd 2>/dev/null || true; fi
	-rmdir $(DESTDIR)$(DOCDIR) 2>/dev/null

.PHONY: man install uninstall

# A forwarding engine socket, made anew like a restarted dockerd's
# (tests/integration/engine_socket.sh).
$(B)/tests/fwdengine: tests/tools/fwdengine.c tests/tools/rawsock.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $^

tests: $(B)/tests/fwdengine

# A pseudo-terminal driven by a script (tests/integration/exec.sh).
$(B)/tests/ptyrun: tests/tools/ptyrun.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $^ -lutil

tests: $(B)/tests/ptyrun

-include $(shell find $(B) $(FUZZ_B) -name '*.d' 2>/dev/null)
