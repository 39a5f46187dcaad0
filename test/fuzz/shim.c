/*-------------------------------------------------------------------------
 *
 * shim.c
 *		Backend symbols for running src/{seqnum,hashkey,iterator,errors,
 *		shardmap}.c outside the server, under libFuzzer.
 *
 * What is real: base64, HMAC (OpenSSL), StringInfo, psprintf and the
 * printf family come from PostgreSQL's own libpgcommon.a / libpgport.a.
 * What is emulated here, with the backend's semantics as far as the fuzzed
 * code can observe them:
 *
 *	- palloc and friends: one malloc per chunk (so ASan sees every chunk's
 *	  bounds), all chunks of one fuzz input freed by shim_end() as a memory
 *	  context reset would free them;
 *	- ereport/elog: the message is formatted, and ERROR longjmps to the
 *	  innermost PG_TRY (shim_try), like the backend's error recovery;
 *	- the secrets table that iterator.c reads its HMAC key from, the clock,
 *	  pg_strong_random, varlena <-> C string and UTF-8 pg_mbstrlen.
 *
 * Everything else the linked files reference (SPI, the shard-map hash
 * tables, locks, tuplestores...) is a stub that fails loudly: the fuzzed
 * functions must not reach it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <time.h>

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "pgtime.h"
#include "storage/lmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "shim.h"

/* ------------------------------------------------------------------------
 * global state the backend would own
 * ------------------------------------------------------------------------
 */
sigjmp_buf *PG_exception_stack = NULL;
ErrorContextCallback *error_context_stack = NULL;
MemoryContext CurrentMemoryContext = NULL;
MemoryContext CacheMemoryContext = NULL;
ResourceOwner CurrentResourceOwner = NULL;
ResourceOwner TopTransactionResourceOwner = NULL;
uint64		SPI_processed = 0;
SPITupleTable *SPI_tuptable = NULL;
int			SPI_result = 0;

ShimError	shim_error;
int			shim_nonerror_reports = 0;
TimestampTz shim_now = INT64CONST(757382400) * USECS_PER_SEC;	/* 2024-01-01 */
uint8		shim_secret[64];
int			shim_secret_len = 32;
bool		shim_secret_null = false;
int			shim_secret_rows = 1;
int			shim_secret_scans = 0;

/* ------------------------------------------------------------------------
 * failures
 * ------------------------------------------------------------------------
 */
const char *
shim_sqlstate(int sqlerrcode)
{
	static char buf[6];
	int			i;

	for (i = 0; i < 5; i++)
	{
		buf[i] = PGUNSIXBIT(sqlerrcode);
		sqlerrcode >>= 6;
	}
	buf[5] = '\0';
	return buf;
}

void
shim_fail(const char *file, int line, const char *cond, const char *fmt,...)
{
	va_list		ap;

	fprintf(stderr, "\n==fuzz== PROPERTY FAILED at %s:%d: %s\n==fuzz== ", file, line, cond);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	if (shim_error.elevel)
		fprintf(stderr, "==fuzz== last error: elevel %d sqlstate %s: %s (%s:%d)\n",
				shim_error.elevel, shim_sqlstate(shim_error.sqlerrcode),
				shim_error.message ? shim_error.message : "(no message)",
				shim_error.filename ? shim_error.filename : "?", shim_error.lineno);
	fflush(stderr);
	abort();
}

static void pg_attribute_noreturn()
shim_unreachable(const char *name)
{
	shim_fail(__FILE__, __LINE__, name,
			  "the fuzzed code called backend function %s(), which the shim does not provide", name);
}

/* called by the stubs gen_stubs.sh writes for the remaining backend symbols */
void		shim_missing_symbol(const char *name) pg_attribute_noreturn();

void
shim_missing_symbol(const char *name)
{
	shim_unreachable(name);
}

void
ExceptionalCondition(const char *conditionName, const char *errorType,
					 const char *fileName, int lineNumber)
{
	shim_fail(fileName, lineNumber, conditionName, "%s", errorType ? errorType : "Assert");
}

/* ------------------------------------------------------------------------
 * outcome counters, printed at exit when FUZZ_STATS is set
 * ------------------------------------------------------------------------
 */
#define MAX_COUNTERS 64

