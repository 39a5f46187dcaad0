/*-------------------------------------------------------------------------
 *
 * inflight.c
 *		Shared per-shard counters and in-flight watermarks: the mechanism
 *		that lets producers of one shard run without waiting for each
 *		other's commits while consumers never skip a committed record.
 *
 * Sequence numbers are handed out when a record is put but become visible
 * when the putting transaction commits, in any order.  So each tracked
 * shard has, in shared memory, the next counter to hand out and, for every
 * backend (indexed by pgprocno), the first counter that backend's current
 * transaction took in the shard, or 0.  Taking a counter and registering
 * it as in flight happen under the same lock.  A transaction callback
 * clears the backend's slots after commit or abort; PostgreSQL runs it
 * after the transaction has left the proc array, so anything cleared is
 * visible to every snapshot taken afterwards.
 *
 * A reader computes the shard's watermark (the lowest in-flight counter, or
 * the next counter if none is in flight) under the lock, then takes a fresh
 * snapshot and returns only records below the watermark.  Every record
 * below it belongs to a finished transaction, so the reader sees all the
 * committed ones and can safely move past them.
 *
 * Entries are keyed by database, stream id and shard index: stream ids are
 * numbered per database, and the table is shared by all of them.
 *
 * Entries are a cache: one whose shard has nothing in flight may be
 * recycled when the table is full, and an entry created later re-derives
 * its counter from storage (the largest stored counter, or the shard's
 * seq_floor), read with a fresh snapshot rather than the cached map.
 *
 * The entry also chooses the time bucket each record goes to: the newest
 * bucket the putting backend knows of, but never one older than the shard
 * last used.  So a shard's counters never go down from one bucket to the
 * next, and a reader can walk the buckets in order.  After a crash the postmaster re-initialises shared memory
 * and every in-flight transaction has been aborted, so starting empty is
 * correct; counters are re-derived the same way.
 *
 * Locking: map_lock (shared for lookups, exclusive to add or recycle an
 * entry) is taken first; then one of KINESIS_PARTITIONS partition locks,
 * chosen by hashing the shard, protects the entry's contents.  A lookup
 * holds map_lock until it holds the partition lock, and recycling only
 * takes partition locks conditionally, so an entry cannot vanish under a
 * backend that is about to use it.
 *
 * PREPARE TRANSACTION is refused for a transaction that put records: a
 * prepared transaction outlives its backend and its slot.  Records rolled
 * back by a subtransaction abort keep the slot until top-level end, which
 * only holds readers back a little longer.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "kinesis.h"

#define KINESIS_PARTITIONS 128

typedef struct InflightKey
{
	Oid			dboid;			/* stream ids are per database */
	int32		stream_id;
	int32		shard_index;
} InflightKey;

typedef struct InflightEntry
{
	InflightKey key;			/* hash key: must be first */
	int64		next_counter;	/* next counter to hand out */
	TimestampTz last_arrival;	/* keeps arrival times monotonic */
	int32		last_bucket;	/* newest bucket the shard has written */
	/* throughput limits (throttle.c), used only when they are enforced */
	KinesisTokenBucket put_records;
	KinesisTokenBucket put_bytes;
	KinesisTokenBucket get_calls;
	KinesisTokenBucket get_bytes;
	/* metrics (see kinesis._shard_metrics()), since the entry was made */
	uint64		in_records;
	uint64		in_bytes;
	uint64		out_records;
	uint64		out_bytes;
	uint64		write_exceeded;
	uint64		read_exceeded;
	int64		iterator_age_ms;	/* of the latest read */
	int			ninflight;		/* number of nonzero slots */
	int64		slots[FLEXIBLE_ARRAY_MEMBER];	/* by pgprocno: first counter
												 * of the backend's current
												 * transaction, or 0 */
} InflightEntry;

typedef struct InflightShared
{
	LWLock	   *map_lock;
	LWLock	   *partition_locks;	/* KINESIS_PARTITIONS of them */
	pg_atomic_uint64 recycled;	/* entries recycled so far */
} InflightShared;

typedef struct TouchedShard
{
	InflightKey key;
} TouchedShard;

static InflightShared *inflight_shared = NULL;
static HTAB *inflight_hash = NULL;

/* shards this backend's current top-level transaction registered in */
static TouchedShard *touched = NULL;
static int	ntouched = 0;
static int	touched_capacity = 0;
static bool callback_registered = false;

