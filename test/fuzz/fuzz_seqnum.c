/*-------------------------------------------------------------------------
 *
 * fuzz_seqnum.c
 *		libFuzzer target for src/seqnum.c: kinesis_parse_seqnum,
 *		kinesis_format_seqnum(_buf) and the incremental kinesis_seqfmt_next.
 *
 * Properties checked (the layout is the 47-hex-digit one in seqnum.c's
 * header comment, re-implemented here with byte-wise long arithmetic):
 *	- parse(s) succeeds exactly when the oracle says s is a sequence number
 *	  of this layout, and then yields the oracle's fields;
 *	- format(parse(s)) is s without leading zeros (canonical);
 *	- format(e, i, c, t) is the oracle's decimal for any inputs, and
 *	  parse(format(...)) gives the fields back (truncated to the layout's
 *	  widths) exactly when the counter and index are not negative;
 *	- numbers of one shard order as their counters do;
 *	- kinesis_seqfmt_next always equals kinesis_format_seqnum.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "kinesis.h"

#include "fuzz_util.h"
#include "shim.h"

#define MASK36		((UINT64CONST(1) << 36) - 1)
#define NIBBLES		48			/* 47 layout digits and a leading 0 */

static void
put_nibbles(uint8 *nib, int pos, uint64 v, int n)
{
	int			i;

	for (i = n - 1; i >= 0; i--, v >>= 4)
		nib[pos + i] = (uint8) (v & 15);
}

static uint64
get_nibbles(const uint8 *nib, int pos, int n)
{
	uint64		v = 0;
	int			i;

	for (i = 0; i < n; i++)
		v = (v << 4) | nib[pos + i];
	return v;
}

/* the decimal text of the layout for these fields */
static char *
oracle_format(int64 shard_epoch, int32 shard_index, int64 counter, int64 seq_epoch)
{
	uint8		nib[NIBBLES];
	uint8		be[NIBBLES / 2];
	int			i;

	/* nibble 0 is padding; layout digit k is nib[k + 1] */
	nib[0] = 0;
	nib[1] = 2;
	put_nibbles(nib, 2, (uint64) shard_epoch & MASK36, 9);
	nib[11] = (uint8) ((uint32) shard_index & 15);
	put_nibbles(nib, 12, (uint64) counter, 16);
	nib[28] = nib[29] = 0;
	put_nibbles(nib, 30, (uint64) seq_epoch & MASK36, 9);
	put_nibbles(nib, 39, (uint32) shard_index, 8);
	nib[47] = 2;
	for (i = 0; i < NIBBLES / 2; i++)
		be[i] = (uint8) ((nib[2 * i] << 4) | nib[2 * i + 1]);
	return oracle_dec_from_be(be, NIBBLES / 2);
}

/* what parse must make of s */
static bool
oracle_parse(const char *s, KinesisSeqParts *parts)
{
	uint8		be[64];
	uint8		nib[NIBBLES];
	uint64		counter,
				index;
	int			i;

	if (strlen(s) > 129 || !oracle_all_digits(s))
		return false;
	if (!oracle_be_from_dec(s, be, sizeof(be)))
		return false;			/* cannot happen for <= 129 digits */
	/* at most 47 hex digits: the top 40 bytes and one nibble are zero */
	for (i = 0; i < 64 - NIBBLES / 2; i++)
		if (be[i] != 0)
			return false;
	for (i = 0; i < NIBBLES / 2; i++)
	{
		nib[2 * i] = be[64 - NIBBLES / 2 + i] >> 4;
		nib[2 * i + 1] = be[64 - NIBBLES / 2 + i] & 15;
	}
	if (nib[0] != 0 || nib[1] != 2 || nib[47] != 2 || nib[28] != 0 || nib[29] != 0)
		return false;
	counter = get_nibbles(nib, 12, 16);
	index = get_nibbles(nib, 39, 8);
	if (counter > (uint64) PG_INT64_MAX || index > (uint64) PG_INT32_MAX)
		return false;
	if ((index & 15) != nib[11])
		return false;
	parts->shard_epoch = (int64) get_nibbles(nib, 2, 9);
	parts->shard_index = (int32) index;
	parts->counter = (int64) counter;
	parts->seq_epoch = (int64) get_nibbles(nib, 30, 9);
	return true;
}