static struct
{
	const char *label;
	long		count;
}			counters[MAX_COUNTERS];
static int	ncounters = 0;

static void
print_counters(void)
{
	int			i;

	for (i = 0; i < ncounters; i++)
		fprintf(stderr, "fuzz-stat %-40s %ld\n", counters[i].label, counters[i].count);
}

void
shim_count(const char *label)
{
	int			i;

	for (i = 0; i < ncounters; i++)
		if (counters[i].label == label || strcmp(counters[i].label, label) == 0)
		{
			counters[i].count++;
			return;
		}
	if (ncounters == 0 && getenv("FUZZ_STATS") != NULL)
		atexit(print_counters);
	if (ncounters < MAX_COUNTERS)
	{
		counters[ncounters].label = label;
		counters[ncounters++].count = 1;
	}
}

/* ------------------------------------------------------------------------
 * memory: every chunk is its own malloc block, linked for the reset
 * ------------------------------------------------------------------------
 */
#define CHUNK_MAGIC UINT64CONST(0x6b696e6573697321)

typedef struct ShimChunk
{
	struct ShimChunk *prev;
	struct ShimChunk *next;
	Size		size;
	uint64		magic;
} ShimChunk;

StaticAssertDecl(sizeof(ShimChunk) % MAXIMUM_ALIGNOF == 0, "chunk header keeps MAXALIGN");

static ShimChunk chunks = {&chunks, &chunks, 0, 0};
static long nchunks = 0;

static void
chunk_link(ShimChunk *c)
{
	c->next = chunks.next;
	c->prev = &chunks;
	chunks.next->prev = c;
	chunks.next = c;
	nchunks++;
}

static void
chunk_unlink(ShimChunk *c)
{
	c->prev->next = c->next;
	c->next->prev = c->prev;
	nchunks--;
}

static ShimChunk *
chunk_of(void *p, const char *caller)
{
	ShimChunk  *c;

	if (p == NULL)
		shim_fail(__FILE__, __LINE__, caller, "%s(NULL)", caller);
	c = ((ShimChunk *) p) - 1;
	if (c->magic != CHUNK_MAGIC)
		shim_fail(__FILE__, __LINE__, caller, "%s of a pointer palloc did not return", caller);
	return c;
}

static void *
shim_alloc(Size size, int flags)
{
	ShimChunk  *c;

	if (!((flags & MCXT_ALLOC_HUGE) ? AllocHugeSizeIsValid(size) : AllocSizeIsValid(size)))
		elog(ERROR, "invalid memory alloc request size %zu", size);
	c = malloc(sizeof(ShimChunk) + size);
	if (c == NULL)
		shim_fail(__FILE__, __LINE__, "malloc", "out of memory for %zu bytes", size);
	c->size = size;
	c->magic = CHUNK_MAGIC;
	chunk_link(c);
	if (flags & MCXT_ALLOC_ZERO)
		memset(c + 1, 0, size);
	return c + 1;
}

void *
palloc(Size size)
{
	return shim_alloc(size, 0);
}

void *
palloc0(Size size)
{
	return shim_alloc(size, MCXT_ALLOC_ZERO);
}

void *
palloc_extended(Size size, int flags)
{
	return shim_alloc(size, flags);
}

void *
MemoryContextAlloc(MemoryContext context, Size size)
{
	return shim_alloc(size, 0);
}

void *
MemoryContextAllocZero(MemoryContext context, Size size)
{
	return shim_alloc(size, MCXT_ALLOC_ZERO);
}

void
pfree(void *pointer)
{
	ShimChunk  *c = chunk_of(pointer, "pfree");

	chunk_unlink(c);
	c->magic = 0;
	free(c);
}

void *
repalloc(void *pointer, Size size)
{
	ShimChunk  *c = chunk_of(pointer, "repalloc");
	ShimChunk  *n;

	if (!AllocSizeIsValid(size))
		elog(ERROR, "invalid memory alloc request size %zu", size);
	chunk_unlink(c);
	n = realloc(c, sizeof(ShimChunk) + size);
	if (n == NULL)
		shim_fail(__FILE__, __LINE__, "realloc", "out of memory for %zu bytes", size);
	n->size = size;
	chunk_link(n);
	return n + 1;
}

char *
pstrdup(const char *in)
{
	size_t		len = strlen(in);
	char	   *out = palloc(len + 1);

	memcpy(out, in, len + 1);
	return out;
}

