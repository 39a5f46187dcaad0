/*-------------------------------------------------------------------------
 *
 * errors.c
 *		Kinesis exceptions as PostgreSQL errors.
 *
 * Every Kinesis exception has one stable SQLSTATE in the private class
 * "KN" (the SQL standard leaves classes starting with K to implementations
 * and PostgreSQL uses none of them).  The primary message is the exception
 * name, a colon and AWS's own message text, so that psql users see the
 * name and clients can branch on the SQLSTATE.  kinesis.api() strips the
 * prefix again to build the AWS JSON error body.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

#include "kinesis.h"

typedef struct KinesisExceptionInfo
{
	const char *name;
	const char *sqlstate;
} KinesisExceptionInfo;

/* The order follows enum KinesisException. */
static const KinesisExceptionInfo kinesis_exceptions[KX_NUM_EXCEPTIONS] = {
	{"ValidationException", "KN001"},
	{"InvalidArgumentException", "KN002"},
	{"ResourceNotFoundException", "KN003"},
	{"ResourceInUseException", "KN004"},
	{"LimitExceededException", "KN005"},
	{"ExpiredIteratorException", "KN006"},
	{"ExpiredNextTokenException", "KN007"},
	{"ProvisionedThroughputExceededException", "KN008"},
	{"InternalFailure", "KN009"},
	{"AccessDeniedException", "KN010"},
	{"SerializationException", "KN011"},
	{"UnknownOperationException", "KN012"},
	{"KMSDisabledException", "KN013"},
	{"KMSInvalidStateException", "KN014"},
	{"KMSAccessDeniedException", "KN015"},
	{"KMSNotFoundException", "KN016"},
	{"KMSOptInRequired", "KN017"},
	{"KMSThrottlingException", "KN018"},
};

PG_FUNCTION_INFO_V1(kinesis_raise_sql);
PG_FUNCTION_INFO_V1(kinesis_error_codes);

/*
 * kinesis_exception_name
 *		The AWS name of an exception, e.g. "ResourceNotFoundException".
 */
const char *
kinesis_exception_name(KinesisException ex)
{
	Assert(ex >= 0 && ex < KX_NUM_EXCEPTIONS);
	return kinesis_exceptions[ex].name;
}

/*
 * kinesis_exception_sqlstate
 *		The SQLSTATE of an exception, encoded as errcode() wants it.
 */
int
kinesis_exception_sqlstate(KinesisException ex)
{
	const char *s = kinesis_exceptions[ex].sqlstate;

	return MAKE_SQLSTATE(s[0], s[1], s[2], s[3], s[4]);
}

/*
 * kinesis_raise
 *		Throw a Kinesis exception with AWS's message text.
 *
 * The message is formatted first and passed through "%s" so that a stream
 * name or value containing '%' is printed literally.
 */
void
kinesis_raise(KinesisException ex, const char *fmt,...)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (;;)
	{
		va_list		args;
		int			needed;

		va_start(args, fmt);
		needed = appendStringInfoVA(&buf, fmt, args);
		va_end(args);
		if (needed == 0)
			break;
		enlargeStringInfo(&buf, needed);
	}

	ereport(ERROR,
			(errcode(kinesis_exception_sqlstate(ex)),
			 errmsg("%s: %s", kinesis_exception_name(ex), buf.data)));
	pg_unreachable();
}

/*
 * kinesis_validation_text
 *		One entry of a ValidationException, in AWS's wording:
 *		"Value '<v>' at '<field>' failed to satisfy constraint: Member must ..."
 *
 * A NULL value prints as "null", as AWS prints a missing member.
 */
char *
kinesis_validation_text(const char *value, const char *field,
						const char *constraint)
{
	return psprintf("Value %s%s%s at '%s' failed to satisfy constraint: %s",
					value ? "'" : "", value ? value : "null", value ? "'" : "",
					field, constraint);
}

/*
 * kinesis_raise_validation
 *		Throw a ValidationException listing up to ten schema problems:
 *		"2 validation errors detected: <e1>; <e2>".
 */
void
kinesis_raise_validation(int nerrors, char **errors)
{
	StringInfoData buf;
	int			i;

	Assert(nerrors > 0);
	initStringInfo(&buf);
	appendStringInfo(&buf, "%d validation error%s detected: ",
					 nerrors, nerrors == 1 ? "" : "s");
	for (i = 0; i < nerrors && i < 10; i++)
		appendStringInfo(&buf, "%s%s", i > 0 ? "; " : "", errors[i]);
	kinesis_raise(KX_VALIDATION, "%s", buf.data);
}

/*
 * kinesis._raise(exception text, message text)
 *		Let the SQL parts of the extension throw Kinesis exceptions through
 *		the same table of SQLSTATEs as the C parts.
 */
Datum
kinesis_raise_sql(PG_FUNCTION_ARGS)
{
	char	   *name;
	char	   *message;
	int			i;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		elog(ERROR, "kinesis._raise: arguments must not be null");
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	message = text_to_cstring(PG_GETARG_TEXT_PP(1));

	for (i = 0; i < KX_NUM_EXCEPTIONS; i++)
		if (strcmp(name, kinesis_exceptions[i].name) == 0)
			kinesis_raise((KinesisException) i, "%s", message);
	elog(ERROR, "unknown Kinesis exception \"%s\"", name);
	PG_RETURN_VOID();
}

