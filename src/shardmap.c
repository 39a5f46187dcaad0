/*-------------------------------------------------------------------------
 *
 * shardmap.c
 *		Per-backend cache of stream and shard metadata, and the stream lock.
 *
 * put_record must route without a catalog query per record, so each
 * backend keeps the streams it has used, with their shards sorted by hash
 * range, in a private memory context.  Any change to kinesis.stream_meta or
 * kinesis.shard_meta fires a statement trigger that sends a relcache
 * invalidation for stream_meta; every backend's callback then marks the
 * cache stale and the next lookup rebuilds it from a fresh snapshot.  The
 * callback only sets a flag, so pointers handed out stay valid until the
 * next lookup by the same caller.
 *
 * Writers take a lock on the stream (AccessShareLock on a lock tag of the
 * stream id) for the rest of their transaction; control-plane operations
 * that delete a stream or close shards take AccessExclusiveLock on it, so
 * they wait for in-flight puts to finish and puts that come later see the
 * new map.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "storage/lmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"

#include "kinesis.h"

PG_FUNCTION_INFO_V1(kinesis_lock_stream_sql);
PG_FUNCTION_INFO_V1(kinesis_shard_map_invalidate);

typedef struct StreamByName
{
	char		name[129];		/* hash key */
	KinesisStream *stream;
} StreamByName;

typedef struct StreamById
{
	int32		stream_id;		/* hash key */
	KinesisStream *stream;
} StreamById;

static MemoryContext shardmap_cxt = NULL;
static HTAB *streams_by_name = NULL;
static HTAB *streams_by_id = NULL;
static bool shardmap_valid = false;

/* bumped by every invalidation; other caches compare against it */
uint64		kinesis_shardmap_generation = 0;
static bool callback_registered = false;
static Oid	stream_meta_relid = InvalidOid;
static Oid	shard_meta_relid = InvalidOid;
static SPIPlanPtr load_by_name_plan = NULL;
static SPIPlanPtr load_by_id_plan = NULL;

static void shardmap_relcache_cb(Datum arg, Oid relid);
static void shardmap_reset(void);
static KinesisStream *shardmap_load(bool by_id, const char *name, int32 stream_id);

/*
 * kinesis_relid
 *		OID of a table in schema kinesis; error if the extension is missing.
 */
Oid
kinesis_relid(const char *relname)
{
	Oid			nsp = get_namespace_oid("kinesis", true);
	Oid			relid = OidIsValid(nsp) ? get_relname_relid(relname, nsp) : InvalidOid;

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("extension \"kinesis\" is not installed in this database"),
				 errhint("Run CREATE EXTENSION kinesis.")));
	return relid;
}

/*
 * cached_relid
 *		A table's OID, looked up once and forgotten by the invalidation
 *		callback.  Unlike a lookup of the map, this never frees cached
 *		streams, so it is safe while a caller holds a stream pointer.
 */
static Oid
cached_relid(Oid *slot, const char *relname)
{
	if (!OidIsValid(*slot))
		*slot = kinesis_relid(relname);
	return *slot;
}

/*
 * shardmap_relcache_cb
 *		Relcache invalidation callback: a change to the metadata tables (or
 *		a full cache reset) makes the whole shard map stale.
 */
static void
shardmap_relcache_cb(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == stream_meta_relid ||
		relid == shard_meta_relid)
	{
		shardmap_valid = false;
		kinesis_shardmap_generation++;
		stream_meta_relid = InvalidOid;
		shard_meta_relid = InvalidOid;
	}
}

/*
 * shardmap_reset
 *		Drop every cached stream and start empty.
 */