PG_FUNCTION_INFO_V1(kinesis_inflight_stats);
PG_FUNCTION_INFO_V1(kinesis_shard_last_counter);
PG_FUNCTION_INFO_V1(kinesis_shard_metrics);
PG_FUNCTION_INFO_V1(kinesis_forget_stream);

static Size
inflight_entry_size(void)
{
	return add_size(offsetof(InflightEntry, slots), mul_size(sizeof(int64), MaxBackends));
}

/*
 * kinesis_inflight_shmem_request
 *		Reserve space for the hash table and its locks.
 */
void
kinesis_inflight_shmem_request(void)
{
	Size		size = MAXALIGN(sizeof(InflightShared));

	size = add_size(size, hash_estimate_size(kinesis_max_tracked_shards,
											 inflight_entry_size()));
	RequestAddinShmemSpace(size);
	RequestNamedLWLockTranche("kinesis", KINESIS_PARTITIONS + 1);
}

/*
 * kinesis_inflight_shmem_startup
 *		Create or attach to the shared state.  Every entry is allocated up
 *		front (init size = max size), so the table never grows.
 */
void
kinesis_inflight_shmem_startup(void)
{
	bool		found;
	HASHCTL		info;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	inflight_shared = ShmemInitStruct("kinesis inflight", sizeof(InflightShared), &found);
	if (!found)
	{
		LWLockPadded *locks = GetNamedLWLockTranche("kinesis");

		inflight_shared->map_lock = &locks[0].lock;
		inflight_shared->partition_locks = &locks[1].lock;
		pg_atomic_init_u64(&inflight_shared->recycled, 0);
	}
	info.keysize = sizeof(InflightKey);
	info.entrysize = inflight_entry_size();
	inflight_hash = ShmemInitHash("kinesis inflight hash",
								  kinesis_max_tracked_shards,
								  kinesis_max_tracked_shards,
								  &info, HASH_ELEM | HASH_BLOBS | HASH_FIXED_SIZE);
	LWLockRelease(AddinShmemInitLock);
}

static LWLock *
partition_lock(const InflightKey *key)
{
	uint32		h = ((uint32) key->stream_id * 0x9E3779B1u ^ (uint32) key->shard_index) +
		(uint32) key->dboid * 0x85EBCA6Bu;

	h ^= h >> 16;
	/* LWLockPadded entries: index through the padded array */
	return &((LWLockPadded *) inflight_shared->partition_locks)[h % KINESIS_PARTITIONS].lock;
}

/*
 * inflight_xact_callback
 *		Clear this backend's slots when its top-level transaction ends, and
 *		refuse PREPARE TRANSACTION if it put records.  Runs after the commit
 *		is visible; it must not fail, so it only looks up entries (which
 *		cannot be recycled while a slot is set) and clears them under their
 *		locks.
 */
static void
inflight_xact_callback(XactEvent event, void *arg)
{
	int			i;

	switch (event)
	{
		case XACT_EVENT_PRE_PREPARE:
			if (ntouched > 0)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("cannot PREPARE a transaction that has put records into a Kinesis stream"),
						 errdetail("Records put by a prepared transaction would hold back every reader of their shards until COMMIT PREPARED.")));
			return;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			break;
		default:
			return;
	}
	if (ntouched == 0 || inflight_hash == NULL)
		return;

	for (i = 0; i < ntouched; i++)
	{
		InflightEntry *e;

		LWLockAcquire(inflight_shared->map_lock, LW_SHARED);
		e = hash_search(inflight_hash, &touched[i].key, HASH_FIND, NULL);
		if (e != NULL)
		{
			LWLock	   *lock = partition_lock(&touched[i].key);

			LWLockAcquire(lock, LW_EXCLUSIVE);
			LWLockRelease(inflight_shared->map_lock);
			if (e->slots[MyProc->pgprocno] != 0)
			{
				e->slots[MyProc->pgprocno] = 0;
				e->ninflight--;
			}
			LWLockRelease(lock);
		}
		else
			LWLockRelease(inflight_shared->map_lock);
	}
	ntouched = 0;
}

/*
 * kinesis_inflight_init_backend
 *		Register the transaction callback once per backend.
 */
