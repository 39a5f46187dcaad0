/*-------------------------------------------------------------------------
 *
 * kms.c
 *		The local key store (the extension's stand-in for AWS KMS) as each
 *		backend sees it, and the encryption of records at rest.
 *
 * Keys live in kinesis.kms_key_store, which only superusers can read.  The
 * data plane reads the table directly with heap calls, not through SQL,
 * so producers and consumers need no privilege on it (as iterator.c does
 * with kinesis.secrets); each backend keeps every key in a small cache,
 * dropped when a statement trigger on the table sends a relcache
 * invalidation (enabling or disabling a key, adding one).
 *
 * A record put while its stream is encrypted is stored as
 *
 *		0x01 | IV (16 bytes) | AES-256-CBC(data, PKCS padding) | tag (16 bytes)
 *
 * with an unpredictable IV per record (see kinesis_kms_encrypt_batch).
 * The cipher is pgcrypto's (its
 * encrypt_iv/decrypt_iv, called in C through the loaded library, so that no
 * SQL name lookup is involved and a user's search_path cannot interpose);
 * the tag is HMAC-SHA256 (hmac.c) under a second key of the same key
 * material, over the record's stream, shard and counter and the IV and
 * ciphertext, so that a stored ciphertext cannot be altered or moved to
 * another position or stream without the reader noticing.  The row's key_ref names the key; a NULL
 * key_ref means plaintext, so a stream can switch back and forth and every
 * record keeps the form it was written in.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "port/pg_bswap.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/uuid.h"

#include "kinesis.h"

PG_FUNCTION_INFO_V1(kinesis_kms_new_material);
PG_FUNCTION_INFO_V1(kinesis_kms_decrypt_sql);
PG_FUNCTION_INFO_V1(kinesis_kms_invalidate);

#define KMS_FORMAT_V1		0x01
#define KMS_IV_LEN			16
#define KMS_TAG_LEN			16
#define KMS_BLOCK			16
#define KMS_MATERIAL_LEN	64
#define KMS_CIPHER			"aes-cbc/pad:none"	/* PKCS padding is ours */

/* an IV as pgcrypto takes it: a bytea of KMS_IV_LEN bytes */
typedef struct KmsIv
{
	int32		vl_len_;
	uint8		iv[KMS_IV_LEN];
} KmsIv;

/* the key store in this backend */
static MemoryContext kms_cxt = NULL;
static KinesisKmsKey *kms_keys = NULL;
static int	kms_nkeys = 0;
static bool kms_valid = false;
static bool kms_callback_registered = false;
static Oid	kms_relid = InvalidOid;

/* pgcrypto, loaded on first use */
static PGFunction pgcrypto_encrypt_iv = NULL;
static PGFunction pgcrypto_decrypt_iv = NULL;
static text *kms_cipher_name = NULL;	/* records are padded by us */

/*
 * kms_relcache_cb
 *		A change to kinesis.kms_key_store (or a cache reset, or the table
 *		going away with the extension) makes the cached keys stale.
 */
static void
kms_relcache_cb(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == kms_relid)
	{
		kms_valid = false;
		kms_relid = InvalidOid;
	}
}

/*
 * kms_load
 *		Read every key of the store with a fresh snapshot.  The store holds
 *		a handful of rows, so the whole table is read at once.
 */
