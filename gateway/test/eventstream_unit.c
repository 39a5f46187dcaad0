/*-------------------------------------------------------------------------
 *
 * eventstream_unit.c
 *		C-side tests of gateway/eventstream.c.
 *
 * This file owns the tests that are easiest in C: the CRC32 check value,
 * round trips of every header type, the encoder's refusals, buffer growth
 * over many appended messages, and above all the decoder's handling of
 * damaged input: every single-byte change and every single-bit flip of
 * several frames must be reported as corrupt (never accepted, never
 * "incomplete"), every truncation as incomplete, and frames with valid
 * CRCs but bad lengths or headers as corrupt.
 *
 * Ends with "N passed, N failed"; exits non-zero on failure.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../eventstream.h"

static int	npassed = 0;
static int	nfailed = 0;

/* Record one check, printing the failures. */
static void
check(int ok, const char *what)
{
	if (ok)
		npassed++;
	else
	{
		nfailed++;
		printf("FAIL: %s\n", what);
	}
}

/* Store v big-endian at p. */
static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char) (v >> 24);
	p[1] = (unsigned char) (v >> 16);
	p[2] = (unsigned char) (v >> 8);
	p[3] = (unsigned char) v;
}

/* Recompute both CRCs of the frame at p (total length from its prelude). */
static void
fix_crcs(unsigned char *p, size_t total)
{
	put32(p + 8, kgw_evs_crc32(0, p, 8));
	put32(p + total - 4, kgw_evs_crc32(0, p, total - 4));
}

/* A frame with one header of each type and a payload. */
static void
all_types_frame(unsigned char **buf, size_t *len, size_t *cap)
{
	kgw_evs_header hs[10];
	static const unsigned char blob[] = {0, 1, 2, 255};
	int			i;

	memset(hs, 0, sizeof(hs));
	hs[0].name = "t";
	hs[0].type = KGW_EVS_TRUE;
	hs[1].name = "f";
	hs[1].type = KGW_EVS_FALSE;
	hs[2].name = "byte";
	hs[2].type = KGW_EVS_BYTE;
	hs[2].v.i8 = -5;
	hs[3].name = "short";
	hs[3].type = KGW_EVS_INT16;
	hs[3].v.i16 = -12345;
	hs[4].name = "int";
	hs[4].type = KGW_EVS_INT32;
	hs[4].v.i32 = -2000000000;
	hs[5].name = "long";
	hs[5].type = KGW_EVS_INT64;
	hs[5].v.i64 = -9000000000000000000LL;
	hs[6].name = "blob";
	hs[6].type = KGW_EVS_BYTES;
	hs[6].v.bytes.data = blob;
	hs[6].v.bytes.len = sizeof(blob);
	hs[7].name = "str";
	hs[7].type = KGW_EVS_STRING;
	hs[7].v.bytes.data = (const unsigned char *) "h\xc3\xa9llo";
	hs[7].v.bytes.len = 6;
	hs[8].name = "ts";
	hs[8].type = KGW_EVS_TIMESTAMP;
	hs[8].v.i64 = 1704067200123LL;
	hs[9].name = "uuid";
	hs[9].type = KGW_EVS_UUID;
	for (i = 0; i < 16; i++)
		hs[9].v.uuid[i] = (unsigned char) (i * 17);
	check(kgw_evs_encode(buf, len, cap, 10, hs,
						 (const unsigned char *) "{\"a\":1}", 7) == KGW_EVS_OK,
		  "encode all types");
}

static void
test_crc(void)
{
	check(kgw_evs_crc32(0, "123456789", 9) == 0xCBF43926u, "crc32 check value");
	check(kgw_evs_crc32(0, "", 0) == 0, "crc32 empty");
	check(kgw_evs_crc32(kgw_evs_crc32(0, "1234", 4), "56789", 5) == 0xCBF43926u,
		  "crc32 incremental");
}