char *
pnstrdup(const char *in, Size len)
{
	char	   *out;

	len = strnlen(in, len);
	out = palloc(len + 1);
	memcpy(out, in, len);
	out[len] = '\0';
	return out;
}

long
shim_live_chunks(void)
{
	return nchunks;
}

static void shim_release_resources(void);

/* ------------------------------------------------------------------------
 * per-input lifecycle
 * ------------------------------------------------------------------------
 */
static void
clear_error(void)
{
	free(shim_error.message);
	free(shim_error.hint);
	memset(&shim_error, 0, sizeof(shim_error));
}

void
shim_begin(void)
{
	clear_error();
	if (PG_exception_stack != NULL)
		shim_fail(__FILE__, __LINE__, "PG_exception_stack == NULL",
				  "an exception handler outlived its fuzz input");
}

void
shim_end(void)
{
	while (chunks.next != &chunks)
	{
		ShimChunk  *c = chunks.next;

		chunk_unlink(c);
		c->magic = 0;
		free(c);
	}
	clear_error();
	shim_release_resources();
	PG_exception_stack = NULL;
	error_context_stack = NULL;
}

bool
shim_try(shim_fn fn, void *arg)
{
	sigjmp_buf *save_stack = PG_exception_stack;
	ErrorContextCallback *save_context = error_context_stack;
	sigjmp_buf	local;
	volatile bool ok = true;

	clear_error();
	if (sigsetjmp(local, 0) == 0)
	{
		PG_exception_stack = &local;
		fn(arg);
	}
	else
	{
		/* what abort processing releases: relations, scans, snapshots */
		shim_release_resources();
		ok = false;
	}
	PG_exception_stack = save_stack;
	error_context_stack = save_context;
	return ok;
}

/* ------------------------------------------------------------------------
 * ereport / elog
 * ------------------------------------------------------------------------
 */
static int	cur_elevel = 0;
static int	cur_sqlerrcode = 0;
static char *cur_message = NULL;
static char *cur_hint = NULL;

static char *
format_va(const char *fmt, va_list args)
{
	size_t		size = 256;

	for (;;)
	{
		char	   *buf = malloc(size);
		va_list		copy;
		int			n;

		if (buf == NULL)
			shim_fail(__FILE__, __LINE__, "malloc", "out of memory");
		va_copy(copy, args);
		n = vsnprintf(buf, size, fmt, copy);	/* pg_vsnprintf, from port.h */
		va_end(copy);
		if (n < 0)
			shim_fail(__FILE__, __LINE__, "vsnprintf", "bad format \"%s\"", fmt);
		if ((size_t) n < size)
			return buf;
		free(buf);
		size = (size_t) n + 1;
	}
}

bool
errstart(int elevel, const char *domain)
{
	if (cur_elevel != 0)
		shim_fail(__FILE__, __LINE__, "errstart", "ereport inside ereport");
	cur_elevel = elevel;
	cur_sqlerrcode = elevel >= ERROR ? ERRCODE_INTERNAL_ERROR :
		elevel >= WARNING ? ERRCODE_WARNING : ERRCODE_SUCCESSFUL_COMPLETION;
	free(cur_message);
	free(cur_hint);
	cur_message = cur_hint = NULL;
	return true;				/* always build the message: it is checked too */
}

bool
errstart_cold(int elevel, const char *domain)
{
	return errstart(elevel, domain);
}

int
errcode(int sqlerrcode)
{
	cur_sqlerrcode = sqlerrcode;
	return 0;
}

int
errmsg(const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	free(cur_message);
	cur_message = format_va(fmt, ap);
	va_end(ap);
	return 0;
}

int
errmsg_internal(const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	free(cur_message);
	cur_message = format_va(fmt, ap);
	va_end(ap);
	return 0;
}

int
errhint(const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	free(cur_hint);
	cur_hint = format_va(fmt, ap);
	va_end(ap);
	return 0;
}

