/*-------------------------------------------------------------------------
 *
 * fuzz_token.c
 *		libFuzzer target for the pagination tokens of src/iterator.c, the
 *		NextToken decoder: the SQL-callable kinesis_token_decode(kind "char",
 *		token text) and kinesis_token_encode(kind "char", payload bytea),
 *		called through the fmgr interface exactly as the server calls them
 *		(the static token_decode behind them is reached without copying
 *		or changing any source).
 *
 * Properties checked:
 *	- decode(kind, t) returns a payload only if t is the canonical base64
 *	  (optionally in double quotes, at most 1024 characters inside) of
 *	  kind || payload || HMAC16(key, kind || payload), and returns exactly
 *	  that payload; anything else is NULL, never an error or a crash;
 *	- kind 'I' is refused by both functions with an internal error;
 *	- encode(kind, p) is such a token for p, decodes back to p whenever
 *	  it fits the decoder's 1024-character limit, decodes to NULL under
 *	  any other kind, and after any one-character edit, truncation or
 *	  extension, unless the edited text is itself a genuinely signed token
 *	  (possible only if the payload embeds a MAC of its own prefix).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"

#include "kinesis.h"

#include "fuzz_util.h"
#include "shim.h"

/* declared by PG_FUNCTION_INFO_V1 in iterator.c; not in kinesis.h */
extern Datum kinesis_token_encode(PG_FUNCTION_ARGS);
extern Datum kinesis_token_decode(PG_FUNCTION_ARGS);

static uint8 the_key[32];

typedef struct Call
{
	PGFunction fn;
	char		kind;
	Datum		arg;
	Datum		result;
	bool		isnull;
} Call;

static void
run_call(void *arg)
{
	Call	   *c = arg;
	LOCAL_FCINFO(fcinfo, 2);

	InitFunctionCallInfoData(*fcinfo, NULL, 2, InvalidOid, NULL, NULL);
	fcinfo->args[0].value = CharGetDatum(c->kind);
	fcinfo->args[0].isnull = false;
	fcinfo->args[1].value = c->arg;
	fcinfo->args[1].isnull = false;
	c->result = c->fn(fcinfo);
	c->isnull = fcinfo->isnull;
}

/*
 * decode(kind, token text of tlen bytes) checked against the oracle;
 * returns true if it gave a payload.
 */
static bool
check_decode(char kind, const char *token, size_t tlen)
{
	Call		c = {kinesis_token_decode, kind,
	PointerGetDatum(cstring_to_text_with_len(token, tlen))};
	bool		ok = shim_try(run_call, &c);
	const char *cstr = pnstrdup(token, tlen);	/* what text_to_cstring makes */
	const uint8 *want;
	size_t		want_len;

	if (kind == 'I')
	{
		CHECK(!ok && shim_error.sqlerrcode == ERRCODE_INTERNAL_ERROR && shim_error.message &&
			  strcmp(shim_error.message, "token kind 'I' is reserved for shard iterators") == 0,
			  "_token_decode('I', ...) did not refuse the iterator kind");
		return false;
	}
	CHECK(ok, "_token_decode('%c', \"%s\") raised an error", kind, cstr);
	if (oracle_token_check(the_key, 32, (uint8) kind, cstr, &want, &want_len) != TOKEN_GENUINE)
	{
		shim_count("decode: NULL");
		CHECK(c.isnull, "_token_decode('%c', \"%s\") ACCEPTED a token that is not genuine", kind, cstr);
		return false;
	}
	CHECK(!c.isnull, "_token_decode('%c', \"%s\") refused a genuine token", kind, cstr);
	shim_count("decode: payload");
	{
		bytea	   *got = DatumGetByteaPP(c.result);

		CHECK(VARSIZE_ANY_EXHDR(got) == want_len &&
			  memcmp(VARDATA_ANY(got), want, want_len) == 0,
			  "_token_decode('%c', \"%s\") returned the wrong payload (%zu bytes, want %zu)",
			  kind, cstr, (size_t) VARSIZE_ANY_EXHDR(got), want_len);
	}
	CHECK(shim_open_resources() == 0, "decode left a table, scan or snapshot open");
	return true;
}

/* a character of s replaced, s cut short, or s extended */
static char *
tamper(FuzzIn *in, const char *s)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=\" \n";
	size_t		len = strlen(s);
	uint8		how = fi_u8(in);
	size_t		pos = len > 0 ? fi_u16(in) % len : 0;
	char		c = alphabet[fi_u8(in) % (sizeof(alphabet) - 1)];
	char	   *t;

	switch (how % 3)
	{
		case 0:
			t = pstrdup(s);
			if (len > 0)
			{
				if (t[pos] == c)
					c = (c == 'A') ? 'B' : 'A';
				t[pos] = c;
			}
			return t;
		case 1:
			return pnstrdup(s, pos);
		default:
			return psprintf("%s%c", s, c);
	}
}

