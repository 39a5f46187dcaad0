/*-------------------------------------------------------------------------
 *
 * fuzz_iterator.c
 *		libFuzzer target for shard iterators (src/iterator.c):
 *		kinesis_iterator_decode and kinesis_iterator_encode, including the
 *		HMAC key loading from kinesis.secrets (faked in shim.c).
 *
 * The harness knows the HMAC key (it plays kinesis.secrets), so it can
 * decide independently (strict base64, OpenSSL HMAC, the payload layout)
 * what decode must do with any token.  Properties checked:
 *	- decode accepts a token only if it is the canonical base64 of
 *	  'I' || payload || HMAC16(key, 'I' || payload), optionally in double
 *	  quotes, with a 41..168-byte payload whose name part (up to a 0
 *	  byte) is a valid stream name, and an issue time in (0, now + 1 s]:
 *	  in particular it never accepts a token whose MAC fails;
 *	- everything else raises InvalidArgumentException (KN002) "Invalid
 *	  ShardIterator.", and a genuine token older than 300 s raises
 *	  ExpiredIteratorException (KN006) with AWS's message; no other error;
 *	- accepted tokens decode to the oracle's fields;
 *	- encode(it) is a canonical token of at most 512 characters (the
 *	  shardIterator length limit) that decodes to it, and that no edit of
 *	  a single character, truncation or extension leaves acceptable unless
 *	  the result is itself genuinely signed (a payload embedding a MAC of
 *	  its own prefix);
 *	- a token stops being accepted once the key is replaced, and a broken
 *	  secrets row is an internal error, not a crash or an acceptance;
 *	- the key is read once per shard-map generation, and every table,
 *	  scan and snapshot opened for it is closed again.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <time.h>

#include "kinesis.h"

#include "fuzz_util.h"
#include "shim.h"

#define FIXED_LEN	40			/* payload bytes before the stream name */
#define TTL_USECS	(INT64CONST(300000) * 1000)
#define NAME_CHARS	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-"

static uint8 default_key[32];

/* ------------------------------------------------------------------------
 * the oracle
 * ------------------------------------------------------------------------
 */
typedef enum Outcome
{
	OUT_INVALID,
	OUT_EXPIRED,
	OUT_OK
} Outcome;

static Outcome
oracle_decode(const char *token, KinesisIterator *it, size_t *namelen)
{
	const uint8 *p;
	size_t		len;

	if (oracle_token_check(shim_secret, 32, 'I', token, &p, &len) != TOKEN_GENUINE)
		return OUT_INVALID;
	if (len <= FIXED_LEN || len > FIXED_LEN + 128)
		return OUT_INVALID;
	memset(it, 0, sizeof(*it));
	it->stream_id = (int32) oracle_get_u32(p);
	it->shard_index = (int32) oracle_get_u32(p + 4);
	it->position = (int64) oracle_get_u64(p + 8);
	it->min_arrival = (TimestampTz) oracle_get_u64(p + 16);
	it->created = (TimestampTz) oracle_get_u64(p + 24);
	it->bucket_hint = (int32) oracle_get_u32(p + 36);
	memcpy(it->stream_name, p + FIXED_LEN, len - FIXED_LEN);
	it->stream_name[len - FIXED_LEN] = '\0';
	*namelen = len - FIXED_LEN;
	/* the name as a C string must be a stream name: [a-zA-Z0-9_.-]+ */
	if (it->stream_name[0] == '\0' ||
		strspn(it->stream_name, NAME_CHARS) != strlen(it->stream_name))
		return OUT_INVALID;
	if (it->created <= 0 || it->created > shim_now + USECS_PER_SEC)
		return OUT_INVALID;
	if (shim_now - it->created > TTL_USECS)
		return OUT_EXPIRED;
	return OUT_OK;
}

/* "Thu Jan 22 01:22:02 UTC 2015" */
static char *
aws_time(TimestampTz t)
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t		secs = (time_t) (t / USECS_PER_SEC) + INT64CONST(946684800);
	struct tm	tm;

	if (gmtime_r(&secs, &tm) == NULL)
		shim_fail(__FILE__, __LINE__, "gmtime_r", "time out of range");
	return psprintf("%s %s %02d %02d:%02d:%02d UTC %d", days[tm.tm_wday], months[tm.tm_mon],
					tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, tm.tm_year + 1900);
}

static bool
iterators_equal(const KinesisIterator *a, const KinesisIterator *b, size_t namelen)
{
	return a->stream_id == b->stream_id && a->shard_index == b->shard_index &&
		a->position == b->position && a->min_arrival == b->min_arrival &&
		a->created == b->created && a->bucket_hint == b->bucket_hint &&
		memcmp(a->stream_name, b->stream_name, namelen + 1) == 0;
}