void
kinesis_inflight_init_backend(void)
{
	kinesis_require_preload();
	if (!callback_registered)
	{
		RegisterXactCallback(inflight_xact_callback, NULL);
		callback_registered = true;
	}
	if (MyProc == NULL || MyProc->pgprocno >= MaxBackends)
		elog(ERROR, "kinesis data-plane functions must run in a regular backend");
}

/*
 * probe_bucket
 *		The largest counter of the shard in one bucket table visible to
 *		snap, or 0: one backward probe of its primary key.  *gone is set if
 *		the table no longer exists.
 */
static int64
probe_bucket(Oid relid, int32 shard_index, Snapshot snap, bool *gone)
{
	Relation	rel;
	Relation	idx;
	IndexScanDesc scan;
	ScanKeyData key;
	TupleTableSlot *slot;
	int64		result = 0;

	rel = OidIsValid(relid) ? try_table_open(relid, AccessShareLock) : NULL;
	*gone = (rel == NULL);
	if (rel == NULL)
		return 0;
	idx = index_open(RelationGetPrimaryKeyIndex(rel), AccessShareLock);
	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_INT4EQ, Int32GetDatum(shard_index));
	scan = index_beginscan(rel, idx, snap, 1, 0);
	index_rescan(scan, &key, 1, NULL, 0);
	slot = table_slot_create(rel, NULL);
	if (index_getnext_slot(scan, BackwardScanDirection, slot))
	{
		bool		isnull;

		result = DatumGetInt64(slot_getattr(slot, 3, &isnull));
	}
	ExecDropSingleTupleTableSlot(slot);
	index_endscan(scan);
	index_close(idx, AccessShareLock);
	table_close(rel, AccessShareLock);
	return result;
}

/*
 * stored_tip
 *		The largest counter the shard has used according to storage: its
 *		newest stored record, or its seq_floor (kept by trimming) or, for a
 *		closed shard, its ending counter when that is larger (the last
 *		number a closed shard handed out may have been a rolled-back put's,
 *		and its readers stop only once the watermark passes it); *bucket receives the bucket holding the record (-1 if
 *		none).  The catalog is read with a fresh snapshot, not through the
 *		cached map, which may be older than a bucket or a trim.  If a bucket
 *		vanishes between the catalog read and the probe, a trim committed
 *		meanwhile: read again.
 */
