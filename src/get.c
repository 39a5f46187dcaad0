/*-------------------------------------------------------------------------
 *
 * get.c
 *		kinesis.get_shard_iterator() and kinesis.get_records(): the read
 *		path.
 *
 * get_records reads the shard's watermark (the lowest counter still in
 * flight, see inflight.c), then takes a fresh snapshot and returns records
 * from the iterator's position up to, not including, the watermark.  Every
 * record below the watermark belongs to a finished transaction, so nothing
 * that commits later can appear behind the reader: a consumer following
 * next_shard_iterator sees every committed record exactly once, in order.
 * The fresh snapshot is used even inside a REPEATABLE READ or SERIALIZABLE
 * transaction: an older snapshot could hide records below the watermark.
 *
 * Records older than the stream's retention period are skipped whether or
 * not the trimmer has removed them yet.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
#include "utils/typcache.h"

#include "kinesis.h"

PG_FUNCTION_INFO_V1(kinesis_get_shard_iterator);
PG_FUNCTION_INFO_V1(kinesis_get_records);
PG_FUNCTION_INFO_V1(kinesis_read_records);

#define MAX_GET_RECORDS			10000
#define MAX_GET_RECORDS_BYTES	(10 * 1024 * 1024)
#define READ_RECORDS_COLS		8

static const char *iterator_types[] = {
	"AFTER_SEQUENCE_NUMBER", "LATEST", "AT_SEQUENCE_NUMBER", "TRIM_HORIZON", "AT_TIMESTAMP"
};

/*
 * unix_seconds
 *		A TimestampTz as whole seconds since 1970 (sequence numbers embed it).
 */