static void
test_round_trip(void)
{
	unsigned char *buf = NULL;
	size_t		len = 0,
				cap = 0,
				used;
	kgw_evs_decoded m;
	const kgw_evs_header *h;
	char		err[128];
	int			i,
				ok;

	all_types_frame(&buf, &len, &cap);
	check(kgw_evs_decode(buf, len, &m, &used, err, sizeof(err)) == KGW_EVS_OK,
		  "decode all types");
	check(used == len && m.total_len == len, "consumed whole frame");
	check(m.nheaders == 10, "header count");
	check(m.payload_len == 7 && memcmp(m.payload, "{\"a\":1}", 7) == 0,
		  "payload");
	h = kgw_evs_find_header(&m, "t");
	check(h && h->type == KGW_EVS_TRUE, "bool true");
	h = kgw_evs_find_header(&m, "f");
	check(h && h->type == KGW_EVS_FALSE, "bool false");
	h = kgw_evs_find_header(&m, "byte");
	check(h && h->type == KGW_EVS_BYTE && h->v.i8 == -5, "byte");
	h = kgw_evs_find_header(&m, "short");
	check(h && h->v.i16 == -12345, "int16");
	h = kgw_evs_find_header(&m, "int");
	check(h && h->v.i32 == -2000000000, "int32");
	h = kgw_evs_find_header(&m, "long");
	check(h && h->v.i64 == -9000000000000000000LL, "int64");
	h = kgw_evs_find_header(&m, "blob");
	check(h && h->v.bytes.len == 4 && h->v.bytes.data[3] == 255, "bytes");
	h = kgw_evs_find_header(&m, "str");
	check(h && h->type == KGW_EVS_STRING && h->v.bytes.len == 6 &&
		  memcmp(h->v.bytes.data, "h\xc3\xa9llo", 6) == 0, "string");
	h = kgw_evs_find_header(&m, "ts");
	check(h && h->type == KGW_EVS_TIMESTAMP && h->v.i64 == 1704067200123LL,
		  "timestamp");
	h = kgw_evs_find_header(&m, "uuid");
	ok = h && h->type == KGW_EVS_UUID;
	for (i = 0; ok && i < 16; i++)
		ok = h->v.uuid[i] == (unsigned char) (i * 17);
	check(ok, "uuid");
	check(kgw_evs_find_header(&m, "nope") == NULL, "absent header");
	free(buf);
}

static void
test_helpers(void)
{
	unsigned char *buf = NULL;
	size_t		len = 0,
				cap = 0,
				off = 0,
				used;
	kgw_evs_decoded m;
	const kgw_evs_header *h;

	check(kgw_evs_event(&buf, &len, &cap, "SubscribeToShardEvent",
						"application/json", (const unsigned char *) "{}", 2)
		  == KGW_EVS_OK, "event");
	check(kgw_evs_event(&buf, &len, &cap, "initial-response", NULL, NULL, 0)
		  == KGW_EVS_OK, "event without content type");
	check(kgw_evs_exception(&buf, &len, &cap, "ResourceNotFoundException",
							(const unsigned char *) "{\"message\":\"x\"}", 15)
		  == KGW_EVS_OK, "exception");
	check(kgw_evs_error(&buf, &len, &cap, "InternalFailure", "boom")
		  == KGW_EVS_OK, "error");

	check(kgw_evs_decode(buf, len, &m, &used, NULL, 0) == KGW_EVS_OK,
		  "decode event");
	h = kgw_evs_find_header(&m, ":message-type");
	check(m.nheaders == 3 && h && h->v.bytes.len == 5 &&
		  memcmp(h->v.bytes.data, "event", 5) == 0, "event message-type");
	h = kgw_evs_find_header(&m, ":event-type");
	check(h && h->v.bytes.len == 21, "event type");
	h = kgw_evs_find_header(&m, ":content-type");
	check(h && h->v.bytes.len == 16, "event content type");
	off += used;
	check(kgw_evs_decode(buf + off, len - off, &m, &used, NULL, 0) == KGW_EVS_OK &&
		  m.nheaders == 2 && m.payload_len == 0, "decode second event");
	off += used;
	check(kgw_evs_decode(buf + off, len - off, &m, &used, NULL, 0) == KGW_EVS_OK,
		  "decode exception");
	h = kgw_evs_find_header(&m, ":exception-type");
	check(h && h->v.bytes.len == 25 && m.payload_len == 15, "exception type");
	h = kgw_evs_find_header(&m, ":content-type");
	check(h && h->v.bytes.len == 16 &&
		  memcmp(h->v.bytes.data, "application/json", 16) == 0,
		  "exception content type");
	off += used;
	check(kgw_evs_decode(buf + off, len - off, &m, &used, NULL, 0) == KGW_EVS_OK,
		  "decode error");
	h = kgw_evs_find_header(&m, ":error-message");
	check(h && h->v.bytes.len == 4 && m.payload_len == 0, "error message");
	off += used;
	check(off == len, "four messages consumed");
	free(buf);
}

