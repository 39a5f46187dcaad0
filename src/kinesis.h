/*-------------------------------------------------------------------------
 *
 * kinesis.h
 *		Declarations shared by the files of the kinesis extension.
 *
 * The extension keeps Kinesis streams in catalog tables (kinesis.stream_meta,
 * kinesis.shard_meta, kinesis.buckets) and their records in per-stream time
 * buckets inheriting from kinesis.records.  The C code owns the data plane:
 * routing (hashkey.c), sequence numbers (seqnum.c), the per-backend shard
 * map (shardmap.c), the shared in-flight table that makes readers gap-free
 * (inflight.c), iterators (iterator.c), put (put.c) and get (get.c); and
 * the background workers that carry out transitions and trimming
 * (worker.c).  errors.c maps Kinesis exceptions to SQLSTATEs.
 *
 *-------------------------------------------------------------------------
 */
#ifndef KINESIS_H
#define KINESIS_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "fmgr.h"
#include "utils/relcache.h"

/* ------------------------------------------------------------------------
 * errors.c: one SQLSTATE per Kinesis exception
 * ------------------------------------------------------------------------
 */
typedef enum KinesisException
{
	KX_VALIDATION = 0,
	KX_INVALID_ARGUMENT,
	KX_RESOURCE_NOT_FOUND,
	KX_RESOURCE_IN_USE,
	KX_LIMIT_EXCEEDED,
	KX_EXPIRED_ITERATOR,
	KX_EXPIRED_NEXT_TOKEN,
	KX_PROVISIONED_THROUGHPUT_EXCEEDED,
	KX_INTERNAL_FAILURE,
	KX_ACCESS_DENIED,
	KX_SERIALIZATION,
	KX_UNKNOWN_OPERATION,
	KX_KMS_DISABLED,
	KX_KMS_INVALID_STATE,
	KX_KMS_ACCESS_DENIED,
	KX_KMS_NOT_FOUND,
	KX_KMS_OPT_IN_REQUIRED,
	KX_KMS_THROTTLING,
	KX_NUM_EXCEPTIONS
} KinesisException;

extern const char *kinesis_exception_name(KinesisException ex);
extern int	kinesis_exception_sqlstate(KinesisException ex);
extern void kinesis_raise(KinesisException ex, const char *fmt,...)
			pg_attribute_printf(2, 3) pg_attribute_noreturn();
extern void kinesis_raise_validation(int nerrors, char **errors)
			pg_attribute_noreturn();
extern char *kinesis_validation_text(const char *value, const char *field,
									 const char *constraint);

/* collects schema problems for one ValidationException */
typedef struct KinesisValidation
{
	int			n;
	char	   *errors[10];
} KinesisValidation;

#define KINESIS_NAME_PATTERN		"[a-zA-Z0-9_.-]+"
#define KINESIS_HASH_KEY_PATTERN	"0|([1-9]\\d{0,38})"
#define KINESIS_SEQNUM_PATTERN		"0|([1-9]\\d{0,128})"

extern void kinesis_validation_add(KinesisValidation *v, const char *value,
								   const char *field, const char *constraint);
extern void kinesis_validation_done(KinesisValidation *v);
extern bool kinesis_match_name(const char *s);
extern bool kinesis_match_decimal(const char *s, int maxtail);
extern void kinesis_validate_string(KinesisValidation *v, const char *value,
									const char *field, bool notnull,
									const char *pattern, int minlen, int maxlen);
extern void kinesis_validate_blob(KinesisValidation *v, bytea *value,
								  const char *field, int maxlen);
extern void kinesis_validate_int(KinesisValidation *v, bool isnull, int64 value,
								 const char *field, bool notnull, int64 min, int64 max);
extern char *kinesis_text_arg(FunctionCallInfo fcinfo, int argno);

/* ------------------------------------------------------------------------
 * kinesis.c: GUCs and module set-up
 * ------------------------------------------------------------------------
 */
extern char *kinesis_region;
extern char *kinesis_account_id;
extern int	kinesis_shard_limit;
extern int	kinesis_max_tracked_shards;
extern bool kinesis_preloaded;
extern int	kinesis_test_clock_offset;

extern void kinesis_require_preload(void);
extern TimestampTz kinesis_now(void);

/* ------------------------------------------------------------------------
 * memory.c: what a reading backend keeps mapped between reads
 * ------------------------------------------------------------------------
 */
extern int	kinesis_reader_memory_keep;

extern void kinesis_reader_memory_prepare(void);

/* ------------------------------------------------------------------------
 * hashkey.c: 128-bit hash keys
 * ------------------------------------------------------------------------
 */
/*
 * PostgreSQL's uint128, which c.h declares with MAXALIGN alignment: palloc
 * guarantees no more, and a 16-byte-aligned type in a palloc'd struct
 * (KinesisShard) would be misaligned, which is undefined behaviour.
 */
#ifndef HAVE_INT128
#error "kinesis needs a compiler with a 128-bit integer type"
#endif
typedef uint128 kinesis_u128;

