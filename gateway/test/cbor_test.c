/*-------------------------------------------------------------------------
 *
 * cbor_test.c
 *		Unit tests of gateway/cbor.c: requests as the AWS Java SDK v2
 *		encodes them, responses as the database writes them, every
 *		encoding variant the decoder must accept and every malformation it
 *		must refuse.  Prints "ok N - ..." / "not ok N - ..." per check and
 *		"N passed, N failed" at the end; exits 1 if any failed.
 *
 *		make -C gateway/test check
 * or:	cc -std=gnu11 -Wall -Wextra -Werror -O2 -I.. cbor_test.c ../cbor.c -ljansson -lm -o cbor_test && ./cbor_test
 *
 * gateway/test/cbor_test.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbor.h"

static int	npassed = 0;
static int	nfailed = 0;

static void
report(bool ok, const char *fmt,...)
{
	va_list		ap;

	printf("%s %d - ", ok ? "ok" : "not ok", npassed + nfailed + 1);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (ok)
		npassed++;
	else
		nfailed++;
}

/* ------------------------------------------------------------------------
 * a small CBOR builder for the inputs (written independently of cbor.c)
 * ------------------------------------------------------------------------
 */
typedef struct Bytes
{
	unsigned char *p;
	size_t		n;
	size_t		cap;
} Bytes;

static void
b_add(Bytes *b, const void *p, size_t n)
{
	if (b->n + n > b->cap)
	{
		b->cap = (b->n + n) * 2 + 64;
		b->p = realloc(b->p, b->cap);
		if (b->p == NULL)
			abort();
	}
	memcpy(b->p + b->n, p, n);
	b->n += n;
}

/* empty b, freeing nothing: its bytes were handed to a check, which frees them */
static void
b_reset(Bytes *b)
{
	b->p = NULL;
	b->n = 0;
	b->cap = 0;
}

/* raw bytes from hex, spaces ignored */
static void
X(Bytes *b, const char *hex)
{
	while (*hex)
	{
		unsigned	v;
		unsigned char c;

		if (*hex == ' ')
		{
			hex++;
			continue;
		}
		if (sscanf(hex, "%2x", &v) != 1)
			abort();
		c = (unsigned char) v;
		b_add(b, &c, 1);
		hex += 2;
	}
}

/* a head with the argument in its shortest form */
static void
H(Bytes *b, int major, unsigned long long v)
{
	unsigned char h[9];
	int			n = 0;
	int			i;

	if (v < 24)
		h[0] = (unsigned char) (major << 5 | (int) v);
	else
	{
		n = v < 0x100 ? 1 : v < 0x10000 ? 2 : v < 0x100000000ULL ? 4 : 8;
		h[0] = (unsigned char) (major << 5 | (n == 1 ? 24 : n == 2 ? 25 : n == 4 ? 26 : 27));
		for (i = 0; i < n; i++)
			h[n - i] = (unsigned char) (v >> (8 * i));
	}
	b_add(b, h, (size_t) n + 1);
}

/* a definite text string */
static void
T(Bytes *b, const char *s)
{
	H(b, 3, strlen(s));
	b_add(b, s, strlen(s));
}

static Bytes
hex(const char *h)
{
	Bytes		b = {0};

	X(&b, h);
	return b;
}

/* ------------------------------------------------------------------------
 * checks
 * ------------------------------------------------------------------------
 */

/* the canonical JSON of every accepted input, for the round trips at the end */
static char *accepted[512];
static int	naccepted = 0;

/* the input decodes to exactly want */
static void
c2j_is(const char *name, Bytes in, const char *want)
{
	char	   *json = NULL;
	size_t		len = 0;
	char		err[200] = "";
	int			rc = kgw_cbor_to_json(in.p, in.n, &json, &len, err, sizeof(err));
	bool		ok = rc == 0 && json && strlen(json) == len && strcmp(json, want) == 0;

	report(ok, "c2j %s", name);
	if (!ok)
		printf("#   want %s\n#   got  %s (rc %d, %s)\n", want, json ? json : "NULL", rc, err);
	if (rc == 0 && naccepted < 512)
		accepted[naccepted++] = json;
	else
		free(json);
	free(in.p);
}

/* the input is refused, with a reason that contains want_err */
static void
c2j_bad(const char *name, Bytes in, const char *want_err)
{
	char	   *json = (char *) 1;
	size_t		len = 0;
	char		err[200] = "";
	int			rc = kgw_cbor_to_json(in.p, in.n, &json, &len, err, sizeof(err));
	bool		ok = rc == -1 && json == NULL && strstr(err, want_err) != NULL;

	report(ok, "c2j refuses %s", name);
	if (!ok)
		printf("#   want error \"%s\"\n#   got  rc %d \"%s\" %s\n", want_err, rc, err,
			   rc == 0 ? json : "");
	if (rc == 0)
		free(json);
	free(in.p);
}