/* ------------------------------------------------------------------------
 * running decode under the error trap
 * ------------------------------------------------------------------------
 */
typedef struct DecodeRun
{
	const char *token;
	KinesisIterator it;
} DecodeRun;

static void
run_decode(void *arg)
{
	DecodeRun  *r = arg;

	kinesis_iterator_decode(r->token, &r->it);
}

typedef struct EncodeRun
{
	const KinesisIterator *it;
	char	   *token;
} EncodeRun;

static void
run_encode(void *arg)
{
	EncodeRun  *r = arg;

	r->token = kinesis_iterator_encode(r->it);
}

/* decode token and compare everything with the oracle; returns the outcome */
static Outcome
check_decode(const char *token)
{
	DecodeRun	r;
	KinesisIterator want;
	size_t		namelen = 0;
	Outcome		expect = oracle_decode(token, &want, &namelen);
	bool		ok;

	r.token = token;
	memset(&r.it, 0x5a, sizeof(r.it));
	ok = shim_try(run_decode, &r);
	shim_count(expect == OUT_OK ? "decode: accepted" :
			   expect == OUT_EXPIRED ? "decode: expired" : "decode: invalid");
	switch (expect)
	{
		case OUT_OK:
			CHECK(ok, "decode rejected a genuine, current iterator \"%s\"", token);
			/* the name is all the payload's bytes after the fixed part */
			CHECK(iterators_equal(&r.it, &want, namelen),
				  "decode(\"%s\") fields differ from the payload", token);
			CHECK(shim_open_resources() == 0, "decode left a table, scan or snapshot open");
			break;
		case OUT_INVALID:
			CHECK(!ok, "decode ACCEPTED \"%s\", which is not a genuine current iterator", token);
			CHECK(shim_error.sqlerrcode == SHIM_KN(2) && shim_error.message &&
				  strcmp(shim_error.message, "InvalidArgumentException: Invalid ShardIterator.") == 0,
				  "decode(\"%s\") raised %s \"%s\", want KN002 Invalid ShardIterator.", token,
				  shim_sqlstate(shim_error.sqlerrcode), shim_error.message ? shim_error.message : "");
			break;
		case OUT_EXPIRED:
			CHECK(!ok, "decode accepted an expired iterator \"%s\"", token);
			{
				char	   *msg = psprintf("ExpiredIteratorException: Iterator expired. "
										   "The iterator was created at time %s while right now it is %s "
										   "which is further in the future than the tolerated delay of "
										   "300000 milliseconds.",
										   aws_time(want.created), aws_time(shim_now));

				CHECK(shim_error.sqlerrcode == SHIM_KN(6) && shim_error.message &&
					  strcmp(shim_error.message, msg) == 0,
					  "decode(\"%s\") raised %s \"%s\",\n  want KN006 \"%s\"", token,
					  shim_sqlstate(shim_error.sqlerrcode), shim_error.message ? shim_error.message : "", msg);
			}
			break;
	}
	return expect;
}

/* ------------------------------------------------------------------------
 * building inputs
 * ------------------------------------------------------------------------
 */

/* an issue time relative to now that lands in, around or beyond the window */
static TimestampTz
pick_created(FuzzIn *in)
{
	uint8		sel = fi_u8(in);
	int64		x = (int64) fi_u64(in);

	switch (sel % 10)
	{
		case 0:
			return shim_now - (int64) ((uint64) x % (uint64) TTL_USECS);	/* current */
		case 1:
			return shim_now - TTL_USECS;	/* the last valid instant */
		case 2:
			return shim_now - TTL_USECS - 1;	/* just expired */
		case 3:
			return shim_now + USECS_PER_SEC;	/* the future tolerance */
		case 4:
			return shim_now + USECS_PER_SEC + 1;
		case 5:
			return (int64) ((uint64) x % (uint64) shim_now) + 1;	/* expired long ago */
		case 6:
			return 0;
		case 7:
			return -((int64) ((uint64) x >> 1));
		case 8:
			return x;
		default:
			return shim_now;
	}
}

static void
put_iterator_fields(FuzzIn *in, uint8 *payload)
{
	oracle_put_u32(payload, fi_u32(in));	/* stream id */
	oracle_put_u32(payload + 4, fi_u32(in));	/* shard index */
	oracle_put_u64(payload + 8, fi_u64(in));	/* position */
	oracle_put_u64(payload + 16, fi_u64(in));	/* min arrival */
	oracle_put_u64(payload + 24, (uint64) pick_created(in));
	oracle_put_u32(payload + 32, fi_u32(in));	/* nonce */
	oracle_put_u32(payload + 36, fi_u32(in));	/* bucket hint */
}

