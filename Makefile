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
# later schema change ships as an upgrade script kinesis--A--B.sql.
DATA_built = $(EXTENSION)--$(EXTVERSION).sql
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
EXTRA_CLEAN = $(DATA_built) tmp_regress tmp_isolation output_iso results \
	regression.diffs regression.out

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# every C file includes the shared header
$(OBJS) $(OBJS:.o=.bc): src/kinesis.h

$(DATA_built): $(sort $(wildcard src/sql/*.sql)) kinesis.control
	cat $(sort $(wildcard src/sql/*.sql)) > $@