/* JSON -> CBOR gives exactly the bytes want (hex) */
static void
j2c_is(const char *name, const char *json, Bytes want)
{
	unsigned char *out = NULL;
	size_t		len = 0;
	char		err[200] = "";
	int			rc = kgw_json_to_cbor(json, strlen(json), &out, &len, err, sizeof(err));
	bool		ok = rc == 0 && len == want.n && memcmp(out, want.p, len) == 0;
	size_t		i;

	report(ok, "j2c %s", name);
	if (!ok)
	{
		printf("#   want ");
		for (i = 0; i < want.n; i++)
			printf("%02x", want.p[i]);
		printf("\n#   got  ");
		for (i = 0; rc == 0 && i < len; i++)
			printf("%02x", out[i]);
		printf(" (rc %d, %s)\n", rc, err);
	}
	free(out);
	free(want.p);
}

static void
j2c_bad(const char *name, const char *json, const char *want_err)
{
	unsigned char *out = (unsigned char *) 1;
	size_t		len = 0;
	char		err[200] = "";
	int			rc = kgw_json_to_cbor(json, strlen(json), &out, &len, err, sizeof(err));
	bool		ok = rc == -1 && out == NULL && strstr(err, want_err) != NULL;

	report(ok, "j2c refuses %s", name);
	if (!ok)
		printf("#   want error \"%s\"\n#   got  rc %d \"%s\"\n", want_err, rc, err);
	if (rc == 0)
		free(out);
}

/* JSON -> CBOR -> JSON is byte-identical; returns the CBOR (caller frees) */
static unsigned char *
roundtrip(const char *name, const char *json, size_t *cbor_len)
{
	unsigned char *cbor = NULL;
	char	   *back = NULL;
	size_t		clen = 0,
				blen = 0;
	char		err[200] = "";
	bool		ok = kgw_json_to_cbor(json, strlen(json), &cbor, &clen, err, sizeof(err)) == 0 &&
		kgw_cbor_to_json(cbor, clen, &back, &blen, err, sizeof(err)) == 0 &&
		strcmp(back, json) == 0;

	report(ok, "round trip %s", name);
	if (!ok)
		printf("#   want %s\n#   got  %s (%s)\n", json, back ? back : "NULL", err);
	free(back);
	if (cbor_len)
		*cbor_len = clen;
	return cbor;
}

/* ------------------------------------------------------------------------
 * the tests
 * ------------------------------------------------------------------------
 */
static void
test_requests(void)
{
	Bytes		b = {0};

	/* PutRecord as the Java SDK v2 writes it (Jackson CBOR, indefinite map) */
	c2j_is("PutRecord from the Java SDK v2",
		   hex("bf"
			   "6a 53747265616d4e616d65"	/* "StreamName" */
			   "68 6d7973747265616d"	/* "mystream" */
			   "64 44617461"	/* "Data" */
			   "45 68656c6c6f"	/* h'68656c6c6f' ("hello") */
			   "6c 506172746974696f6e4b6579"	/* "PartitionKey" */
			   "63 706b31"		/* "pk1" */
			   "ff"),
		   "{\"StreamName\":\"mystream\",\"Data\":\"aGVsbG8=\",\"PartitionKey\":\"pk1\"}");

	/* the same with a definite-length map */
	X(&b, "a3");
	T(&b, "StreamName");
	T(&b, "mystream");
	T(&b, "Data");
	X(&b, "45 68656c6c6f");
	T(&b, "PartitionKey");
	T(&b, "pk1");
	c2j_is("PutRecord, definite-length map", b,
		   "{\"StreamName\":\"mystream\",\"Data\":\"aGVsbG8=\",\"PartitionKey\":\"pk1\"}");

	/* GetShardIterator AT_TIMESTAMP: tag 1, 8-byte integer milliseconds */
	b_reset(&b);
	X(&b, "bf");
	T(&b, "StreamName");
	T(&b, "mystream");
	T(&b, "ShardId");
	T(&b, "shardId-000000000000");
	T(&b, "ShardIteratorType");
	T(&b, "AT_TIMESTAMP");
	T(&b, "Timestamp");
	X(&b, "c1 1b 0000018bcfe5687b");	/* 1700000000123 ms */
	X(&b, "ff");
	c2j_is("GetShardIterator with a tag 1 Timestamp", b,
		   "{\"StreamName\":\"mystream\",\"ShardId\":\"shardId-000000000000\","
		   "\"ShardIteratorType\":\"AT_TIMESTAMP\",\"Timestamp\":1700000000.123}");

	/* PutRecords: an array of entries, each with a blob */
	b_reset(&b);
	X(&b, "bf");
	T(&b, "Records");
	X(&b, "9f bf");
	T(&b, "Data");
	X(&b, "40");				/* empty blob */
	T(&b, "PartitionKey");
	T(&b, "a");
	X(&b, "ff bf");
	T(&b, "Data");
	X(&b, "43 fffefd");
	T(&b, "PartitionKey");
	T(&b, "b");
	T(&b, "ExplicitHashKey");
	T(&b, "340282366920938463463374607431768211455");
	X(&b, "ff ff");
	T(&b, "StreamName");
	T(&b, "s");
	X(&b, "ff");
	c2j_is("PutRecords", b,
		   "{\"Records\":[{\"Data\":\"\",\"PartitionKey\":\"a\"},{\"Data\":\"//79\",\"PartitionKey\":\"b\","
		   "\"ExplicitHashKey\":\"340282366920938463463374607431768211455\"}],\"StreamName\":\"s\"}");

	/* SubscribeToShard's StartingPosition.Timestamp, nested */
	b_reset(&b);
	X(&b, "a2");
	T(&b, "ConsumerARN");
	T(&b, "arn");
	T(&b, "StartingPosition");
	X(&b, "a2");
	T(&b, "Type");
	T(&b, "AT_TIMESTAMP");
	T(&b, "Timestamp");
	X(&b, "c1 1b 0000018bcfe56800");	/* 1700000000000 ms */
	c2j_is("nested StartingPosition.Timestamp, whole seconds", b,
		   "{\"ConsumerARN\":\"arn\",\"StartingPosition\":{\"Type\":\"AT_TIMESTAMP\",\"Timestamp\":1700000000}}");

	c2j_is("empty request map", hex("bf ff"), "{}");
	c2j_is("empty definite map", hex("a0"), "{}");
}