/* replace character pos of s by another character (a base64 one or not) */
static char *
edit_one(const char *s, size_t pos, uint8 how)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=\" \n";
	char	   *t = pstrdup(s);
	char		c = alphabet[how % (sizeof(alphabet) - 1)];

	if (c == t[pos])
		c = alphabet[(how + 1) % (sizeof(alphabet) - 1)];
	t[pos] = c;
	return t;
}

/* ------------------------------------------------------------------------
 * modes
 * ------------------------------------------------------------------------
 */

/* a signed (or mis-signed) token with an arbitrary payload */
static void
mode_forged(FuzzIn *in)
{
	uint8		flags = fi_u8(in);
	size_t		namelen = fi_u8(in);	/* 0..255: around the 1..128 limit */
	uint8	   *payload = palloc(FIXED_LEN + namelen);
	uint8		kind = (flags & 1) ? fi_u8(in) : 'I';
	uint8		key[32];
	char	   *token;
	size_t		i;

	put_iterator_fields(in, payload);
	for (i = 0; i < namelen; i++)
		payload[FIXED_LEN + i] = (flags & 2) ? fi_u8(in) : "abcXYZ019_.-"[fi_u8(in) % 12];
	memcpy(key, shim_secret, 32);
	if (flags & 4)
		key[fi_u8(in) % 32] ^= 1 + fi_u8(in) % 255;	/* the wrong key */
	/* short payloads too: cut the fixed part */
	token = oracle_token_sign(key, 32, kind, payload,
							  (flags & 8) ? fi_u8(in) % (FIXED_LEN + namelen + 1) : FIXED_LEN + namelen);
	if (flags & 16)
		token = psprintf("\"%s\"", token);
	if (flags & 32)
		token = edit_one(token, fi_u8(in) % strlen(token), fi_u8(in));
	if (flags & 64)
		token = psprintf("%s%s", token, fi_str(in, 8, NULL));
	check_decode(token);
}

/* encode, decode, then tamper */
static void
mode_roundtrip(FuzzIn *in)
{
	KinesisIterator it;
	EncodeRun	er;
	uint8		flags = fi_u8(in);
	size_t		namelen = 1 + fi_u8(in) % 128;
	bool		valid_name = true;
	const uint8 *p;
	size_t		plen;
	char	   *token;
	size_t		tlen;
	size_t		i;
	int			edits;

	memset(&it, 0, sizeof(it));
	it.stream_id = (int32) fi_u32(in);
	it.shard_index = (int32) fi_u32(in);
	it.position = (int64) fi_u64(in);
	it.min_arrival = (TimestampTz) fi_u64(in);
	it.created = shim_now - (int64) (fi_u64(in) % (uint64) TTL_USECS);
	it.bucket_hint = (int32) fi_u32(in);
	for (i = 0; i < namelen; i++)
	{
		uint8		c = fi_u8(in);

		/* iterators are issued for existing, hence valid, stream names */
		if (flags & 1)
			it.stream_name[i] = c ? (char) c : 'n';
		else
			it.stream_name[i] = NAME_CHARS[c % (sizeof(NAME_CHARS) - 1)];
		if (!strchr(NAME_CHARS, it.stream_name[i]))
			valid_name = false;
	}
	it.stream_name[namelen] = '\0';

	er.it = &it;
	CHECK(shim_try(run_encode, &er), "iterator_encode raised an error");
	token = er.token;
	tlen = strlen(token);
	CHECK(tlen <= 512, "an iterator for a %zu-byte name is %zu characters, over the 512 limit",
		  namelen, tlen);
	CHECK(oracle_token_check(shim_secret, 32, 'I', token, &p, &plen) == TOKEN_GENUINE &&
		  token[0] != '"', "iterator_encode produced a token that is not genuine: \"%s\"", token);
	CHECK(plen == FIXED_LEN + namelen &&
		  oracle_get_u32(p) == (uint32) it.stream_id &&
		  oracle_get_u32(p + 4) == (uint32) it.shard_index &&
		  oracle_get_u64(p + 8) == (uint64) it.position &&
		  oracle_get_u64(p + 16) == (uint64) it.min_arrival &&
		  oracle_get_u64(p + 24) == (uint64) it.created &&
		  oracle_get_u32(p + 36) == (uint32) it.bucket_hint &&
		  memcmp(p + FIXED_LEN, it.stream_name, namelen) == 0,
		  "iterator_encode payload does not hold the iterator's fields");

	CHECK(check_decode(token) == (valid_name ? OUT_OK : OUT_INVALID),
		  "encode/decode round trip failed");
	CHECK(check_decode(psprintf("\"%s\"", token)) == (valid_name ? OUT_OK : OUT_INVALID),
		  "quoted round trip failed");

	edits = fi_u8(in) % 8;
	while (edits-- > 0)
	{
		uint8		how = fi_u8(in);
		size_t		pos = fi_u8(in) % tlen;
		char	   *bad;

		switch (how % 3)
		{
			case 0:
				bad = edit_one(token, pos, fi_u8(in));
				break;
			case 1:
				bad = pnstrdup(token, pos);
				break;
			default:
				bad = psprintf("%s%s", token, edit_one("A", 0, fi_u8(in)));
				break;
		}
		/* as in fuzz_token.c: only a payload embedding a MAC of its prefix survives */
		if (check_decode(bad) != OUT_INVALID)
			shim_count("tampered iterator still genuine (payload embeds a MAC)");
	}
}