static void
kms_load(void)
{
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;
	Snapshot	snap;
	int			cap = 8;

	if (!kms_callback_registered)
	{
		CacheRegisterRelcacheCallback(kms_relcache_cb, (Datum) 0);
		kms_callback_registered = true;
	}
	if (kms_cxt == NULL)
		kms_cxt = AllocSetContextCreate(TopMemoryContext, "kinesis key store",
										ALLOCSET_SMALL_SIZES);
	MemoryContextReset(kms_cxt);
	kms_keys = NULL;
	kms_nkeys = 0;

	kms_relid = kinesis_relid("kms_key_store");
	rel = table_open(kms_relid, AccessShareLock);
	snap = RegisterSnapshot(GetLatestSnapshot());
	scan = table_beginscan(rel, snap, 0, NULL);
	kms_keys = MemoryContextAllocZero(kms_cxt, sizeof(KinesisKmsKey) * cap);
	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		TupleDesc	desc = RelationGetDescr(rel);
		KinesisKmsKey *k;
		bool		isnull;
		bytea	   *material;
		char	   *uuid;

		if (kms_nkeys == cap)
		{
			cap *= 2;
			kms_keys = repalloc(kms_keys, sizeof(KinesisKmsKey) * cap);
		}
		k = &kms_keys[kms_nkeys];
		memset(k, 0, sizeof(*k));
		/* key_ref, key_id, description, enabled, aws_managed, created_at, material */
		k->key_ref = DatumGetInt32(heap_getattr(tup, 1, desc, &isnull));
		uuid = DatumGetCString(DirectFunctionCall1(uuid_out, heap_getattr(tup, 2, desc, &isnull)));
		strlcpy(k->key_id, uuid, sizeof(k->key_id));
		k->enabled = DatumGetBool(heap_getattr(tup, 4, desc, &isnull));
		material = DatumGetByteaPP(heap_getattr(tup, 7, desc, &isnull));
		if (isnull || VARSIZE_ANY_EXHDR(material) != KMS_MATERIAL_LEN)
			elog(ERROR, "kinesis.kms_key_store holds malformed key material for key %s", k->key_id);
		memcpy(k->enc_key, VARDATA_ANY(material), 32);
		kinesis_hmac_prepare(&k->mac_key, (const uint8 *) VARDATA_ANY(material) + 32, 32);
		k->enc_key_bytea = MemoryContextAlloc(kms_cxt, VARHDRSZ + 32);
		SET_VARSIZE(k->enc_key_bytea, VARHDRSZ + 32);
		memcpy(VARDATA(k->enc_key_bytea), k->enc_key, 32);
		kms_nkeys++;
	}
	table_endscan(scan);
	UnregisterSnapshot(snap);
	table_close(rel, AccessShareLock);
	kms_valid = true;
}

/*
 * MemoryContextStrdupText
 *		A text datum of s that lives as long as the backend.
 */
static text *
MemoryContextStrdupText(const char *s)
{
	text	   *t = (text *) MemoryContextAlloc(TopMemoryContext, VARHDRSZ + strlen(s));

	SET_VARSIZE(t, VARHDRSZ + strlen(s));
	memcpy(VARDATA(t), s, strlen(s));
	return t;
}

/*
 * kms_load_pgcrypto
 *		Find pgcrypto's encrypt_iv and decrypt_iv in its shared library.
 */
static void
kms_load_pgcrypto(void)
{
	if (pgcrypto_encrypt_iv != NULL)
		return;
	pgcrypto_decrypt_iv = load_external_function("$libdir/pgcrypto", "pg_decrypt_iv",
												 true, NULL);
	pgcrypto_encrypt_iv = load_external_function("$libdir/pgcrypto", "pg_encrypt_iv",
												 true, NULL);
	kms_cipher_name = MemoryContextStrdupText(KMS_CIPHER);
}

/*
 * kinesis_kms_key
 *		The key behind key_ref, ready to use: KMSNotFoundException if the
 *		store no longer has it, KMSDisabledException if it is disabled (as
 *		AWS refuses puts and reads of a stream whose key is disabled).  The
 *		pointer stays valid until the next call.
 */
KinesisKmsKey *
kinesis_kms_key(int32 key_ref, const char *stream_name)
{
	int			i;

	if (!kms_valid)
		kms_load();
	kms_load_pgcrypto();
	for (i = 0; i < kms_nkeys; i++)
	{
		KinesisKmsKey *k = &kms_keys[i];

		if (k->key_ref != key_ref)
			continue;
		if (!k->enabled)
			kinesis_raise(KX_KMS_DISABLED, "arn:aws:kms:%s:%s:key/%s is disabled.",
						  kinesis_region, kinesis_account_id, k->key_id);
		return k;
	}
	kinesis_raise(KX_KMS_NOT_FOUND,
				  "The key of stream %s under account %s (key %d of the key store) does not exist.",
				  stream_name, kinesis_account_id, key_ref);
}

/*
 * kms_tag
 *		The record's authentication tag: HMAC-SHA256 over the stream id, the
 *		shard index, the counter, the IV and the ciphertext, truncated to
 *		KMS_TAG_LEN.
 */