/*
 * Every single-byte change and every bit flip of a frame must be caught
 * by a CRC: reported corrupt, never accepted or taken as incomplete.
 */
static void
test_corruption(void)
{
	unsigned char *buf = NULL;
	size_t		len = 0,
				cap = 0;
	unsigned char *copy;
	kgw_evs_decoded m;
	size_t		i;
	int			bit,
				bad_byte = 0,
				bad_bit = 0,
				n = 0;

	all_types_frame(&buf, &len, &cap);
	copy = malloc(len);
	for (i = 0; i < len; i++)
	{
		int			delta;

		for (delta = 1; delta < 256; delta += 37)
		{
			memcpy(copy, buf, len);
			copy[i] = (unsigned char) (copy[i] + delta);
			if (kgw_evs_decode(copy, len, &m, NULL, NULL, 0) != KGW_EVS_ECORRUPT)
				bad_byte++;
			n++;
		}
		for (bit = 0; bit < 8; bit++)
		{
			memcpy(copy, buf, len);
			copy[i] ^= (unsigned char) (1 << bit);
			if (kgw_evs_decode(copy, len, &m, NULL, NULL, 0) != KGW_EVS_ECORRUPT)
				bad_bit++;
		}
	}
	check(bad_byte == 0, "every byte change detected");
	check(bad_bit == 0, "every bit flip detected");
	if (bad_byte || bad_bit)
		printf("  %d byte changes, %d bit flips undetected (of %d)\n",
			   bad_byte, bad_bit, n);

	/* truncation: incomplete, never corrupt or ok */
	{
		int			bad = 0;

		for (i = 0; i < len; i++)
			if (kgw_evs_decode(buf, i, &m, NULL, NULL, 0) != KGW_EVS_INCOMPLETE)
				bad++;
		check(bad == 0, "every truncation incomplete");
	}
	free(copy);
	free(buf);
}