static void
test_timestamps(void)
{
	c2j_is("tag 1: 120 ms prints as .12", hex("c1 1b 0000018bcfe56878"), "1700000000.12");
	c2j_is("tag 1: 4-byte integer", hex("c1 1a 000003e9"), "1.001");
	c2j_is("tag 1: zero", hex("c1 00"), "0");
	c2j_is("tag 1: -1 ms", hex("c1 20"), "-0.001");
	c2j_is("tag 1: -1500 ms", hex("c1 39 05db"), "-1.5");
	c2j_is("tag 1: a double is milliseconds", hex("c1 fb 4278bcfe5687b000"), "1700000000.123");
	c2j_is("tag 1: a float is rounded to the ms", hex("c1 f9 3e00"), "0.002");	/* 1.5 ms */
	c2j_is("tag 1: half float", hex("c1 f9 3c00"), "0.001");
	c2j_is("tag 1: largest (8.64e15 ms)", hex("c1 1b 001eb208c2dc0000"), "8640000000000");
	c2j_is("tag 1: smallest (-8.64e15 ms)", hex("c1 3b 001eb208c2dbffff"), "-8640000000000");
	c2j_is("tag 1 outside a timestamp member is still seconds",
		   hex("a1 63 466f6f c1 19 03e8"), "{\"Foo\":1}");
	c2j_is("untagged integer at a timestamp member is seconds",
		   hex("a1 69 54696d657374616d70 1a 6553f100"), "{\"Timestamp\":1700000000}");
	c2j_is("untagged double at a timestamp member is seconds, to the ms",
		   hex("a1 69 54696d657374616d70 fb 3ff8000000000000"), "{\"Timestamp\":1.5}");
	c2j_is("untagged 1.0 at a timestamp member",
		   hex("a1 69 54696d657374616d70 f9 3c00"), "{\"Timestamp\":1}");
	c2j_is("string at a timestamp member passes through",
		   hex("a1 69 54696d657374616d70 64 32303234"), "{\"Timestamp\":\"2024\"}");
	c2j_is("null at a timestamp member passes through",
		   hex("a1 69 54696d657374616d70 f6"), "{\"Timestamp\":null}");
	c2j_bad("tag 1 holding a string", hex("c1 61 31"), "tag 1");
	c2j_bad("tag 1 holding an array", hex("c1 80"), "tag 1");
	c2j_bad("tag 1 beyond 8.64e15 ms", hex("c1 1b 001eb208c2dc0001"), "timestamp out of range");
	c2j_bad("tag 1 below -8.64e15 ms", hex("c1 3b 001eb208c2dc0000"), "timestamp out of range");
	c2j_bad("tag 1 with a huge integer", hex("c1 1b ffffffffffffffff"), "timestamp out of range");
	c2j_bad("tag 1 with NaN", hex("c1 f9 7e00"), "timestamp out of range");
	c2j_bad("tag 1 with infinity", hex("c1 fa 7f800000"), "timestamp out of range");
	c2j_bad("tag 1 with nothing after it", hex("c1"), "unexpected end");
	c2j_bad("untagged seconds beyond the range",
			hex("a1 69 54696d657374616d70 1b 000007dba8218001"), "timestamp out of range");
	c2j_bad("untagged double seconds beyond the range",
			hex("a1 69 54696d657374616d70 fb 7e37e43c8800759c"), "timestamp out of range");
}