static int64
unix_seconds(TimestampTz t)
{
	return t / USECS_PER_SEC + (int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY;
}

/*
 * unix_millis
 *		A TimestampTz as milliseconds since 1970.
 */
static int64
unix_millis(TimestampTz t)
{
	return t / 1000 + (int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY * 1000;
}

/*
 * ShardScan: one shard's records in counter order, across the stream's
 * time buckets.  A shard's counters never go down from one bucket to the
 * next (see inflight.c), so walking the buckets in order and each bucket's
 * primary key (shard_index, seq) in order yields the shard in counter
 * order.  A bucket whose table was dropped meanwhile (trimming removes
 * only buckets whose records have all expired) is passed over.
 */
typedef struct ShardScan
{
	KinesisStream *stream;
	int32		shard_index;
	Snapshot	snap;
	int64		bound;			/* counters >= bound (forward), < bound
								 * (backward) */
	bool		backward;
	int			bi;				/* index in stream->buckets of the next
								 * bucket to open */
	int32		bucket;			/* bucket of the current record */
	Relation	rel;			/* NULL when no bucket is open */
	Relation	idx;
	IndexScanDesc scan;
	TupleTableSlot *slot;
} ShardScan;

/*
 * shard_scan_begin
 *		Scan (stream, shard) for counters >= bound (forward, starting at the
 *		first bucket numbered from_bucket or later) or < bound (backward,
 *		from the newest bucket), with the given snapshot.
 */
static void
shard_scan_begin(ShardScan *ss, Snapshot snap, KinesisStream *stream, int32 shard_index,
				 int64 bound, bool backward, int32 from_bucket)
{
	memset(ss, 0, sizeof(*ss));
	ss->stream = stream;
	ss->shard_index = shard_index;
	ss->snap = snap;
	ss->bound = bound;
	ss->backward = backward;
	ss->bucket = -1;
	if (backward)
		ss->bi = stream->nbuckets - 1;
	else
		for (ss->bi = 0; ss->bi < stream->nbuckets; ss->bi++)
			if (stream->buckets[ss->bi].bucket >= from_bucket)
				break;
}

static void
shard_scan_close_bucket(ShardScan *ss)
{
	if (ss->rel == NULL)
		return;
	ExecDropSingleTupleTableSlot(ss->slot);
	index_endscan(ss->scan);
	index_close(ss->idx, AccessShareLock);
	table_close(ss->rel, AccessShareLock);
	ss->rel = NULL;
}

/*
 * shard_scan_next
 *		Advance to the next record; false when there is none.  The record
 *		is in ss->slot, its bucket in ss->bucket.
 */
static bool
shard_scan_next(ShardScan *ss)
{
	ScanDirection dir = ss->backward ? BackwardScanDirection : ForwardScanDirection;

	for (;;)
	{
		if (ss->rel == NULL)
		{
			KinesisBucket *b;
			ScanKeyData keys[2];

			if (ss->bi < 0 || ss->bi >= ss->stream->nbuckets)
				return false;
			b = &ss->stream->buckets[ss->bi];
			ss->bi += ss->backward ? -1 : 1;
			ss->rel = try_table_open(b->relid, AccessShareLock);
			if (ss->rel == NULL)
				continue;		/* trimmed meanwhile */
			ss->bucket = b->bucket;
			ss->idx = index_open(RelationGetPrimaryKeyIndex(ss->rel), AccessShareLock);
			ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, F_INT4EQ,
						Int32GetDatum(ss->shard_index));
			if (ss->backward)
				ScanKeyInit(&keys[1], 2, BTLessStrategyNumber, F_INT8LT, Int64GetDatum(ss->bound));
			else
				ScanKeyInit(&keys[1], 2, BTGreaterEqualStrategyNumber, F_INT8GE,
							Int64GetDatum(ss->bound));
			ss->scan = index_beginscan(ss->rel, ss->idx, ss->snap, 2, 0);
			index_rescan(ss->scan, keys, 2, NULL, 0);
			ss->slot = table_slot_create(ss->rel, NULL);
		}
		if (index_getnext_slot(ss->scan, dir, ss->slot))
			return true;
		shard_scan_close_bucket(ss);
	}
}

static void
shard_scan_end(ShardScan *ss)
{
	shard_scan_close_bucket(ss);
}

/*
 * shard_tip
 *		The newest final record (counter < watermark) visible to snap: its
 *		counter (0 if there is none) and arrival time (0 if none).
 */
static int64
shard_tip(Snapshot snap, KinesisStream *stream, int32 shard_index, int64 watermark,
		  TimestampTz *arrival)
{
	ShardScan	ss;
	int64		counter = 0;

	*arrival = 0;
	shard_scan_begin(&ss, snap, stream, shard_index, watermark, true, -1);
	if (shard_scan_next(&ss))
	{
		bool		isnull;

		counter = DatumGetInt64(slot_getattr(ss.slot, 3, &isnull));
		*arrival = DatumGetTimestampTz(slot_getattr(ss.slot, 4, &isnull));
	}
	shard_scan_end(&ss);
	return counter;
}

/*
 * position_after_tip
 *		The position just after the newest committed record of the shard:
 *		where LATEST starts, and where AT_TIMESTAMP starts when no record
 *		is recent enough.
 *
 * Not the watermark itself: counters between the newest committed record
 * and the watermark belong to rolled-back puts, and when the shard's
 * shared entry is rebuilt (restart, crash, recycling) counting resumes
 * after the newest stored record, so those numbers are issued again.  A
 * reader must never have moved past them.
 */
static int64
position_after_tip(KinesisStream *stream, KinesisShard *shard)
{
	int64		watermark = kinesis_watermark(stream, shard);
	Snapshot	snap = RegisterSnapshot(GetLatestSnapshot());
	TimestampTz arrival;
	int64		tip;

	tip = shard_tip(snap, stream, shard->shard_index, watermark, &arrival);
	UnregisterSnapshot(snap);
	return Max(tip, shard->seq_floor) + 1;
}

/*
 * retention_cutoff
 *		Records that arrived before this are past the stream's retention
 *		(or were past it before the period was last increased).
 */
static TimestampTz
retention_cutoff(KinesisStream *stream)
{
	TimestampTz cutoff = kinesis_now() - (int64) stream->retention_hours * USECS_PER_HOUR;

	return Max(cutoff, stream->expired_before);
}

/*
 * first_counter_at
 *		AT_TIMESTAMP: the counter of the first final record that arrived at
 *		or after ts, or the position after the newest one if none has.
 *		Arrival times never go backwards within a shard, so later records
 *		qualify too.
 */
static int64
first_counter_at(KinesisStream *stream, KinesisShard *shard, TimestampTz ts)
{
	int64		watermark = kinesis_watermark(stream, shard);
	Snapshot	snap = RegisterSnapshot(GetLatestSnapshot());
	ShardScan	ss;
	int64		last = shard->seq_floor;
	int64		result = -1;

	shard_scan_begin(&ss, snap, stream, shard->shard_index, 0, false, -1);
	while (shard_scan_next(&ss))
	{
		bool		isnull;
		int64		counter = DatumGetInt64(slot_getattr(ss.slot, 3, &isnull));

		if (counter >= watermark)
			break;
		if (DatumGetTimestampTz(slot_getattr(ss.slot, 4, &isnull)) >= ts)
		{
			result = counter;
			break;
		}
		last = Max(last, counter);
	}
	shard_scan_end(&ss);
	UnregisterSnapshot(snap);
	return result >= 0 ? result : last + 1;
}

/*
 * RecordArray: the kinesis.record[] of a get_records response, built in
 * place.  Each record's composite is formed by heap_form_tuple in a small
 * context reset per record, then copied straight into the array's data
 * area, which lives in a buffer kept across calls (capped in size).  A
 * 10 MiB response then costs no per-record allocation, no second array copy
 * and none of the page faults that fresh memory costs on every call.
 */
typedef struct RecordArray
{
	TupleDesc	desc;
	Size		used;			/* bytes of the buffer in use */
	MemoryContext tmpcxt;		/* holds one record's tuple at a time */
} RecordArray;

#define RECORD_ARRAY_HDR	ARR_OVERHEAD_NONULLS(1)
#define RECORD_ARRAY_KEEP	(16 * 1024 * 1024)

static char *record_buf = NULL;
static Size record_buf_size = 0;

static void
record_array_reserve(Size need)
{
	Size		newsize;

	if (need <= record_buf_size)
		return;
	newsize = Max(record_buf_size * 2, Max(need, 64 * 1024));
	if (record_buf == NULL)
		record_buf = MemoryContextAllocHuge(TopMemoryContext, newsize);
	else
		record_buf = repalloc_huge(record_buf, newsize);
	record_buf_size = newsize;
}

static void
record_array_begin(RecordArray *arr, TupleDesc desc)
{
	arr->desc = desc;
	arr->used = RECORD_ARRAY_HDR;
	arr->tmpcxt = AllocSetContextCreate(CurrentMemoryContext, "kinesis get_records record",
										ALLOCSET_DEFAULT_SIZES);
	record_array_reserve(arr->used);
}

/*
 * record_array_add
 *		Append one composite element, aligned as the composite type's 'd'
 *		alignment requires.
 */
static void
record_array_add(RecordArray *arr, Datum *values, bool *nulls)
{
	MemoryContext old = MemoryContextSwitchTo(arr->tmpcxt);
	HeapTuple	tup = heap_form_tuple(arr->desc, values, nulls);
	HeapTupleHeader td = DatumGetHeapTupleHeader(HeapTupleGetDatum(tup));
	Size		len = HeapTupleHeaderGetDatumLength(td);

	MemoryContextSwitchTo(old);
	record_array_reserve(arr->used + MAXALIGN(len));
	memcpy(record_buf + arr->used, td, len);
	/* zero the alignment padding so that equal arrays have equal bytes */
	memset(record_buf + arr->used + len, 0, MAXALIGN(len) - len);
	arr->used += MAXALIGN(len);
	MemoryContextReset(arr->tmpcxt);
}

/*
 * record_array_finish
 *		Write the one-dimensional array header and return the array (it
 *		still lives in the shared buffer: the caller copies it into the
 *		result tuple before the next call can reuse the buffer).
 */
static ArrayType *
record_array_finish(RecordArray *arr, int nrecs)
{
	ArrayType  *a;

	MemoryContextDelete(arr->tmpcxt);
	if (nrecs == 0)
		return construct_empty_array(arr->desc->tdtypeid);
	a = (ArrayType *) record_buf;
	SET_VARSIZE(a, arr->used);
	a->ndim = 1;
	a->dataoffset = 0;
	a->elemtype = arr->desc->tdtypeid;
	ARR_DIMS(a)[0] = nrecs;
	ARR_LBOUND(a)[0] = 1;
	return a;
}

/*
 * seqnum_text
 *		Make buf (VARHDRSZ + 64 bytes) a text datum holding s.
 */
static void
seqnum_text(char *buf, const char *s)
{
	size_t		len = strlen(s);

	SET_VARSIZE(buf, VARHDRSZ + len);
	memcpy(VARDATA(buf), s, len);
}

/*
 * kinesis.get_shard_iterator(stream_name, shard_id, shard_iterator_type,
 *							  starting_sequence_number, "timestamp")
 *		OUT shard_iterator.
 */
Datum
kinesis_get_shard_iterator(PG_FUNCTION_ARGS)
{
	char	   *stream_name = kinesis_text_arg(fcinfo, 0);
	char	   *shard_id = kinesis_text_arg(fcinfo, 1);
	char	   *type = kinesis_text_arg(fcinfo, 2);
	char	   *start_seq = kinesis_text_arg(fcinfo, 3);
	bool		has_ts = !PG_ARGISNULL(4);
	TimestampTz ts = has_ts ? PG_GETARG_TIMESTAMPTZ(4) : 0;
	KinesisValidation v = {0};
	KinesisStream *stream;
	KinesisShard *shard;
	KinesisIterator it;
	int32		shard_index;
	char	   *canon_shard;
	int			i;
	bool		type_ok = false;

	kinesis_validate_string(&v, shard_id, "shardId", true, KINESIS_NAME_PATTERN, 1, 128);
	if (type == NULL)
		kinesis_validation_add(&v, NULL, "shardIteratorType", "Member must not be null");
	else
	{
		for (i = 0; i < lengthof(iterator_types); i++)
			if (strcmp(type, iterator_types[i]) == 0)
				type_ok = true;
		if (!type_ok)
			kinesis_validation_add(&v, type, "shardIteratorType",
								   "Member must satisfy enum value set: [AFTER_SEQUENCE_NUMBER, LATEST, AT_SEQUENCE_NUMBER, TRIM_HORIZON, AT_TIMESTAMP]");
	}
	kinesis_validate_string(&v, start_seq, "startingSequenceNumber", false,
							KINESIS_SEQNUM_PATTERN, -1, -1);
	kinesis_validate_string(&v, stream_name, "streamName", true, KINESIS_NAME_PATTERN, 1, 128);
	kinesis_validation_done(&v);

	if (!kinesis_parse_shard_id(shard_id, &shard_index))
		kinesis_raise(KX_RESOURCE_NOT_FOUND, "Could not find shard %s in stream %s under account %s.",
					  shard_id, stream_name, kinesis_account_id);
	canon_shard = kinesis_shard_id(shard_index);

	kinesis_authorize("GetShardIterator", stream_name);
	kinesis_inflight_init_backend();
	AcceptInvalidationMessages();
	stream = kinesis_lookup_stream(stream_name);
	shard = (stream && strcmp(stream->status, "CREATING") != 0 &&
			 strcmp(stream->status, "DELETING") != 0) ?
		kinesis_find_shard(stream, shard_index) : NULL;
	if (shard == NULL)
		kinesis_raise(KX_RESOURCE_NOT_FOUND, "Shard %s in stream %s under account %s does not exist",
					  canon_shard, stream_name, kinesis_account_id);

	memset(&it, 0, sizeof(it));
	it.bucket_hint = -1;
	it.stream_id = stream->stream_id;
	it.shard_index = shard_index;
	strlcpy(it.stream_name, stream->name, sizeof(it.stream_name));

	if (start_seq != NULL)
	{
		KinesisSeqParts parts;

		if (strcmp(type, "TRIM_HORIZON") == 0 || strcmp(type, "LATEST") == 0 ||
			strcmp(type, "AT_TIMESTAMP") == 0)
			kinesis_raise(KX_INVALID_ARGUMENT,
						  "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified %s and also a StartingSequenceNumber.",
						  type);
		if (!kinesis_parse_seqnum(start_seq, &parts))
			kinesis_raise(KX_INVALID_ARGUMENT,
						  "StartingSequenceNumber %s used in GetShardIterator on shard %s in stream %s under account %s is invalid.",
						  start_seq, canon_shard, stream_name, kinesis_account_id);
		if (parts.shard_index != shard_index)
			kinesis_raise(KX_INVALID_ARGUMENT,
						  "Invalid StartingSequenceNumber. It encodes %s, while it was used in a call to a shard with %s",
						  kinesis_shard_id(parts.shard_index), canon_shard);
		if (parts.shard_epoch != shard->create_epoch)
			kinesis_raise(KX_INVALID_ARGUMENT,
						  "StartingSequenceNumber %s used in GetShardIterator on shard %s in stream %s under account %s is invalid because it did not come from this stream.",
						  start_seq, canon_shard, stream_name, kinesis_account_id);
		if (strcmp(type, "AT_SEQUENCE_NUMBER") == 0)
			it.position = parts.counter;
		else
		{
			if (parts.counter >= KINESIS_MAX_COUNTER)
				kinesis_raise(KX_INVALID_ARGUMENT,
							  "Invalid SequenceNumber for ShardIteratorType AFTER_SEQUENCE_NUMBER, SequenceNumber has reached max possible value for the shard.");
			it.position = parts.counter + 1;
		}
	}
	else if (strcmp(type, "TRIM_HORIZON") == 0)
		it.position = 0;
	else if (strcmp(type, "LATEST") == 0)
		it.position = shard->open ? position_after_tip(stream, shard) : shard->ending_counter + 1;
	else if (strcmp(type, "AT_TIMESTAMP") == 0)
	{
		TimestampTz now = kinesis_now();

		if (!has_ts)
			kinesis_raise(KX_INVALID_ARGUMENT,
						  "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no timestamp parameter.");
		if (ts > now)
			kinesis_raise(KX_INVALID_ARGUMENT,
						  "The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. timestampInMillis: " INT64_FORMAT ", currentTimestampInMillis: " INT64_FORMAT,
						  unix_millis(ts), unix_millis(now));
		it.position = first_counter_at(stream, shard, ts);
		it.min_arrival = ts;
	}
	else
		kinesis_raise(KX_INVALID_ARGUMENT,
					  "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified %s and no StartingSequenceNumber.",
					  type);

	it.created = GetCurrentTimestamp();
	/* a single OUT parameter makes the result a plain text column */
	PG_RETURN_TEXT_P(cstring_to_text(kinesis_iterator_encode(&it)));
}

/*
 * GetCall: one get_records request while it runs.  The scan hands each
 * record to emit(); the outcome (next iterator, lag) is filled in at the
 * end.  Both SQL shapes of GetRecords share it: the array form and the
 * row form (read_records).
 */
typedef struct GetCall GetCall;
typedef void (*GetEmitFn) (GetCall *call, Datum *values);

struct GetCall
{
	GetEmitFn	emit;			/* receives kinesis.record's five columns */
	void	   *arg;			/* emit's own state */
	int			nrecs;
	char	   *next_iterator;	/* NULL when the closed shard is drained */
	int64		millis_behind;
	Datum		child_shards;	/* kinesis.child_shard[] when drained */
	bool		has_child_shards;
};

/*
 * child_shards
 *		The shards a closed shard was split or merged into, as the
 *		kinesis.child_shard[] that get_records returns at the shard's end.
 *		Read once per drained shard, so SQL is cheap enough here.
 */
static Datum
child_shards(int32 stream_id, int32 shard_index)
{
	static SPIPlanPtr plan = NULL;
	Datum		args[2] = {Int32GetDatum(stream_id), Int32GetDatum(shard_index)};
	MemoryContext caller = CurrentMemoryContext;
	Snapshot	snap;
	bool		isnull;
	Datum		result;
	MemoryContext old;
	int			ret;
	KinesisSavedUser saved;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (plan == NULL)
	{
		Oid			argtypes[2] = {INT4OID, INT4OID};

		plan = SPI_prepare("SELECT kinesis._child_shards($1, $2)", 2, argtypes);
		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		SPI_keepplan(plan);
	}
	/* a fresh snapshot, as the scan's: the caller's may predate the close */
	snap = RegisterSnapshot(GetLatestSnapshot());
	/* as the owner: readers need no privilege on the catalog (authz.c) */
	kinesis_owner_begin(&saved);
	ret = SPI_execute_snapshot(plan, args, NULL, snap, InvalidSnapshot, true, false, 1);
	kinesis_owner_end(&saved);
	UnregisterSnapshot(snap);
	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "reading the child shards failed");
	result = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	old = MemoryContextSwitchTo(caller);
	result = isnull ? (Datum) 0 : PointerGetDatum(PG_DETOAST_DATUM_COPY(result));
	MemoryContextSwitchTo(old);
	SPI_finish();
	return result;
}