/*
 * kinesis.error_codes()
 *		The exception table as a set of (exception, sqlstate) rows, so that
 *		SQL code and users can map one to the other.
 */
Datum
kinesis_error_codes(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	for (i = 0; i < KX_NUM_EXCEPTIONS; i++)
	{
		Datum		values[2];
		bool		nulls[2] = {false, false};

		values[0] = CStringGetTextDatum(kinesis_exceptions[i].name);
		values[1] = CStringGetTextDatum(kinesis_exceptions[i].sqlstate);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * kinesis_validation_add
 *		Record one schema problem; AWS reports at most ten.
 */
void
kinesis_validation_add(KinesisValidation *v, const char *value,
					   const char *field, const char *constraint)
{
	if (v->n < 10)
		v->errors[v->n++] = kinesis_validation_text(value, field, constraint);
}

/*
 * kinesis_validation_done
 *		Throw the collected ValidationException, if any.
 */
void
kinesis_validation_done(KinesisValidation *v)
{
	if (v->n > 0)
		kinesis_raise_validation(v->n, v->errors);
}

/*
 * kinesis_match_name
 *		[a-zA-Z0-9_.-]+, the pattern of stream, shard and consumer names.
 */
bool
kinesis_match_name(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
			  (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' || *s == '-'))
			return false;
	return true;
}

/*
 * kinesis_match_decimal
 *		0|([1-9]\d{0,maxtail}): the pattern of hash keys (maxtail 38) and
 *		sequence numbers (maxtail 128).
 */
bool
kinesis_match_decimal(const char *s, int maxtail)
{
	int			n = 0;

	if (strcmp(s, "0") == 0)
		return true;
	if (*s < '1' || *s > '9')
		return false;
	for (s++; *s; s++, n++)
		if (*s < '0' || *s > '9' || n >= maxtail)
			return false;
	return true;
}

/*
 * kinesis_validate_string
 *		The usual checks on a string member, in AWS's order: not null,
 *		pattern, minimum and maximum length (in characters).  minlen or
 *		maxlen < 0 and pattern NULL skip that check.
 */
void
kinesis_validate_string(KinesisValidation *v, const char *value, const char *field,
						bool notnull, const char *pattern, int minlen, int maxlen)
{
	int			len;

	if (value == NULL)
	{
		if (notnull)
			kinesis_validation_add(v, NULL, field, "Member must not be null");
		return;
	}
	if (pattern != NULL)
	{
		bool		ok;

		if (strcmp(pattern, KINESIS_NAME_PATTERN) == 0)
			ok = kinesis_match_name(value);
		else if (strcmp(pattern, KINESIS_HASH_KEY_PATTERN) == 0)
			ok = kinesis_match_decimal(value, 38);
		else if (strcmp(pattern, KINESIS_SEQNUM_PATTERN) == 0)
			ok = kinesis_match_decimal(value, 128);
		else
			elog(ERROR, "unknown validation pattern \"%s\"", pattern);
		if (!ok)
			kinesis_validation_add(v, value, field,
								   psprintf("Member must satisfy regular expression pattern: %s", pattern));
	}
	len = pg_mbstrlen(value);
	if (minlen >= 0 && len < minlen)
		kinesis_validation_add(v, value, field,
							   psprintf("Member must have length greater than or equal to %d", minlen));
	if (maxlen >= 0 && len > maxlen)
		kinesis_validation_add(v, value, field,
							   psprintf("Member must have length less than or equal to %d", maxlen));
}

/*
 * kinesis_validate_blob
 *		A blob member: not null and at most maxlen bytes.  AWS prints blobs
 *		as Java byte buffers.
 */
void
kinesis_validate_blob(KinesisValidation *v, bytea *value, const char *field,
					  int maxlen)
{
	int			len;

	if (value == NULL)
	{
		kinesis_validation_add(v, NULL, field, "Member must not be null");
		return;
	}
	len = VARSIZE_ANY_EXHDR(value);
	if (len > maxlen)
		kinesis_validation_add(v, psprintf("java.nio.HeapByteBuffer[pos=0 lim=%d cap=%d]", len, len),
							   field,
							   psprintf("Member must have length less than or equal to %d", maxlen));
}

/*
 * kinesis_validate_int
 *		An integer member within [min, max] (either bound may be skipped
 *		with PG_INT64_MIN / PG_INT64_MAX).
 */
void
kinesis_validate_int(KinesisValidation *v, bool isnull, int64 value, const char *field,
					 bool notnull, int64 min, int64 max)
{
	char	   *s;

	if (isnull)
	{
		if (notnull)
			kinesis_validation_add(v, NULL, field, "Member must not be null");
		return;
	}
	s = psprintf(INT64_FORMAT, value);
	if (value < min)
		kinesis_validation_add(v, s, field,
							   psprintf("Member must have value greater than or equal to " INT64_FORMAT, min));
	if (value > max)
		kinesis_validation_add(v, s, field,
							   psprintf("Member must have value less than or equal to " INT64_FORMAT, max));
}

/*
 * kinesis_text_arg
 *		A text argument as a C string, or NULL for SQL NULL.
 */
char *
kinesis_text_arg(FunctionCallInfo fcinfo, int argno)
{
	if (PG_ARGISNULL(argno))
		return NULL;
	return text_to_cstring(PG_GETARG_TEXT_PP(argno));
}