static void
kms_tag(KinesisKmsKey *key, int32 stream_id, int32 shard_index, int64 counter,
		const uint8 *iv_and_ct, size_t len, uint8 *tag)
{
	uint8		position[16];
	uint8		full[32];
	uint32		st = pg_hton32((uint32) stream_id);
	uint32		si = pg_hton32((uint32) shard_index);
	uint64		c = pg_hton64((uint64) counter);

	memcpy(position, &st, 4);
	memcpy(position + 4, &si, 4);
	memcpy(position + 8, &c, 8);
	kinesis_hmac_sha256(&key->mac_key, position, sizeof(position), iv_and_ct, len, full);
	memcpy(tag, full, KMS_TAG_LEN);
}

/*
 * kms_check
 *		Check a stored form's layout and tag; the length of its ciphertext.
 *		A ciphertext that fails its tag (altered, truncated, or moved to
 *		another shard or position) is reported as data corruption and is
 *		never decrypted.
 */
static size_t
kms_check(KinesisKmsKey *key, int32 stream_id, int32 shard_index, int64 counter, bytea *stored)
{
	const uint8 *p = (const uint8 *) VARDATA_ANY(stored);
	size_t		len = VARSIZE_ANY_EXHDR(stored);
	size_t		ctlen;
	uint8		tag[KMS_TAG_LEN];
	uint8		diff = 0;
	int			i;

	if (len < 1 + KMS_IV_LEN + KMS_BLOCK + KMS_TAG_LEN || p[0] != KMS_FORMAT_V1 ||
		(len - 1 - KMS_IV_LEN - KMS_TAG_LEN) % KMS_BLOCK != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("encrypted record %lld of shard %d is malformed",
						(long long) counter, shard_index)));
	ctlen = len - 1 - KMS_IV_LEN - KMS_TAG_LEN;
	kms_tag(key, stream_id, shard_index, counter, p + 1, KMS_IV_LEN + ctlen, tag);
	/* compare in constant time */
	for (i = 0; i < KMS_TAG_LEN; i++)
		diff |= tag[i] ^ p[1 + KMS_IV_LEN + ctlen + i];
	if (diff != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("encrypted record %lld of shard %d failed authentication",
						(long long) counter, shard_index),
				 errdetail("The stored ciphertext was altered or does not belong at this position.")));
	return ctlen;
}

/*
 * kinesis_kms_encrypt_batch
 *		The stored forms of n records' data, their tags still to be written
 *		by kinesis_kms_seal once the records have their counters.
 *
 * One pgcrypto call encrypts the whole batch: each record is padded (PKCS)
 * to whole blocks and the padded records are encrypted as one CBC chain
 * under a fresh random IV.  Record k's ciphertext is then exactly the CBC
 * encryption of record k alone under the IV that precedes it in the chain
 * (the random IV for the first, the previous record's last ciphertext
 * block for the others), and that IV is stored with it, so every record
 * decrypts on its own.  The chaining IVs are unpredictable before the
 * batch is encrypted, and every plaintext of the batch is fixed by then,
 * which is what CBC asks of an IV.  Cipher set-up, which dominates the
 * cost of a small record, is paid once per batch instead of per record.
 */