/*
 * SealedBatch: encrypted records of one key read by a get call, held back
 * so that one pgcrypto call decrypts them all (kinesis_kms_decrypt_batch),
 * then emitted in order.  A plaintext record, another key or the end of
 * the scan flushes the batch first, so records still come out in order.
 */
typedef struct SealedBatch
{
	KinesisKmsKey *key;
	int			n;
	int			cap;
	int64	   *counters;
	bytea	  **stored;			/* copies of the stored forms */
	Datum	   *pks;			/* copies of the partition keys */
	TimestampTz *arrivals;
	text	  **seqs;			/* sequence numbers, formatted */
	int64		bound;			/* sum of kinesis_kms_plaintext_bound() */
} SealedBatch;

static void
sealed_add(SealedBatch *b, int64 counter, TimestampTz arrival, Datum pk, bytea *stored,
		   const char *seqtext)
{
	if (b->n == b->cap)
	{
		b->cap = Max(64, b->cap * 2);
		if (b->counters == NULL)
		{
			b->counters = palloc(sizeof(int64) * b->cap);
			b->stored = palloc(sizeof(bytea *) * b->cap);
			b->pks = palloc(sizeof(Datum) * b->cap);
			b->arrivals = palloc(sizeof(TimestampTz) * b->cap);
			b->seqs = palloc(sizeof(text *) * b->cap);
		}
		else
		{
			b->counters = repalloc(b->counters, sizeof(int64) * b->cap);
			b->stored = repalloc(b->stored, sizeof(bytea *) * b->cap);
			b->pks = repalloc(b->pks, sizeof(Datum) * b->cap);
			b->arrivals = repalloc(b->arrivals, sizeof(TimestampTz) * b->cap);
			b->seqs = repalloc(b->seqs, sizeof(text *) * b->cap);
		}
	}
	b->counters[b->n] = counter;
	b->arrivals[b->n] = arrival;
	b->pks[b->n] = PointerGetDatum(PG_DETOAST_DATUM_COPY(pk));
	b->stored[b->n] = (bytea *) PG_DETOAST_DATUM_COPY(PointerGetDatum(stored));
	b->seqs[b->n] = cstring_to_text(seqtext);
	b->bound += kinesis_kms_plaintext_bound(stored);
	b->n++;
}

