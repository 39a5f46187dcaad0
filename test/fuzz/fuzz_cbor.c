/*-------------------------------------------------------------------------
 *
 * fuzz_cbor.c
 *		libFuzzer target for the gateway's CBOR <-> JSON body conversion,
 *		kgw_cbor_to_json and kgw_json_to_cbor (gateway/cbor.c).  Unlike the
 *		other targets it needs no backend code: cbor.c is plain C with
 *		jansson, linked without shim.c or stubs.
 *
 * Each input is used twice, as a CBOR request body and as JSON text.
 *
 * Properties checked:
 *	- as CBOR: kgw_cbor_to_json either refuses it (-1, *json NULL, a
 *	  non-empty reason) or gives NUL-terminated text of *json_len bytes,
 *	  at most 8 bytes per input byte, that jansson parses; that JSON goes
 *	  through kgw_json_to_cbor and kgw_cbor_to_json again and comes back
 *	  byte-identical (so the two conversions agree on every accepted
 *	  document: member tables, timestamps, blobs, number printing);
 *	- as JSON: if kgw_json_to_cbor accepts it, kgw_cbor_to_json accepts
 *	  the CBOR (unless it nests deeper than KGW_CBOR_MAX_DEPTH), and the
 *	  JSON it gives is a fixed point of the round trip;
 *	- the CBOR written for a JSON object starts with an indefinite-length
 *	  map (0xbf);
 *	- no crash, sanitizer report or leak.
 *
 * FUZZ_STATS=1 prints how often each outcome came up.
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cbor.h"

/* a property did not hold: print and abort so libFuzzer keeps the input */
static void
fail(int line, const char *cond, const char *fmt,...)
{
	va_list		ap;

	fprintf(stderr, "\n==fuzz== PROPERTY FAILED at %s:%d: %s\n==fuzz== ", __FILE__, line, cond);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	fflush(stderr);
	abort();
}

#define CHECK(cond, ...) \
	do { \
		if (!(cond)) \
			fail(__LINE__, #cond, __VA_ARGS__); \
	} while (0)

/* outcome counters, printed at exit when FUZZ_STATS is set */
#define MAX_COUNTERS 32

static struct
{
	const char *label;
	long		count;
}			counters[MAX_COUNTERS];
static int	ncounters = 0;

static void
print_counters(void)
{
	int			i;

	for (i = 0; i < ncounters; i++)
		fprintf(stderr, "fuzz-stat %-40s %ld\n", counters[i].label, counters[i].count);
}

/* count an outcome; label must be a string constant */
static void
count(const char *label)
{
	int			i;

	for (i = 0; i < ncounters; i++)
		if (counters[i].label == label)
		{
			counters[i].count++;
			return;
		}
	if (ncounters == 0 && getenv("FUZZ_STATS") != NULL)
		atexit(print_counters);
	if (ncounters < MAX_COUNTERS)
	{
		counters[ncounters].label = label;
		counters[ncounters++].count = 1;
	}
}

/*
 * The refusal reason's first words ("invalid CBOR: <what>"), as a counter
 * label: a static string, so that count() can key on the pointer.
 */
static const char *
reason_label(const char *err)
{
	static const char *const known[] = {
		"unexpected end of input", "trailing bytes", "unexpected break",
		"invalid UTF-8", "nesting too deep", "longer than the input",
		"map key is not a text string", "duplicate map key", "U+0000 in a map key",
		"integer out of range", "timestamp out of range", "NaN or infinity",
		"unsupported simple value", "reserved additional information",
		"indefinite length on", "bad chunk", "tag 1 (timestamp)",
	};
	size_t		i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strstr(err, known[i]) != NULL)
			return known[i];
	return "other reason";
}

