/*-------------------------------------------------------------------------
 *
 * put.c
 *		kinesis.put_record() and kinesis.put_records(): the write path.
 *
 * A put validates its input in AWS's two tiers, finds the stream in the
 * backend's shard map, takes the stream lock in share mode (so that a
 * deletion or reshard waits for it), routes each record by MD5 in C, takes
 * a counter from the shard's shared entry (registering it as in flight),
 * and inserts the row directly with heap and index calls: no SPI and no
 * catalog query per record.  Everything happens in the caller's
 * transaction, so records vanish if it rolls back.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "lib/stringinfo.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
#include "utils/rel.h"
#include "utils/typcache.h"

#include "kinesis.h"

PG_FUNCTION_INFO_V1(kinesis_put_record);
PG_FUNCTION_INFO_V1(kinesis_put_records);

#define MAX_RECORD_BYTES	(1024 * 1024)
#define MAX_PUT_RECORDS_BYTES	(5 * 1024 * 1024)
#define MAX_PUT_RECORDS		500

/* One record on its way in. */
typedef struct PendingRecord
{
	const char *partition_key;
	text	   *partition_key_text;	/* the same, as stored */
	const char *explicit_hash_key;
	bytea	   *data;
	KinesisShard *shard;
	int64		min_counter;	/* SequenceNumberForOrdering + 1, or 0 */
	int64		counter;
	TimestampTz arrival;
	bool		throttled;		/* refused by the throughput limits */
} PendingRecord;

/*
 * kinesis_stream_not_found
 *		AWS's text for a stream that does not exist (or is not writable).
 */
const char *
kinesis_stream_not_found(const char *name)
{
	return psprintf("Stream %s under account %s not found.", name, kinesis_account_id);
}

/*
 * open_stream_for_write
 *		Check that the caller may perform action (PutRecord or PutRecords)
 *		on the stream (authz.c), look it up, lock it in share mode and
 *		return the map as of
 *		the moment the lock is held.  Puts are accepted while the stream is
 *		ACTIVE or UPDATING, as AWS accepts them.
 */
static KinesisStream *
open_stream_for_write(const char *name, const char *action)
{
	KinesisStream *stream;

	kinesis_authorize(action, name);

	for (;;)
	{
		uint64		gen;

		stream = kinesis_lookup_stream(name);
		if (stream == NULL)
			break;
		gen = kinesis_shardmap_generation;
		kinesis_lock_stream(stream->stream_id, false);
		if (gen == kinesis_shardmap_generation)
			break;
		/* the map changed while we waited for the lock: read it again */
	}
	if (stream == NULL ||
		(strcmp(stream->status, "ACTIVE") != 0 && strcmp(stream->status, "UPDATING") != 0))
		kinesis_raise(KX_RESOURCE_NOT_FOUND, "%s", kinesis_stream_not_found(name));
	return stream;
}

/*
 * route_record
 *		The shard a record goes to: its ExplicitHashKey if given, else the
 *		MD5 of its partition key.
 */
static KinesisShard *
route_record(KinesisStream *stream, const char *partition_key, const char *explicit_hash_key)
{
	kinesis_u128 hash;

	if (explicit_hash_key != NULL)
	{
		if (!kinesis_parse_u128(explicit_hash_key, &hash))
			kinesis_raise(KX_INVALID_ARGUMENT,
						  "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was %s",
						  explicit_hash_key);
	}
	else
		hash = kinesis_partition_key_hash(partition_key, strlen(partition_key));
	return kinesis_route(stream, hash);
}

/*
 * check_explicit_hash_key
 *		Reject an ExplicitHashKey outside [0, 2^128-1] before anything is
 *		written (the pattern check already passed).
 */
static void
check_explicit_hash_key(const char *explicit_hash_key)
{
	kinesis_u128 hash;

	if (explicit_hash_key != NULL && !kinesis_parse_u128(explicit_hash_key, &hash))
		kinesis_raise(KX_INVALID_ARGUMENT,
					  "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was %s",
					  explicit_hash_key);
}

/*
 * BucketTarget: the bucket table insert_records currently writes to.
 */
typedef struct BucketTarget
{
	int32		bucket;			/* -1 when nothing is open */
	Relation	rel;
	CatalogIndexState indstate;
} BucketTarget;

/*
 * open_bucket
 *		Make t the table of the given bucket.  Only a transaction that has
 *		stayed open for about a retention period could be handed a bucket
 *		that trimming has dropped since (its map would be that old); it gets
 *		an error rather than a record in the wrong place.
 */
