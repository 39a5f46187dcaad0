/*-------------------------------------------------------------------------
 *
 * fuzz_validate.c
 *		libFuzzer target for src/errors.c: the pattern matchers
 *		kinesis_match_name / kinesis_match_decimal, the ValidationException
 *		builders (kinesis_validate_string/_int/_blob, kinesis_validation_done)
 *		and kinesis_raise.
 *
 * Properties checked:
 *	- match_name(s) is exactly [a-zA-Z0-9_.-]+;
 *	- match_decimal(s, m) is exactly 0|([1-9][0-9]{0,m});
 *	- after any sequence of validations, validation_done raises nothing if
 *	  no check failed, and otherwise a KN001 error whose message is, byte
 *	  for byte, "ValidationException: N validation error(s) detected: "
 *	  followed by the first ten problems in AWS's wording, joined by "; "
 *	  (values containing '%' are printed literally);
 *	- kinesis_raise(ex, ...) raises ERROR with SQLSTATE KN0nn (nn = ex + 1)
 *	  and the message "<exception name>: <text>", for any text length.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"

#include "kinesis.h"

#include "fuzz_util.h"
#include "shim.h"

static bool
oracle_match_name(const char *s)
{
	size_t		n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-");

	return n > 0 && s[n] == '\0';
}

static bool
oracle_match_decimal(const char *s, int maxtail)
{
	if (strcmp(s, "0") == 0)
		return true;
	if (s[0] < '1' || s[0] > '9')
		return false;
	return (s[1] == '\0' || oracle_all_digits(s + 1)) && (int) strlen(s + 1) <= maxtail;
}

static void
check_matchers(const char *s, int maxtail)
{
	shim_count(oracle_match_decimal(s, maxtail) ? "match_decimal: accepted" : "match_decimal: rejected");
	CHECK(kinesis_match_name(s) == oracle_match_name(s), "match_name(\"%s\") = %d",
		  s, kinesis_match_name(s));
	CHECK(kinesis_match_decimal(s, maxtail) == oracle_match_decimal(s, maxtail),
		  "match_decimal(\"%s\", %d) = %d", s, maxtail, kinesis_match_decimal(s, maxtail));
	CHECK(kinesis_match_decimal(s, 38) == oracle_match_decimal(s, 38),
		  "match_decimal(\"%s\", 38) = %d", s, kinesis_match_decimal(s, 38));
	CHECK(kinesis_match_decimal(s, 128) == oracle_match_decimal(s, 128),
		  "match_decimal(\"%s\", 128) = %d", s, kinesis_match_decimal(s, 128));
}

/*
 * Valid UTF-8 (the server's encoding checks every string that reaches the
 * extension): keep ASCII and well-formed sequences, replace the rest by
 * '?'.  Returns the character count.
 */
static int
make_utf8(char *s)
{
	uint8	   *p = (uint8 *) s;
	int			chars = 0;

	while (*p)
	{
		int			len = 0;
		uint32		cp = 0;
		int			i;

		if (p[0] < 0x80)
			len = 1;
		else if (p[0] >= 0xc2 && p[0] <= 0xdf)
			len = 2, cp = p[0] & 0x1f;
		else if (p[0] >= 0xe0 && p[0] <= 0xef)
			len = 3, cp = p[0] & 0x0f;
		else if (p[0] >= 0xf0 && p[0] <= 0xf4)
			len = 4, cp = p[0] & 0x07;
		for (i = 1; i < len && len > 1; i++)
		{
			if ((p[i] & 0xc0) != 0x80)
			{
				len = 0;
				break;
			}
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if (len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)))
			len = 0;
		if (len == 4 && (cp < 0x10000 || cp > 0x10ffff))
			len = 0;
		if (len == 0)
		{
			*p = '?';
			len = 1;
		}
		p += len;
		chars++;
	}
	return chars;
}

typedef struct Expect
{
	int			n;
	char	   *errors[10];
} Expect;