void
errfinish(const char *filename, int lineno, const char *funcname)
{
	int			elevel = cur_elevel;

	cur_elevel = 0;
	if (elevel < ERROR)
	{
		shim_nonerror_reports++;
		free(cur_message);
		free(cur_hint);
		cur_message = cur_hint = NULL;
		return;
	}
	clear_error();
	shim_error.elevel = elevel;
	shim_error.sqlerrcode = cur_sqlerrcode;
	shim_error.message = cur_message;
	shim_error.hint = cur_hint;
	shim_error.filename = filename;
	shim_error.lineno = lineno;
	shim_error.funcname = funcname;
	cur_message = cur_hint = NULL;
	if (elevel > ERROR)
		shim_fail(filename, lineno, "elevel <= ERROR", "FATAL/PANIC report: %s",
				  shim_error.message ? shim_error.message : "");
	if (PG_exception_stack == NULL)
		shim_fail(filename, lineno, "PG_exception_stack != NULL",
				  "ERROR outside shim_try: %s", shim_error.message ? shim_error.message : "");
	siglongjmp(*PG_exception_stack, 1);
}

void
pg_re_throw(void)
{
	if (PG_exception_stack == NULL)
		shim_fail(__FILE__, __LINE__, "PG_exception_stack != NULL", "re-throw with no handler");
	siglongjmp(*PG_exception_stack, 1);
}

/* ------------------------------------------------------------------------
 * varlena and text
 * ------------------------------------------------------------------------
 */
struct varlena *
pg_detoast_datum_packed(struct varlena *datum)
{
	if (VARATT_IS_EXTERNAL(datum) || VARATT_IS_COMPRESSED(datum))
		shim_unreachable("pg_detoast_datum_packed (of a toasted value)");
	return datum;
}

struct varlena *
pg_detoast_datum(struct varlena *datum)
{
	if (VARATT_IS_EXTENDED(datum))
		shim_unreachable("pg_detoast_datum (of a short or toasted value)");
	return datum;
}

char *
text_to_cstring(const text *t)
{
	text	   *tunpacked = pg_detoast_datum_packed(unconstify(text *, t));
	int			len = VARSIZE_ANY_EXHDR(tunpacked);
	char	   *result = palloc(len + 1);

	memcpy(result, VARDATA_ANY(tunpacked), len);
	result[len] = '\0';
	return result;
}

text *
cstring_to_text_with_len(const char *s, int len)
{
	text	   *result = palloc(len + VARHDRSZ);

	SET_VARSIZE(result, len + VARHDRSZ);
	memcpy(VARDATA(result), s, len);
	return result;
}

text *
cstring_to_text(const char *s)
{
	return cstring_to_text_with_len(s, strlen(s));
}

/* the database encoding is UTF-8, as on the servers the extension runs on */
int
pg_mbstrlen(const char *mbstr)
{
	int			len = 0;

	while (*mbstr)
	{
		mbstr += pg_utf_mblen((const unsigned char *) mbstr);
		len++;
	}
	return len;
}

/* ------------------------------------------------------------------------
 * clock and randomness
 * ------------------------------------------------------------------------
 */
TimestampTz
GetCurrentTimestamp(void)
{
	return shim_now;
}