static void
open_bucket(BucketTarget *t, KinesisStream *stream, int32 bucket)
{
	Oid			relid;
	Relation	rel = NULL;

	if (t->bucket == bucket)
		return;
	if (t->bucket >= 0)
	{
		CatalogCloseIndexes(t->indstate);
		table_close(t->rel, NoLock);
		t->bucket = -1;
	}
	relid = bucket >= 0 ? kinesis_bucket_relid(stream, bucket) : InvalidOid;
	if (OidIsValid(relid))
		rel = try_table_open(relid, RowExclusiveLock);
	if (rel == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("bucket %d of stream \"%s\" does not exist", bucket, stream->name),
				 errhint("Retry the put; the stream's storage changed while it ran.")));
	t->rel = rel;
	t->indstate = CatalogOpenIndexes(rel);
	t->bucket = bucket;
}

/*
 * insert_records
 *		Allocate counters and insert the rows into their buckets.  Counters
 *		are taken in array order, so records of one call to one shard keep
 *		their order.  A record the throughput limits refuse is marked and
 *		skipped; the others are stored, still in order.  On an encrypted
 *		stream the data is stored encrypted (kms.c) and the row names its
 *		key.  The row is inserted with simple_heap_insert plus index
 *		maintenance (the CatalogTupleInsertWithInfo helpers work on any table
 *		without expression or partial indexes, which bucket tables have
 *		not).  A multi-insert was measured and was no faster for 500
 *		records.
 */
static void
insert_records(KinesisStream *stream, PendingRecord *recs, int n)
{
	BucketTarget target = {-1, NULL, NULL};
	KinesisKmsKey *key = NULL;
	bytea	  **sealed = NULL;
	int			i;

	/*
	 * An encrypted stream whose key is disabled or gone takes nothing; its
	 * records are encrypted together, and sealed one by one with their
	 * positions below.
	 */
	if (stream->kms)
	{
		bytea	  **plain = palloc(sizeof(bytea *) * n);

		key = kinesis_kms_key(stream->kms_key_ref, stream->name);
		for (i = 0; i < n; i++)
			plain[i] = recs[i].data;
		sealed = kinesis_kms_encrypt_batch(key, plain, n);
		pfree(plain);
	}
	kinesis_inflight_init_backend();
	for (i = 0; i < n; i++)
	{
		PendingRecord *r = &recs[i];
		Datum		values[7];
		bool		nulls[7] = {false, false, false, false, false, false, false};
		HeapTuple	tup;
		int32		bucket;

		r->counter = kinesis_allocate_seq(stream, r->shard, r->min_counter, &r->arrival, &bucket,
										  VARSIZE_ANY_EXHDR(r->data) +
										  VARSIZE_ANY_EXHDR(r->partition_key_text),
										  &r->throttled);
		if (r->throttled)
			continue;			/* stored nothing; the caller reports it */
		open_bucket(&target, stream, bucket);
		values[0] = Int32GetDatum(stream->stream_id);
		values[1] = Int32GetDatum(r->shard->shard_index);
		values[2] = Int64GetDatum(r->counter);
		values[3] = TimestampTzGetDatum(r->arrival);
		values[4] = PointerGetDatum(r->partition_key_text);
		if (key != NULL)
		{
			kinesis_kms_seal(key, stream->stream_id, r->shard->shard_index, r->counter, sealed[i]);
			values[5] = PointerGetDatum(sealed[i]);
			values[6] = Int32GetDatum(key->key_ref);
		}
		else
		{
			values[5] = PointerGetDatum(r->data);
			nulls[6] = true;
		}
		tup = heap_form_tuple(RelationGetDescr(target.rel), values, nulls);
		CatalogTupleInsertWithInfo(target.rel, tup, target.indstate);
		heap_freetuple(tup);
		if (key != NULL)
			pfree(sealed[i]);
	}
	if (target.bucket >= 0)
	{
		CatalogCloseIndexes(target.indstate);
		table_close(target.rel, NoLock);
	}
}

/*
 * record_seqnum
 *		The sequence number string of a record just put.
 */