extern kinesis_u128 kinesis_partition_key_hash(const char *key, int len);
extern bool kinesis_parse_u128(const char *s, kinesis_u128 *out);
extern char *kinesis_format_u128(kinesis_u128 v);

/* ------------------------------------------------------------------------
 * seqnum.c: 56-digit sequence numbers
 * ------------------------------------------------------------------------
 */
#define KINESIS_MAX_COUNTER INT64CONST(0x7fffffffffffffff)

typedef struct KinesisSeqParts
{
	int64		shard_epoch;	/* shard creation time, seconds */
	int32		shard_index;
	int64		counter;		/* per-shard record counter */
	int64		seq_epoch;		/* put time, seconds */
} KinesisSeqParts;

extern char *kinesis_format_seqnum(int64 shard_epoch, int32 shard_index,
								   int64 counter, int64 seq_epoch);
extern char *kinesis_format_seqnum_buf(char *out, int64 shard_epoch,
									   int32 shard_index, int64 counter,
									   int64 seq_epoch);
/* incremental formatting of consecutive counters (see seqnum.c) */
typedef struct KinesisSeqFormatter
{
	bool		valid;
	int64		shard_epoch;
	int32		shard_index;
	int64		counter;
	int64		seq_epoch;
	int			start;			/* first digit in buf */
	char		buf[64];		/* digits end at buf[62], buf[63] = 0 */
} KinesisSeqFormatter;

extern char *kinesis_seqfmt_next(KinesisSeqFormatter *f, int64 shard_epoch,
								 int32 shard_index, int64 counter,
								 int64 seq_epoch);
extern bool kinesis_parse_seqnum(const char *s, KinesisSeqParts *parts);

/* ------------------------------------------------------------------------
 * shardmap.c: per-backend cache of stream and shard metadata
 * ------------------------------------------------------------------------
 */
typedef struct KinesisShard
{
	int32		shard_index;
	bool		open;
	kinesis_u128 start_hash;
	kinesis_u128 end_hash;
	int64		create_epoch;	/* seconds; embedded in sequence numbers */
	int64		ending_counter; /* valid when !open */
	int64		seq_floor;		/* counters <= this were used before */
	int32		parent_index;	/* -1 when none */
	int32		adjacent_parent_index;	/* -1 when none */
} KinesisShard;

/* one time bucket of a stream: table kinesis.records_<stream_id>_<bucket> */
typedef struct KinesisBucket
{
	int32		bucket;
	Oid			relid;
} KinesisBucket;

typedef struct KinesisStream
{
	char		name[129];
	int32		stream_id;
	char		status[16];
	int32		retention_hours;
	TimestampTz expired_before; /* never return records older (a retention
								 * increase does not revive them) */
	bool		kms;			/* encryption_type = 'KMS' */
	int32		kms_key_ref;	/* its key in kinesis.kms_key_store, or 0 */
	int			nshards;
	KinesisShard *shards;		/* sorted by shard_index */
	int			nopen;
	KinesisShard **open_by_hash;	/* open shards sorted by start_hash */
	int			nbuckets;
	KinesisBucket *buckets;		/* sorted by bucket number */
} KinesisStream;

extern uint64 kinesis_shardmap_generation;
extern KinesisStream *kinesis_lookup_stream(const char *name);
extern KinesisStream *kinesis_lookup_stream_by_id(int32 stream_id);
extern KinesisShard *kinesis_find_shard(KinesisStream *stream, int32 shard_index);
extern KinesisShard *kinesis_route(KinesisStream *stream, kinesis_u128 hash);
extern void kinesis_lock_stream(int32 stream_id, bool exclusive);
extern Oid	kinesis_relid(const char *relname);
extern Oid	kinesis_bucket_relid(KinesisStream *stream, int32 bucket);
extern Oid	kinesis_bucket_table(int32 stream_id, int32 bucket);
extern int32 kinesis_newest_bucket(KinesisStream *stream);
extern char *kinesis_shard_id(int32 shard_index);
extern bool kinesis_parse_shard_id(const char *s, int32 *shard_index);

/* ------------------------------------------------------------------------
 * inflight.c: shared counters and in-flight watermarks
 * ------------------------------------------------------------------------
 */
extern void kinesis_inflight_shmem_request(void);
extern void kinesis_inflight_shmem_startup(void);
extern void kinesis_inflight_init_backend(void);
extern int64 kinesis_allocate_seq(KinesisStream *stream, KinesisShard *shard,
								   int64 min_counter, TimestampTz *arrival,
								   int32 *bucket, int64 bytes, bool *throttled);
extern int64 kinesis_last_counter(KinesisStream *stream, KinesisShard *shard);
extern int64 kinesis_watermark(KinesisStream *stream, KinesisShard *shard);

/* ------------------------------------------------------------------------
 * throttle.c: per-shard throughput limits (token buckets)
 * ------------------------------------------------------------------------
 */
#define KINESIS_WRITE_RECORDS_PER_SEC	1000.0
#define KINESIS_WRITE_BYTES_PER_SEC		(1024.0 * 1024.0)
#define KINESIS_READ_CALLS_PER_SEC		5.0
#define KINESIS_READ_BYTES_PER_SEC		(2.0 * 1024.0 * 1024.0)