pg_time_t
timestamptz_to_time_t(TimestampTz t)
{
	return (pg_time_t) (t / USECS_PER_SEC +
						((POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY));
}

struct pg_tm *
pg_gmtime(const pg_time_t *timep)
{
	static struct pg_tm result;
	struct tm	tm;
	time_t		t = (time_t) *timep;

	if (gmtime_r(&t, &tm) == NULL)
		return NULL;
	result.tm_sec = tm.tm_sec;
	result.tm_min = tm.tm_min;
	result.tm_hour = tm.tm_hour;
	result.tm_mday = tm.tm_mday;
	result.tm_mon = tm.tm_mon;
	result.tm_year = tm.tm_year;
	result.tm_wday = tm.tm_wday;
	result.tm_yday = tm.tm_yday;
	result.tm_isdst = 0;
	result.tm_gmtoff = 0;
	result.tm_zone = "GMT";
	return &result;
}

size_t
pg_strftime(char *s, size_t max, const char *format, const struct pg_tm *t)
{
	struct tm	tm;

	if (t == NULL)
		shim_fail(__FILE__, __LINE__, "t != NULL", "pg_strftime of a NULL pg_tm");
	memset(&tm, 0, sizeof(tm));
	tm.tm_sec = t->tm_sec;
	tm.tm_min = t->tm_min;
	tm.tm_hour = t->tm_hour;
	tm.tm_mday = t->tm_mday;
	tm.tm_mon = t->tm_mon;
	tm.tm_year = t->tm_year;
	tm.tm_wday = t->tm_wday;
	tm.tm_yday = t->tm_yday;
	return strftime(s, max, format, &tm);
}

static uint64 random_state = 1;

void
shim_seed_random(uint64 seed)
{
	random_state = seed ? seed : 1;
}

bool
pg_strong_random(void *buf, size_t len)
{
	uint8	   *p = buf;

	while (len-- > 0)
	{
		/* xorshift64*: deterministic, so crashes reproduce */
		random_state ^= random_state >> 12;
		random_state ^= random_state << 25;
		random_state ^= random_state >> 27;
		*p++ = (uint8) ((random_state * UINT64CONST(2685821657736338717)) >> 56);
	}
	return true;
}

/* ------------------------------------------------------------------------
 * the catalog as far as iterator.c's load_key sees it: schema "kinesis"
 * with a table "secrets" of one row (id, key bytea)
 * ------------------------------------------------------------------------
 */
#define SHIM_NSP_OID		16400
#define SHIM_SECRETS_OID	16401
#define SHIM_STREAM_META_OID 16402
#define SHIM_SHARD_META_OID 16403

Oid
get_namespace_oid(const char *nspname, bool missing_ok)
{
	if (strcmp(nspname, "kinesis") == 0)
		return SHIM_NSP_OID;
	if (!missing_ok)
		ereport(ERROR, (errcode(ERRCODE_UNDEFINED_SCHEMA),
						errmsg("schema \"%s\" does not exist", nspname)));
	return InvalidOid;
}

Oid
get_relname_relid(const char *relname, Oid relnamespace)
{
	if (relnamespace != SHIM_NSP_OID)
		return InvalidOid;
	if (strcmp(relname, "secrets") == 0)
		return SHIM_SECRETS_OID;
	if (strcmp(relname, "stream_meta") == 0)
		return SHIM_STREAM_META_OID;
	if (strcmp(relname, "shard_meta") == 0)
		return SHIM_SHARD_META_OID;
	return InvalidOid;
}

static int	open_relations = 0;
static int	registered_snapshots = 0;
static int	open_scans = 0;

int
shim_open_resources(void)
{
	return open_relations + registered_snapshots + open_scans;
}

static void
shim_release_resources(void)
{
	open_relations = registered_snapshots = open_scans = 0;
}
static SnapshotData shim_snapshot;

/* a heap scan of the one-row table: where it stands */
typedef struct ShimScan
{
	TableScanDescData base;
	bool		returned;		/* the row was returned already */
} ShimScan;

static TableScanDesc
shim_scan_begin(Relation rel, Snapshot snapshot, int nkeys, struct ScanKeyData *key,
				ParallelTableScanDesc pscan, uint32 flags)
{
	TableScanDesc scan = palloc0(sizeof(ShimScan));

	if (snapshot != &shim_snapshot || nkeys != 0 || pscan != NULL)
		shim_fail(__FILE__, __LINE__, "scan_begin", "unexpected scan of the secrets table");
	scan->rs_rd = rel;
	scan->rs_snapshot = snapshot;
	scan->rs_nkeys = nkeys;
	scan->rs_flags = flags;
	open_scans++;
	return scan;
}

static void
shim_scan_end(TableScanDesc scan)
{
	open_scans--;
	pfree(scan);
}

static TableAmRoutine shim_tableam;
static RelationData shim_secrets_rel;
static TupleDesc shim_secrets_desc;

Relation
table_open(Oid relationId, LOCKMODE lockmode)
{
	if (relationId != SHIM_SECRETS_OID || lockmode != AccessShareLock)
		shim_fail(__FILE__, __LINE__, "table_open", "table_open(%u, %d): only the secrets table is known",
				  relationId, lockmode);
	if (shim_secrets_desc == NULL)
	{
		int			i;

		shim_secrets_desc = calloc(1, offsetof(struct TupleDescData, attrs) +
								   2 * sizeof(FormData_pg_attribute));
		shim_secrets_desc->natts = 2;
		shim_secrets_desc->tdtypeid = RECORDOID;
		shim_secrets_desc->tdtypmod = -1;
		shim_secrets_desc->tdrefcount = -1;
		for (i = 0; i < 2; i++)
		{
			Form_pg_attribute att = TupleDescAttr(shim_secrets_desc, i);

			att->attnum = i + 1;
			att->attcacheoff = -1;	/* forces nocachegetattr */
			att->attlen = i == 0 ? 4 : -1;
			att->attbyval = i == 0;
			att->atttypid = i == 0 ? INT4OID : BYTEAOID;
		}
		shim_tableam.type = T_TableAmRoutine;
		shim_tableam.scan_begin = shim_scan_begin;
		shim_tableam.scan_end = shim_scan_end;
		shim_secrets_rel.rd_id = SHIM_SECRETS_OID;
		shim_secrets_rel.rd_att = shim_secrets_desc;
		shim_secrets_rel.rd_tableam = &shim_tableam;
	}
	open_relations++;
	return &shim_secrets_rel;
}

void
table_close(Relation relation, LOCKMODE lockmode)
{
	if (relation != &shim_secrets_rel || open_relations <= 0)
		shim_fail(__FILE__, __LINE__, "table_close", "closing a relation that is not open");
	open_relations--;
}

Snapshot
GetLatestSnapshot(void)
{
	return &shim_snapshot;
}

Snapshot
RegisterSnapshot(Snapshot snapshot)
{
	registered_snapshots++;
	return snapshot;
}

void
UnregisterSnapshot(Snapshot snapshot)
{
	if (snapshot != &shim_snapshot || registered_snapshots <= 0)
		shim_fail(__FILE__, __LINE__, "UnregisterSnapshot", "snapshot not registered");
	registered_snapshots--;
}

/* the single row: natts 2, no nulls unless shim_secret_null */
static union
{
	double		align;
	char		bytes[MAXALIGN(offsetof(HeapTupleHeaderData, t_bits) + 1)];
}			shim_row_buf;
#define shim_row (*(HeapTupleHeader) shim_row_buf.bytes)
static HeapTupleData shim_tuple;

HeapTuple
heap_getnext(TableScanDesc scan, ScanDirection direction)
{
	if (scan->rs_rd != &shim_secrets_rel || direction != ForwardScanDirection)
		shim_fail(__FILE__, __LINE__, "heap_getnext", "unexpected scan");
	if (((ShimScan *) scan)->returned || shim_secret_rows == 0)
		return NULL;
	((ShimScan *) scan)->returned = true;
	shim_secret_scans++;
	memset(&shim_row_buf, 0, sizeof(shim_row_buf));
	HeapTupleHeaderSetNatts(&shim_row, 2);
	shim_row.t_hoff = MAXALIGN(offsetof(HeapTupleHeaderData, t_bits) + 1);
	if (shim_secret_null)
	{
		shim_row.t_infomask |= HEAP_HASNULL;
		shim_row.t_bits[0] = 0x1;	/* column 1 present, column 2 null */
	}
	memset(&shim_tuple, 0, sizeof(shim_tuple));
	shim_tuple.t_data = &shim_row;
	shim_tuple.t_tableOid = SHIM_SECRETS_OID;
	return &shim_tuple;
}

Datum
nocachegetattr(HeapTuple tup, int attnum, TupleDesc tupleDesc)
{
	bytea	   *key;

	if (tup != &shim_tuple || tupleDesc != shim_secrets_desc || attnum != 2)
		shim_fail(__FILE__, __LINE__, "nocachegetattr", "attribute %d of an unexpected tuple", attnum);
	if (shim_secret_len < 0 || shim_secret_len > (int) sizeof(shim_secret))
		shim_fail(__FILE__, __LINE__, "nocachegetattr", "bad shim_secret_len");
	key = palloc(VARHDRSZ + shim_secret_len);
	SET_VARSIZE(key, VARHDRSZ + shim_secret_len);
	memcpy(VARDATA(key), shim_secret, shim_secret_len);
	return PointerGetDatum(key);
}

Datum
getmissingattr(TupleDesc tupleDesc, int attnum, bool *isnull)
{
	shim_unreachable("getmissingattr");
}

Datum
heap_getsysattr(HeapTuple tup, int attnum, TupleDesc tupleDesc, bool *isnull)
{
	shim_unreachable("heap_getsysattr");
}

void
heap_datum_check(HeapTupleHeader tup, TupleDesc tupleDesc)
{
	shim_unreachable("heap_datum_check");
}

/* ------------------------------------------------------------------------
 * referenced by the linked files, never reached by the fuzzed functions
 * ------------------------------------------------------------------------
 */
TupleDesc
BlessTupleDesc(TupleDesc tupdesc)
{
	shim_unreachable("BlessTupleDesc");
}

Datum
HeapTupleHeaderGetDatum(HeapTupleHeader tuple)
{
	shim_unreachable("HeapTupleHeaderGetDatum");
}

HeapTuple
heap_form_tuple(TupleDesc tupleDescriptor, Datum *values, bool *isnull)
{
	shim_unreachable("heap_form_tuple");
}

TypeFuncClass
get_call_result_type(FunctionCallInfo fcinfo, Oid *resultTypeId, TupleDesc *resultTupleDesc)
{
	shim_unreachable("get_call_result_type");
}

Datum
DirectFunctionCall3Coll(PGFunction func, Oid collation, Datum arg1, Datum arg2, Datum arg3)
{
	shim_unreachable("DirectFunctionCall3Coll");
}

Datum
numeric_in(PG_FUNCTION_ARGS)
{
	shim_unreachable("numeric_in");
}

void
InitMaterializedSRF(FunctionCallInfo fcinfo, bits32 flags)
{
	shim_unreachable("InitMaterializedSRF");
}

void
tuplestore_putvalues(Tuplestorestate *state, TupleDesc tdesc, Datum *values, bool *isnull)
{
	shim_unreachable("tuplestore_putvalues");
}

void
AcceptInvalidationMessages(void)
{
	shim_unreachable("AcceptInvalidationMessages");
}

MemoryContext
AllocSetContextCreateInternal(MemoryContext parent, const char *name, Size minContextSize,
							  Size initBlockSize, Size maxBlockSize)
{
	shim_unreachable("AllocSetContextCreateInternal");
}

void
MemoryContextReset(MemoryContext context)
{
	shim_unreachable("MemoryContextReset");
}

void
CacheInvalidateRelcacheByRelid(Oid relid)
{
	shim_unreachable("CacheInvalidateRelcacheByRelid");
}

void
CacheRegisterRelcacheCallback(RelcacheCallbackFunction func, Datum arg)
{
	shim_unreachable("CacheRegisterRelcacheCallback");
}

void
LockDatabaseObject(Oid classid, Oid objid, uint16 objsubid, LOCKMODE lockmode)
{
	shim_unreachable("LockDatabaseObject");
}

int
SPI_connect(void)
{
	shim_unreachable("SPI_connect");
}

int
SPI_finish(void)
{
	shim_unreachable("SPI_finish");
}

int
SPI_execute_snapshot(SPIPlanPtr plan, Datum *Values, const char *Nulls, Snapshot snapshot,
					 Snapshot crosscheck_snapshot, bool read_only, bool fire_triggers, long tcount)
{
	shim_unreachable("SPI_execute_snapshot");
}

SPIPlanPtr
SPI_prepare(const char *src, int nargs, Oid *argtypes)
{
	shim_unreachable("SPI_prepare");
}

int
SPI_keepplan(SPIPlanPtr plan)
{
	shim_unreachable("SPI_keepplan");
}

const char *
SPI_result_code_string(int code)
{
	shim_unreachable("SPI_result_code_string");
}

char *
SPI_getvalue(HeapTuple tuple, TupleDesc tupdesc, int fnumber)
{
	shim_unreachable("SPI_getvalue");
}

Datum
SPI_getbinval(HeapTuple tuple, TupleDesc tupdesc, int fnumber, bool *isnull)
{
	shim_unreachable("SPI_getbinval");
}

void
deconstruct_array(ArrayType *array, Oid elmtype, int elmlen, bool elmbyval, char elmalign,
				  Datum **elemsp, bool **nullsp, int *nelemsp)
{
	shim_unreachable("deconstruct_array");
}

HTAB *
hash_create(const char *tabname, long nelem, const HASHCTL *info, int flags)
{
	shim_unreachable("hash_create");
}

void *
hash_search(HTAB *hashp, const void *keyPtr, HASHACTION action, bool *foundPtr)
{
	shim_unreachable("hash_search");
}