static bool
parts_equal(const KinesisSeqParts *a, const KinesisSeqParts *b)
{
	return a->shard_epoch == b->shard_epoch && a->shard_index == b->shard_index &&
		a->counter == b->counter && a->seq_epoch == b->seq_epoch;
}

#define PARTS_FMT "(epoch " INT64_FORMAT ", index %d, counter " INT64_FORMAT ", seq_epoch " INT64_FORMAT ")"
#define PARTS_ARGS(p) (p).shard_epoch, (p).shard_index, (p).counter, (p).seq_epoch

/* parse s and compare with the oracle; then the canonical round trip */
static void
check_parse(const char *s)
{
	KinesisSeqParts got,
				want;
	bool		ok,
				want_ok;

	memset(&got, 0x5a, sizeof(got));
	ok = kinesis_parse_seqnum(s, &got);
	want_ok = oracle_parse(s, &want);
	CHECK(ok == want_ok, "parse(\"%s\") returned %d, oracle says %d", s, ok, want_ok);
	shim_count(ok ? "parse: accepted" : "parse: rejected");
	if (!ok)
		return;
	CHECK(parts_equal(&got, &want), "parse(\"%s\") = " PARTS_FMT ", oracle " PARTS_FMT,
		  s, PARTS_ARGS(got), PARTS_ARGS(want));
	{
		char	   *again = kinesis_format_seqnum(got.shard_epoch, got.shard_index,
												  got.counter, got.seq_epoch);
		const char *canon = oracle_strip_zeros(s);

		CHECK(strcmp(again, canon) == 0, "format(parse(\"%s\")) = \"%s\", want \"%s\"",
			  s, again, canon);
		CHECK(kinesis_match_decimal(again, 128), "\"%s\" fails the SequenceNumber pattern", again);
	}
}

/* format arbitrary fields; compare with the oracle; parse back */
static void
check_format(int64 e, int32 i, int64 c, int64 t)
{
	char		buf[64];
	char	   *got = kinesis_format_seqnum(e, i, c, t);
	char	   *got_buf = kinesis_format_seqnum_buf(buf, e, i, c, t);
	char	   *want = oracle_format(e, i, c, t);
	KinesisSeqParts parts;
	bool		ok;

	CHECK(strcmp(got, want) == 0, "format" PARTS_FMT " = \"%s\", oracle \"%s\"", e, i, c, t, got, want);
	CHECK(got_buf >= buf && got_buf + strlen(got_buf) == buf + 63,
		  "format_seqnum_buf digits not ending at buf[62]");
	CHECK(strcmp(got_buf, got) == 0, "format_seqnum_buf \"%s\" != format_seqnum \"%s\"", got_buf, got);

	ok = kinesis_parse_seqnum(got, &parts);
	CHECK(ok == (c >= 0 && i >= 0), "parse(format" PARTS_FMT ") returned %d", e, i, c, t, ok);
	if (ok)
		CHECK(parts.shard_epoch == (int64) ((uint64) e & MASK36) && parts.shard_index == i &&
			  parts.counter == c && parts.seq_epoch == (int64) ((uint64) t & MASK36),
			  "parse(format" PARTS_FMT ") = " PARTS_FMT, e, i, c, t, PARTS_ARGS(parts));
}

/* within a shard, numbers compare as their counters do, whatever the put time */
static void
check_order(int64 e, int32 i, int64 c1, int64 t1, int64 c2, int64 t2)
{
	const char *a = kinesis_format_seqnum(e, i, c1, t1);
	const char *b = kinesis_format_seqnum(e, i, c2, t2);
	int			cmp = oracle_dec_cmp(a, b);

	if (c1 < c2)
		CHECK(cmp < 0, "counter " INT64_FORMAT " < " INT64_FORMAT " but \"%s\" >= \"%s\"", c1, c2, a, b);
	else if (c1 > c2)
		CHECK(cmp > 0, "counter " INT64_FORMAT " > " INT64_FORMAT " but \"%s\" <= \"%s\"", c1, c2, a, b);
}

