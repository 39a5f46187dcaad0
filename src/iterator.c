/*-------------------------------------------------------------------------
 *
 * iterator.c
 *		Opaque, authenticated tokens: shard iterators and pagination tokens.
 *
 * A token is base64(kind || payload || HMAC-SHA256(key, kind || payload)
 * truncated to 16 bytes), where the key is the random 32 bytes kept in
 * kinesis.secrets.  A forged or edited token fails the MAC and is rejected
 * before anything in it is used; the kind byte keeps an iterator from being
 * replayed as a pagination token and vice versa.
 *
 * An iterator's payload names the stream (id and name) and shard, the first counter to
 * read, an optional arrival-time filter (AT_TIMESTAMP) and the time it was
 * issued (iterators expire after 300 s), plus a random nonce so that every
 * NextShardIterator differs from the iterator it replaces.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/base64.h"
#include "common/hmac.h"
#include "common/cryptohash.h"
#include "common/sha2.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "fmgr.h"
#include "pgtime.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "kinesis.h"

PG_FUNCTION_INFO_V1(kinesis_token_encode);
PG_FUNCTION_INFO_V1(kinesis_token_decode);

#define TOKEN_MAC_LEN		16
#define TOKEN_KIND_ITERATOR	'I'
#define ITERATOR_FIXED_LEN	(4 + 4 + 8 + 8 + 8 + 4 + 4)
#define ITERATOR_TTL_MS		300000

static uint8 token_key[32];
static bool token_key_loaded = false;
static uint64 token_key_generation = 0;

/*
 * load_key
 *		Read the HMAC key once per backend (again after the extension's
 *		tables change, which a re-created extension does).  The table is
 *		read directly, not through SQL: the key is internal and callers need
 *		no privilege on kinesis.secrets to use iterators.
 */
static void
load_key(void)
{
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;
	Snapshot	snap;
	bool		isnull;
	Datum		d;
	bytea	   *key;

	if (token_key_loaded && token_key_generation == kinesis_shardmap_generation)
		return;
	rel = table_open(kinesis_relid("secrets"), AccessShareLock);
	snap = RegisterSnapshot(GetLatestSnapshot());
	scan = table_beginscan(rel, snap, 0, NULL);
	tup = heap_getnext(scan, ForwardScanDirection);
	if (tup == NULL)
		elog(ERROR, "kinesis.secrets holds no iterator key");
	d = heap_getattr(tup, 2, RelationGetDescr(rel), &isnull);
	key = isnull ? NULL : DatumGetByteaPP(d);
	if (key == NULL || VARSIZE_ANY_EXHDR(key) != sizeof(token_key))
		elog(ERROR, "kinesis.secrets holds a malformed iterator key");
	memcpy(token_key, VARDATA_ANY(key), sizeof(token_key));
	table_endscan(scan);
	UnregisterSnapshot(snap);
	table_close(rel, AccessShareLock);
	token_key_loaded = true;
	token_key_generation = kinesis_shardmap_generation;
}

/*
 * compute_mac
 *		HMAC-SHA256 of buf[0..len) truncated to TOKEN_MAC_LEN bytes.
 */
static void
compute_mac(const uint8 *buf, size_t len, uint8 *mac)
{
	pg_hmac_ctx *ctx = pg_hmac_create(PG_SHA256);
	uint8		full[PG_SHA256_DIGEST_LENGTH];

	if (ctx == NULL ||
		pg_hmac_init(ctx, token_key, sizeof(token_key)) < 0 ||
		pg_hmac_update(ctx, buf, len) < 0 ||
		pg_hmac_final(ctx, full, sizeof(full)) < 0)
		elog(ERROR, "could not compute HMAC: %s", ctx ? pg_hmac_error(ctx) : "out of memory");
	pg_hmac_free(ctx);
	memcpy(mac, full, TOKEN_MAC_LEN);
}

/*
 * token_encode
 *		Sign kind||payload and return the base64 token, palloc'd.
 */
