/*-------------------------------------------------------------------------
 *
 * fuzz_shardid.c
 *		libFuzzer target for kinesis_parse_shard_id and kinesis_shard_id
 *		(src/shardmap.c, linked whole; the SPI and cache parts of that file
 *		are stubs in shim.c that abort if reached).
 *
 * Properties checked:
 *	- parse(s) follows the documented loose rule exactly: whatever precedes
 *	  the first '-' is ignored, then 1..20 digits up to the end or the
 *	  next '-', with a value <= INT32_MAX;
 *	- the canonical id of a parsed index, "shardId-" and 12 digits,
 *	  parses back to the same index and is a valid name;
 *	- shard_id(i) parses back to i for every i >= 0 and is refused for
 *	  i < 0.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "kinesis.h"

#include "fuzz_util.h"
#include "shim.h"

static bool
oracle_parse(const char *s, int32 *idx)
{
	const char *dash = strchr(s, '-');
	const char *start;
	const char *digits;
	size_t		n;

	if (dash == NULL)
		return false;
	start = dash + 1;
	n = strcspn(start, "-");
	if (n == 0 || n > 20)
		return false;
	{
		char	   *run = pnstrdup(start, n);

		if (!oracle_all_digits(run))
			return false;
		digits = oracle_strip_zeros(run);
		if (oracle_dec_cmp(digits, "2147483647") > 0)
			return false;
		*idx = (int32) strtol(digits, NULL, 10);
	}
	return true;
}

/* "shardId-" and the index as printf's %012d writes it: width 12, zero-filled after the sign */
static char *
oracle_shard_id(int32 idx)
{
	char		digits[16];
	int64		mag = idx < 0 ? -(int64) idx : idx;
	int			len = 0,
				width = idx < 0 ? 11 : 12,
				pad,
				i;
	char	   *out;
	char	   *p;

	do
	{
		digits[len++] = '0' + mag % 10;
		mag /= 10;
	} while (mag > 0);
	pad = len < width ? width - len : 0;
	out = palloc(8 + 1 + pad + len + 1);
	p = out;
	memcpy(p, "shardId-", 8);
	p += 8;
	if (idx < 0)
		*p++ = '-';
	memset(p, '0', pad);
	p += pad;
	for (i = len - 1; i >= 0; i--)
		*p++ = digits[i];
	*p = '\0';
	return out;
}

static void
check_parse(const char *s)
{
	int32		got = -12345,
				want = 0;
	bool		ok = kinesis_parse_shard_id(s, &got);
	bool		want_ok = oracle_parse(s, &want);

	CHECK(ok == want_ok, "parse_shard_id(\"%s\") returned %d, oracle %d", s, ok, want_ok);
	shim_count(ok ? "parse_shard_id: accepted" : "parse_shard_id: rejected");
	if (!ok)
	{
		CHECK(got == -12345, "parse_shard_id(\"%s\") wrote its result although it failed", s);
		return;
	}
	CHECK(got == want, "parse_shard_id(\"%s\") = %d, oracle %d", s, got, want);
	CHECK(got >= 0, "parse_shard_id(\"%s\") gave a negative index", s);
	{
		char	   *canon = kinesis_shard_id(got);
		int32		again = -1;

		CHECK(strcmp(canon, oracle_shard_id(got)) == 0, "shard_id(%d) = \"%s\"", got, canon);
		CHECK(kinesis_parse_shard_id(canon, &again) && again == got,
			  "shard_id(%d) = \"%s\" does not parse back", got, canon);
		CHECK(kinesis_match_name(canon), "shard_id(%d) = \"%s\" is not a valid name", got, canon);
	}
}

static void
check_format(int32 idx)
{
	char	   *s = kinesis_shard_id(idx);
	int32		back = -12345;
	bool		ok = kinesis_parse_shard_id(s, &back);

	CHECK(strcmp(s, oracle_shard_id(idx)) == 0, "shard_id(%d) = \"%s\"", idx, s);
	if (idx >= 0)
	{
		CHECK(ok && back == idx, "shard_id(%d) = \"%s\" parses to %d (ok %d)", idx, s, back, ok);
		CHECK(strlen(s) == 20, "shard_id(%d) = \"%s\" is not 20 characters", idx, s);
		CHECK(kinesis_match_name(s), "shard_id(%d) = \"%s\" is not a valid name", idx, s);
	}
	else
		CHECK(!ok, "shard_id(%d) = \"%s\" parses (to %d)", idx, s, back);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FuzzIn		in = {data, size};
	uint8		mode = fi_u8(&in);

	shim_begin();
	switch (mode % 3)
	{
		case 0:
			check_parse(fi_rest_str(&in));
			break;
		case 1:
			check_format((int32) fi_u32(&in));
			break;
		case 2:
			{
				/* prefix '-' digits [ '-' suffix ], the shapes AWS accepts */
				char	   *prefix = fi_str(&in, 16, NULL);
				int			ndigits = fi_u8(&in) % 24;
				uint64		v = fi_u64(&in);
				char	   *suffix = fi_str(&in, 16, NULL);
				uint8		flags = fi_u8(&in);
				char		digits[32];
				int			i;

				for (i = ndigits - 1; i >= 0; i--, v /= 10)
					digits[i] = '0' + v % 10;
				digits[ndigits] = '\0';
				check_parse(psprintf("%s-%s%s%s", prefix, digits,
									 (flags & 1) ? "-" : "", (flags & 2) ? suffix : ""));
			}
			break;
	}
	shim_end();
	return 0;
}