static int64
stored_tip(int32 stream_id, int32 shard_index, int32 *bucket)
{
	static SPIPlanPtr plan = NULL;

	for (;;)
	{
		Datum		args[2];
		Oid			argtypes[2] = {INT4OID, INT4OID};
		Snapshot	snap;
		int64		result = 0;
		bool		retry = false;
		Datum	   *buckets = NULL;
		int			nbuckets = 0;
		int			i;
		MemoryContext caller = CurrentMemoryContext;
		KinesisSavedUser saved;
		int			ret;

		*bucket = -1;
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		if (plan == NULL)
		{
			plan = SPI_prepare("SELECT (SELECT GREATEST(h.seq_floor, h.ending_counter) "
							   "          FROM kinesis.shard_meta h "
							   "         WHERE h.stream_id = $1 AND h.shard_index = $2), "
							   "       ARRAY(SELECT b.bucket FROM kinesis.buckets b "
							   "              WHERE b.stream_id = $1 ORDER BY b.bucket DESC)",
							   2, argtypes);
			if (plan == NULL)
				elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
			SPI_keepplan(plan);
		}
		args[0] = Int32GetDatum(stream_id);
		args[1] = Int32GetDatum(shard_index);
		snap = RegisterSnapshot(GetLatestSnapshot());
		/* as the owner: writers need no privilege on the catalog (authz.c) */
		kinesis_owner_begin(&saved);
		ret = SPI_execute_snapshot(plan, args, NULL, snap, InvalidSnapshot, true, false, 1);
		kinesis_owner_end(&saved);
		if (ret != SPI_OK_SELECT || SPI_processed != 1)
			elog(ERROR, "reading the shard's storage state failed");
		else
		{
			bool		isnull;
			Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
			MemoryContext old;

			result = isnull ? 0 : DatumGetInt64(d);
			d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
			old = MemoryContextSwitchTo(caller);
			deconstruct_array(DatumGetArrayTypePCopy(d), INT4OID, 4, true, TYPALIGN_INT,
							  &buckets, NULL, &nbuckets);
			MemoryContextSwitchTo(old);
		}
		SPI_finish();

		for (i = 0; i < nbuckets; i++)
		{
			int32		b = DatumGetInt32(buckets[i]);
			bool		gone;
			int64		c = probe_bucket(kinesis_bucket_table(stream_id, b), shard_index,
										 snap, &gone);

			if (gone)
			{
				retry = true;
				break;
			}
			if (c > 0)
			{
				result = Max(result, c);
				*bucket = b;
				break;
			}
		}
		UnregisterSnapshot(snap);
		if (!retry)
			return result;
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * recycle_one_entry
 *		With map_lock held exclusively, remove one entry that has nothing in
 *		flight.  Returns false if every entry is busy.
 */
static bool
recycle_one_entry(void)
{
	HASH_SEQ_STATUS status;
	InflightEntry *e;

	hash_seq_init(&status, inflight_hash);
	while ((e = hash_seq_search(&status)) != NULL)
	{
		LWLock	   *lock = partition_lock(&e->key);
		bool		idle;

		if (!LWLockConditionalAcquire(lock, LW_EXCLUSIVE))
			continue;
		idle = (e->ninflight == 0);
		if (idle)
		{
			InflightKey key = e->key;

			hash_search(inflight_hash, &key, HASH_REMOVE, NULL);
			pg_atomic_fetch_add_u64(&inflight_shared->recycled, 1);
		}
		LWLockRelease(lock);
		if (idle)
		{
			hash_seq_term(&status);
			return true;
		}
	}
	return false;
}

/*
 * lock_entry
 *		Find or create the shard's entry and return it with its partition
 *		lock held in the given mode (*lockp receives the lock).  A new
 *		entry's counter comes from storage, read before taking map_lock;
 *		if an entry was recycled meanwhile the read may be stale, so retry.
 */
static InflightEntry *
lock_entry(KinesisStream *stream, KinesisShard *shard, LWLockMode mode, LWLock **lockp)
{
	InflightKey key;
	LWLock	   *lock;

	memset(&key, 0, sizeof(key));
	key.dboid = MyDatabaseId;
	key.stream_id = stream->stream_id;
	key.shard_index = shard->shard_index;
	lock = partition_lock(&key);
	*lockp = lock;

	for (;;)
	{
		InflightEntry *e;
		uint64		recycled;
		int64		stored;
		int32		stored_bucket;
		bool		found;

		LWLockAcquire(inflight_shared->map_lock, LW_SHARED);
		e = hash_search(inflight_hash, &key, HASH_FIND, NULL);
		if (e != NULL)
		{
			LWLockAcquire(lock, mode);
			LWLockRelease(inflight_shared->map_lock);
			return e;
		}
		LWLockRelease(inflight_shared->map_lock);

		/* not tracked: derive the counter from storage, then add it */
		recycled = pg_atomic_read_u64(&inflight_shared->recycled);
		stored = stored_tip(key.stream_id, key.shard_index, &stored_bucket);

		LWLockAcquire(inflight_shared->map_lock, LW_EXCLUSIVE);
		if (pg_atomic_read_u64(&inflight_shared->recycled) != recycled)
		{
			LWLockRelease(inflight_shared->map_lock);
			continue;
		}
		e = hash_search(inflight_hash, &key, HASH_ENTER_NULL, &found);
		if (e == NULL)
		{
			if (!recycle_one_entry())
			{
				LWLockRelease(inflight_shared->map_lock);
				ereport(ERROR,
						(errcode(ERRCODE_OUT_OF_MEMORY),
						 errmsg("too many shards with puts in flight"),
						 errhint("Increase kinesis.max_tracked_shards (currently %d).",
								 kinesis_max_tracked_shards)));
			}
			/* recycling changed the counter; our storage read still holds */
			e = hash_search(inflight_hash, &key, HASH_ENTER_NULL, &found);
			if (e == NULL)
				elog(ERROR, "kinesis in-flight table is full after recycling");
		}
		if (!found)
		{
			e->next_counter = stored + 1;
			e->last_arrival = 0;
			e->last_bucket = stored_bucket;
			memset(&e->put_records, 0, sizeof(KinesisTokenBucket));
			memset(&e->put_bytes, 0, sizeof(KinesisTokenBucket));
			memset(&e->get_calls, 0, sizeof(KinesisTokenBucket));
			memset(&e->get_bytes, 0, sizeof(KinesisTokenBucket));
			e->in_records = e->in_bytes = e->out_records = e->out_bytes = 0;
			e->write_exceeded = e->read_exceeded = 0;
			e->iterator_age_ms = 0;
			e->ninflight = 0;
			memset(e->slots, 0, sizeof(int64) * MaxBackends);
		}
		LWLockAcquire(lock, mode);
		LWLockRelease(inflight_shared->map_lock);
		return e;
	}
}

/*
 * kinesis_allocate_seq
 *		Take the shard's next counter (at least min_counter) and register it
 *		as in flight for this transaction, in one critical section.  The
 *		arrival time is taken under the same lock and never goes backwards,
 *		so arrival order follows counter order within a shard; so is the
 *		bucket (*bucket), which never goes backwards either.
 *
 *		With throughput limits enforced, a record of this many bytes that
 *		does not fit the shard's write buckets takes nothing: *throttled is
 *		set and 0 returned.
 */
int64
kinesis_allocate_seq(KinesisStream *stream, KinesisShard *shard,
					 int64 min_counter, TimestampTz *arrival, int32 *bucket,
					 int64 bytes, bool *throttled)
{
	int32		newest = kinesis_newest_bucket(stream);
	InflightEntry *e;
	LWLock	   *lock;
	int64		counter;
	TimestampTz now;
	int			procno = MyProc->pgprocno;

	/* room for one more touched shard, before any lock is held */
	if (ntouched >= touched_capacity)
	{
		int			newcap = Max(16, touched_capacity * 2);

		if (touched == NULL)
			touched = MemoryContextAlloc(TopMemoryContext, sizeof(TouchedShard) * newcap);
		else
			touched = repalloc(touched, sizeof(TouchedShard) * newcap);
		touched_capacity = newcap;
	}

	e = lock_entry(stream, shard, LW_EXCLUSIVE, &lock);
	*throttled = false;
	if (kinesis_enforce_throughput)
	{
		TimestampTz t = GetCurrentTimestamp();

		if (!kinesis_bucket_has(&e->put_records, 1, KINESIS_WRITE_RECORDS_PER_SEC, t) ||
			!kinesis_bucket_has(&e->put_bytes, bytes, KINESIS_WRITE_BYTES_PER_SEC, t))
		{
			e->write_exceeded++;
			LWLockRelease(lock);
			*throttled = true;
			return 0;
		}
		kinesis_bucket_take(&e->put_records, 1, KINESIS_WRITE_RECORDS_PER_SEC, t);
		kinesis_bucket_take(&e->put_bytes, bytes, KINESIS_WRITE_BYTES_PER_SEC, t);
	}
	e->in_records++;
	e->in_bytes += bytes;
	if (e->next_counter < min_counter)
		e->next_counter = min_counter;
	if (e->next_counter >= KINESIS_MAX_COUNTER)
	{
		LWLockRelease(lock);
		kinesis_raise(KX_INTERNAL_FAILURE, "Shard %s of stream %s has run out of sequence numbers.",
					  kinesis_shard_id(shard->shard_index), stream->name);
	}
	counter = e->next_counter++;
	if (e->slots[procno] == 0)
	{
		e->slots[procno] = counter;
		e->ninflight++;
		touched[ntouched].key = e->key;
		ntouched++;
	}
	now = kinesis_now();
	if (now < e->last_arrival)
		now = e->last_arrival;
	e->last_arrival = now;
	if (newest > e->last_bucket)
		e->last_bucket = newest;
	*bucket = e->last_bucket;
	LWLockRelease(lock);

	*arrival = now;
	return counter;
}

/*
 * entry_watermark
 *		The lowest counter in flight in the entry, or its next counter if
 *		none is.  Caller holds the entry's partition lock.
 */
static int64
entry_watermark(InflightEntry *e)
{
	int64		w = e->next_counter;
	int			i;

	for (i = 0; i < MaxBackends && e->ninflight > 0; i++)
		if (e->slots[i] != 0 && e->slots[i] < w)
			w = e->slots[i];
	return w;
}

/*
 * kinesis_watermark
 *		The first counter of the shard that may still be uncommitted: every
 *		record below it is final.  The caller must take its scan snapshot
 *		after this returns.
 */
int64
kinesis_watermark(KinesisStream *stream, KinesisShard *shard)
{
	InflightEntry *e;
	LWLock	   *lock;
	int64		w;

	/*
	 * A standby cannot see the primary's in-flight table, so a watermark
	 * computed here could let a reader pass a record that is still
	 * uncommitted on the primary.  Refuse rather than risk skipping.
	 */
	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("Kinesis shards cannot be read during recovery"),
				 errdetail("A hot standby cannot see which puts are still in flight on the primary, so it cannot read gap-free."),
				 errhint("Read from the primary.")));

	e = lock_entry(stream, shard, LW_SHARED, &lock);
	w = entry_watermark(e);
	LWLockRelease(lock);
	return w;
}

