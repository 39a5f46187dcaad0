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
 * set_bits
 *		OR the low nbits of value into the limbs at bit position pos.
 */
static inline void
set_bits(uint32 *limbs, uint64 value, int pos, int nbits)
{
	if (nbits < 64)
		value &= (UINT64CONST(1) << nbits) - 1;
	while (nbits > 0)
	{
		int			limb = pos / 32;
		int			off = pos % 32;
		int			take = Min(32 - off, nbits);

		limbs[limb] |= (uint32) ((value & ((UINT64CONST(1) << take) - 1)) << off);
		value >>= take;
		pos += take;
		nbits -= take;
	}
}

/*
 * kinesis_format_seqnum
 *		The decimal sequence number for a record, palloc'd.
 */
char *
kinesis_format_seqnum(int64 shard_epoch, int32 shard_index, int64 counter,
					  int64 seq_epoch)
{
	char		buf[64];

	return pstrdup(kinesis_format_seqnum_buf(buf, shard_epoch, shard_index,
											 counter, seq_epoch));
}

/*
 * kinesis_format_seqnum_buf
 *		As kinesis_format_seqnum, into a caller's buffer of at least 64
 *		bytes; returns the start of the digits within it (no allocation, for
 *		the get_records loop).
 */
char *
kinesis_format_seqnum_buf(char *out, int64 shard_epoch, int32 shard_index,
						  int64 counter, int64 seq_epoch)
{
	uint32		limbs[SEQ_LIMBS];
	char	   *dec = out;
	int			pos = 63;
	int			i;
	int			top;
	bool		nonzero;

	/* the fields straight into little-endian 32-bit limbs (see the layout) */
	memset(limbs, 0, sizeof(limbs));
	set_bits(limbs, 2, 184, 4);
	set_bits(limbs, (uint64) shard_epoch, 148, 36);
	set_bits(limbs, (uint64) shard_index & 0xf, 144, 4);
	set_bits(limbs, (uint64) counter, 80, 64);
	set_bits(limbs, (uint64) seq_epoch, 36, 36);
	set_bits(limbs, (uint64) (uint32) shard_index, 4, 32);
	set_bits(limbs, 2, 0, 4);

	/*
	 * Repeated division by 10^9: each pass yields nine decimal digits, so a
	 * 188-bit value takes seven passes (this runs for every record that
	 * get_records returns).
	 */
	dec[pos] = '\0';
	top = SEQ_LIMBS - 1;
	for (;;)
	{
		uint64		rem = 0;
		int			d;

		while (top > 0 && limbs[top] == 0)
			top--;
		for (i = top; i >= 0; i--)
		{
			uint64		cur = (rem << 32) | limbs[i];

			limbs[i] = (uint32) (cur / 1000000000);
			rem = cur % 1000000000;
		}
		nonzero = (top > 0 || limbs[0] != 0);
		for (d = 0; d < 9 && (nonzero || rem != 0); d++)
		{
			dec[--pos] = '0' + (int) (rem % 10);
			rem /= 10;
		}
		if (!nonzero)
			break;
		/* a middle chunk keeps its leading zeros */
		for (; d < 9; d++)
			dec[--pos] = '0';
	}
	if (dec[pos] == '\0')
		dec[--pos] = '0';

	return dec + pos;
}

/*
 * kinesis_seqfmt_next
 *		Format a run of sequence numbers cheaply: when the counter is one
 *		more than the previous call's and everything else is unchanged (the
 *		common case while get_records walks a shard), the new number is the
 *		previous one plus 2^80 (the counter's place in the layout), added in
 *		decimal instead of converting 188 bits again.  The result points into
 *		f and is valid until the next call.
 */
char *
kinesis_seqfmt_next(KinesisSeqFormatter *f, int64 shard_epoch, int32 shard_index,
					int64 counter, int64 seq_epoch)
{
	static const char two_pow_80[] = "1208925819614629174706176";
	const int	addlen = sizeof(two_pow_80) - 1;

	if (f->valid && counter == f->counter + 1 && seq_epoch == f->seq_epoch &&
		shard_epoch == f->shard_epoch && shard_index == f->shard_index)
	{
		char	   *d = f->buf + sizeof(f->buf) - 2;	/* last digit */
		const char *a = two_pow_80 + addlen - 1;
		int			carry = 0;
		int			i;

		/* the number always has more digits than 2^80 (it holds the epoch) */
		Assert(d - (f->buf + f->start) >= addlen);
		for (i = 0; i < addlen; i++, d--, a--)
		{
			int			v = (*d - '0') + (*a - '0') + carry;

			carry = v >= 10;
			*d = '0' + v - (carry ? 10 : 0);
		}
		for (; carry; d--)
		{
			if (d < f->buf + f->start)
			{
				*d = '1';
				f->start--;
				break;
			}
			carry = *d == '9';
			*d = carry ? '0' : *d + 1;
		}
	}
	else
	{
		char	   *digits = kinesis_format_seqnum_buf(f->buf, shard_epoch, shard_index,
													   counter, seq_epoch);

		f->start = digits - f->buf;
		f->shard_epoch = shard_epoch;
		f->shard_index = shard_index;
		f->seq_epoch = seq_epoch;
		f->valid = true;
	}
	f->counter = counter;
	return f->buf + f->start;
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
	int64		shard_epoch = PG_GETARG_INT64(0);
	int32		shard_index = PG_GETARG_INT32(1);
	int64		counter = PG_GETARG_INT64(2);
	int64		seq_epoch = PG_GETARG_INT64(3);
	const int64 max_epoch = (INT64CONST(1) << 36) - 1;

	/* each field must fit its place in the layout, or it would wrap */
	if (shard_epoch < 0 || shard_epoch > max_epoch)
		kinesis_raise(KX_INVALID_ARGUMENT, "shard_epoch must be between 0 and %lld, got %lld.",
					  (long long) max_epoch, (long long) shard_epoch);
	if (shard_index < 0)
		kinesis_raise(KX_INVALID_ARGUMENT, "shard_index must not be negative, got %d.", shard_index);
	if (counter < 0)
		kinesis_raise(KX_INVALID_ARGUMENT, "counter must not be negative, got %lld.",
					  (long long) counter);
	if (seq_epoch < 0 || seq_epoch > max_epoch)
		kinesis_raise(KX_INVALID_ARGUMENT, "seq_epoch must be between 0 and %lld, got %lld.",
					  (long long) max_epoch, (long long) seq_epoch);
	PG_RETURN_TEXT_P(cstring_to_text(kinesis_format_seqnum(shard_epoch, shard_index, counter,
														   seq_epoch)));
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