static char *
record_seqnum(PendingRecord *r)
{
	return kinesis_format_seqnum(r->shard->create_epoch, r->shard->shard_index,
								 r->counter, r->arrival / USECS_PER_SEC +
								 (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY);
}

/*
 * kinesis.put_record(stream_name, data, partition_key, explicit_hash_key,
 *					  sequence_number_for_ordering)
 *		OUT shard_id, sequence_number, encryption_type.
 *
 * SequenceNumberForOrdering must be a sequence number of this stream.  If
 * it belongs to the shard the record lands in, the new record's number is
 * made larger than it (ours always are, unless the caller passes a number
 * the shard has not issued yet, in which case the counter jumps past it).
 */
Datum
kinesis_put_record(PG_FUNCTION_ARGS)
{
	char	   *stream_name = kinesis_text_arg(fcinfo, 0);
	bytea	   *data = PG_ARGISNULL(1) ? NULL : PG_GETARG_BYTEA_PP(1);
	char	   *partition_key = kinesis_text_arg(fcinfo, 2);
	char	   *explicit_hash_key = kinesis_text_arg(fcinfo, 3);
	char	   *ordering = kinesis_text_arg(fcinfo, 4);
	KinesisValidation v = {0};
	KinesisStream *stream;
	PendingRecord rec;
	TupleDesc	tupdesc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};
	int64		min_counter = 0;

	kinesis_validate_string(&v, ordering, "sequenceNumberForOrdering", false,
							KINESIS_SEQNUM_PATTERN, -1, -1);
	kinesis_validate_string(&v, partition_key, "partitionKey", true, NULL, 1, 256);
	kinesis_validate_string(&v, explicit_hash_key, "explicitHashKey", false,
							KINESIS_HASH_KEY_PATTERN, -1, -1);
	kinesis_validate_blob(&v, data, "data", MAX_RECORD_BYTES);
	kinesis_validate_string(&v, stream_name, "streamName", true,
							KINESIS_NAME_PATTERN, 1, 128);
	kinesis_validation_done(&v);

	if (VARSIZE_ANY_EXHDR(data) + strlen(partition_key) > MAX_RECORD_BYTES)
		kinesis_raise(KX_INVALID_ARGUMENT,
					  "Record size exceeds 1 MB limit: the data blob plus the partition key is %d bytes.",
					  (int) (VARSIZE_ANY_EXHDR(data) + strlen(partition_key)));
	check_explicit_hash_key(explicit_hash_key);

	stream = open_stream_for_write(stream_name, "PutRecord");

	memset(&rec, 0, sizeof(rec));
	rec.partition_key = partition_key;
	rec.partition_key_text = PG_GETARG_TEXT_PP(2);
	rec.explicit_hash_key = explicit_hash_key;
	rec.data = data;
	rec.shard = route_record(stream, partition_key, explicit_hash_key);

	if (ordering != NULL)
	{
		KinesisSeqParts parts;
		KinesisShard *sh = NULL;

		if (kinesis_parse_seqnum(ordering, &parts))
			sh = kinesis_find_shard(stream, parts.shard_index);
		if (sh == NULL || sh->create_epoch != parts.shard_epoch)
			kinesis_raise(KX_INVALID_ARGUMENT,
						  "ExclusiveMinimumSequenceNumber %s used in PutRecord on stream %s under account %s is invalid.",
						  ordering, stream_name, kinesis_account_id);
		if (sh == rec.shard)
			min_counter = parts.counter + 1;
	}

	rec.min_counter = min_counter;
	insert_records(stream, &rec, 1);
	if (rec.throttled)
		kinesis_throughput_exceeded(stream, rec.shard);

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	values[0] = CStringGetTextDatum(kinesis_shard_id(rec.shard->shard_index));
	values[1] = CStringGetTextDatum(record_seqnum(&rec));
	values[2] = CStringGetTextDatum(stream->kms ? "KMS" : "NONE");
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}

/*
 * entry_is_valid
 *		The cheap test that a PutRecords entry passes every schema check, so
 *		that the validation messages need only be built for one that fails.
 */
static bool
entry_is_valid(PendingRecord *r)
{
	int			len;

	if (r->partition_key == NULL || r->data == NULL ||
		VARSIZE_ANY_EXHDR(r->data) > MAX_RECORD_BYTES)
		return false;
	len = pg_mbstrlen(r->partition_key);
	if (len < 1 || len > 256)
		return false;
	return r->explicit_hash_key == NULL || kinesis_match_decimal(r->explicit_hash_key, 38);
}

/*
 * java_list_text
 *		A list of entries as AWS prints it in a ValidationException: Java's
 *		default toString of each element, class name and a hash code (here
 *		a hash of the entry's bytes).
 */
