/*-------------------------------------------------------------------------
 *
 * hashkey.c
 *		128-bit hash keys: MD5 routing of partition keys, and conversion
 *		between unsigned 128-bit integers and their decimal text.
 *
 * Kinesis maps a partition key to MD5(utf8(key)) read as an unsigned
 * big-endian 128-bit integer, and routes the record to the open shard whose
 * [StartingHashKey, EndingHashKey] contains it.  These helpers run on the
 * put hot path, so they avoid numeric and SPI entirely.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/md5.h"
#include "fmgr.h"
#include "utils/builtins.h"

#include "kinesis.h"

PG_FUNCTION_INFO_V1(kinesis_hash_key);

/*
 * kinesis_partition_key_hash
 *		MD5 of the key's bytes (the server encoding is UTF-8 for streams
 *		that take Unicode keys) as a big-endian unsigned 128-bit integer.
 */
kinesis_u128
kinesis_partition_key_hash(const char *key, int len)
{
	uint8		digest[16];
	const char *errstr = NULL;
	kinesis_u128 v = 0;
	int			i;

	if (!pg_md5_binary(key, len, digest, &errstr))
		elog(ERROR, "could not compute MD5 hash: %s", errstr ? errstr : "unknown error");
	for (i = 0; i < 16; i++)
		v = (v << 8) | digest[i];
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