bytea **
kinesis_kms_encrypt_batch(KinesisKmsKey *key, bytea **plain, int n)
{
	KmsIv		iv;
	bytea	  **out = palloc(sizeof(bytea *) * n);
	size_t		total = 0;
	bytea	   *buf;
	bytea	   *ct;
	uint8	   *p;
	const uint8 *q;
	const uint8 *prev;
	int			i;

	kms_load_pgcrypto();
	for (i = 0; i < n; i++)
		total += (VARSIZE_ANY_EXHDR(plain[i]) / KMS_BLOCK + 1) * KMS_BLOCK;
	buf = palloc(VARHDRSZ + total);
	SET_VARSIZE(buf, VARHDRSZ + total);
	p = (uint8 *) VARDATA(buf);
	for (i = 0; i < n; i++)
	{
		size_t		len = VARSIZE_ANY_EXHDR(plain[i]);
		size_t		pad = KMS_BLOCK - len % KMS_BLOCK;

		memcpy(p, VARDATA_ANY(plain[i]), len);
		memset(p + len, (int) pad, pad);
		p += len + pad;
	}
	SET_VARSIZE(&iv, VARHDRSZ + KMS_IV_LEN);
	if (!pg_strong_random(iv.iv, KMS_IV_LEN))
		elog(ERROR, "could not generate a random initialization vector");
	ct = DatumGetByteaPP(DirectFunctionCall4(pgcrypto_encrypt_iv, PointerGetDatum(buf),
											 PointerGetDatum(key->enc_key_bytea),
											 PointerGetDatum(&iv),
											 PointerGetDatum(kms_cipher_name)));
	if (VARSIZE_ANY_EXHDR(ct) != total)
		elog(ERROR, "pgcrypto returned %zu bytes of ciphertext for %zu bytes",
			 (size_t) VARSIZE_ANY_EXHDR(ct), total);
	q = (const uint8 *) VARDATA_ANY(ct);
	prev = iv.iv;
	for (i = 0; i < n; i++)
	{
		size_t		ctlen = (VARSIZE_ANY_EXHDR(plain[i]) / KMS_BLOCK + 1) * KMS_BLOCK;
		size_t		size = 1 + KMS_IV_LEN + ctlen + KMS_TAG_LEN;

		out[i] = palloc(VARHDRSZ + size);
		SET_VARSIZE(out[i], VARHDRSZ + size);
		p = (uint8 *) VARDATA(out[i]);
		p[0] = KMS_FORMAT_V1;
		memcpy(p + 1, prev, KMS_IV_LEN);
		memcpy(p + 1 + KMS_IV_LEN, q, ctlen);
		memset(p + 1 + KMS_IV_LEN + ctlen, 0, KMS_TAG_LEN);
		prev = q + ctlen - KMS_BLOCK;
		q += ctlen;
	}
	pfree(buf);
	return out;
}

/*
 * kinesis_kms_seal
 *		Write the tag of a stored form from kinesis_kms_encrypt_batch, now
 *		that the record's position is known.
 */
void
kinesis_kms_seal(KinesisKmsKey *key, int32 stream_id, int32 shard_index, int64 counter, bytea *stored)
{
	uint8	   *p = (uint8 *) VARDATA(stored);
	size_t		len = VARSIZE(stored) - VARHDRSZ;

	kms_tag(key, stream_id, shard_index, counter, p + 1, len - 1 - KMS_TAG_LEN,
			p + len - KMS_TAG_LEN);
}

/*
 * kinesis_kms_decrypt_batch
 *		The data of n records stored under one key, with one pgcrypto call.
 *
 * Every record's tag is checked first (kms_check).  Then
 * the records' IVs and ciphertexts are laid end to end and decrypted as
 * one CBC chain from a zero IV: a CBC plaintext block depends only on its
 * own ciphertext block and the block before it, and the block before each
 * record's first ciphertext block is its own IV, so every record's blocks
 * come out right; the blocks that were IVs decrypt to noise and are
 * skipped.  The padding is then checked and removed record by record.
 */
bytea **
kinesis_kms_decrypt_batch(KinesisKmsKey *key, int n, int32 stream_id, int32 shard_index,
						  const int64 *counters, bytea **stored)
{
	KmsIv		zero_iv;
	bytea	  **out = palloc(sizeof(bytea *) * n);
	size_t		total = 0;
	bytea	   *buf;
	bytea	   *pt;
	uint8	   *p;
	const uint8 *q;
	int			i;

	kms_load_pgcrypto();
	for (i = 0; i < n; i++)
	{
		size_t		ctlen = kms_check(key, stream_id, shard_index, counters[i], stored[i]);

		total += KMS_IV_LEN + ctlen;
	}

	buf = palloc(VARHDRSZ + total);
	SET_VARSIZE(buf, VARHDRSZ + total);
	p = (uint8 *) VARDATA(buf);
	for (i = 0; i < n; i++)
	{
		size_t		len = VARSIZE_ANY_EXHDR(stored[i]) - 1 - KMS_TAG_LEN;

		memcpy(p, (const uint8 *) VARDATA_ANY(stored[i]) + 1, len);
		p += len;
	}
	SET_VARSIZE(&zero_iv, VARHDRSZ + KMS_IV_LEN);
	memset(zero_iv.iv, 0, KMS_IV_LEN);
	pt = DatumGetByteaPP(DirectFunctionCall4(pgcrypto_decrypt_iv, PointerGetDatum(buf),
											 PointerGetDatum(key->enc_key_bytea),
											 PointerGetDatum(&zero_iv),
											 PointerGetDatum(kms_cipher_name)));
	if (VARSIZE_ANY_EXHDR(pt) != total)
		elog(ERROR, "pgcrypto returned %zu bytes of plaintext for %zu bytes",
			 (size_t) VARSIZE_ANY_EXHDR(pt), total);
	q = (const uint8 *) VARDATA_ANY(pt);
	for (i = 0; i < n; i++)
	{
		size_t		ctlen = VARSIZE_ANY_EXHDR(stored[i]) - 1 - KMS_IV_LEN - KMS_TAG_LEN;
		const uint8 *data = q + KMS_IV_LEN;
		uint8		pad = data[ctlen - 1];
		int			j;

		if (pad < 1 || pad > KMS_BLOCK)
			pad = 0;
		for (j = 1; pad != 0 && j <= pad; j++)
			if (data[ctlen - j] != pad)
				pad = 0;
		if (pad == 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("encrypted record %lld of shard %d has invalid padding",
							(long long) counters[i], shard_index)));
		out[i] = palloc(VARHDRSZ + ctlen - pad);
		SET_VARSIZE(out[i], VARHDRSZ + ctlen - pad);
		memcpy(VARDATA(out[i]), data, ctlen - pad);
		q += KMS_IV_LEN + ctlen;
	}
	pfree(buf);
	pfree(pt);
	return out;
}