typedef struct KinesisTokenBucket
{
	double		tokens;
	TimestampTz updated;		/* 0: never used, full */
} KinesisTokenBucket;

extern bool kinesis_enforce_throughput;
extern bool kinesis_bucket_has(KinesisTokenBucket *b, double amount, double rate, TimestampTz now);
extern void kinesis_bucket_take(KinesisTokenBucket *b, double amount, double rate, TimestampTz now);
extern void kinesis_throughput_exceeded(KinesisStream *stream, KinesisShard *shard)
			pg_attribute_noreturn();
extern char *kinesis_throughput_message(KinesisStream *stream, KinesisShard *shard);
extern void kinesis_throttle_read_begin(KinesisStream *stream, KinesisShard *shard);
extern void kinesis_throttle_read_end(KinesisStream *stream, KinesisShard *shard, int64 records,
									  int64 bytes, int64 millis_behind);

/* ------------------------------------------------------------------------
 * iterator.c: opaque, authenticated shard iterators
 * ------------------------------------------------------------------------
 */
typedef struct KinesisIterator
{
	int32		stream_id;
	int32		shard_index;
	int64		position;		/* first counter to read */
	TimestampTz min_arrival;	/* AT_TIMESTAMP filter, 0 when none */
	TimestampTz created;		/* when the iterator was issued */
	int32		bucket_hint;	/* no record at or after position lies in
								 * an older bucket; -1 when unknown */
	char		stream_name[129];	/* for error messages */
} KinesisIterator;

extern char *kinesis_iterator_encode(const KinesisIterator *it);
extern void kinesis_iterator_decode(const char *token, KinesisIterator *it);
extern KinesisShard *kinesis_open_iterator(const char *token, KinesisIterator *it,
										   KinesisStream **stream);

/* ------------------------------------------------------------------------
 * kms.c: the local key store and record encryption at rest
 * ------------------------------------------------------------------------
 */
/* hmac.c: HMAC-SHA256 from prepared key states */
typedef struct KinesisSha256
{
	uint64		space[16];		/* an OpenSSL SHA256_CTX (112 bytes) */
} KinesisSha256;

typedef struct KinesisHmacKey
{
	KinesisSha256 inner;		/* after the key XOR ipad block */
	KinesisSha256 outer;		/* after the key XOR opad block */
} KinesisHmacKey;

extern void kinesis_hmac_prepare(KinesisHmacKey *hk, const uint8 *key, size_t keylen);
extern void kinesis_hmac_sha256(const KinesisHmacKey *hk, const uint8 *a, size_t alen,
								const uint8 *b, size_t blen, uint8 *mac);

typedef struct KinesisKmsKey
{
	int32		key_ref;
	bool		enabled;
	char		key_id[37];		/* the key's GUID */
	uint8		enc_key[32];	/* AES-256 */
	KinesisHmacKey mac_key;		/* HMAC-SHA256, prepared */
	bytea	   *enc_key_bytea;	/* enc_key as pgcrypto takes it */
} KinesisKmsKey;

extern KinesisKmsKey *kinesis_kms_key(int32 key_ref, const char *stream_name);
extern bytea **kinesis_kms_encrypt_batch(KinesisKmsKey *key, bytea **plain, int n);
extern void kinesis_kms_seal(KinesisKmsKey *key, int32 stream_id, int32 shard_index, int64 counter,
							 bytea *stored);
extern bytea **kinesis_kms_decrypt_batch(KinesisKmsKey *key, int n, int32 stream_id,
										 int32 shard_index,
										 const int64 *counters, bytea **stored);
extern int64 kinesis_kms_plaintext_bound(bytea *stored);

/* ------------------------------------------------------------------------
 * authz.c: per-stream privileges
 * ------------------------------------------------------------------------
 */
typedef struct KinesisSavedUser
{
	Oid			userid;
	int			sec_context;
	int			guc_nestlevel;
} KinesisSavedUser;

extern bool kinesis_allowed(Oid roleid, const char *action, const char *stream_name);
extern void kinesis_authorize(const char *action, const char *stream_name);
extern void kinesis_owner_begin(KinesisSavedUser *saved);
extern void kinesis_owner_end(KinesisSavedUser *saved);

/* ------------------------------------------------------------------------
 * worker.c: the maintenance launcher and per-database workers
 * ------------------------------------------------------------------------
 */
extern bool kinesis_worker_enabled;
extern int	kinesis_worker_naptime;
extern void kinesis_worker_register(void);
extern void kinesis_worker_shmem_request(void);
extern void kinesis_worker_shmem_startup(void);
extern void kinesis_worker_stop_for_drop(Oid dboid);
extern void kinesis_worker_after_drop(Oid dboid, bool dropped);

/* ------------------------------------------------------------------------
 * utility.c: DROP DATABASE and DROP EXTENSION
 * ------------------------------------------------------------------------
 */
extern void kinesis_utility_register(void);

/* ------------------------------------------------------------------------
 * put.c
 * ------------------------------------------------------------------------
 */
extern const char *kinesis_stream_not_found(const char *name);

#endif							/* KINESIS_H */