/*
 * kinesis_throttle_read_begin
 *		With throughput limits enforced, take one of the shard's read calls,
 *		or refuse the read (ProvisionedThroughputExceededException) when the
 *		calls or the bytes of the last second are used up.
 */
void
kinesis_throttle_read_begin(KinesisStream *stream, KinesisShard *shard)
{
	LWLock	   *lock;
	InflightEntry *e;
	TimestampTz t;
	bool		ok;

	if (!kinesis_enforce_throughput)
		return;
	e = lock_entry(stream, shard, LW_EXCLUSIVE, &lock);
	t = GetCurrentTimestamp();
	ok = kinesis_bucket_has(&e->get_calls, 1, KINESIS_READ_CALLS_PER_SEC, t) &&
		kinesis_bucket_has(&e->get_bytes, 0, KINESIS_READ_BYTES_PER_SEC, t);
	if (ok)
		kinesis_bucket_take(&e->get_calls, 1, KINESIS_READ_CALLS_PER_SEC, t);
	else
		e->read_exceeded++;
	LWLockRelease(lock);
	if (!ok)
		kinesis_throughput_exceeded(stream, shard);
}

/*
 * kinesis_throttle_read_end
 *		After a read: count what it returned and how far behind it was (the
 *		shard's metrics), and with throughput limits enforced pay for the
 *		bytes (the bucket may go below zero, which holds the next reads
 *		back).
 */