/* a valid sequence number's text, then byte edits on it */
static char *
near_valid(FuzzIn *in)
{
	int64		e = (int64) (fi_u64(in) & MASK36);
	int32		i = (int32) (fi_u32(in) & 0x7fffffff);
	int64		c = (int64) (fi_u64(in) & PG_INT64_MAX);
	int64		t = (int64) (fi_u64(in) & MASK36);
	char	   *s = oracle_format(e, i, c, t);
	int			nedits = fi_u8(in) % 4;
	char	   *buf = palloc(200);

	strlcpy(buf, s, 200);
	while (nedits-- > 0)
	{
		int			len = strlen(buf);
		int			op = fi_u8(in) % 5;
		int			pos = len > 0 ? fi_u8(in) % len : 0;
		char		ch = (char) fi_u8(in);

		switch (op)
		{
			case 0:				/* replace a digit by a digit */
				if (len > 0)
					buf[pos] = '0' + (uint8) ch % 10;
				break;
			case 1:				/* replace by any byte */
				if (len > 0 && ch != '\0')
					buf[pos] = ch;
				break;
			case 2:				/* delete */
				if (len > 0)
					memmove(buf + pos, buf + pos + 1, len - pos);
				break;
			case 3:				/* leading zeros */
				if (len + 80 < 200)
				{
					int			k = (uint8) ch % 80;

					memmove(buf + k, buf, len + 1);
					memset(buf, '0', k);
				}
				break;
			case 4:				/* insert a digit */
				if (len + 1 < 200)
				{
					memmove(buf + pos + 1, buf + pos, len - pos + 1);
					buf[pos] = '0' + (uint8) ch % 10;
				}
				break;
		}
	}
	return buf;
}

/* kinesis_seqfmt_next against the plain formatter over a walk of counters */
static void
check_formatter(FuzzIn *in)
{
	KinesisSeqFormatter f;
	int64		e = (int64) fi_u64(in);
	int32		i = (int32) fi_u32(in);
	int64		c = (int64) (fi_u64(in) & PG_INT64_MAX);
	int64		t = (int64) fi_u64(in);
	int			steps = 0;

	memset(&f, 0, sizeof(f));
	while (in->n > 0 && steps++ < 256)
	{
		uint8		op = fi_u8(in);
		char	   *fast,
				   *slow;

		switch (op % 10)
		{
			case 0:
			case 1:
			case 2:
			case 3:
			case 4:
				if (c < PG_INT64_MAX)
					c++;
				break;
			case 5:
				c = (int64) (fi_u64(in) & PG_INT64_MAX);
				break;
			case 6:
				c = PG_INT64_MAX - fi_u8(in);	/* near the largest counter */
				break;
			case 7:
				t = (int64) fi_u64(in);
				break;
			case 8:
				e = (int64) fi_u64(in);
				break;
			case 9:
				i = (int32) fi_u32(in);
				break;
		}
		shim_count(f.valid && (uint64) c == (uint64) f.counter + 1 && t == f.seq_epoch && e == f.shard_epoch &&
				   i == f.shard_index ? "formatter: incremental step" : "formatter: full format");
		fast = kinesis_seqfmt_next(&f, e, i, c, t);
		slow = kinesis_format_seqnum(e, i, c, t);
		CHECK(fast >= f.buf && fast < f.buf + sizeof(f.buf) && f.buf[63] == '\0',
			  "seqfmt_next result outside its buffer");
		CHECK(strcmp(fast, slow) == 0, "seqfmt_next" PARTS_FMT " = \"%s\", format_seqnum \"%s\" (step %d)",
			  e, i, c, t, fast, slow, steps);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FuzzIn		in = {data, size};
	uint8		mode = fi_u8(&in);

	shim_begin();
	switch (mode % 5)
	{
		case 0:
			check_parse(fi_rest_str(&in));
			break;
		case 1:
			check_parse(near_valid(&in));
			break;
		case 2:
			{
				int64		e = (int64) fi_u64(&in);
				int32		i = (int32) fi_u32(&in);
				int64		c = (int64) fi_u64(&in);
				int64		t = (int64) fi_u64(&in);

				check_format(e, i, c, t);
			}
			break;
		case 3:
			{
				int64		e = (int64) fi_u64(&in);
				int32		i = (int32) fi_u32(&in);
				int64		c1 = (int64) (fi_u64(&in) & PG_INT64_MAX);
				int64		t1 = (int64) fi_u64(&in);
				int64		c2 = (int64) (fi_u64(&in) & PG_INT64_MAX);
				int64		t2 = (int64) fi_u64(&in);

				check_order(e, i, c1, t1, c2, t2);
				check_format(e, i, c1, t1);
			}
			break;
		case 4:
			check_formatter(&in);
			break;
	}
	shim_end();
	return 0;
}