static char *
token_encode(char kind, const uint8 *payload, size_t len)
{
	size_t		rawlen = 1 + len + TOKEN_MAC_LEN;
	uint8	   *raw = palloc(rawlen);
	char	   *out;
	int			outlen;

	load_key();
	raw[0] = (uint8) kind;
	memcpy(raw + 1, payload, len);
	compute_mac(raw, 1 + len, raw + 1 + len);
	out = palloc(pg_b64_enc_len(rawlen) + 1);
	outlen = pg_b64_encode((const char *) raw, rawlen, out, pg_b64_enc_len(rawlen));
	if (outlen < 0)
		elog(ERROR, "could not encode token");
	out[outlen] = '\0';
	return out;
}

/*
 * token_decode
 *		Check a token's kind and MAC; return its payload (palloc'd) and
 *		length, or NULL if it is not a genuine token of that kind.
 *		Surrounding double quotes are ignored, as AWS ignores them.
 */
static uint8 *
token_decode(char kind, const char *token, size_t *len)
{
	size_t		tlen = strlen(token);
	uint8	   *raw;
	int			rawlen;
	uint8		mac[TOKEN_MAC_LEN];
	uint8		diff = 0;
	int			i;
	char	   *canon;

	if (tlen >= 2 && token[0] == '"' && token[tlen - 1] == '"')
	{
		token++;
		tlen -= 2;
	}
	if (tlen == 0 || tlen > 1024)
		return NULL;
	raw = palloc(pg_b64_dec_len(tlen) + 1);
	rawlen = pg_b64_decode(token, tlen, (char *) raw, pg_b64_dec_len(tlen));
	if (rawlen < 1 + TOKEN_MAC_LEN || raw[0] != (uint8) kind)
		return NULL;
	/* only the canonical encoding is accepted */
	canon = palloc(pg_b64_enc_len(rawlen) + 1);
	i = pg_b64_encode((const char *) raw, rawlen, canon, pg_b64_enc_len(rawlen));
	if (i != (int) tlen || memcmp(canon, token, tlen) != 0)
		return NULL;

	load_key();
	compute_mac(raw, rawlen - TOKEN_MAC_LEN, mac);
	for (i = 0; i < TOKEN_MAC_LEN; i++)
		diff |= mac[i] ^ raw[rawlen - TOKEN_MAC_LEN + i];
	if (diff != 0)
		return NULL;
	*len = rawlen - 1 - TOKEN_MAC_LEN;
	return raw + 1;
}