/* Frames whose CRCs are right but whose contents are not. */
static void
test_bad_structure(void)
{
	unsigned char f[64];
	kgw_evs_decoded m;
	char		err[128];
	size_t		total;

	/* a valid empty message */
	memset(f, 0, sizeof(f));
	put32(f, 16);
	put32(f + 4, 0);
	fix_crcs(f, 16);
	check(kgw_evs_decode(f, 16, &m, NULL, err, sizeof(err)) == KGW_EVS_OK &&
		  m.nheaders == 0 && m.payload_len == 0, "empty message ok");

	/* total length below the minimum */
	put32(f, 15);
	put32(f + 8, kgw_evs_crc32(0, f, 8));
	check(kgw_evs_decode(f, 64, &m, NULL, err, sizeof(err)) == KGW_EVS_ECORRUPT,
		  "total < 16 corrupt");

	/* headers longer than the message */
	put32(f, 20);
	put32(f + 4, 5);
	put32(f + 8, kgw_evs_crc32(0, f, 8));
	check(kgw_evs_decode(f, 64, &m, NULL, err, sizeof(err)) == KGW_EVS_ECORRUPT,
		  "headers beyond message corrupt");

	/* headers too long, payload too long (detected from the prelude alone) */
	put32(f, 16 + KGW_EVS_MAX_HEADERS_LEN + 1);
	put32(f + 4, KGW_EVS_MAX_HEADERS_LEN + 1);
	put32(f + 8, kgw_evs_crc32(0, f, 8));
	check(kgw_evs_decode(f, 12, &m, NULL, err, sizeof(err)) == KGW_EVS_ECORRUPT,
		  "headers length limit");
	put32(f, 16 + KGW_EVS_MAX_PAYLOAD_LEN + 1);
	put32(f + 4, 0);
	put32(f + 8, kgw_evs_crc32(0, f, 8));
	check(kgw_evs_decode(f, 12, &m, NULL, err, sizeof(err)) == KGW_EVS_ECORRUPT,
		  "payload length limit");
	put32(f, 0xffffffffu);
	put32(f + 4, 0xfffffff0u);
	put32(f + 8, kgw_evs_crc32(0, f, 8));
	check(kgw_evs_decode(f, 12, &m, NULL, err, sizeof(err)) == KGW_EVS_ECORRUPT,
		  "huge lengths");

	/* a header with an unknown type */
	memset(f, 0, sizeof(f));
	total = 16 + 3;
	put32(f, (uint32_t) total);
	put32(f + 4, 3);
	f[12] = 1;
	f[13] = 'a';
	f[14] = 10;
	fix_crcs(f, total);
	check(kgw_evs_decode(f, total, &m, NULL, err, sizeof(err)) == KGW_EVS_ECORRUPT,
		  "unknown header type");

	/* a string header running past the headers section */
	memset(f, 0, sizeof(f));
	total = 16 + 6;
	put32(f, (uint32_t) total);
	put32(f + 4, 6);
	f[12] = 1;
	f[13] = 'a';
	f[14] = KGW_EVS_STRING;
	f[15] = 0;
	f[16] = 5;					/* 5 bytes claimed, 1 present */
	f[17] = 'x';
	fix_crcs(f, total);
	check(kgw_evs_decode(f, total, &m, NULL, err, sizeof(err)) == KGW_EVS_ECORRUPT,
		  "string header overrun");

	/* a name running past the headers section */
	memset(f, 0, sizeof(f));
	total = 16 + 3;
	put32(f, (uint32_t) total);
	put32(f + 4, 3);
	f[12] = 9;
	f[13] = 'a';
	f[14] = 'b';
	fix_crcs(f, total);
	check(kgw_evs_decode(f, total, &m, NULL, err, sizeof(err)) == KGW_EVS_ECORRUPT,
		  "header name overrun");

	/* an int64 header cut short */
	memset(f, 0, sizeof(f));
	total = 16 + 3 + 4;
	put32(f, (uint32_t) total);
	put32(f + 4, 7);
	f[12] = 1;
	f[13] = 'a';
	f[14] = KGW_EVS_INT64;
	fix_crcs(f, total);
	check(kgw_evs_decode(f, total, &m, NULL, err, sizeof(err)) == KGW_EVS_ECORRUPT,
		  "int64 header overrun");

	/* an empty header name */
	memset(f, 0, sizeof(f));
	total = 16 + 2;
	put32(f, (uint32_t) total);
	put32(f + 4, 2);
	f[12] = 0;
	f[13] = KGW_EVS_TRUE;
	fix_crcs(f, total);
	check(kgw_evs_decode(f, total, &m, NULL, err, sizeof(err)) == KGW_EVS_ECORRUPT,
		  "empty header name");

	/* a duplicate header */
	memset(f, 0, sizeof(f));
	total = 16 + 6;
	put32(f, (uint32_t) total);
	put32(f + 4, 6);
	f[12] = 1;
	f[13] = 'a';
	f[14] = KGW_EVS_TRUE;
	f[15] = 1;
	f[16] = 'a';
	f[17] = KGW_EVS_FALSE;
	fix_crcs(f, total);
	check(kgw_evs_decode(f, total, &m, NULL, err, sizeof(err)) == KGW_EVS_ECORRUPT,
		  "duplicate header");
	check(strcmp(err, "duplicate header") == 0, "error reason");
}