/*
 * sealed_flush
 *		Decrypt and emit the held-back records; returns how many bytes of
 *		data fewer than their bounds they turned out to hold.
 */
static int64
sealed_flush(SealedBatch *b, GetCall *call, int32 stream_id, int32 shard_index, Datum kms_text)
{
	bytea	  **plain;
	int64		actual = 0;
	int64		unused;
	int			i;

	if (b->n == 0)
		return 0;
	plain = kinesis_kms_decrypt_batch(b->key, b->n, stream_id, shard_index, b->counters,
									  b->stored);
	for (i = 0; i < b->n; i++)
	{
		Datum		rv[5];

		rv[0] = PointerGetDatum(b->seqs[i]);
		rv[1] = TimestampTzGetDatum(b->arrivals[i]);
		rv[2] = PointerGetDatum(plain[i]);
		rv[3] = b->pks[i];
		rv[4] = kms_text;
		call->emit(call, rv);
		actual += VARSIZE_ANY_EXHDR(plain[i]);
		pfree(plain[i]);
		pfree(b->stored[i]);
		pfree(DatumGetPointer(b->pks[i]));
		pfree(b->seqs[i]);
	}
	pfree(plain);
	unused = b->bound - actual;
	b->n = 0;
	b->bound = 0;
	return unused;
}