static void
test_numbers(void)
{
	c2j_is("int 0", hex("00"), "0");
	c2j_is("int 23", hex("17"), "23");
	c2j_is("int 24 (1 byte)", hex("18 18"), "24");
	c2j_is("int 255", hex("18 ff"), "255");
	c2j_is("int 256 (2 bytes)", hex("19 0100"), "256");
	c2j_is("int 65536 (4 bytes)", hex("1a 00010000"), "65536");
	c2j_is("int 2^32 (8 bytes)", hex("1b 0000000100000000"), "4294967296");
	c2j_is("int INT64_MAX", hex("1b 7fffffffffffffff"), "9223372036854775807");
	c2j_is("int, non-shortest form", hex("1b 0000000000000005"), "5");
	c2j_is("negative -1", hex("20"), "-1");
	c2j_is("negative -24", hex("37"), "-24");
	c2j_is("negative -25", hex("38 18"), "-25");
	c2j_is("negative -65537", hex("3a 00010000"), "-65537");
	c2j_is("negative INT64_MIN", hex("3b 7fffffffffffffff"), "-9223372036854775808");
	c2j_bad("int above INT64_MAX", hex("1b 8000000000000000"), "integer out of range");
	c2j_bad("negative below INT64_MIN", hex("3b 8000000000000000"), "integer out of range");

	c2j_is("half 1.0", hex("f9 3c00"), "1.0");
	c2j_is("half -2.0", hex("f9 c000"), "-2.0");
	c2j_is("half 0.5", hex("f9 3800"), "0.5");
	c2j_is("half 65504", hex("f9 7bff"), "65504.0");
	/* printf's 16-digit rounding (..062) does not read back: 17 digits */
	c2j_is("half smallest subnormal", hex("f9 0001"), "5.9604644775390625e-8");
	c2j_is("half -0", hex("f9 8000"), "-0.0");
	c2j_is("single 100000.0", hex("fa 47c35000"), "100000.0");
	c2j_is("single 3.14 (its exact double)", hex("fa 4048f5c3"), "3.140000104904175");
	c2j_is("double 0.1", hex("fb 3fb999999999999a"), "0.1");
	c2j_is("double 1.1", hex("fb 3ff199999999999a"), "1.1");
	c2j_is("double -4.1", hex("fb c010666666666666"), "-4.1");
	c2j_is("double 1e21", hex("fb 444b1ae4d6e2ef50"), "1e21");
	c2j_is("double 1e20", hex("fb 4415af1d78b58c40"), "100000000000000000000.0");
	c2j_is("double 1e-7", hex("fb 3e7ad7f29abcaf48"), "0.0000001");
	c2j_is("double 1.5e-8", hex("fb 3e501b2b29a4692b"), "1.5e-8");
	c2j_is("double 1.7976931348623157e308", hex("fb 7fefffffffffffff"), "1.7976931348623157e308");
	c2j_is("double 5e-324", hex("fb 0000000000000001"), "5e-324");
	c2j_bad("half NaN", hex("f9 7e00"), "NaN or infinity");
	c2j_bad("half infinity", hex("f9 7c00"), "NaN or infinity");
	c2j_bad("single -infinity", hex("fa ff800000"), "NaN or infinity");
	c2j_bad("double NaN", hex("fb 7ff8000000000000"), "NaN or infinity");

	c2j_is("false, true, null, undefined", hex("84 f4 f5 f6 f7"), "[false,true,null,null]");
	c2j_bad("simple value 0", hex("e0"), "unsupported simple value");
	c2j_bad("simple value 19", hex("f3"), "unsupported simple value");
	c2j_bad("simple value 32 (f8 20)", hex("f8 20"), "unsupported simple value");
	c2j_bad("f8 with its byte missing", hex("f8"), "unexpected end");
	c2j_bad("reserved f9 argument cut short", hex("f9 3c"), "unexpected end");
	c2j_bad("reserved 0xfc", hex("fc"), "reserved");
	c2j_bad("reserved 0xfd", hex("fd"), "reserved");
	c2j_bad("reserved 0xfe", hex("fe"), "reserved");
}

