/*-------------------------------------------------------------------------
 *
 * seqnum.c
 *		Kinesis sequence numbers: the 56-digit decimal layout.
 *
 * A sequence number is a 47-hex-digit value printed in decimal, which gives
 * 56 digits like AWS's.  The hex digits are, from the most significant:
 *
 *		0		'2' (marker)
 *		1..9	shard creation time, seconds
 *		10		low nibble of the shard index
 *		11..26	per-shard counter (63 bits; top nibble <= 7)
 *		27..28	"00"
 *		29..37	put time, seconds
 *		38..45	shard index (32 bits)
 *		46		'2' (layout version)
 *
 * Within one shard the creation time and index are fixed, so the counter
 * decides the order: numbers compare as big integers exactly as the
 * counters do.  A shard's StartingSequenceNumber uses counter 0 and its
 * EndingSequenceNumber the largest counter.  The stored record keeps only
 * the counter and arrival time; the string is rebuilt from the shard map.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"

#include "kinesis.h"

PG_FUNCTION_INFO_V1(kinesis_format_sequence_number);
PG_FUNCTION_INFO_V1(kinesis_parse_sequence_number);

#define SEQ_HEX_DIGITS	47
#define SEQ_LIMBS		7		/* 224 bits of 32-bit limbs, little-endian */

/*
 * Build the 47 hex digits of a sequence number into hex[] (NUL-terminated).
 */
static void
seqnum_hex(char *hex, int64 shard_epoch, int32 shard_index, int64 counter,
		   int64 seq_epoch)
{
	snprintf(hex, SEQ_HEX_DIGITS + 1, "2%09llx%01x%016llx00%09llx%08x2",
			 (unsigned long long) (shard_epoch & INT64CONST(0xfffffffff)),
			 (unsigned int) (shard_index & 0xf),
			 (unsigned long long) counter,
			 (unsigned long long) (seq_epoch & INT64CONST(0xfffffffff)),
			 (uint32) shard_index);
}

/*
 * kinesis_format_seqnum
 *		The decimal sequence number for a record, palloc'd.
 */
char *
kinesis_format_seqnum(int64 shard_epoch, int32 shard_index, int64 counter,
					  int64 seq_epoch)
{
	char		hex[SEQ_HEX_DIGITS + 1];
	uint32		limbs[SEQ_LIMBS];
	char		dec[80];
	int			pos = sizeof(dec) - 1;
	int			i;
	bool		nonzero;

	seqnum_hex(hex, shard_epoch, shard_index, counter, seq_epoch);

	/* hex digits into little-endian 32-bit limbs */
	memset(limbs, 0, sizeof(limbs));
	for (i = 0; i < SEQ_HEX_DIGITS; i++)
	{
		int			bit = (SEQ_HEX_DIGITS - 1 - i) * 4;
		char		c = hex[i];
		uint32		d = (c <= '9') ? (uint32) (c - '0') : (uint32) (c - 'a' + 10);

		limbs[bit / 32] |= d << (bit % 32);
	}

	/* repeated division by 10 */
	dec[pos] = '\0';
	do
	{
		uint64		rem = 0;

		nonzero = false;
		for (i = SEQ_LIMBS - 1; i >= 0; i--)
		{
			uint64		cur = (rem << 32) | limbs[i];

			limbs[i] = (uint32) (cur / 10);
			rem = cur % 10;
			if (limbs[i] != 0)
				nonzero = true;
		}
		dec[--pos] = '0' + (int) rem;
	} while (nonzero);

	return pstrdup(dec + pos);
}

/*
 * kinesis_parse_seqnum
 *		Decode a decimal sequence number made by kinesis_format_seqnum.
 *		Returns false for anything else: bad characters, too long, another
 *		layout, or a counter out of range.
 */
bool
kinesis_parse_seqnum(const char *s, KinesisSeqParts *parts)
{
	uint32		limbs[SEQ_LIMBS];
	char		hex[SEQ_HEX_DIGITS + 1];
	int			i;
	unsigned long long epoch,
				counter,
				seq_epoch;
	unsigned int nibble,
				index;

	if (s == NULL || *s == '\0' || strlen(s) > 129)
		return false;
	memset(limbs, 0, sizeof(limbs));
	for (; *s; s++)
	{
		uint64		carry;

		if (*s < '0' || *s > '9')
			return false;
		carry = (uint64) (*s - '0');
		for (i = 0; i < SEQ_LIMBS; i++)
		{
			uint64		cur = (uint64) limbs[i] * 10 + carry;

			limbs[i] = (uint32) cur;
			carry = cur >> 32;
		}
		if (carry != 0)
			return false;
	}

	/* must fit in exactly 47 hex digits */
	for (i = 0; i < SEQ_HEX_DIGITS; i++)
	{
		int			bit = (SEQ_HEX_DIGITS - 1 - i) * 4;
		uint32		d = (limbs[bit / 32] >> (bit % 32)) & 0xf;

		hex[i] = "0123456789abcdef"[d];
	}
	hex[SEQ_HEX_DIGITS] = '\0';
	if ((limbs[SEQ_LIMBS - 2] >> 28) != 0 || limbs[SEQ_LIMBS - 1] != 0)
		return false;

	if (hex[0] != '2' || hex[46] != '2' || hex[27] != '0' || hex[28] != '0')
		return false;
	if (sscanf(hex + 1, "%9llx%1x%16llx", &epoch, &nibble, &counter) != 3)
		return false;
	if (sscanf(hex + 29, "%9llx%8x", &seq_epoch, &index) != 2)
		return false;
	if (counter > (unsigned long long) KINESIS_MAX_COUNTER)
		return false;
	if ((index & 0xf) != nibble || index > (unsigned int) PG_INT32_MAX)
		return false;

	parts->shard_epoch = (int64) epoch;
	parts->shard_index = (int32) index;
	parts->counter = (int64) counter;
	parts->seq_epoch = (int64) seq_epoch;
	return true;
}

/*
 * kinesis.format_sequence_number(shard_epoch, shard_index, counter, seq_epoch)
 *		SQL access to the layout, used for shards' starting and ending
 *		sequence numbers and by tests.
 */
Datum
kinesis_format_sequence_number(PG_FUNCTION_ARGS)
{
	int64		counter = PG_GETARG_INT64(2);

	if (counter < 0)
		elog(ERROR, "sequence counter must not be negative");
	PG_RETURN_TEXT_P(cstring_to_text(kinesis_format_seqnum(PG_GETARG_INT64(0),
														   PG_GETARG_INT32(1),
														   counter,
														   PG_GETARG_INT64(3))));
}

/*
 * kinesis.parse_sequence_number(text)
 *		OUT shard_epoch, shard_index, counter, seq_epoch; NULL if the text is
 *		not a sequence number of this layout.
 */
Datum
kinesis_parse_sequence_number(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	KinesisSeqParts parts;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};
	char	   *s = text_to_cstring(PG_GETARG_TEXT_PP(0));

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	if (!kinesis_parse_seqnum(s, &parts))
		PG_RETURN_NULL();
	values[0] = Int64GetDatum(parts.shard_epoch);
	values[1] = Int32GetDatum(parts.shard_index);
	values[2] = Int64GetDatum(parts.counter);
	values[3] = Int64GetDatum(parts.seq_epoch);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc),
													  values, nulls)));
}