/* a new key (or a broken secrets row) invalidates earlier iterators */
static void
mode_rekey(FuzzIn *in)
{
	KinesisIterator it;
	EncodeRun	er;
	uint8		flags = fi_u8(in);
	char	   *old_token;
	int			scans;
	bool		same;

	memset(&it, 0, sizeof(it));
	it.stream_id = (int32) fi_u32(in);
	it.created = shim_now;
	strcpy(it.stream_name, "s");
	er.it = &it;
	CHECK(shim_try(run_encode, &er), "iterator_encode raised an error");
	old_token = er.token;

	/* the key stays cached: no more reads of the table */
	scans = shim_secret_scans;
	CHECK(check_decode(old_token) == OUT_OK, "fresh iterator rejected");
	CHECK(shim_secret_scans == scans, "the key was read again without an invalidation");

	if (flags & 1)
	{
		/* a broken kinesis.secrets: internal error for well-formed tokens */
		DecodeRun	r;

		switch ((flags >> 1) % 3)
		{
			case 0:
				shim_secret_rows = 0;
				break;
			case 1:
				shim_secret_null = true;
				break;
			case 2:
				shim_secret_len = fi_u8(in) % 64;
				if (shim_secret_len == 32)
					shim_secret_len = 31;
				break;
		}
		kinesis_shardmap_generation++;
		r.token = old_token;
		CHECK(!shim_try(run_decode, &r), "decode succeeded with a broken secrets table");
		CHECK(shim_error.sqlerrcode == ERRCODE_INTERNAL_ERROR && shim_error.message &&
			  strncmp(shim_error.message, "kinesis.secrets holds ", 22) == 0,
			  "broken secrets table: %s %s", shim_sqlstate(shim_error.sqlerrcode),
			  shim_error.message ? shim_error.message : "");
		/* repaired, the same key makes the token good again */
		shim_secret_rows = 1;
		shim_secret_null = false;
		shim_secret_len = 32;
		CHECK(check_decode(old_token) == OUT_OK, "iterator rejected after the secrets row was repaired");
		return;
	}

	/* a new key: the key is read once more, old iterators become invalid */
	{
		int			i;

		for (i = 0; i < 32; i++)
			shim_secret[i] = fi_u8(in);
		same = memcmp(shim_secret, default_key, 32) == 0;
		kinesis_shardmap_generation++;
		scans = shim_secret_scans;
		CHECK(check_decode(old_token) == (same ? OUT_OK : OUT_INVALID),
			  "iterator signed with the previous key: wrong outcome");
		CHECK(shim_secret_scans == scans + 1, "the key was not re-read after an invalidation");
	}
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int			i;

	for (i = 0; i < 32; i++)
		default_key[i] = (uint8) (0x9e + 37 * i);
	memcpy(shim_secret, default_key, 32);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FuzzIn		in = {data, size};
	uint8		mode = fi_u8(&in);
	uint8		seed = fi_u8(&in);

	shim_begin();
	shim_seed_random(seed + 1);
	/* every input starts with the default key in force */
	if (memcmp(shim_secret, default_key, 32) != 0 || shim_secret_len != 32 ||
		shim_secret_null || shim_secret_rows != 1)
	{
		memcpy(shim_secret, default_key, 32);
		shim_secret_len = 32;
		shim_secret_null = false;
		shim_secret_rows = 1;
		kinesis_shardmap_generation++;
	}
	/* a clock between 2000 and about 2570 */
	shim_now = (TimestampTz) (fi_u64(&in) % (UINT64CONST(1) << 54)) + TTL_USECS;

	switch (mode % 4)
	{
		case 0:
			check_decode(fi_rest_str(&in));
			break;
		case 1:
			mode_forged(&in);
			break;
		case 2:
			mode_roundtrip(&in);
			break;
		case 3:
			mode_rekey(&in);
			break;
	}
	shim_end();
	return 0;
}