static void
test_strings(void)
{
	Bytes		b = {0};

	c2j_is("empty text", hex("60"), "\"\"");
	c2j_is("escapes", hex("6c 22 5c 2f 0a 0d 09 08 0c 01 1f 7f 20"),
		   "\"\\\"\\\\/\\n\\r\\t\\b\\f\\u0001\\u001f\x7f \"");
	c2j_is("U+0000 in a value", hex("63 61 00 62"), "\"a\\u0000b\"");
	c2j_is("2-, 3- and 4-byte UTF-8", hex("69 c3a9 e282ac f09d849e"),
		   "\"\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e\"");
	c2j_is("largest code point U+10FFFF", hex("64 f48fbfbf"), "\"\xf4\x8f\xbf\xbf\"");
	c2j_is("chunked text", hex("7f 62 6162 60 61 63 ff"), "\"abc\"");
	c2j_is("chunked text, no chunks", hex("7f ff"), "\"\"");
	c2j_is("text with a 1-byte length", hex("78 01 41"), "\"A\"");
	c2j_is("text with an 8-byte length", hex("7b 0000000000000001 41"), "\"A\"");

	c2j_is("byte string -> base64, 1 byte", hex("41 fb"), "\"+w==\"");
	c2j_is("byte string -> base64, 2 bytes", hex("42 fbff"), "\"+/8=\"");
	c2j_is("byte string -> base64, 3 bytes", hex("43 000000"), "\"AAAA\"");
	c2j_is("chunked byte string", hex("5f 42 0102 40 41 03 ff"), "\"AQID\"");
	c2j_is("chunked byte string, no chunks", hex("5f ff"), "\"\"");
	c2j_is("byte string outside Data is base64 too", hex("a1 61 4b 41 00"), "{\"K\":\"AA==\"}");

	c2j_bad("overlong 2-byte UTF-8", hex("62 c080"), "invalid UTF-8");
	c2j_bad("overlong 3-byte UTF-8", hex("63 e08080"), "invalid UTF-8");
	c2j_bad("overlong 4-byte UTF-8", hex("64 f0808080"), "invalid UTF-8");
	c2j_bad("UTF-16 surrogate", hex("63 eda080"), "invalid UTF-8");
	c2j_bad("code point above U+10FFFF", hex("64 f4908080"), "invalid UTF-8");
	c2j_bad("lone continuation byte", hex("61 80"), "invalid UTF-8");
	c2j_bad("0xff in text", hex("61 ff"), "invalid UTF-8");
	c2j_bad("UTF-8 cut at the string's end", hex("62 e282"), "invalid UTF-8");
	c2j_bad("bad continuation byte", hex("63 e22841"), "invalid UTF-8");
	c2j_bad("UTF-8 split across chunks", hex("7f 61 e2 62 82ac ff"), "invalid UTF-8");
	c2j_bad("byte string chunk in a text string", hex("7f 41 61 ff"), "bad chunk");
	c2j_bad("text chunk in a byte string", hex("5f 61 61 ff"), "bad chunk");
	c2j_bad("indefinite chunk in a text string", hex("7f 7f ff ff"), "bad chunk");
	c2j_bad("integer chunk in a byte string", hex("5f 01 ff"), "bad chunk");
	c2j_bad("chunked text without its break", hex("7f 61 61"), "unexpected end");
	c2j_bad("chunked bytes without their break", hex("5f 41 61"), "unexpected end");
	c2j_bad("text longer than the input", hex("65 6162"), "longer than the input");
	c2j_bad("bytes longer than the input", hex("5a ffffffff 00"), "longer than the input");
	c2j_bad("bytes with a 2^64-1 length", hex("5b ffffffffffffffff 00"), "longer than the input");
	c2j_bad("text chunk longer than the input", hex("7f 7a 7fffffff 61 ff"), "longer than the input");

	/* a long string, 1-byte items: the output grows past its first block */
	X(&b, "79 2710");
	{
		int			i;
		char	   *want = malloc(10003);

		for (i = 0; i < 10000; i++)
		{
			b_add(&b, "x", 1);
			want[i + 1] = 'x';
		}
		want[0] = '"';
		want[10001] = '"';
		want[10002] = '\0';
		c2j_is("10000-character string", b, want);
		free(want);
	}
}