static void
shardmap_reset(void)
{
	HASHCTL		ctl;

	if (!callback_registered)
	{
		CacheRegisterRelcacheCallback(shardmap_relcache_cb, (Datum) 0);
		callback_registered = true;
	}
	if (shardmap_cxt == NULL)
		shardmap_cxt = AllocSetContextCreate(CacheMemoryContext,
											 "kinesis shard map",
											 ALLOCSET_DEFAULT_SIZES);
	else
		MemoryContextReset(shardmap_cxt);

	ctl.keysize = 129;
	ctl.entrysize = sizeof(StreamByName);
	ctl.hcxt = shardmap_cxt;
	streams_by_name = hash_create("kinesis streams by name", 64, &ctl,
								  HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	ctl.keysize = sizeof(int32);
	ctl.entrysize = sizeof(StreamById);
	streams_by_id = hash_create("kinesis streams by id", 64, &ctl,
								HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);

	/* the relids are looked up before the map is marked valid */
	(void) cached_relid(&stream_meta_relid, "stream_meta");
	(void) cached_relid(&shard_meta_relid, "shard_meta");
	shardmap_valid = true;
}

/*
 * compare_shard_index / compare_start_hash
 *		qsort comparators for the two orders a stream's shards are kept in.
 */
static int
compare_shard_index(const void *a, const void *b)
{
	const KinesisShard *x = (const KinesisShard *) a;
	const KinesisShard *y = (const KinesisShard *) b;

	return (x->shard_index > y->shard_index) - (x->shard_index < y->shard_index);
}

static int
compare_start_hash(const void *a, const void *b)
{
	const KinesisShard *x = *(KinesisShard *const *) a;
	const KinesisShard *y = *(KinesisShard *const *) b;

	return (x->start_hash > y->start_hash) - (x->start_hash < y->start_hash);
}

/*
 * bucket_table_relid
 *		The OID of kinesis.records_<stream_id>_<bucket>, or InvalidOid if
 *		there is no such table (yet, or any more).
 */
Oid
kinesis_bucket_table(int32 stream_id, int32 bucket)
{
	char		name[NAMEDATALEN];
	Oid			nsp = get_namespace_oid("kinesis", false);

	snprintf(name, sizeof(name), "records_%d_%d", stream_id, bucket);
	return get_relname_relid(name, nsp);
}

/*
 * load_buckets
 *		Fill the stream's bucket list (in shardmap_cxt) from the sorted
 *		array of its bucket numbers.
 */
static void
load_buckets(KinesisStream *stream, ArrayType *arr)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int			i;

	deconstruct_array(arr, INT4OID, 4, true, TYPALIGN_INT, &elems, &nulls, &n);
	stream->buckets = palloc0(sizeof(KinesisBucket) * Max(n, 1));
	for (i = 0; i < n; i++)
	{
		KinesisBucket *b = &stream->buckets[stream->nbuckets];

		b->bucket = DatumGetInt32(elems[i]);
		b->relid = kinesis_bucket_table(stream->stream_id, b->bucket);
		if (OidIsValid(b->relid))
			stream->nbuckets++;
	}
}

/*
 * kinesis_bucket_relid
 *		The table of one of the stream's buckets.  A bucket the cached map
 *		does not know yet (another backend started it after the map was
 *		read) is looked up in the catalog after taking in pending
 *		invalidations.  InvalidOid if the table does not exist.
 */
Oid
kinesis_bucket_relid(KinesisStream *stream, int32 bucket)
{
	int			i;

	for (i = stream->nbuckets - 1; i >= 0; i--)
		if (stream->buckets[i].bucket == bucket)
			return stream->buckets[i].relid;
	AcceptInvalidationMessages();
	return kinesis_bucket_table(stream->stream_id, bucket);
}

/*
 * kinesis_newest_bucket
 *		The bucket puts write to: the stream's newest.  -1 if it has none
 *		(a stream that is still CREATING).
 */
int32
kinesis_newest_bucket(KinesisStream *stream)
{
	return stream->nbuckets > 0 ? stream->buckets[stream->nbuckets - 1].bucket : -1;
}