void
kinesis_throttle_read_end(KinesisStream *stream, KinesisShard *shard, int64 records,
						  int64 bytes, int64 millis_behind)
{
	LWLock	   *lock;
	InflightEntry *e;

	e = lock_entry(stream, shard, LW_EXCLUSIVE, &lock);
	e->out_records += records;
	e->out_bytes += bytes;
	e->iterator_age_ms = millis_behind;
	if (kinesis_enforce_throughput && bytes > 0)
		kinesis_bucket_take(&e->get_bytes, bytes, KINESIS_READ_BYTES_PER_SEC, GetCurrentTimestamp());
	LWLockRelease(lock);
}

/*
 * kinesis_last_counter
 *		The last counter the shard has handed out (0 if none).  Final only
 *		while the caller holds the stream lock exclusively, as a split or
 *		merge does when it closes the shard.
 */
int64
kinesis_last_counter(KinesisStream *stream, KinesisShard *shard)
{
	LWLock	   *lock;
	InflightEntry *e = lock_entry(stream, shard, LW_SHARED, &lock);
	int64		last = e->next_counter - 1;

	LWLockRelease(lock);
	return last;
}

/*
 * kinesis._shard_last_counter(stream_id, shard_index)
 *		kinesis_last_counter() for the control plane, which closes shards.
 */
Datum
kinesis_shard_last_counter(PG_FUNCTION_ARGS)
{
	int32		stream_id = PG_GETARG_INT32(0);
	int32		shard_index = PG_GETARG_INT32(1);
	KinesisStream *stream;
	KinesisShard *shard;

	kinesis_require_preload();
	kinesis_inflight_init_backend();
	stream = kinesis_lookup_stream_by_id(stream_id);
	shard = stream != NULL ? kinesis_find_shard(stream, shard_index) : NULL;
	if (shard == NULL)
		elog(ERROR, "shard %d of stream %d does not exist", shard_index, stream_id);
	PG_RETURN_INT64(kinesis_last_counter(stream, shard));
}

/*
 * EntryRowFn: fills one SRF row from an entry, under its partition lock.
 */
typedef void (*EntryRowFn) (InflightEntry *e, Datum *values);

/*
 * entries_srf
 *		Return one row per tracked shard of this database, made by row().
 *		Every column is not null.
 */