static void
test_containers(void)
{
	Bytes		b = {0};
	int			i;

	c2j_is("definite array", hex("83 01 02 03"), "[1,2,3]");
	c2j_is("indefinite array", hex("9f 01 02 03 ff"), "[1,2,3]");
	c2j_is("empty arrays", hex("82 80 9f ff"), "[[],[]]");
	c2j_is("mixed nesting", hex("9f 82 01 9f 02 ff bf 61 61 81 03 ff ff"),
		   "[[1,[2]],{\"a\":[3]}]");
	c2j_is("definite map inside an indefinite one", hex("bf 61 61 a1 61 62 f5 ff"),
		   "{\"a\":{\"b\":true}}");
	c2j_is("chunked map key", hex("a1 7f 61 61 61 62 ff 01"), "{\"ab\":1}");
	c2j_is("escaped map key", hex("a1 62 0a 22 01"), "{\"\\n\\\"\":1}");
	c2j_is("other tags are ignored", hex("d9 d9f7 a1 61 61 c2 42 0102"), "{\"a\":\"AQI=\"}");
	c2j_is("ignored tag at a timestamp member",
		   hex("a1 69 54696d657374616d70 d8 2a c1 19 03e8"), "{\"Timestamp\":1}");
	c2j_is("keys that differ only in chunking are not confused",
		   hex("a2 62 6162 01 7f 61 61 61 63 ff 02"), "{\"ab\":1,\"ac\":2}");

	/* many keys: the duplicate check's table grows */
	b_reset(&b);
	X(&b, "bf");
	for (i = 0; i < 300; i++)
	{
		char		k[16];

		snprintf(k, sizeof(k), "k%d", i);
		T(&b, k);
		X(&b, "f6");
	}
	X(&b, "ff");
	{
		char	   *want = malloc(300 * 16 + 3);
		size_t		n = 0;

		want[n++] = '{';
		for (i = 0; i < 300; i++)
			n += sprintf(want + n, "%s\"k%d\":null", i ? "," : "", i);
		want[n++] = '}';
		want[n] = '\0';
		c2j_is("map with 300 keys", b, want);
		free(want);
	}
	b_reset(&b);
	X(&b, "bf");
	for (i = 0; i < 300; i++)
	{
		char		k[16];

		snprintf(k, sizeof(k), "k%d", i == 299 ? 17 : i);
		T(&b, k);
		X(&b, "f6");
	}
	X(&b, "ff");
	c2j_bad("duplicate key among 300", b, "duplicate map key");

	c2j_bad("integer map key", hex("a1 01 02"), "map key is not a text string");
	c2j_bad("byte string map key", hex("a1 41 61 02"), "map key is not a text string");
	c2j_bad("tagged map key", hex("a1 c1 61 61 02"), "map key is not a text string");
	c2j_bad("array map key", hex("bf 80 01 ff"), "map key is not a text string");
	c2j_bad("duplicate key", hex("a2 61 61 01 61 61 02"), "duplicate map key");
	c2j_bad("duplicate key, chunked", hex("bf 62 6162 01 7f 61 61 61 62 ff 02 ff"),
			"duplicate map key");
	c2j_bad("U+0000 in a map key", hex("a1 61 00 01"), "U+0000");
	c2j_bad("map with a key and no value", hex("a1 61 61"), "unexpected end");
	c2j_bad("indefinite map: key then break", hex("bf 61 61 ff"), "unexpected break");
	c2j_bad("indefinite map without its break", hex("bf 61 61 01"), "unexpected end");
	c2j_bad("indefinite array without its break", hex("9f 01 02"), "unexpected end");
	c2j_bad("array count beyond the input", hex("9b 00000000ffffffff 01"), "longer than the input");
	c2j_bad("array count 2^64-1", hex("9b ffffffffffffffff"), "longer than the input");
	c2j_bad("map count beyond the input", hex("ba 7fffffff 61 61"), "longer than the input");
	c2j_bad("array count beyond the items", hex("83 01 02"), "longer than the input");
	c2j_bad("array cut inside an item", hex("82 01 19 01"), "unexpected end");
}

static void
test_malformed(void)
{
	Bytes		b = {0};
	int			i;

	c2j_bad("empty input", hex(""), "unexpected end");
	c2j_bad("trailing bytes", hex("f6 f6"), "trailing bytes");
	c2j_bad("trailing break", hex("a0 ff"), "trailing bytes");
	c2j_bad("a lone break", hex("ff"), "unexpected break");
	c2j_bad("break in a definite array", hex("82 01 ff"), "unexpected break");
	c2j_bad("break as a map value", hex("bf 61 61 ff ff"), "unexpected break");
	c2j_bad("break as a tag's content", hex("d8 2a ff"), "unexpected break");
	c2j_bad("reserved additional information 28", hex("1c"), "reserved");
	c2j_bad("reserved additional information 29 (text)", hex("7d"), "reserved");
	c2j_bad("reserved additional information 30 (map)", hex("be"), "reserved");
	c2j_bad("indefinite-length integer", hex("1f"), "indefinite length");
	c2j_bad("indefinite-length negative", hex("3f"), "indefinite length");
	c2j_bad("indefinite-length tag", hex("df 01"), "indefinite length");
	c2j_bad("integer cut short", hex("1b 0000"), "unexpected end");
	c2j_bad("tag cut short", hex("d9 d9"), "unexpected end");
	c2j_bad("tag without content", hex("d8 2a"), "unexpected end");

	/* every proper prefix of a valid request is refused */
	X(&b, "bf");
	T(&b, "StreamName");
	X(&b, "7f 61 73 ff");
	T(&b, "Data");
	X(&b, "5f 42 0102 ff");
	T(&b, "Timestamp");
	X(&b, "c1 1b 0000018bcfe5687b");
	T(&b, "L");
	X(&b, "9f 19 0100 f9 3c00 a1 61 6b f6 ff");
	X(&b, "ff");
	{
		size_t		n;
		int			bad = 0;

		for (n = 0; n < b.n; n++)
		{
			char	   *json = NULL;
			size_t		jl;
			char		err[200];
			unsigned char *copy = malloc(n + 1);	/* exact size: no slack to read */

			memcpy(copy, b.p, n);
			if (kgw_cbor_to_json(copy, n, &json, &jl, err, sizeof(err)) != -1 || json != NULL)
				bad++;
			free(json);
			free(copy);
		}
		report(bad == 0, "c2j refuses all %zu proper prefixes of a request", b.n);
	}
	c2j_is("... and accepts the whole", b,
		   "{\"StreamName\":\"s\",\"Data\":\"AQI=\",\"Timestamp\":1700000000.123,\"L\":[256,1.0,{\"k\":null}]}");

	/* nesting: 64 levels accepted, 65 refused, huge depth refused without recursing */
	b_reset(&b);
	for (i = 0; i < KGW_CBOR_MAX_DEPTH; i++)
		X(&b, "81");
	X(&b, "00");
	{
		char	   *want = malloc(2 * KGW_CBOR_MAX_DEPTH + 2);

		for (i = 0; i < KGW_CBOR_MAX_DEPTH; i++)
		{
			want[i] = '[';
			want[KGW_CBOR_MAX_DEPTH + 1 + i] = ']';
		}
		want[KGW_CBOR_MAX_DEPTH] = '0';
		want[2 * KGW_CBOR_MAX_DEPTH + 1] = '\0';
		c2j_is("64 nested arrays", b, want);
		free(want);
	}
	b_reset(&b);
	for (i = 0; i < KGW_CBOR_MAX_DEPTH + 1; i++)
		X(&b, "81");
	X(&b, "00");
	c2j_bad("65 nested arrays", b, "nesting too deep");
	b_reset(&b);
	for (i = 0; i < KGW_CBOR_MAX_DEPTH + 1; i++)
		X(&b, "a1 61 61");
	X(&b, "00");
	c2j_bad("65 nested maps", b, "nesting too deep");
	b_reset(&b);
	for (i = 0; i < KGW_CBOR_MAX_DEPTH + 1; i++)
		X(&b, "d8 2a");
	X(&b, "00");
	c2j_bad("65 nested tags", b, "nesting too deep");
	b_reset(&b);
	for (i = 0; i < 1000000; i++)
		X(&b, "9f");
	c2j_bad("a million nested indefinite arrays", b, "nesting too deep");
}