/* JSON text -> CBOR -> JSON; returns the JSON (malloc'd) or NULL with err */
static char *
json_roundtrip(const char *json, size_t len, size_t *out_len, char *err, size_t errlen,
			   bool *cbor_ok)
{
	unsigned char *cbor = NULL;
	size_t		clen = 0;
	char	   *back = NULL;

	*cbor_ok = false;
	if (kgw_json_to_cbor(json, len, &cbor, &clen, err, errlen) != 0)
	{
		CHECK(cbor == NULL, "kgw_json_to_cbor failed but returned a buffer");
		return NULL;
	}
	*cbor_ok = true;
	CHECK(cbor != NULL && clen > 0, "kgw_json_to_cbor returned no CBOR");
	while (len > 0 && (*json == ' ' || *json == '\t' || *json == '\r' || *json == '\n'))
	{
		json++;
		len--;
	}
	if (len > 0 && *json == '{')
		CHECK(cbor[0] == 0xbf, "a JSON object did not become an indefinite-length map (0x%02x)",
			  cbor[0]);
	if (kgw_cbor_to_json(cbor, clen, &back, out_len, err, errlen) != 0)
		back = NULL;
	free(cbor);
	return back;
}

/* the input as a CBOR request body */
static void
as_cbor(const uint8_t *data, size_t size, size_t errlen)
{
	char	   *json1 = (char *) 1;
	char	   *json2;
	size_t		len1 = 0,
				len2 = 0;
	char		err[256] = "";
	bool		cbor_ok;
	json_t	   *parsed;
	json_error_t jerr;

	if (kgw_cbor_to_json(data, size, &json1, &len1, err, errlen) != 0)
	{
		CHECK(json1 == NULL, "kgw_cbor_to_json failed but returned text");
		CHECK(err[0] != '\0', "kgw_cbor_to_json failed without a reason");
		count(errlen == sizeof(err) ? reason_label(err) : "refused (reason cut short)");
		return;
	}
	count("CBOR accepted");
	CHECK(json1 != NULL && strlen(json1) == len1,
		  "kgw_cbor_to_json's text is not NUL-terminated at *json_len");
	CHECK(len1 <= 8 * size + 16, "%zu bytes of JSON from %zu bytes of CBOR", len1, size);

	parsed = json_loadb(json1, len1, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	CHECK(parsed != NULL, "kgw_cbor_to_json wrote invalid JSON (%s): %s", jerr.text, json1);
	json_decref(parsed);

	json2 = json_roundtrip(json1, len1, &len2, err, sizeof(err), &cbor_ok);
	CHECK(cbor_ok, "kgw_json_to_cbor refused the JSON of an accepted body (%s): %s", err, json1);
	CHECK(json2 != NULL, "kgw_cbor_to_json refused its own JSON's CBOR (%s): %s", err, json1);
	CHECK(len2 == len1 && memcmp(json1, json2, len1) == 0,
		  "round trip changed the JSON:\n  %s\n  %s", json1, json2);
	free(json1);
	free(json2);
}

/* the input as JSON text (a response from the database) */
static void
as_json(const uint8_t *data, size_t size)
{
	char	   *json1;
	char	   *json2;
	size_t		len1 = 0,
				len2 = 0;
	char		err[256] = "";
	bool		cbor_ok;

	json1 = json_roundtrip((const char *) data, size, &len1, err, sizeof(err), &cbor_ok);
	if (!cbor_ok)
	{
		count("JSON refused");
		return;
	}
	if (json1 == NULL)
	{
		CHECK(strstr(err, "nesting too deep") != NULL,
			  "kgw_cbor_to_json refused the CBOR of valid JSON: %s", err);
		count("JSON accepted, too deep for CBOR");
		return;
	}
	count("JSON accepted");
	json2 = json_roundtrip(json1, len1, &len2, err, sizeof(err), &cbor_ok);
	CHECK(cbor_ok && json2 != NULL, "second round trip failed (%s): %s", err, json1);
	CHECK(len2 == len1 && memcmp(json1, json2, len1) == 0,
		  "JSON is not a fixed point of the round trip:\n  %s\n  %s", json1, json2);
	free(json1);
	free(json2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* now and then a tiny error buffer: the reason must be cut, not overrun */
	as_cbor(data, size, size % 13 == 5 ? 6 : 256);
	as_json(data, size);
	return 0;
}