/*
 * kinesis_kms_plaintext_bound
 *		At most how many bytes of data a stored form holds (at least one
 *		byte of it is padding).
 */
int64
kinesis_kms_plaintext_bound(bytea *stored)
{
	int64		len = VARSIZE_ANY_EXHDR(stored);

	return Max(0, len - 1 - KMS_IV_LEN - KMS_TAG_LEN - 1);
}

/*
 * kinesis._kms_new_material() RETURNS bytea
 *		64 bytes from the strong random source: the material of a new key.
 */
Datum
kinesis_kms_new_material(PG_FUNCTION_ARGS)
{
	bytea	   *out = palloc(VARHDRSZ + KMS_MATERIAL_LEN);

	SET_VARSIZE(out, VARHDRSZ + KMS_MATERIAL_LEN);
	if (!pg_strong_random(VARDATA(out), KMS_MATERIAL_LEN))
		elog(ERROR, "could not generate random key material");
	PG_RETURN_BYTEA_P(out);
}

/*
 * kinesis._kms_decrypt(stream_id int, key_ref int, shard_index int,
 *						counter bigint, data bytea) RETURNS bytea
 *		A stored record's data as readers get it, for kinesis.stream_records:
 *		data itself when key_ref is NULL.  The caller must be allowed to
 *		read the stream (GetRecords), which is looked up by its id: the tag
 *		binds a ciphertext to its stream, so naming another stream does not
 *		help a caller who can read the storage.
 */
Datum
kinesis_kms_decrypt_sql(PG_FUNCTION_ARGS)
{
	KinesisStream *stream;
	KinesisKmsKey *key;
	char		name[129];
	bytea	   *stored;
	int64		counter;

	if (PG_ARGISNULL(4))
		PG_RETURN_NULL();
	if (PG_ARGISNULL(0) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
		PG_RETURN_NULL();
	stream = kinesis_lookup_stream_by_id(PG_GETARG_INT32(0));
	if (stream == NULL)
		PG_RETURN_NULL();
	strlcpy(name, stream->name, sizeof(name));
	kinesis_authorize("GetRecords", name);
	if (PG_ARGISNULL(1))
		PG_RETURN_DATUM(PG_GETARG_DATUM(4));
	key = kinesis_kms_key(PG_GETARG_INT32(1), name);
	stored = PG_GETARG_BYTEA_PP(4);
	counter = PG_GETARG_INT64(3);
	PG_RETURN_BYTEA_P(kinesis_kms_decrypt_batch(key, 1, PG_GETARG_INT32(0), PG_GETARG_INT32(2),
												&counter, &stored)[0]);
}

/*
 * kinesis._kms_invalidate()
 *		Statement trigger on kinesis.kms_key_store: every backend drops its
 *		cached keys (this one at the next command, the others at commit).
 */
Datum
kinesis_kms_invalidate(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "kinesis._kms_invalidate() must be called as a trigger");
	CacheInvalidateRelcacheByRelid(kinesis_relid("kms_key_store"));
	return PointerGetDatum(NULL);
}