static void
test_encoder_refusals(void)
{
	unsigned char *buf = NULL;
	size_t		len = 0,
				cap = 0;
	kgw_evs_header h[2];
	char		longname[300];
	unsigned char *big;
	const char *dupn[] = {"a", "a"};
	const char *dupv[] = {"1", "2"};

	memset(h, 0, sizeof(h));
	memset(longname, 'n', sizeof(longname));
	longname[256] = '\0';
	h[0].name = longname;
	h[0].type = KGW_EVS_TRUE;
	check(kgw_evs_encode(&buf, &len, &cap, 1, h, NULL, 0) == KGW_EVS_EINVAL,
		  "name > 255 refused");
	longname[255] = '\0';
	check(kgw_evs_encode(&buf, &len, &cap, 1, h, NULL, 0) == KGW_EVS_OK,
		  "name of 255 accepted");
	h[0].name = "";
	check(kgw_evs_encode(&buf, &len, &cap, 1, h, NULL, 0) == KGW_EVS_EINVAL,
		  "empty name refused");
	h[0].name = "x";
	h[0].type = 10;
	check(kgw_evs_encode(&buf, &len, &cap, 1, h, NULL, 0) == KGW_EVS_EINVAL,
		  "unknown type refused");
	big = calloc(1, KGW_EVS_MAX_PAYLOAD_LEN + 1);
	h[0].type = KGW_EVS_STRING;
	h[0].v.bytes.data = big;
	h[0].v.bytes.len = 65536;
	check(kgw_evs_encode(&buf, &len, &cap, 1, h, NULL, 0) == KGW_EVS_EINVAL,
		  "string > 65535 refused");
	h[0].v.bytes.len = 65535;
	check(kgw_evs_encode(&buf, &len, &cap, 1, h, NULL, 0) == KGW_EVS_OK,
		  "string of 65535 accepted");
	check(kgw_evs_message(&buf, &len, &cap, 2, dupn, dupv, NULL, 0)
		  == KGW_EVS_EINVAL, "duplicate names refused");
	check(kgw_evs_encode(&buf, &len, &cap, 0, NULL, big,
						 KGW_EVS_MAX_PAYLOAD_LEN + 1) == KGW_EVS_EINVAL,
		  "payload > 16 MiB refused");
	check(kgw_evs_encode(&buf, &len, &cap, 0, NULL, big,
						 KGW_EVS_MAX_PAYLOAD_LEN) == KGW_EVS_OK,
		  "payload of 16 MiB accepted");
	check(kgw_evs_encode(&buf, &len, &cap, 0, NULL, NULL, 5) == KGW_EVS_EINVAL,
		  "NULL payload with length refused");
	check(kgw_evs_event(&buf, &len, &cap, NULL, NULL, NULL, 0) == KGW_EVS_EINVAL,
		  "NULL event type refused");

	/* the three successful frames decode back to back */
	{
		kgw_evs_decoded m;
		size_t		off = 0,
					used;
		int			count = 0;

		while (off < len &&
			   kgw_evs_decode(buf + off, len - off, &m, &used, NULL, 0)
			   == KGW_EVS_OK)
		{
			off += used;
			count++;
		}
		check(count == 3 && off == len, "accepted frames decode");
	}
	free(big);
	free(buf);
}

/* Many appends: the buffer grows and every message stays intact. */
static void
test_growth(void)
{
	unsigned char *buf = NULL;
	size_t		len = 0,
				cap = 0,
				off = 0,
				used;
	char		payload[64];
	int			i,
				ok = 1;

	for (i = 0; i < 10000; i++)
	{
		int			n = snprintf(payload, sizeof(payload), "{\"n\":%d}", i);

		if (kgw_evs_event(&buf, &len, &cap, "SubscribeToShardEvent",
						  "application/json", (unsigned char *) payload,
						  (size_t) n) != KGW_EVS_OK)
			ok = 0;
	}
	check(ok, "10000 appends");
	for (i = 0; i < 10000 && ok; i++)
	{
		kgw_evs_decoded m;
		int			n = snprintf(payload, sizeof(payload), "{\"n\":%d}", i);

		if (kgw_evs_decode(buf + off, len - off, &m, &used, NULL, 0) != KGW_EVS_OK ||
			m.payload_len != (size_t) n ||
			memcmp(m.payload, payload, (size_t) n) != 0)
			ok = 0;
		off += used;
	}
	check(ok && off == len, "10000 messages decode in order");
	free(buf);
}

int
main(void)
{
	test_crc();
	test_round_trip();
	test_helpers();
	test_corruption();
	test_bad_structure();
	test_encoder_refusals();
	test_growth();
	printf("%d passed, %d failed\n", npassed, nfailed);
	return nfailed == 0 ? 0 : 1;
}