static void
put_u32(uint8 *p, uint32 v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static uint32
get_u32(const uint8 *p)
{
	return ((uint32) p[0] << 24) | ((uint32) p[1] << 16) | ((uint32) p[2] << 8) | p[3];
}

static void
put_u64(uint8 *p, uint64 v)
{
	put_u32(p, (uint32) (v >> 32));
	put_u32(p + 4, (uint32) v);
}

static uint64
get_u64(const uint8 *p)
{
	return ((uint64) get_u32(p) << 32) | get_u32(p + 4);
}

/*
 * kinesis_iterator_encode
 *		A new iterator token for the given position, palloc'd.
 */
char *
kinesis_iterator_encode(const KinesisIterator *it)
{
	uint8		payload[ITERATOR_FIXED_LEN + 128];
	size_t		namelen = strlen(it->stream_name);
	uint32		nonce;

	if (!pg_strong_random(&nonce, sizeof(nonce)))
		elog(ERROR, "could not generate random nonce");
	put_u32(payload, (uint32) it->stream_id);
	put_u32(payload + 4, (uint32) it->shard_index);
	put_u64(payload + 8, (uint64) it->position);
	put_u64(payload + 16, (uint64) it->min_arrival);
	put_u64(payload + 24, (uint64) it->created);
	put_u32(payload + 32, nonce);
	put_u32(payload + 36, (uint32) it->bucket_hint);
	Assert(namelen <= 128);
	memcpy(payload + ITERATOR_FIXED_LEN, it->stream_name, namelen);
	return token_encode(TOKEN_KIND_ITERATOR, payload, ITERATOR_FIXED_LEN + namelen);
}

/*
 * format_aws_time
 *		"Thu Jan 22 01:22:02 UTC 2015", the form AWS prints in the
 *		ExpiredIteratorException message.
 */
static char *
format_aws_time(TimestampTz t)
{
	pg_time_t	tt = timestamptz_to_time_t(t);
	char		buf[64];

	pg_strftime(buf, sizeof(buf), "%a %b %d %H:%M:%S UTC %Y", pg_gmtime(&tt));
	return pstrdup(buf);
}

/*
 * kinesis_iterator_decode
 *		Authenticate and unpack an iterator.  Anything not issued by us is
 *		InvalidArgumentException "Invalid ShardIterator."; one older than
 *		300 s is ExpiredIteratorException with AWS's message.
 */
void
kinesis_iterator_decode(const char *token, KinesisIterator *it)
{
	size_t		len;
	uint8	   *p = token_decode(TOKEN_KIND_ITERATOR, token, &len);
	TimestampTz now = GetCurrentTimestamp();

	if (p == NULL || len <= ITERATOR_FIXED_LEN || len > ITERATOR_FIXED_LEN + 128)
		kinesis_raise(KX_INVALID_ARGUMENT, "Invalid ShardIterator.");
	memcpy(it->stream_name, p + ITERATOR_FIXED_LEN, len - ITERATOR_FIXED_LEN);
	it->stream_name[len - ITERATOR_FIXED_LEN] = '\0';
	/* a stream name as we issue them (it is quoted in errors and checks) */
	if (!kinesis_match_name(it->stream_name))
		kinesis_raise(KX_INVALID_ARGUMENT, "Invalid ShardIterator.");
	it->stream_id = (int32) get_u32(p);
	it->shard_index = (int32) get_u32(p + 4);
	it->position = (int64) get_u64(p + 8);
	it->min_arrival = (TimestampTz) get_u64(p + 16);
	it->created = (TimestampTz) get_u64(p + 24);
	it->bucket_hint = (int32) get_u32(p + 36);
	if (it->created <= 0 || it->created > now + USECS_PER_SEC)
		kinesis_raise(KX_INVALID_ARGUMENT, "Invalid ShardIterator.");
	if (now - it->created > (int64) ITERATOR_TTL_MS * 1000)
		kinesis_raise(KX_EXPIRED_ITERATOR,
					  "Iterator expired. The iterator was created at time %s while right now it is %s which is further in the future than the tolerated delay of %d milliseconds.",
					  format_aws_time(it->created), format_aws_time(now), ITERATOR_TTL_MS);
}

/*
 * kinesis._token_encode(kind "char", payload bytea) returns text
 *		Sign an arbitrary payload (the control plane's pagination tokens).
 *		Kind 'I' is reserved for shard iterators.
 */
Datum
kinesis_token_encode(PG_FUNCTION_ARGS)
{
	char		kind = PG_GETARG_CHAR(0);
	bytea	   *payload = PG_GETARG_BYTEA_PP(1);

	if (kind == TOKEN_KIND_ITERATOR)
		elog(ERROR, "token kind 'I' is reserved for shard iterators");
	PG_RETURN_TEXT_P(cstring_to_text(token_encode(kind, (uint8 *) VARDATA_ANY(payload),
												  VARSIZE_ANY_EXHDR(payload))));
}

/*
 * kinesis._token_decode(kind "char", token text) returns bytea
 *		The payload of a genuine token of that kind, or NULL.
 */
Datum
kinesis_token_decode(PG_FUNCTION_ARGS)
{
	char		kind = PG_GETARG_CHAR(0);
	char	   *token = text_to_cstring(PG_GETARG_TEXT_PP(1));
	size_t		len;
	uint8	   *p;
	bytea	   *result;

	if (kind == TOKEN_KIND_ITERATOR)
		elog(ERROR, "token kind 'I' is reserved for shard iterators");
	p = token_decode(kind, token, &len);
	if (p == NULL)
		PG_RETURN_NULL();
	result = palloc(VARHDRSZ + len);
	SET_VARSIZE(result, VARHDRSZ + len);
	memcpy(VARDATA(result), p, len);
	PG_RETURN_BYTEA_P(result);
}