static void
expect_add(Expect *e, const char *value, const char *field, const char *constraint)
{
	StringInfoData buf;

	if (e->n >= 10)
		return;
	initStringInfo(&buf);
	appendStringInfoString(&buf, "Value ");
	if (value)
	{
		appendStringInfoChar(&buf, '\'');
		appendStringInfoString(&buf, value);
		appendStringInfoChar(&buf, '\'');
	}
	else
		appendStringInfoString(&buf, "null");
	appendStringInfoString(&buf, " at '");
	appendStringInfoString(&buf, field);
	appendStringInfoString(&buf, "' failed to satisfy constraint: ");
	appendStringInfoString(&buf, constraint);
	e->errors[e->n++] = buf.data;
}

static const char *const fields[] = {
	"streamName", "shardId", "partitionKey", "explicitHashKey",
	"startingSequenceNumber", "limit", "data", "a%sfield%n%%"
};

static const char *const patterns[] = {
	NULL, KINESIS_NAME_PATTERN, KINESIS_HASH_KEY_PATTERN, KINESIS_SEQNUM_PATTERN
};

typedef struct ValidationRun
{
	KinesisValidation *v;
} ValidationRun;

static void
run_done(void *arg)
{
	kinesis_validation_done(((ValidationRun *) arg)->v);
}

static void
check_validation(FuzzIn *in)
{
	KinesisValidation v;
	Expect		e;
	int			steps = fi_u8(in) % 16;
	ValidationRun run = {&v};
	bool		ok;

	memset(&v, 0, sizeof(v));
	memset(&e, 0, sizeof(e));
	while (steps-- > 0)
	{
		uint8		kind = fi_u8(in);
		const char *field = fields[fi_u8(in) % lengthof(fields)];

		switch (kind % 3)
		{
			case 0:			/* a string member */
				{
					uint8		flags = fi_u8(in);
					const char *pattern = patterns[fi_u8(in) % lengthof(patterns)];
					int			minlen = (int) fi_u8(in) % 8 - 1;
					int			maxlen = (int) fi_u8(in) % 200 - 1;
					bool		notnull = flags & 1;
					char	   *value = (flags & 2) ? NULL : fi_str(in, 300, NULL);
					int			len;

					if (value == NULL)
					{
						if (notnull)
							expect_add(&e, NULL, field, "Member must not be null");
						kinesis_validate_string(&v, NULL, field, notnull, pattern, minlen, maxlen);
						break;
					}
					len = make_utf8(value);
					if (pattern != NULL)
					{
						bool		match = strcmp(pattern, KINESIS_NAME_PATTERN) == 0 ?
							oracle_match_name(value) :
							oracle_match_decimal(value, strcmp(pattern, KINESIS_HASH_KEY_PATTERN) == 0 ? 38 : 128);

						if (!match)
							expect_add(&e, value, field,
									   psprintf("Member must satisfy regular expression pattern: %s", pattern));
					}
					if (minlen >= 0 && len < minlen)
						expect_add(&e, value, field,
								   psprintf("Member must have length greater than or equal to %d", minlen));
					if (maxlen >= 0 && len > maxlen)
						expect_add(&e, value, field,
								   psprintf("Member must have length less than or equal to %d", maxlen));
					kinesis_validate_string(&v, value, field, notnull, pattern, minlen, maxlen);
				}
				break;
			case 1:			/* an integer member */
				{
					uint8		flags = fi_u8(in);
					int64		value = (int64) fi_u64(in);
					int64		min = (flags & 4) ? PG_INT64_MIN : (int64) (int32) fi_u32(in);
					int64		max = (flags & 8) ? PG_INT64_MAX : (int64) (int32) fi_u32(in);
					bool		isnull = flags & 1;
					bool		notnull = flags & 2;

					if (flags & 16)
						value = (int64) (int16) value;	/* near the bounds */
					if (isnull)
					{
						if (notnull)
							expect_add(&e, NULL, field, "Member must not be null");
					}
					else
					{
						char	   *s = psprintf(INT64_FORMAT, value);

						if (value < min)
							expect_add(&e, s, field,
									   psprintf("Member must have value greater than or equal to " INT64_FORMAT, min));
						if (value > max)
							expect_add(&e, s, field,
									   psprintf("Member must have value less than or equal to " INT64_FORMAT, max));
					}
					kinesis_validate_int(&v, isnull, value, field, notnull, min, max);
				}
				break;
			case 2:			/* a blob member */
				{
					uint8		flags = fi_u8(in);
					int			len = (int) (fi_u32(in) % 2048);
					int			maxlen = (int) (fi_u32(in) % 2048);
					bytea	   *blob = NULL;

					if (!(flags & 1))
					{
						blob = palloc(VARHDRSZ + len);
						SET_VARSIZE(blob, VARHDRSZ + len);
						memset(VARDATA(blob), 'x', len);
					}
					if (blob == NULL)
						expect_add(&e, NULL, field, "Member must not be null");
					else if (len > maxlen)
						expect_add(&e, psprintf("java.nio.HeapByteBuffer[pos=0 lim=%d cap=%d]", len, len),
								   field,
								   psprintf("Member must have length less than or equal to %d", maxlen));
					kinesis_validate_blob(&v, blob, field, maxlen);
				}
				break;
		}
		CHECK(v.n == e.n, "after a validation step %d problems recorded, oracle %d", v.n, e.n);
	}

	ok = shim_try(run_done, &run);
	shim_count(e.n == 0 ? "validation: passed" : e.n == 10 ? "validation: 10 problems" : "validation: 1..9 problems");
	if (e.n == 0)
	{
		CHECK(ok, "validation_done raised with no problems recorded");
		return;
	}
	CHECK(!ok, "validation_done did not raise with %d problems", e.n);
	CHECK(shim_error.elevel == ERROR && shim_error.sqlerrcode == SHIM_KN(1),
		  "ValidationException raised with SQLSTATE %s", shim_sqlstate(shim_error.sqlerrcode));
	{
		StringInfoData want;
		int			i;

		initStringInfo(&want);
		appendStringInfo(&want, "ValidationException: %d validation error%s detected: ",
						 e.n, e.n == 1 ? "" : "s");
		for (i = 0; i < e.n; i++)
		{
			if (i > 0)
				appendStringInfoString(&want, "; ");
			appendStringInfoString(&want, e.errors[i]);
		}
		CHECK(shim_error.message && strcmp(shim_error.message, want.data) == 0,
			  "ValidationException message\n  got:  %s\n  want: %s",
			  shim_error.message ? shim_error.message : "(null)", want.data);
	}
}