/*
 * get_records_run
 *		Validate the request, decode the iterator and scan: see the file
 *		header for why the watermark is read before the snapshot is taken.
 *
 * Returns at most "limit" (default and maximum 10,000) records and at most
 * 10 MiB of data and keys; the first record is always returned whatever
 * its size.  When the scan reaches the watermark, millis_behind is 0.  The
 * next iterator starts after the last record scanned, never at the
 * watermark (see position_after_tip()).  When the shard is closed and fully
 * read there is no next iterator.
 */
static void
get_records_run(FunctionCallInfo fcinfo, GetCall *call)
{
	char	   *token = kinesis_text_arg(fcinfo, 0);
	bool		has_limit = !PG_ARGISNULL(1);
	int64		limit = has_limit ? PG_GETARG_INT32(1) : MAX_GET_RECORDS;
	KinesisValidation v = {0};
	KinesisIterator it;
	KinesisStream *stream;
	KinesisShard *shard;
	int64		watermark;
	Snapshot	snap;
	ShardScan	ss;
	TimestampTz cutoff;
	TimestampTz min_arrival;
	int64		bytes = 0;
	int64		next_position;
	int32		next_hint;
	bool		caught_up = true;
	TimestampTz last_arrival = 0;
	Datum		plain_text;
	Datum		kms_text;
	SealedBatch sealed = {0};
	KinesisSeqFormatter seqfmt = {0};
	char		seqbuf[VARHDRSZ + 64];

	kinesis_validate_int(&v, !has_limit, limit, "limit", false, 1, MAX_GET_RECORDS);
	kinesis_validate_string(&v, token, "shardIterator", true, NULL, 1, 512);
	kinesis_validation_done(&v);

	kinesis_reader_memory_prepare();
	kinesis_inflight_init_backend();
	shard = kinesis_open_iterator(token, &it, &stream);
	plain_text = PointerGetDatum(cstring_to_text("NONE"));
	kms_text = PointerGetDatum(cstring_to_text("KMS"));
	kinesis_throttle_read_begin(stream, shard);

	/* the watermark first, then the snapshot: see the file header */
	watermark = kinesis_watermark(stream, shard);
	snap = RegisterSnapshot(GetLatestSnapshot());
	cutoff = retention_cutoff(stream);
	min_arrival = Max(it.min_arrival, cutoff);
	next_position = it.position;
	next_hint = it.bucket_hint;
	call->nrecs = 0;

	shard_scan_begin(&ss, snap, stream, shard->shard_index, it.position, false,
					 it.bucket_hint);
	while (shard_scan_next(&ss))
	{
		bool		isnull;
		int64		counter = DatumGetInt64(slot_getattr(ss.slot, 3, &isnull));
		TimestampTz arrival;
		Datum		pk;
		Datum		data;
		int64		size;
		Datum		key_ref;
		bool		plaintext;
		Datum		rv[5];

		CHECK_FOR_INTERRUPTS();
		if (counter >= watermark)
			break;
		arrival = DatumGetTimestampTz(slot_getattr(ss.slot, 4, &isnull));
		if (arrival < min_arrival)
		{
			/* expired, or before an AT_TIMESTAMP start: skip it for good */
			next_position = counter + 1;
			next_hint = ss.bucket;
			continue;
		}
		if (call->nrecs >= limit)
		{
			caught_up = false;
			break;
		}
		pk = PointerGetDatum(PG_DETOAST_DATUM_PACKED(slot_getattr(ss.slot, 5, &isnull)));
		data = PointerGetDatum(PG_DETOAST_DATUM_PACKED(slot_getattr(ss.slot, 6, &isnull)));
		key_ref = slot_getattr(ss.slot, 7, &plaintext);
		/* an encrypted record counts with the most data it can hold */
		size = (plaintext ? VARSIZE_ANY_EXHDR(DatumGetPointer(data)) :
				kinesis_kms_plaintext_bound((bytea *) DatumGetPointer(data))) +
			VARSIZE_ANY_EXHDR(DatumGetPointer(pk));
		if (call->nrecs > 0 && bytes + size > MAX_GET_RECORDS_BYTES)
		{
			caught_up = false;
			break;
		}
		bytes += size;

		/* kinesis.record: sequence_number, approximate_arrival_timestamp, data, partition_key, encryption_type */
		seqnum_text(seqbuf, kinesis_seqfmt_next(&seqfmt, shard->create_epoch,
												 shard->shard_index, counter,
												 unix_seconds(arrival)));
		if (!plaintext)
		{
			/*
			 * Stored encrypted (kms.c): held back and decrypted with the
			 * records of the same key that follow it.
			 */
			if (sealed.key == NULL || sealed.key->key_ref != DatumGetInt32(key_ref))
			{
				bytes -= sealed_flush(&sealed, call, stream->stream_id, shard->shard_index, kms_text);
				sealed.key = kinesis_kms_key(DatumGetInt32(key_ref), stream->name);
			}
			sealed_add(&sealed, counter, arrival, pk, (bytea *) DatumGetPointer(data),
					   text_to_cstring((text *) seqbuf));
		}
		else
		{
			bytes -= sealed_flush(&sealed, call, stream->stream_id, shard->shard_index, kms_text);
			rv[0] = PointerGetDatum(seqbuf);
			rv[1] = TimestampTzGetDatum(arrival);
			rv[2] = data;
			rv[3] = pk;
			rv[4] = plain_text;
			call->emit(call, rv);
		}
		call->nrecs++;
		next_position = counter + 1;
		next_hint = ss.bucket;
		last_arrival = arrival;
	}
	bytes -= sealed_flush(&sealed, call, stream->stream_id, shard->shard_index, kms_text);
	shard_scan_end(&ss);

	if (caught_up)
		call->millis_behind = 0;
	else
	{
		TimestampTz tip;

		(void) shard_tip(snap, stream, shard->shard_index, watermark, &tip);
		/* behind, so never 0: clients read 0 as "caught up" */
		call->millis_behind = Max(1, (tip - last_arrival) / 1000);
	}
	kinesis_throttle_read_end(stream, shard, call->nrecs, bytes, call->millis_behind);
	UnregisterSnapshot(snap);

	/*
	 * A closed shard took its last put before it closed (the close waited
	 * for every put in flight), so a scan that reached the end, with every
	 * counter up to the ending one final, has read everything, whatever the
	 * position: that covers an empty shard and one whose records were all
	 * trimmed.  (The watermark test is a second line of defence: the close
	 * waits for the writers' stream locks, which last as long as their
	 * in-flight slots.)
	 */
	if (!shard->open && caught_up && watermark > shard->ending_counter)
	{
		/* closed and drained: name the children, as ChildShards does */
		call->next_iterator = NULL;
		call->child_shards = child_shards(stream->stream_id, shard->shard_index);
		call->has_child_shards = true;
	}
	else
	{
		KinesisIterator next = it;

		next.position = next_position;
		next.bucket_hint = next_hint;
		if (call->nrecs > 0)
			next.min_arrival = 0;	/* later records arrive later still */
		next.created = GetCurrentTimestamp();
		call->next_iterator = kinesis_iterator_encode(&next);
	}
}

