/*-------------------------------------------------------------------------
 *
 * fuzz_hashkey.c
 *		libFuzzer target for src/hashkey.c: kinesis_parse_u128,
 *		kinesis_format_u128 and the MD5 routing kinesis_partition_key_hash.
 *
 * Properties checked:
 *	- parse(s) succeeds exactly for 1..39 decimal digits whose value fits
 *	  in 128 bits (oracle: byte-wise long arithmetic), with that value;
 *	- format(parse(s)) is s without leading zeros;
 *	- format(v) is canonical, at most 39 digits, matches the HashKey
 *	  pattern, equals the oracle's decimal, and parse(format(v)) == v;
 *	- partition_key_hash(key) is OpenSSL's MD5 of the key bytes read as a
 *	  big-endian 128-bit integer, for keys of any length and content.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <openssl/evp.h>

#include "kinesis.h"

#include "fuzz_util.h"
#include "shim.h"

static kinesis_u128
u128_from_be(const uint8 *be)
{
	kinesis_u128 v = 0;
	int			i;

	for (i = 0; i < 16; i++)
		v = (v << 8) | be[i];
	return v;
}

static void
be_from_u128(kinesis_u128 v, uint8 *be)
{
	int			i;

	for (i = 15; i >= 0; i--, v >>= 8)
		be[i] = (uint8) v;
}

static char *
hex128(kinesis_u128 v)
{
	return psprintf("%016llx%016llx", (unsigned long long) (v >> 64),
					(unsigned long long) (uint64) v);
}

static void
check_parse(const char *s)
{
	kinesis_u128 got = 0;
	uint8		be[32];
	bool		ok = kinesis_parse_u128(s, &got);
	bool		want_ok;
	int			i;

	/* 1..39 digits (leading zeros count) and the value below 2^128 */
	want_ok = strlen(s) <= 39 && oracle_all_digits(s) && oracle_be_from_dec(s, be, sizeof(be));
	if (want_ok)
		for (i = 0; i < 16; i++)
			if (be[i] != 0)
				want_ok = false;
	CHECK(ok == want_ok, "parse_u128(\"%s\") returned %d, oracle %d", s, ok, want_ok);
	shim_count(ok ? "parse_u128: accepted" : "parse_u128: rejected");
	if (!ok)
		return;
	CHECK(got == u128_from_be(be + 16), "parse_u128(\"%s\") = 0x%s, oracle 0x%s",
		  s, hex128(got), hex128(u128_from_be(be + 16)));
	{
		char	   *again = kinesis_format_u128(got);
		const char *canon = oracle_strip_zeros(s);

		CHECK(strcmp(again, canon) == 0, "format(parse(\"%s\")) = \"%s\"", s, again);
	}
}

static void
check_format(kinesis_u128 v)
{
	uint8		be[16];
	char	   *s = kinesis_format_u128(v);
	char	   *want;
	kinesis_u128 back = 0;
	char	   *padded;

	be_from_u128(v, be);
	want = oracle_dec_from_be(be, 16);
	CHECK(strcmp(s, want) == 0, "format_u128(0x%s) = \"%s\", oracle \"%s\"", hex128(v), s, want);
	CHECK(strlen(s) >= 1 && strlen(s) <= 39, "format_u128 gave %zu digits", strlen(s));
	CHECK(kinesis_match_decimal(s, 38), "format_u128 \"%s\" fails the HashKey pattern", s);
	CHECK(kinesis_parse_u128(s, &back) && back == v, "parse(format(0x%s)) failed", hex128(v));

	/* one leading zero is accepted only while the text stays within 39 digits */
	padded = psprintf("0%s", s);
	CHECK(kinesis_parse_u128(padded, &back) == (strlen(padded) <= 39),
		  "parse_u128(\"%s\") disagrees with the 39-digit limit", padded);
}

static void
check_md5(const uint8 *key, size_t len)
{
	uint8		md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	kinesis_u128 got = kinesis_partition_key_hash((const char *) key, (int) len);
	kinesis_u128 want;

	if (!EVP_Digest(key, len, md, &mdlen, EVP_md5(), NULL) || mdlen != 16)
		shim_fail(__FILE__, __LINE__, "EVP_Digest", "OpenSSL MD5 failed");
	want = u128_from_be(md);
	shim_count(len % 64 >= 56 ? "md5: two padding blocks" : "md5: one padding block");
	CHECK(got == want, "partition_key_hash of %zu bytes = 0x%s, MD5 0x%s",
		  len, hex128(got), hex128(want));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FuzzIn		in = {data, size};
	uint8		mode = fi_u8(&in);

	shim_begin();
	switch (mode % 4)
	{
		case 0:
			check_parse(fi_rest_str(&in));
			break;
		case 1:
			{
				uint8	   *be = fi_bytes(&in, 16);

				check_format(u128_from_be(be));
			}
			break;
		case 2:
			{
				/* the rest of the input is the key, in an exact-size buffer */
				size_t		len = in.n;
				uint8	   *key = fi_bytes(&in, len);

				check_md5(key, len);
			}
			break;
		case 3:
			{
				/* a value near a power of ten or of two, where carries happen */
				uint8		k = fi_u8(&in);
				int64		delta = (int8) fi_u8(&in);
				kinesis_u128 base = 1;
				int			i;

				if (k & 0x80)
					base = (kinesis_u128) 1 << (k & 0x7f);
				else
					for (i = 0; i < (k & 0x7f) % 39; i++)
						base *= 10;
				check_format(base + (kinesis_u128) delta);
				check_parse(kinesis_format_u128(base - 1));
			}
			break;
	}
	shim_end();
	return 0;
}
