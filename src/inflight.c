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
 * Entries are a cache: one whose shard has nothing in flight may be
 * recycled when the table is full, and an entry created later re-derives
 * its counter from storage (the largest stored counter, or the shard's
 * seq_floor).  After a crash the postmaster re-initialises shared memory
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
#include "executor/executor.h"
#include "executor/tuptable.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/shmem.h"
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
	int32		stream_id;
	int32		shard_index;
} InflightKey;

typedef struct InflightEntry
{
	InflightKey key;			/* hash key: must be first */
	int64		next_counter;	/* next counter to hand out */
	TimestampTz last_arrival;	/* keeps arrival times monotonic */
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
	uint32		h = (uint32) key->stream_id * 0x9E3779B1u ^ (uint32) key->shard_index;

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
 * stored_max_counter
 *		The largest counter of the shard's records visible to a fresh
 *		snapshot (0 if none): one backward probe of the primary key.
 */
static int64
stored_max_counter(int32 stream_id, int32 shard_index)
{
	Relation	rel;
	Relation	idx;
	IndexScanDesc scan;
	ScanKeyData keys[2];
	TupleTableSlot *slot;
	Snapshot	snap;
	int64		result = 0;

	rel = table_open(kinesis_records_relid(), AccessShareLock);
	idx = index_open(RelationGetPrimaryKeyIndex(rel), AccessShareLock);
	snap = RegisterSnapshot(GetLatestSnapshot());
	ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, F_INT4EQ, Int32GetDatum(stream_id));
	ScanKeyInit(&keys[1], 2, BTEqualStrategyNumber, F_INT4EQ, Int32GetDatum(shard_index));
	scan = index_beginscan(rel, idx, snap, 2, 0);
	index_rescan(scan, keys, 2, NULL, 0);
	slot = table_slot_create(rel, NULL);
	if (index_getnext_slot(scan, BackwardScanDirection, slot))
	{
		bool		isnull;

		result = DatumGetInt64(slot_getattr(slot, 3, &isnull));
	}
	ExecDropSingleTupleTableSlot(slot);
	index_endscan(scan);
	UnregisterSnapshot(snap);
	index_close(idx, AccessShareLock);
	table_close(rel, AccessShareLock);
	return result;
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
	key.stream_id = stream->stream_id;
	key.shard_index = shard->shard_index;
	lock = partition_lock(&key);
	*lockp = lock;

	for (;;)
	{
		InflightEntry *e;
		uint64		recycled;
		int64		stored;
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
		stored = Max(stored_max_counter(key.stream_id, key.shard_index),
					 shard->seq_floor);

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
 *		so arrival order follows counter order within a shard.
 */
int64
kinesis_allocate_seq(KinesisStream *stream, KinesisShard *shard,
					 int64 min_counter, TimestampTz *arrival)
{
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
	now = GetCurrentTimestamp();
	if (now < e->last_arrival)
		now = e->last_arrival;
	e->last_arrival = now;
	LWLockRelease(lock);

	*arrival = now;
	return counter;
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
	w = e->next_counter;
	if (e->ninflight > 0)
	{
		int			i;

		for (i = 0; i < MaxBackends; i++)
			if (e->slots[i] != 0 && e->slots[i] < w)
				w = e->slots[i];
	}
	LWLockRelease(lock);
	return w;
}

/*
 * kinesis.inflight()
 *		One row per tracked shard: stream_id, shard_index, next counter and
 *		number of transactions with puts in flight.  For monitoring and tests.
 */
Datum
kinesis_inflight_stats(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	HASH_SEQ_STATUS status;
	InflightEntry *e;

	kinesis_require_preload();
	InitMaterializedSRF(fcinfo, 0);
	LWLockAcquire(inflight_shared->map_lock, LW_SHARED);
	hash_seq_init(&status, inflight_hash);
	while ((e = hash_seq_search(&status)) != NULL)
	{
		Datum		values[5];
		bool		nulls[5] = {false, false, false, false, false};
		LWLock	   *lock = partition_lock(&e->key);
		int64		w;
		int			i;

		LWLockAcquire(lock, LW_SHARED);
		values[0] = Int32GetDatum(e->key.stream_id);
		values[1] = Int32GetDatum(e->key.shard_index);
		values[2] = Int64GetDatum(e->next_counter);
		values[3] = Int32GetDatum(e->ninflight);
		w = e->next_counter;
		for (i = 0; i < MaxBackends && e->ninflight > 0; i++)
			if (e->slots[i] != 0 && e->slots[i] < w)
				w = e->slots[i];
		values[4] = Int64GetDatum(w);
		LWLockRelease(lock);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	LWLockRelease(inflight_shared->map_lock);
	return (Datum) 0;
}