/*
 * shardmap_load
 *		Read one stream and its shards with a fresh snapshot (so that a
 *		REPEATABLE READ caller cannot cache an outdated map for later
 *		transactions) and add it to the cache.  NULL if there is no such
 *		stream.
 */
static KinesisStream *
shardmap_load(bool by_id, const char *name, int32 stream_id)
{
	static const char *query =
		"SELECT s.stream_id, s.stream_name::text, s.stream_status, "
		"       s.retention_period_hours, s.encryption_type, s.expired_before, "
		"       h.shard_index, h.starting_hash_key::text, h.ending_hash_key::text, "
		"       h.create_epoch, h.closed_at IS NULL, h.ending_counter, h.seq_floor, "
		"       h.parent_shard_index, h.adjacent_parent_shard_index, "
		"       ARRAY(SELECT b.bucket FROM kinesis.buckets b "
		"              WHERE b.stream_id = s.stream_id ORDER BY b.bucket), "
		"       s.kms_key_ref "
		"  FROM kinesis.stream_meta s "
		"  LEFT JOIN kinesis.shard_meta h ON h.stream_id = s.stream_id "
		" WHERE %s";
	SPIPlanPtr *planp = by_id ? &load_by_id_plan : &load_by_name_plan;
	Datum		arg;
	int			ret;
	uint64		i;
	KinesisStream *stream;
	MemoryContext oldcxt;
	bool		found;
	int			nopen = 0;
	Snapshot	snap;
	KinesisSavedUser saved;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (*planp == NULL)
	{
		Oid			argtype = by_id ? INT4OID : TEXTOID;
		SPIPlanPtr	plan;

		plan = SPI_prepare(psprintf(query, by_id ? "s.stream_id = $1"
									: "s.stream_name = $1"), 1, &argtype);
		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		SPI_keepplan(plan);
		*planp = plan;
	}
	arg = by_id ? Int32GetDatum(stream_id) : CStringGetTextDatum(name);
	snap = RegisterSnapshot(GetLatestSnapshot());
	/* as the owner: callers need no privilege on the catalog (authz.c) */
	kinesis_owner_begin(&saved);
	ret = SPI_execute_snapshot(*planp, &arg, NULL, snap, InvalidSnapshot,
							   true, false, 0);
	kinesis_owner_end(&saved);
	UnregisterSnapshot(snap);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "loading the shard map failed: %s", SPI_result_code_string(ret));
	if (SPI_processed == 0)
	{
		SPI_finish();
		return NULL;
	}

	oldcxt = MemoryContextSwitchTo(shardmap_cxt);
	stream = palloc0(sizeof(KinesisStream));
	stream->shards = palloc0(sizeof(KinesisShard) * SPI_processed);
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		KinesisShard *sh;
		char	   *s;

		if (i == 0)
		{
			stream->stream_id = DatumGetInt32(SPI_getbinval(tup, desc, 1, &isnull));
			load_buckets(stream, DatumGetArrayTypeP(SPI_getbinval(tup, desc, 16, &isnull)));
			strlcpy(stream->name, SPI_getvalue(tup, desc, 2), sizeof(stream->name));
			strlcpy(stream->status, SPI_getvalue(tup, desc, 3), sizeof(stream->status));
			stream->retention_hours = DatumGetInt32(SPI_getbinval(tup, desc, 4, &isnull));
			stream->kms = strcmp(SPI_getvalue(tup, desc, 5), "KMS") == 0;
			stream->kms_key_ref = DatumGetInt32(SPI_getbinval(tup, desc, 17, &isnull));
			if (isnull)
				stream->kms_key_ref = 0;
			stream->expired_before = DatumGetTimestampTz(SPI_getbinval(tup, desc, 6, &isnull));
			if (isnull)
				stream->expired_before = DT_NOBEGIN;
		}
		(void) SPI_getbinval(tup, desc, 7, &isnull);
		if (isnull)
			continue;			/* a stream without shards */
		sh = &stream->shards[stream->nshards++];
		sh->shard_index = DatumGetInt32(SPI_getbinval(tup, desc, 7, &isnull));
		s = SPI_getvalue(tup, desc, 8);
		if (!kinesis_parse_u128(s, &sh->start_hash))
			elog(ERROR, "corrupt starting_hash_key \"%s\"", s);
		s = SPI_getvalue(tup, desc, 9);
		if (!kinesis_parse_u128(s, &sh->end_hash))
			elog(ERROR, "corrupt ending_hash_key \"%s\"", s);
		sh->create_epoch = DatumGetInt64(SPI_getbinval(tup, desc, 10, &isnull));
		sh->open = DatumGetBool(SPI_getbinval(tup, desc, 11, &isnull));
		sh->ending_counter = sh->open ? 0 :
			DatumGetInt64(SPI_getbinval(tup, desc, 12, &isnull));
		sh->seq_floor = DatumGetInt64(SPI_getbinval(tup, desc, 13, &isnull));
		sh->parent_index = DatumGetInt32(SPI_getbinval(tup, desc, 14, &isnull));
		if (isnull)
			sh->parent_index = -1;
		sh->adjacent_parent_index = DatumGetInt32(SPI_getbinval(tup, desc, 15, &isnull));
		if (isnull)
			sh->adjacent_parent_index = -1;
		if (sh->open)
			nopen++;
	}
	qsort(stream->shards, stream->nshards, sizeof(KinesisShard), compare_shard_index);
	stream->open_by_hash = palloc0(sizeof(KinesisShard *) * Max(nopen, 1));
	for (i = 0; i < stream->nshards; i++)
		if (stream->shards[i].open)
			stream->open_by_hash[stream->nopen++] = &stream->shards[i];
	qsort(stream->open_by_hash, stream->nopen, sizeof(KinesisShard *), compare_start_hash);

	((StreamByName *) hash_search(streams_by_name, stream->name, HASH_ENTER, &found))->stream = stream;
	((StreamById *) hash_search(streams_by_id, &stream->stream_id, HASH_ENTER, &found))->stream = stream;
	MemoryContextSwitchTo(oldcxt);
	SPI_finish();
	return stream;
}