static char *
java_list_text(Datum *elems, bool *nulls, int n)
{
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '[');
	for (i = 0; i < n; i++)
	{
		if (i > 0)
			appendStringInfoString(&buf, ", ");
		if (nulls[i])
			appendStringInfoString(&buf, "null");
		else
		{
			HeapTupleHeader h = DatumGetHeapTupleHeader(elems[i]);

			appendStringInfo(&buf, "com.amazonaws.kinesis.v20131202.PutRecordsRequestEntry@%08x",
							 DatumGetUInt32(hash_any((unsigned char *) h,
													 HeapTupleHeaderGetDatumLength(h))));
		}
	}
	appendStringInfoChar(&buf, ']');
	return buf.data;
}

/*
 * kinesis.put_records(records put_records_request_entry[], stream_name)
 *		OUT failed_record_count, records put_records_result_entry[],
 *		encryption_type.
 *
 * Validation covers the whole request before anything is written.  Each
 * entry then succeeds, carrying its shard and number, unless throughput
 * limits are enforced and its shard is over them: that entry carries
 * error_code and error_message instead and counts in failed_record_count,
 * and the others are stored all the same.
 */
Datum
kinesis_put_records(PG_FUNCTION_ARGS)
{
	ArrayType  *arr = PG_ARGISNULL(0) ? NULL : PG_GETARG_ARRAYTYPE_P(0);
	char	   *stream_name = kinesis_text_arg(fcinfo, 1);
	KinesisValidation v = {0};
	KinesisStream *stream;
	PendingRecord *recs = NULL;
	int			n = 0;
	int			i;
	int64		total = 0;
	TupleDesc	tupdesc;
	TupleDesc	entrydesc = NULL;
	Oid			result_elem;
	TupleDesc	resultdesc;
	Datum	   *elems = NULL;
	bool	   *elemnulls = NULL;
	Datum	   *results;
	KinesisSeqFormatter *fmts;
	Datum	   *shard_ids;
	int			failed = 0;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};
	int16		typlen;
	bool		typbyval;
	char		typalign;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	if (arr == NULL)
		kinesis_validation_add(&v, NULL, "records", "Member must not be null");
	else
	{
		Oid			elemtype = ARR_ELEMTYPE(arr);

		if (ARR_NDIM(arr) > 1)
			ereport(ERROR,
					(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
					 errmsg("records must be a one-dimensional array")));
		get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
		deconstruct_array(arr, elemtype, typlen, typbyval, typalign,
						  &elems, &elemnulls, &n);
		entrydesc = lookup_rowtype_tupdesc_copy(elemtype, -1);
		if (n < 1)
			kinesis_validation_add(&v, "[]", "records",
								   "Member must have length greater than or equal to 1");
		else if (n > MAX_PUT_RECORDS)
		{
			kinesis_validation_add(&v, java_list_text(elems, elemnulls, n), "records",
								   psprintf("Member must have length less than or equal to %d",
											MAX_PUT_RECORDS));
			n = 0;				/* AWS does not look inside an oversized list */
		}
		recs = palloc0(sizeof(PendingRecord) * Max(n, 1));
		for (i = 0; i < n; i++)
		{
			PendingRecord *r = &recs[i];
			char		field[64];
			HeapTupleData tuple;
			Datum		attrs[3];
			bool		attrnulls[3];

			if (elemnulls[i])
			{
				snprintf(field, sizeof(field), "records.%d.member", i + 1);
				kinesis_validation_add(&v, NULL, field, "Member must not be null");
				continue;
			}
			tuple.t_len = HeapTupleHeaderGetDatumLength(DatumGetHeapTupleHeader(elems[i]));
			tuple.t_data = DatumGetHeapTupleHeader(elems[i]);
			ItemPointerSetInvalid(&tuple.t_self);
			tuple.t_tableOid = InvalidOid;
			heap_deform_tuple(&tuple, entrydesc, attrs, attrnulls);
			/* kinesis.put_records_request_entry: data, explicit_hash_key, partition_key */
			r->data = attrnulls[0] ? NULL : DatumGetByteaPP(attrs[0]);
			r->explicit_hash_key = attrnulls[1] ? NULL : TextDatumGetCString(attrs[1]);
			r->partition_key = attrnulls[2] ? NULL : TextDatumGetCString(attrs[2]);
			r->partition_key_text = attrnulls[2] ? NULL : DatumGetTextPP(attrs[2]);

			/* field names are formatted only for an entry that has a problem */
			if (!entry_is_valid(r))
			{
				snprintf(field, sizeof(field), "records.%d.member.partitionKey", i + 1);
				kinesis_validate_string(&v, r->partition_key, field, true, NULL, 1, 256);
				snprintf(field, sizeof(field), "records.%d.member.data", i + 1);
				kinesis_validate_blob(&v, r->data, field, MAX_RECORD_BYTES);
				snprintf(field, sizeof(field), "records.%d.member.explicitHashKey", i + 1);
				kinesis_validate_string(&v, r->explicit_hash_key, field, false,
										KINESIS_HASH_KEY_PATTERN, -1, -1);
			}
			if (r->data != NULL && r->partition_key != NULL)
				total += VARSIZE_ANY_EXHDR(r->data) + strlen(r->partition_key);
		}
	}
	kinesis_validate_string(&v, stream_name, "streamName", true,
							KINESIS_NAME_PATTERN, 1, 128);
	kinesis_validation_done(&v);

	if (total > MAX_PUT_RECORDS_BYTES)
		kinesis_raise(KX_INVALID_ARGUMENT, "Records size exceeds 5 MB limit");
	for (i = 0; i < n; i++)
	{
		if (VARSIZE_ANY_EXHDR(recs[i].data) + strlen(recs[i].partition_key) > MAX_RECORD_BYTES)
			kinesis_raise(KX_INVALID_ARGUMENT,
						  "Record size exceeds 1 MB limit: the data blob plus the partition key of record %d is %d bytes.",
						  i + 1, (int) (VARSIZE_ANY_EXHDR(recs[i].data) + strlen(recs[i].partition_key)));
		check_explicit_hash_key(recs[i].explicit_hash_key);
	}

	stream = open_stream_for_write(stream_name, "PutRecords");
	for (i = 0; i < n; i++)
		recs[i].shard = route_record(stream, recs[i].partition_key, recs[i].explicit_hash_key);
	insert_records(stream, recs, n);

	/*
	 * Build the result array.  The numbers of one shard's records in a call
	 * are mostly consecutive, so each shard keeps an incremental formatter;
	 * its shard id text is made once.
	 */
	result_elem = get_element_type(TupleDescAttr(tupdesc, 1)->atttypid);
	resultdesc = BlessTupleDesc(lookup_rowtype_tupdesc_copy(result_elem, -1));
	results = palloc(sizeof(Datum) * Max(n, 1));
	fmts = palloc0(sizeof(KinesisSeqFormatter) * stream->nshards);
	shard_ids = palloc0(sizeof(Datum) * stream->nshards);
	for (i = 0; i < n; i++)
	{
		PendingRecord *r = &recs[i];
		int			slot = r->shard - stream->shards;
		Datum		rv[4];
		bool		rn[4] = {false, false, true, true};

		if (r->throttled)
		{
			/* no number and no shard, the error instead, as AWS reports it */
			rv[0] = rv[1] = (Datum) 0;
			rn[0] = rn[1] = true;
			rv[2] = CStringGetTextDatum("ProvisionedThroughputExceededException");
			rv[3] = CStringGetTextDatum(kinesis_throughput_message(stream, r->shard));
			rn[2] = rn[3] = false;
			failed++;
			results[i] = HeapTupleGetDatum(heap_form_tuple(resultdesc, rv, rn));
			continue;
		}
		if (shard_ids[slot] == (Datum) 0)
			shard_ids[slot] = CStringGetTextDatum(kinesis_shard_id(r->shard->shard_index));
		/* sequence_number, shard_id, error_code, error_message */
		rv[0] = CStringGetTextDatum(kinesis_seqfmt_next(&fmts[slot], r->shard->create_epoch,
														r->shard->shard_index, r->counter,
														r->arrival / USECS_PER_SEC +
														(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY));
		rv[1] = shard_ids[slot];
		rv[2] = rv[3] = (Datum) 0;
		results[i] = HeapTupleGetDatum(heap_form_tuple(resultdesc, rv, rn));
	}
	get_typlenbyvalalign(result_elem, &typlen, &typbyval, &typalign);
	values[0] = Int32GetDatum(failed);
	values[1] = PointerGetDatum(construct_array(results, n, result_elem, typlen, typbyval, typalign));
	values[2] = CStringGetTextDatum(stream->kms ? "KMS" : "NONE");
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}