static Datum
entries_srf(FunctionCallInfo fcinfo, EntryRowFn row)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	HASH_SEQ_STATUS status;
	InflightEntry *e;
	Datum		values[16];
	bool		nulls[16] = {0};

	kinesis_require_preload();
	InitMaterializedSRF(fcinfo, 0);
	Assert(rsinfo->setDesc->natts <= lengthof(values));
	LWLockAcquire(inflight_shared->map_lock, LW_SHARED);
	hash_seq_init(&status, inflight_hash);
	while ((e = hash_seq_search(&status)) != NULL)
	{
		LWLock	   *lock = partition_lock(&e->key);

		if (e->key.dboid != MyDatabaseId)
			continue;			/* another database's streams */
		LWLockAcquire(lock, LW_SHARED);
		row(e, values);
		LWLockRelease(lock);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	LWLockRelease(inflight_shared->map_lock);
	return (Datum) 0;
}

static void
inflight_row(InflightEntry *e, Datum *values)
{
	values[0] = Int32GetDatum(e->key.stream_id);
	values[1] = Int32GetDatum(e->key.shard_index);
	values[2] = Int64GetDatum(e->next_counter);
	values[3] = Int32GetDatum(e->ninflight);
	values[4] = Int64GetDatum(entry_watermark(e));
}

/*
 * kinesis.inflight()
 *		One row per tracked shard of this database: stream_id, shard_index,
 *		next counter, number of transactions with puts in flight and the
 *		watermark.  For monitoring and tests.
 */
Datum
kinesis_inflight_stats(PG_FUNCTION_ARGS)
{
	return entries_srf(fcinfo, inflight_row);
}

static void
metrics_row(InflightEntry *e, Datum *values)
{
	values[0] = Int32GetDatum(e->key.stream_id);
	values[1] = Int32GetDatum(e->key.shard_index);
	values[2] = Int64GetDatum((int64) e->in_records);
	values[3] = Int64GetDatum((int64) e->in_bytes);
	values[4] = Int64GetDatum((int64) e->out_records);
	values[5] = Int64GetDatum((int64) e->out_bytes);
	values[6] = Int64GetDatum((int64) e->write_exceeded);
	values[7] = Int64GetDatum((int64) e->read_exceeded);
	values[8] = Int64GetDatum(e->iterator_age_ms);
}

/*
 * kinesis._shard_metrics()
 *		One row per tracked shard of this database: the CloudWatch shard
 *		metrics counted on the hot path since the shard's shared entry was
 *		made (server start, or the entry's reuse): incoming and outgoing
 *		records and bytes, puts and reads refused by the throughput limits,
 *		and the iterator age of the latest read.
 */
Datum
kinesis_shard_metrics(PG_FUNCTION_ARGS)
{
	return entries_srf(fcinfo, metrics_row);
}

/*
 * kinesis._forget_streams(stream_id)
 *		Remove this database's entries of a stream (NULL: of every stream)
 *		when the stream goes: its id may be used again (after DROP and
 *		CREATE EXTENSION), and a new stream must not inherit its counters,
 *		buckets or metrics.  The caller holds the stream lock exclusively,
 *		so nothing is in flight; an entry that is busy anyway is kept (it
 *		is only a cache, rebuilt from storage when needed).
 */
Datum
kinesis_forget_stream(PG_FUNCTION_ARGS)
{
	bool		all = PG_ARGISNULL(0);
	int32		stream_id = all ? 0 : PG_GETARG_INT32(0);
	HASH_SEQ_STATUS status;
	InflightEntry *e;

	kinesis_require_preload();
	LWLockAcquire(inflight_shared->map_lock, LW_EXCLUSIVE);
	hash_seq_init(&status, inflight_hash);
	while ((e = hash_seq_search(&status)) != NULL)
	{
		LWLock	   *lock;
		InflightKey key;

		if (e->key.dboid != MyDatabaseId || (!all && e->key.stream_id != stream_id))
			continue;
		lock = partition_lock(&e->key);
		LWLockAcquire(lock, LW_EXCLUSIVE);
		key = e->key;
		if (e->ninflight == 0)
		{
			hash_search(inflight_hash, &key, HASH_REMOVE, NULL);
			pg_atomic_fetch_add_u64(&inflight_shared->recycled, 1);
		}
		LWLockRelease(lock);
	}
	LWLockRelease(inflight_shared->map_lock);
	PG_RETURN_VOID();
}