/*
 * kinesis_lookup_stream
 *		The cached stream of that name, loading it if needed; NULL if no
 *		such stream exists.  The result stays valid until the next lookup.
 */
KinesisStream *
kinesis_lookup_stream(const char *name)
{
	StreamByName *e;

	if (!shardmap_valid)
		shardmap_reset();
	if (strlen(name) > 128)
		return NULL;
	e = hash_search(streams_by_name, name, HASH_FIND, NULL);
	if (e)
		return e->stream;
	return shardmap_load(false, name, 0);
}

/*
 * kinesis_lookup_stream_by_id
 *		As kinesis_lookup_stream, by stream id (iterators carry the id).
 */
KinesisStream *
kinesis_lookup_stream_by_id(int32 stream_id)
{
	StreamById *e;

	if (!shardmap_valid)
		shardmap_reset();
	e = hash_search(streams_by_id, &stream_id, HASH_FIND, NULL);
	if (e)
		return e->stream;
	return shardmap_load(true, NULL, stream_id);
}

/*
 * kinesis_find_shard
 *		A stream's shard by index (binary search), or NULL.
 */
KinesisShard *
kinesis_find_shard(KinesisStream *stream, int32 shard_index)
{
	int			lo = 0,
				hi = stream->nshards - 1;

	while (lo <= hi)
	{
		int			mid = (lo + hi) / 2;
		int32		idx = stream->shards[mid].shard_index;

		if (idx == shard_index)
			return &stream->shards[mid];
		if (idx < shard_index)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return NULL;
}

/*
 * kinesis_route
 *		The open shard whose hash range contains hash: the last open shard
 *		starting at or below it (binary search).
 */
KinesisShard *
kinesis_route(KinesisStream *stream, kinesis_u128 hash)
{
	int			lo = 0,
				hi = stream->nopen - 1;
	KinesisShard *found = NULL;

	while (lo <= hi)
	{
		int			mid = (lo + hi) / 2;

		if (stream->open_by_hash[mid]->start_hash <= hash)
		{
			found = stream->open_by_hash[mid];
			lo = mid + 1;
		}
		else
			hi = mid - 1;
	}
	if (found == NULL || hash > found->end_hash)
		kinesis_raise(KX_INTERNAL_FAILURE,
					  "No open shard of stream %s covers hash key %s.",
					  stream->name, kinesis_format_u128(hash));
	return found;
}

/*
 * kinesis_lock_stream
 *		Lock a stream until the end of the transaction: shared by writers,
 *		exclusive by operations that delete it or close its shards.
 *		LockDatabaseObject also processes pending invalidations, so a
 *		writer sees the map as of the moment it holds the lock.
 */
void
kinesis_lock_stream(int32 stream_id, bool exclusive)
{
	Oid			classid = cached_relid(&stream_meta_relid, "stream_meta");
	ResourceOwner save = CurrentResourceOwner;

	if (exclusive)
	{
		LockDatabaseObject(classid, (Oid) stream_id, 0, AccessExclusiveLock);
		return;
	}

	/*
	 * A writer's lock belongs to the top-level transaction even when the put
	 * runs in a subtransaction: the put's in-flight slot lasts until the
	 * top-level transaction ends (see inflight.c), and a split or merge
	 * must not close the shard before then, so neither may the lock end
	 * when a savepoint is rolled back.
	 */
	CurrentResourceOwner = TopTransactionResourceOwner;
	PG_TRY();
	{
		LockDatabaseObject(classid, (Oid) stream_id, 0, AccessShareLock);
	}
	PG_FINALLY();
	{
		CurrentResourceOwner = save;
	}
	PG_END_TRY();
}

/*
 * kinesis_shard_id
 *		"shardId-%012d", palloc'd.
 */
char *
kinesis_shard_id(int32 shard_index)
{
	return psprintf("shardId-%012d", shard_index);
}

/*
 * kinesis_parse_shard_id
 *		AWS parses shard ids loosely: whatever precedes the first '-' is
 *		ignored and the digits after it (up to another '-') are the index,
 *		so "shardId-0", "shard-0" and "x-000000000000" all name shard 0.
 */
bool
kinesis_parse_shard_id(const char *s, int32 *shard_index)
{
	const char *p = strchr(s, '-');
	int64		v = 0;
	int			n = 0;

	if (p == NULL)
		return false;
	for (p++; *p && *p != '-'; p++, n++)
	{
		if (*p < '0' || *p > '9' || n >= 20)
			return false;
		v = v * 10 + (*p - '0');
		if (v > PG_INT32_MAX)
			return false;
	}
	if (n == 0)
		return false;
	*shard_index = (int32) v;
	return true;
}

/*
 * kinesis._lock_stream(stream_id int, exclusive bool)
 *		SQL access to kinesis_lock_stream for the control-plane functions.
 */
Datum
kinesis_lock_stream_sql(PG_FUNCTION_ARGS)
{
	kinesis_lock_stream(PG_GETARG_INT32(0), PG_GETARG_BOOL(1));
	PG_RETURN_VOID();
}

/*
 * kinesis._shard_map_invalidate()
 *		Statement trigger on stream_meta and shard_meta: tell every backend
 *		(this one at the next command, the others at commit) that cached
 *		shard maps are stale.
 */
Datum
kinesis_shard_map_invalidate(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "kinesis._shard_map_invalidate() must be called as a trigger");
	CacheInvalidateRelcacheByRelid(kinesis_relid("stream_meta"));
	return PointerGetDatum(NULL);
}
