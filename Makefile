# Makefile for the kinesis extension (PGXS).
#
#   make && make install                 build and install (as root)
#   make installcheck                    regress + isolation + TAP suites, each in
#                                        its own temporary cluster (not as root)

EXTENSION = kinesis
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" kinesis.control)
MODULE_big = kinesis
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))
PGFILEDESC = "kinesis - Kinesis Data Streams inside PostgreSQL"

# The install script is assembled from src/sql/*.sql in name order; every
# later schema change ships as an upgrade script kinesis--A--B.sql, built
# from the files that version added (and the functions it replaced).
DATA_built = $(EXTENSION)--$(EXTVERSION).sql $(EXTENSION)--1.0--1.1.sql
# upgrade scripts, and the frozen install scripts of earlier releases (so
# that CREATE EXTENSION ... VERSION and ALTER EXTENSION ... UPDATE work)
DATA = $(filter-out $(DATA_built),$(wildcard $(EXTENSION)--*--*.sql)) \
	$(filter-out releases/$(DATA_built),$(wildcard releases/$(EXTENSION)--*.sql))

PG_CONFIG ?= /usr/lib/postgresql/15/bin/pg_config
PG_CPPFLAGS = -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter \
	-Wno-missing-field-initializers -Wno-sign-compare -Isrc
# OpenSSL's low-level SHA-256 for the tags of encrypted records (src/hmac.c);
# the server links the same library (and pg_config.h sets the OpenSSL API
# level its headers are used at)
SHLIB_LINK = -lcrypto

REGRESS = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_OPTS = --temp-config=$(CURDIR)/test/kinesis.conf \
	--temp-instance=$(CURDIR)/tmp_regress --load-extension=kinesis
ISOLATION = $(patsubst test/specs/%.spec,%,$(sort $(wildcard test/specs/*.spec)))
ISOLATION_OPTS = --inputdir=test --outputdir=output_iso \
	--temp-config=$(CURDIR)/test/kinesis.conf --temp-instance=$(CURDIR)/tmp_isolation \
	--load-extension=kinesis
TAP_TESTS = 1
PROVE_TESTS = test/t/*.pl
EXTRA_CLEAN = $(DATA_built) $(GATEWAY) gateway/*.o tmp_regress tmp_isolation output_iso results \
	regression.diffs regression.out

# The wire gateway (gateway/): a program of its own, installed beside
# pg_ctl, that speaks Kinesis's HTTP protocol and calls kinesis.api()
GATEWAY = gateway/kinesis-gateway
GATEWAY_OBJS = $(patsubst %.c,%.o,$(sort $(wildcard gateway/*.c)))
GATEWAY_CFLAGS = -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter \
	-Wno-missing-field-initializers -pthread -I$(shell $(PG_CONFIG) --includedir)
GATEWAY_LIBS = -L$(shell $(PG_CONFIG) --libdir) -lpq -lmicrohttpd -lnghttp2 -ljansson \
	-lcrypto -lz -lm -pthread

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

all: $(GATEWAY)

gateway/%.o: gateway/%.c gateway/*.h
	$(CC) $(GATEWAY_CFLAGS) -c -o $@ $<

$(GATEWAY): $(GATEWAY_OBJS)
	$(CC) -o $@ $^ $(GATEWAY_LIBS)

install: install-gateway
install-gateway: $(GATEWAY)
	$(INSTALL_PROGRAM) $(GATEWAY) '$(DESTDIR)$(bindir)/kinesis-gateway'
.PHONY: install-gateway

# every C file includes the shared header
$(OBJS) $(OBJS:.o=.bc): src/kinesis.h

$(EXTENSION)--$(EXTVERSION).sql: $(sort $(wildcard src/sql/*.sql)) kinesis.control
	cat $(sort $(wildcard src/sql/*.sql)) > $@

# 1.0 -> 1.1: the files 1.1 added, then the functions of earlier files it
# changed (file:function), as CREATE OR REPLACE with their comments
UPGRADE_1_1 = src/sql/60_gateway.sql src/sql/61_api_codec.sql
UPGRADE_1_1_REPLACED = 21_describe:_find_stream 40_api:_api_stream_out \
	40_api:_api_change_retention 40_api:_api_change_monitoring \
	40_api:_api_change_encryption 40_api:_api_list_streams 40_api:api
$(EXTENSION)--1.0--1.1.sql: $(UPGRADE_1_1) src/sql/21_describe.sql src/sql/40_api.sql
	{ echo "-- kinesis 1.0 -> 1.1: $(UPGRADE_1_1), then $(UPGRADE_1_1_REPLACED)"; \
	  cat $(UPGRADE_1_1); \
	  for r in $(UPGRADE_1_1_REPLACED); do \
	    awk -v head="CREATE FUNCTION kinesis.$${r#*:}(" ' \
	      index($$0, head) == 1 { on = 1; sub(/^CREATE FUNCTION/, "CREATE OR REPLACE FUNCTION") } \
	      on { print } \
	      on && /^COMMENT ON FUNCTION/ { c = 1 } \
	      c && /;$$/ { on = 0; c = 0; print "" }' src/sql/$${r%%:*}.sql; \
	  done; } > $@
