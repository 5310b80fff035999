# lighttpd-rs: everyday commands. `make test` is what CI runs.
CARGO   ?= cargo
BIN     := target/release/lighttpd
REF     ?= /usr/sbin/lighttpd
PREFIX  ?= /usr/local

export LIGHTTPD_EXE_PATH ?= $(CURDIR)/$(BIN)
.PHONY: build dist run test unit t t-dist compare compare-startup compare-debian compare-http compare-random compare-backend check fuzz bench install clean

build:
	$(CARGO) build --release --bins --examples

# The binary to ship and benchmark: LTO and profile-guided (scripts/pgo-build;
# needs `rustup component add llvm-tools` and wrk). PGO=0 skips the profile.
dist:
	scripts/pgo-build

# Builds and runs the server in the foreground on the demo config.
run: build
	$(BIN) -D -f conf.d/lighttpd.conf

test: build unit t compare compare-startup compare-debian compare-http compare-random compare-backend

# The fuzz targets are type-checked too, so an API change cannot leave one
# that no longer builds (running them is `make fuzz`).
unit:
	$(CARGO) test --release
	$(CARGO) check --manifest-path fuzz/Cargo.toml --bins

t: build
	prove -I t/lib t/

# The wire tests against the shipped binary (make dist); .ci/run runs it
# after `make test`.
t-dist: build dist
	LIGHTTPD_EXE_PATH=$(CURDIR)/target/dist/lighttpd prove -I t/lib t/

# Ours against the reference lighttpd, when it is installed.
compare: build
	@if [ -x "$(REF)" ]; then OURS=$(BIN) REF=$(REF) scripts/compare-config; \
	else echo "compare-config: reference $(REF) not installed, skipped"; fi

# Starting for real (-D -i 1, then -tt) on configs that cannot, or can
# only just, start: exit status and every log line against the reference.
compare-startup: build
	@if [ -x "$(REF)" ]; then OURS=$(BIN) REF=$(REF) scripts/compare-startup; \
	else echo "compare-startup: reference $(REF) not installed, skipped"; fi

# The drop-in case: Debian's installed /etc/lighttpd with fastcgi-php, run
# as the package runs it, ours then the reference (skips itself without
# root, php-cgi or the package).
compare-debian: build
	REF=$(REF) OURS=$(BIN) scripts/compare-debian

# 366 raw requests to ours and to the reference on the same config.
compare-http: build
	@if [ -x "$(REF)" ]; then OURS=$(BIN) REF=$(REF) LOGS=1 scripts/compare-with-lighttpd; \
	else echo "compare-with-lighttpd: reference $(REF) not installed, skipped"; fi

# 500 of those requests mutated at random (the same 500 for the same SEED),
# then 25 on each of 20 random configs (static and parse options).
SEED ?= 1
compare-random: build
	@if [ -x "$(REF)" ]; then OURS=$(BIN) REF=$(REF) LOGS=1 scripts/compare-random $(SEED) 500 && \
	OURS=$(BIN) REF=$(REF) CONFIGS=20 scripts/compare-random $(SEED) 25; \
	else echo "compare-random: reference $(REF) not installed, skipped"; fi

# 1,000 random FastCGI reply heads, 1,000 random requests' CGI environments,
# 20 random fastcgi.server configs, 10 x-sendfile and 10 authorizer configs
# with 50 requests each, through ours and the reference, error logs
# compared; then a shorter run with fastcgi.debug = 2 in every config.
compare-backend: build
	@if [ -x "$(REF)" ]; then OURS=$(BIN) REF=$(REF) scripts/compare-backend-random $(SEED) 1000 && \
	OURS=$(BIN) REF=$(REF) FCGI_DEBUG=2 scripts/compare-backend-random $$(( $(SEED) + 1 )) 300; \
	else echo "compare-backend-random: reference $(REF) not installed, skipped"; fi

check:
	$(CARGO) fmt --check
	$(CARGO) clippy --release --all-targets -- -D warnings

# A short run of every fuzz target (cargo-fuzz; see fuzz/README.md).
fuzz:
	scripts/fuzz-all $(FUZZ_SECONDS)

bench: build
	scripts/bench-config

install: dist
	install -D -m 0755 target/dist/lighttpd $(DESTDIR)$(PREFIX)/sbin/lighttpd

clean:
	$(CARGO) clean
	rm -rf t/tmp