/*
 * emit_to_array
 *		get_records' emit: append the record to the response array.
 */
static void
emit_to_array(GetCall *call, Datum *values)
{
	static bool nulls[5] = {false, false, false, false, false};

	record_array_add((RecordArray *) call->arg, values, nulls);
}

/*
 * kinesis_open_iterator
 *		Authenticate an iterator, check that its holder may read the stream
 *		(an iterator is no capability), and find its stream and shard as
 *		committed now (the cached map may be older); ResourceNotFoundException
 *		when the shard or its stream is gone.  GetRecords and the
 *		continuation of SubscribeToShard events (subscribe.c) start here.
 */
KinesisShard *
kinesis_open_iterator(const char *token, KinesisIterator *it, KinesisStream **stream)
{
	KinesisShard *shard;

	kinesis_iterator_decode(token, it);
	kinesis_authorize("GetRecords", it->stream_name);
	AcceptInvalidationMessages();
	*stream = kinesis_lookup_stream_by_id(it->stream_id);
	shard = *stream ? kinesis_find_shard(*stream, it->shard_index) : NULL;
	if (shard == NULL || strcmp((*stream)->status, "DELETING") == 0)
		kinesis_raise(KX_RESOURCE_NOT_FOUND, "Shard %s in stream %s under account %s does not exist",
					  kinesis_shard_id(it->shard_index), it->stream_name, kinesis_account_id);
	return shard;
}