/* responses: JSON as the database writes it, to CBOR and back */
static void
test_responses(void)
{
	Bytes		want = {0};
	unsigned char *cbor;
	size_t		clen;
	const char *get_records =
	"{\"Records\":[{\"SequenceNumber\":\"49590338271490256608559692538361571095921575989136588898\","
	"\"ApproximateArrivalTimestamp\":1700000000.123,\"Data\":\"aGVsbG8=\",\"PartitionKey\":\"pk1\","
	"\"EncryptionType\":\"NONE\"},{\"SequenceNumber\":\"49590338271490256608559692538361571095921575989136588899\","
	"\"ApproximateArrivalTimestamp\":1700000001,\"Data\":\"\",\"PartitionKey\":\"pk2\"}],"
	"\"NextShardIterator\":\"AAAAAAAAAAG+/=\",\"MillisBehindLatest\":0,"
	"\"ChildShards\":[{\"ShardId\":\"shardId-000000000001\",\"ParentShards\":[\"shardId-000000000000\"],"
	"\"HashKeyRange\":{\"StartingHashKey\":\"0\",\"EndingHashKey\":\"340282366920938463463374607431768211455\"}}]}";

	cbor = roundtrip("GetRecords response", get_records, &clen);
	{
		/* the records as AWS writes them: indefinite, tag 1 ms, byte strings */
		X(&want, "bf");
		T(&want, "Records");
		X(&want, "9f bf");
		T(&want, "SequenceNumber");
		T(&want, "49590338271490256608559692538361571095921575989136588898");
		T(&want, "ApproximateArrivalTimestamp");
		X(&want, "c1 1b 0000018bcfe5687b");
		T(&want, "Data");
		X(&want, "45 68656c6c6f");
		report(cbor && clen > want.n && memcmp(cbor, want.p, want.n) == 0,
			   "GetRecords response: indefinite map/array, tag 1 ms, Data as bytes");
		free(want.p);
	}
	free(cbor);

	j2c_is("integers in every width",
		   "[0,23,24,255,256,65535,65536,4294967295,4294967296,9223372036854775807,"
		   "-1,-24,-25,-256,-257,-9223372036854775808]",
		   hex("9f 00 17 18 18 18 ff 19 0100 19 ffff 1a 00010000 1a ffffffff 1b 0000000100000000"
			   " 1b 7fffffffffffffff 20 37 38 18 38 ff 39 0100 3b 7fffffffffffffff ff"));
	j2c_is("reals are doubles, true/false/null", "[1.5,-0.0,1e300,true,false,null]",
		   hex("9f fb 3ff8000000000000 fb 8000000000000000 fb 7e37e43c8800759c f5 f4 f6 ff"));
	j2c_is("Data: base64 -> bytes", "{\"Data\":\"AAEC\"}", hex("bf 64 44617461 43 000102 ff"));
	j2c_is("Data: empty", "{\"Data\":\"\"}", hex("bf 64 44617461 40 ff"));
	j2c_is("Data: not base64 stays text", "{\"Data\":\"a\"}", hex("bf 64 44617461 61 61 ff"));
	j2c_is("Data: non-canonical padding bits stay text", "{\"Data\":\"QR==\"}",
		   hex("bf 64 44617461 64 51523d3d ff"));
	j2c_is("Data: padding inside stays text", "{\"Data\":\"QQ==QQ==\"}",
		   hex("bf 64 44617461 68 51513d3d51513d3d ff"));
	j2c_is("Data: a number stays a number", "{\"Data\":5}", hex("bf 64 44617461 05 ff"));
	j2c_is("base64 outside Data stays text", "{\"D\":\"AAEC\"}", hex("bf 61 44 64 41414543 ff"));
	j2c_is("Timestamp: integer seconds", "{\"Timestamp\":1700000000}",
		   hex("bf 69 54696d657374616d70 c1 1b 0000018bcfe56800 ff"));
	j2c_is("Timestamp: 4 decimals round to the ms", "{\"Timestamp\":0.0015}",
		   hex("bf 69 54696d657374616d70 c1 02 ff"));
	j2c_is("Timestamp: negative", "{\"Timestamp\":-1.5}",
		   hex("bf 69 54696d657374616d70 c1 39 05db ff"));
	j2c_is("Timestamp: a string stays text", "{\"Timestamp\":\"2024-01-01\"}",
		   hex("bf 69 54696d657374616d70 6a 323032342d30312d3031 ff"));
	j2c_is("Timestamp in an array is a plain number", "{\"Timestamp\":[1]}",
		   hex("bf 69 54696d657374616d70 9f 01 ff ff"));
	j2c_is("U+0000 in a string value", "\"a\\u0000\"", hex("62 6100"));
	j2c_is("a long key", "{\"ApproximateArrivalTimestamp\":null}",
		   hex("bf 78 1b 417070726f78696d6174654172726976616c54696d657374616d70 f6 ff"));
	j2c_bad("a timestamp beyond the range", "{\"Timestamp\":8640000000001}", "timestamp out of range");
	j2c_bad("a real timestamp beyond the range", "{\"Timestamp\":1e300}", "timestamp out of range");
	j2c_bad("invalid JSON", "{\"a\":", "invalid JSON");
	j2c_bad("trailing text", "{} x", "invalid JSON");
	j2c_bad("an integer beyond int64", "[9223372036854775808]", "invalid JSON");
	j2c_bad("invalid UTF-8", "\"\xc0\x80\"", "invalid JSON");
	j2c_bad("empty input", "", "invalid JSON");

	free(roundtrip("DescribeStreamSummary response",
				   "{\"StreamDescriptionSummary\":{\"StreamName\":\"s\",\"StreamARN\":\"arn:aws:kinesis:us-east-1:000000000000:stream/s\","
				   "\"StreamStatus\":\"ACTIVE\",\"StreamModeDetails\":{\"StreamMode\":\"PROVISIONED\"},"
				   "\"RetentionPeriodHours\":24,\"StreamCreationTimestamp\":1699999999.5,"
				   "\"EnhancedMonitoring\":[{\"ShardLevelMetrics\":[]}],\"EncryptionType\":\"NONE\","
				   "\"OpenShardCount\":4,\"ConsumerCount\":0}}", NULL));
	free(roundtrip("PutRecords response",
				   "{\"FailedRecordCount\":1,\"Records\":[{\"SequenceNumber\":\"1\",\"ShardId\":\"shardId-000000000000\"},"
				   "{\"ErrorCode\":\"ProvisionedThroughputExceededException\",\"ErrorMessage\":\"Rate exceeded for \\\"s\\\"\\n\"}],"
				   "\"EncryptionType\":\"KMS\"}", NULL));
	free(roundtrip("error body", "{\"__type\":\"ResourceNotFoundException\",\"message\":\"Stream s under account 000000000000 not found.\"}",
				   NULL));
	free(roundtrip("timestamps at the ends of the range",
				   "[{\"Timestamp\":8640000000000},{\"Timestamp\":-8640000000000},{\"Timestamp\":-0.001},"
				   "{\"Timestamp\":8639999999999.999},{\"Timestamp\":0}]", NULL));
	free(roundtrip("non-ASCII and escapes", "{\"k\\t\":\"\xc3\xa9\\u0001\\\\\"}", NULL));
}

/* every JSON the decoder produced above survives JSON -> CBOR -> JSON */
static void
test_accepted_roundtrip(void)
{
	int			i;
	int			bad = 0;

	for (i = 0; i < naccepted; i++)
	{
		unsigned char *cbor = NULL;
		char	   *back = NULL;
		size_t		clen,
					blen;
		char		err[200];

		if (kgw_json_to_cbor(accepted[i], strlen(accepted[i]), &cbor, &clen, err, sizeof(err)) != 0 ||
			kgw_cbor_to_json(cbor, clen, &back, &blen, err, sizeof(err)) != 0 ||
			strcmp(back, accepted[i]) != 0)
		{
			printf("#   round trip of %s gave %s\n", accepted[i], back ? back : err);
			bad++;
		}
		free(cbor);
		free(back);
		free(accepted[i]);
	}
	report(bad == 0, "all %d decoded documents round-trip JSON -> CBOR -> JSON", naccepted);
}

int
main(void)
{
	test_requests();
	test_timestamps();
	test_numbers();
	test_strings();
	test_containers();
	test_malformed();
	test_responses();
	test_accepted_roundtrip();
	printf("%d passed, %d failed\n", npassed, nfailed);
	return nfailed == 0 ? 0 : 1;
}