/* arbitrary text */
static void
mode_raw(FuzzIn *in)
{
	char		kind = (char) fi_u8(in);
	size_t		tlen = in->n;
	uint8	   *text = fi_bytes(in, tlen);	/* may hold 0 bytes: text can't, */

	/* ... so cut at the first, as the server's text would never have one */
	check_decode(kind, (const char *) text, strnlen((const char *) text, tlen));
}

/* a signed (or mis-signed, or edited) token with an arbitrary payload */
static void
mode_forged(FuzzIn *in)
{
	uint8		flags = fi_u8(in);
	char		kind = (char) fi_u8(in);
	char		decode_kind = (flags & 1) ? (char) fi_u8(in) : kind;
	size_t		len = (flags & 2) ? fi_u16(in) % 1100 : fi_u8(in);
	uint8	   *payload = fi_bytes(in, len);
	uint8		key[32];
	char	   *token;

	memcpy(key, the_key, 32);
	if (flags & 4)
		key[fi_u8(in) % 32] ^= 1 + fi_u8(in) % 255;
	token = oracle_token_sign(key, 32, (uint8) kind, payload, len);
	if (flags & 8)
		token = psprintf("\"%s\"", token);
	if (flags & 16)
		token = tamper(in, token);
	check_decode(decode_kind, token, strlen(token));
}

/* encode through the SQL function, then decode it back and tamper */
static void
mode_roundtrip(FuzzIn *in)
{
	char		kind = (char) fi_u8(in);
	uint8		flags = fi_u8(in);
	size_t		len = (flags & 1) ? fi_u16(in) % 1100 : fi_u8(in);
	bytea	   *payload = palloc(VARHDRSZ + len);
	Call		c;
	char	   *token;
	const uint8 *p;
	size_t		plen;
	int			edits;
	char		other;

	SET_VARSIZE(payload, VARHDRSZ + len);
	memcpy(VARDATA(payload), fi_bytes(in, len), len);
	c.fn = kinesis_token_encode;
	c.kind = kind;
	c.arg = PointerGetDatum(payload);
	if (kind == 'I')
	{
		CHECK(!shim_try(run_call, &c) && shim_error.sqlerrcode == ERRCODE_INTERNAL_ERROR,
			  "_token_encode('I', ...) did not refuse the iterator kind");
		return;
	}
	CHECK(shim_try(run_call, &c) && !c.isnull, "_token_encode raised an error or returned NULL");
	token = text_to_cstring(DatumGetTextPP(c.result));
	CHECK(oracle_token_check(the_key, 32, (uint8) kind, token, &p, &plen) == TOKEN_GENUINE ||
		  strlen(token) > 1024,
		  "_token_encode('%c', %zu bytes) made a token that is not genuine: \"%s\"", kind, len, token);
	{
		uint8	   *raw;
		size_t		rawlen;

		/* the oracle's length limit aside, check the content directly */
		CHECK(oracle_b64_decode_strict(token, strlen(token), &raw, &rawlen) &&
			  rawlen == 1 + len + 16 && raw[0] == (uint8) kind &&
			  memcmp(raw + 1, VARDATA(payload), len) == 0,
			  "_token_encode('%c', %zu bytes) does not hold kind and payload", kind, len);
	}

	/* decodes back while the token fits the decoder's limit */
	CHECK(check_decode(kind, token, strlen(token)) == (strlen(token) <= 1024),
		  "round trip of a %zu-byte payload (%zu-character token)", len, strlen(token));

	/* under any other kind: NULL */
	other = (char) fi_u8(in);
	if (other != kind && other != 'I')
		CHECK(!check_decode(other, token, strlen(token)), "token of kind '%c' accepted as '%c'",
			  kind, other);

	/*
	 * Edited tokens: check_decode holds the decoder to the oracle, so an
	 * edit is accepted only if the edited text is itself signed by the key.
	 * That happens for real only when the payload embeds a genuine MAC of
	 * its own prefix (a truncation then yields that earlier, genuine token:
	 * libFuzzer builds such payloads from the oracle's memcmp); anything
	 * else would need a 128-bit MAC collision.
	 */
	edits = fi_u8(in) % 6;
	while (edits-- > 0)
	{
		char	   *bad = tamper(in, token);

		if (check_decode(kind, bad, strlen(bad)))
			shim_count("tampered token still genuine (payload embeds a MAC)");
	}
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int			i;

	for (i = 0; i < 32; i++)
		the_key[i] = (uint8) (0x3c ^ (29 * i));
	memcpy(shim_secret, the_key, 32);
	return 0;
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
			mode_raw(&in);
			break;
		case 1:
			mode_forged(&in);
			break;
		case 2:
			mode_roundtrip(&in);
			break;
	}
	shim_end();
	return 0;
}