typedef struct RaiseArgs
{
	KinesisException ex;
	const char *a;
	const char *b;
} RaiseArgs;

static void
run_raise(void *arg)
{
	RaiseArgs  *r = arg;

	kinesis_raise(r->ex, "%s[%s]", r->a, r->b);
}

static void
check_raise(FuzzIn *in)
{
	RaiseArgs	r;
	const char *name;
	char	   *want;
	int			i;

	r.ex = (KinesisException) (fi_u8(in) % KX_NUM_EXCEPTIONS);
	r.a = fi_str(in, fi_u8(in) * 16, NULL);	/* up to 4 kB: the buffer grows */
	r.b = fi_rest_str(in);
	name = kinesis_exception_name(r.ex);
	CHECK(!shim_try(run_raise, &r), "kinesis_raise returned");
	CHECK(shim_error.elevel == ERROR, "kinesis_raise raised elevel %d", shim_error.elevel);
	CHECK(shim_error.sqlerrcode == SHIM_KN(r.ex + 1) &&
		  shim_error.sqlerrcode == kinesis_exception_sqlstate(r.ex),
		  "exception %d raised SQLSTATE %s", r.ex, shim_sqlstate(shim_error.sqlerrcode));
	want = psprintf("%s: %s[%s]", name, r.a, r.b);
	CHECK(shim_error.message && strcmp(shim_error.message, want) == 0,
		  "kinesis_raise message\n  got:  %s\n  want: %s",
		  shim_error.message ? shim_error.message : "(null)", want);
	for (i = 0; i < KX_NUM_EXCEPTIONS; i++)
		CHECK(i == (int) r.ex || strcmp(kinesis_exception_name(i), name) != 0,
			  "exceptions %d and %d share the name %s", i, r.ex, name);
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
			{
				int			maxtail = fi_u8(&in) % 140;

				check_matchers(fi_rest_str(&in), maxtail);
			}
			break;
		case 1:
			check_validation(&in);
			break;
		case 2:
			check_raise(&in);
			break;
	}
	shim_end();
	return 0;
}