/*
 * kinesis.get_records(shard_iterator, "limit")
 *		OUT records kinesis.record[], next_shard_iterator, millis_behind_latest,
 *		child_shards.
 */
Datum
kinesis_get_records(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	TupleDesc	recdesc;
	RecordArray arr;
	GetCall		call = {0};
	Datum		values[4];
	bool		nulls[4] = {false, false, false, true};
	Datum		result;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	recdesc = BlessTupleDesc(lookup_rowtype_tupdesc_copy(get_element_type(TupleDescAttr(tupdesc, 0)->atttypid), -1));

	record_array_begin(&arr, recdesc);
	call.emit = emit_to_array;
	call.arg = &arr;
	get_records_run(fcinfo, &call);

	values[0] = PointerGetDatum(record_array_finish(&arr, call.nrecs));
	if (call.next_iterator == NULL)
		nulls[1] = true;
	else
		values[1] = CStringGetTextDatum(call.next_iterator);
	values[2] = Int64GetDatum(call.millis_behind);
	if (call.has_child_shards && call.child_shards != (Datum) 0)
	{
		values[3] = call.child_shards;
		nulls[3] = false;
	}
	result = HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls));
	/* the array was copied into the result: give back an oversized buffer */
	if (record_buf_size > RECORD_ARRAY_KEEP)
	{
		pfree(record_buf);
		record_buf = NULL;
		record_buf_size = 0;
	}
	PG_RETURN_DATUM(result);
}

