/*-------------------------------------------------------------------------
 *
 * hashkey.c
 *		128-bit hash keys: MD5 routing of partition keys, and conversion
 *		between unsigned 128-bit integers and their decimal text.
 *
 * Kinesis maps a partition key to MD5(utf8(key)) read as an unsigned
 * big-endian 128-bit integer, and routes the record to the open shard whose
 * [StartingHashKey, EndingHashKey] contains it.  These helpers run on the
 * put hot path, so they avoid numeric and SPI entirely, and MD5 is computed
 * here (RFC 1321) rather than through the server's cryptohash API, whose
 * OpenSSL context is allocated, registered and freed on every call.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"
#include "utils/builtins.h"

#include "kinesis.h"

PG_FUNCTION_INFO_V1(kinesis_hash_key);

/* MD5 per-step shift amounts and sine-derived constants (RFC 1321) */
static const uint8 md5_shift[64] = {
	7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
	5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
	4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
	6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21
};
static uint32 md5_k[64];
static bool md5_k_ready = false;

/*
 * md5_init_constants
 *		K[i] = floor(|sin(i + 1)| * 2^32), as RFC 1321 defines them; IEEE
 *		doubles compute every one exactly.
 */
static void
md5_init_constants(void)
{
	int			i;

	for (i = 0; i < 64; i++)
		md5_k[i] = (uint32) floor(fabs(sin((double) (i + 1))) * 4294967296.0);
	md5_k_ready = true;
}

/*
 * md5_block
 *		Fold one 64-byte block into the state.
 */
static void
md5_block(uint32 *state, const uint8 *block)
{
	uint32		m[16];
	uint32		a = state[0],
				b = state[1],
				c = state[2],
				d = state[3];
	int			i;

	for (i = 0; i < 16; i++)
		m[i] = (uint32) block[i * 4] | ((uint32) block[i * 4 + 1] << 8) |
			((uint32) block[i * 4 + 2] << 16) | ((uint32) block[i * 4 + 3] << 24);
	for (i = 0; i < 64; i++)
	{
		uint32		f;
		int			g;

		if (i < 16)
		{
			f = (b & c) | (~b & d);
			g = i;
		}
		else if (i < 32)
		{
			f = (d & b) | (~d & c);
			g = (5 * i + 1) % 16;
		}
		else if (i < 48)
		{
			f = b ^ c ^ d;
			g = (3 * i + 5) % 16;
		}
		else
		{
			f = c ^ (b | ~d);
			g = (7 * i) % 16;
		}
		f = f + a + md5_k[i] + m[g];
		a = d;
		d = c;
		c = b;
		b = b + ((f << md5_shift[i]) | (f >> (32 - md5_shift[i])));
	}
	state[0] += a;
	state[1] += b;
	state[2] += c;
	state[3] += d;
}

/*
 * kinesis_partition_key_hash
 *		MD5 of the key's bytes (the server encoding is UTF-8 for streams
 *		that take Unicode keys) as a big-endian unsigned 128-bit integer.
 */
kinesis_u128
kinesis_partition_key_hash(const char *key, int len)
{
	uint32		state[4] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};
	uint8		tail[128];
	uint64		bits = (uint64) len * 8;
	int			full = len - len % 64;
	int			rest = len % 64;
	int			taillen;
	int			i;
	kinesis_u128 v = 0;

	if (!md5_k_ready)
		md5_init_constants();
	for (i = 0; i < full; i += 64)
		md5_block(state, (const uint8 *) key + i);

	/* the last bytes, 0x80, zeros, and the bit length (little-endian) */
	memset(tail, 0, sizeof(tail));
	memcpy(tail, key + full, rest);
	tail[rest] = 0x80;
	taillen = (rest < 56) ? 64 : 128;
	for (i = 0; i < 8; i++)
		tail[taillen - 8 + i] = (uint8) (bits >> (8 * i));
	md5_block(state, tail);
	if (taillen == 128)
		md5_block(state, tail + 64);

	/* digest bytes are the state words little-endian, read big-endian */
	for (i = 0; i < 16; i++)
		v = (v << 8) | (uint8) (state[i / 4] >> (8 * (i % 4)));
	return v;
}

/*
 * kinesis_parse_u128
 *		Parse a plain decimal string into a 128-bit value.  Returns false on
 *		anything that is not 1..39 digits or does not fit in 128 bits.
 */
bool
kinesis_parse_u128(const char *s, kinesis_u128 *out)
{
	kinesis_u128 v = 0;
	const kinesis_u128 max = ~(kinesis_u128) 0;
	int			n = 0;

	if (s == NULL || *s == '\0')
		return false;
	for (; *s; s++, n++)
	{
		int			d;

		if (*s < '0' || *s > '9' || n >= 39)
			return false;
		d = *s - '0';
		if (v > (max - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

/*
 * kinesis_format_u128
 *		Decimal text of a 128-bit value, palloc'd.
 */
char *
kinesis_format_u128(kinesis_u128 v)
{
	char		buf[41];
	int			pos = sizeof(buf) - 1;

	buf[pos] = '\0';
	do
	{
		buf[--pos] = '0' + (int) (v % 10);
		v /= 10;
	} while (v != 0);
	return pstrdup(buf + pos);
}

/*
 * kinesis.hash_key(partition_key text) returns numeric
 *		The 128-bit hash key a partition key routes by, for users who want to
 *		see where a key lands (and for tests against an independent MD5).
 */
Datum
kinesis_hash_key(PG_FUNCTION_ARGS)
{
	text	   *key = PG_GETARG_TEXT_PP(0);
	char	   *dec;

	dec = kinesis_format_u128(kinesis_partition_key_hash(VARDATA_ANY(key),
														 VARSIZE_ANY_EXHDR(key)));
	PG_RETURN_DATUM(DirectFunctionCall3(numeric_in, CStringGetDatum(dec),
										ObjectIdGetDatum(InvalidOid),
										Int32GetDatum(-1)));
}