/*
 * RowsState: read_records' emit state: the caller's tuplestore, which each
 * record's row goes into as it is scanned.
 */
typedef struct RowsState
{
	Tuplestorestate *store;
	TupleDesc	desc;
	bool		nulls[READ_RECORDS_COLS];
} RowsState;

/*
 * emit_to_rows
 *		read_records' emit: one row per record, its last three columns NULL.
 */
static void
emit_to_rows(GetCall *call, Datum *values)
{
	RowsState  *rs = (RowsState *) call->arg;
	Datum		row[READ_RECORDS_COLS];

	memcpy(row, values, sizeof(Datum) * 5);
	tuplestore_putvalues(rs->store, rs->desc, row, rs->nulls);
}

/*
 * kinesis.read_records(shard_iterator, "limit")
 *		RETURNS TABLE (sequence_number, approximate_arrival_timestamp, data,
 *		partition_key, encryption_type, next_shard_iterator,
 *		millis_behind_latest, child_shards).
 *
 * GetRecords as rows, for SQL consumers and for clients that read large
 * batches: one row per record, written straight into the caller's
 * tuplestore (no array is built, so nothing is materialized twice), then
 * one closing row whose record columns are NULL and which carries
 * next_shard_iterator, millis_behind_latest and, at the end of a closed
 * shard, child_shards (NULL in the record rows).
 */
Datum
kinesis_read_records(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	RowsState	rs;
	GetCall		call = {0};
	Datum		last[READ_RECORDS_COLS];
	bool		lastnulls[READ_RECORDS_COLS];
	int			i;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	rs.store = rsinfo->setResult;
	rs.desc = rsinfo->setDesc;
	if (rs.desc->natts != READ_RECORDS_COLS)
		elog(ERROR, "kinesis.read_records must return %d columns", READ_RECORDS_COLS);
	for (i = 0; i < READ_RECORDS_COLS; i++)
		rs.nulls[i] = i >= 5;

	call.emit = emit_to_rows;
	call.arg = &rs;
	get_records_run(fcinfo, &call);

	/* the closing row: no record, the outcome of the call */
	memset(last, 0, sizeof(last));
	for (i = 0; i < READ_RECORDS_COLS; i++)
		lastnulls[i] = true;
	if (call.next_iterator != NULL)
	{
		last[5] = CStringGetTextDatum(call.next_iterator);
		lastnulls[5] = false;
	}
	last[6] = Int64GetDatum(call.millis_behind);
	lastnulls[6] = false;
	if (call.has_child_shards && call.child_shards != (Datum) 0)
	{
		last[7] = call.child_shards;
		lastnulls[7] = false;
	}
	tuplestore_putvalues(rs.store, rs.desc, last, lastnulls);
	return (Datum) 0;
}
