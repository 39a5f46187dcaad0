/*-------------------------------------------------------------------------
 *
 * apicodec.c
 *		The AWS JSON of kinesis.api()'s hot operations, PutRecords and
 *		GetRecords, decoded and encoded in C.
 *
 * kinesis.api() decodes requests in PL/pgSQL, member by member, so that
 * every type error is AWS's (src/sql/40_api.sql).  For the two operations
 * that carry records that costs more than the operation itself: decoding
 * 500 PutRecords entries took three times as long as storing them, and
 * encoding 10,000 GetRecords records twenty-five times as long as reading
 * them.  Here the well-formed request, which is nearly every request, is
 * decoded straight from the jsonb and the response is built without SQL in
 * between (GetRecords' as JSON text, which kinesis.api() reads back as
 * jsonb and kinesis.api_json() returns as it is); the typed data-plane functions
 * (kinesis.put_records, kinesis.get_records) do the work and all the
 * validation, exactly as for the PL/pgSQL path.  A request that is not
 * plainly well formed (a member of another type, a null, non-canonical
 * base64, more entries than the limit) goes to the PL/pgSQL decoder
 * (kinesis._api_put_records_checked, kinesis._api_get_records_checked),
 * which reports it as AWS does; the answer is the same either way.
 *
 * kinesis.api_json() is kinesis.api() with JSON text in and out, for the
 * wire gateway: there the GetRecords answer is written as text directly,
 * without a jsonb of up to 10 MiB that would only be printed.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "common/base64.h"
#include "fmgr.h"
#include "funcapi.h"
#include "nodes/makefuncs.h"
#include "parser/parse_func.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/resowner.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "kinesis.h"

PG_FUNCTION_INFO_V1(kinesis_api_put_records);
PG_FUNCTION_INFO_V1(kinesis_api_get_records);
PG_FUNCTION_INFO_V1(kinesis_api_json);

static Datum get_records_text(Datum out);

#define API_MAX_PUT_RECORDS 500

/* ------------------------------------------------------------------------
 * Calling the typed functions
 * ------------------------------------------------------------------------
 */

/*
 * kinesis_func
 *		The OID of kinesis.<name>(argtypes); looked up on each call (a
 *		syscache probe), so that a re-created extension is always found.
 */
static Oid
kinesis_func(const char *name, int nargs, Oid *argtypes)
{
	return LookupFuncName(list_make2(makeString("kinesis"), makeString(pstrdup(name))),
						  nargs, argtypes, false);
}

/*
 * call_fn
 *		Call a function by OID with up to two arguments that may be NULL;
 *		the result must not be NULL.
 */
static Datum
call_fn(Oid fn, int nargs, Datum a0, bool n0, Datum a1, bool n1)
{
	LOCAL_FCINFO(fcinfo, 2);
	FmgrInfo	flinfo;
	Datum		result;

	fmgr_info(fn, &flinfo);
	InitFunctionCallInfoData(*fcinfo, &flinfo, nargs, InvalidOid, NULL, NULL);
	fcinfo->args[0].value = a0;
	fcinfo->args[0].isnull = n0;
	fcinfo->args[1].value = a1;
	fcinfo->args[1].isnull = n1;
	result = FunctionCallInvoke(fcinfo);
	if (fcinfo->isnull)
		elog(ERROR, "function %u returned NULL", fn);
	return result;
}

/*
 * checked_path
 *		The PL/pgSQL decoder's answer for a request the fast path does not
 *		take, without its null members (kinesis.api() leaves the stripping
 *		of these two operations to us).
 */
static Datum
checked_path(const char *name, Jsonb *request)
{
	Oid			argtypes[1] = {JSONBOID};
	Datum		r = call_fn(kinesis_func(name, 1, argtypes), 1,
							JsonbPGetDatum(request), false, (Datum) 0, true);

	return DirectFunctionCall1(jsonb_strip_nulls, r);
}

/* ------------------------------------------------------------------------
 * Reading the request
 * ------------------------------------------------------------------------
 */

/*
 * member
 *		A member of a jsonb object container; NULL when absent.
 */
static JsonbValue *
member(JsonbContainer *obj, const char *key)
{
	return getKeyJsonValueFromContainer(obj, key, strlen(key), NULL);
}

/*
 * canonical_base64
 *		Is s[0..len) base64 as AWS accepts it (standard alphabet, length a
 *		multiple of four, at most two '=' at the end, zero bits under the
 *		padding)?  The PL/pgSQL decoder words the errors for the others.
 */
static bool
canonical_base64(const char *s, int len)
{
	static const char alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	int			pad = 0;
	int			i;
	const char *p;

	if (len % 4 != 0)
		return false;
	while (pad < len && pad < 3 && s[len - 1 - pad] == '=')
		pad++;
	if (pad > 2)
		return false;
	for (i = 0; i < len - pad; i++)
	{
		char		c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			  (c >= '0' && c <= '9') || c == '+' || c == '/'))
			return false;
	}
	if (pad > 0)
	{
		p = strchr(alphabet, s[len - pad - 1]);
		if (p == NULL || ((p - alphabet) % (pad == 1 ? 4 : 16)) != 0)
			return false;
	}
	return true;
}

/* ------------------------------------------------------------------------
 * Building the response
 * ------------------------------------------------------------------------
 */
static void
push_key(JsonbParseState **st, const char *key)
{
	JsonbValue	v;

	v.type = jbvString;
	v.val.string.val = (char *) key;
	v.val.string.len = strlen(key);
	pushJsonbValue(st, WJB_KEY, &v);
}

static void
push_string(JsonbParseState **st, JsonbIteratorToken tok, char *s, int len)
{
	JsonbValue	v;

	v.type = jbvString;
	v.val.string.val = s;
	v.val.string.len = len;
	pushJsonbValue(st, tok, &v);
}

static void
push_text(JsonbParseState **st, JsonbIteratorToken tok, Datum t)
{
	text	   *tx = DatumGetTextPP(t);

	push_string(st, tok, VARDATA_ANY(tx), VARSIZE_ANY_EXHDR(tx));
}

static void
push_numeric(JsonbParseState **st, Numeric n)
{
	JsonbValue	v;

	v.type = jbvNumeric;
	v.val.numeric = n;
	pushJsonbValue(st, WJB_VALUE, &v);
}

/*
 * push_text_member
 *		"key": text, unless the datum is NULL (absent members are left out).
 */
static void
push_text_member(JsonbParseState **st, const char *key, Datum d, bool isnull)
{
	if (isnull)
		return;
	push_key(st, key);
	push_text(st, WJB_VALUE, d);
}

/*
 * deform
 *		The attributes of a composite datum.
 */
static void
deform(Datum composite, TupleDesc *desc, Datum *values, bool *nulls)
{
	HeapTupleHeader h = DatumGetHeapTupleHeader(composite);
	HeapTupleData tuple;

	if (*desc == NULL)
		*desc = lookup_rowtype_tupdesc_copy(HeapTupleHeaderGetTypeId(h),
											HeapTupleHeaderGetTypMod(h));
	tuple.t_len = HeapTupleHeaderGetDatumLength(h);
	tuple.t_data = h;
	ItemPointerSetInvalid(&tuple.t_self);
	tuple.t_tableOid = InvalidOid;
	heap_deform_tuple(&tuple, *desc, values, nulls);
}

/*
 * array_elements
 *		The elements of an array datum.
 */
static void
array_elements(Datum a, Datum **elems, bool **nulls, int *n)
{
	ArrayType  *arr = DatumGetArrayTypeP(a);
	int16		typlen;
	bool		typbyval;
	char		typalign;

	get_typlenbyvalalign(ARR_ELEMTYPE(arr), &typlen, &typbyval, &typalign);
	deconstruct_array(arr, ARR_ELEMTYPE(arr), typlen, typbyval, typalign, elems, nulls, n);
}

/* ------------------------------------------------------------------------
 * PutRecords
 * ------------------------------------------------------------------------
 */

/*
 * kinesis._api_put_records(request jsonb) returns jsonb
 *		PutRecords for kinesis.api(): see the file header.
 */
Datum
kinesis_api_put_records(PG_FUNCTION_ARGS)
{
	Jsonb	   *request = PG_GETARG_JSONB_P(0);
	JsonbContainer *root = &request->root;
	JsonbValue *records;
	JsonbValue *stream;
	int			n;
	Datum	   *entries;
	Oid			entry_type;
	Oid			array_type;
	TupleDesc	entry_desc;
	Oid			argtypes[2];
	Datum		out;
	TupleDesc	out_desc = NULL;
	TupleDesc	res_desc = NULL;
	Datum		ov[3];
	bool		on[3];
	Datum	   *res;
	bool	   *resnulls;
	int			nres;
	JsonbParseState *st = NULL;
	JsonbValue *result;

	if (!JB_ROOT_IS_OBJECT(request))
		return checked_path("_api_put_records_checked", request);
	records = member(root, "Records");
	stream = member(root, "StreamName");
	if (records == NULL || records->type != jbvBinary ||
		!JsonContainerIsArray(records->val.binary.data) ||
		stream == NULL || stream->type != jbvString)
		return checked_path("_api_put_records_checked", request);
	n = JsonContainerSize(records->val.binary.data);
	if (n < 1 || n > API_MAX_PUT_RECORDS)
		return checked_path("_api_put_records_checked", request);

	entry_type = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
								 CStringGetDatum("put_records_request_entry"),
								 ObjectIdGetDatum(get_namespace_oid("kinesis", false)));
	array_type = get_array_type(entry_type);
	if (!OidIsValid(entry_type) || !OidIsValid(array_type))
		elog(ERROR, "type kinesis.put_records_request_entry is missing");
	entry_desc = lookup_rowtype_tupdesc_copy(entry_type, -1);
	entries = palloc(sizeof(Datum) * n);

	for (int i = 0; i < n; i++)
	{
		JsonbValue *e = getIthJsonbValueFromContainer(records->val.binary.data, i);
		JsonbValue *data;
		JsonbValue *pk;
		JsonbValue *ehk;
		Datum		v[3];
		bool		nl[3] = {false, true, false};
		bytea	   *raw;
		int			rawlen;

		if (e == NULL || e->type != jbvBinary || !JsonContainerIsObject(e->val.binary.data))
			return checked_path("_api_put_records_checked", request);
		data = member(e->val.binary.data, "Data");
		pk = member(e->val.binary.data, "PartitionKey");
		ehk = member(e->val.binary.data, "ExplicitHashKey");
		if (data == NULL || data->type != jbvString || pk == NULL || pk->type != jbvString ||
			(ehk != NULL && ehk->type != jbvString && ehk->type != jbvNull) ||
			!canonical_base64(data->val.string.val, data->val.string.len))
			return checked_path("_api_put_records_checked", request);

		raw = palloc(VARHDRSZ + pg_b64_dec_len(data->val.string.len) + 1);
		rawlen = pg_b64_decode(data->val.string.val, data->val.string.len, VARDATA(raw),
							   pg_b64_dec_len(data->val.string.len) + 1);
		if (rawlen < 0)
			return checked_path("_api_put_records_checked", request);
		SET_VARSIZE(raw, VARHDRSZ + rawlen);
		/* kinesis.put_records_request_entry: data, explicit_hash_key, partition_key */
		v[0] = PointerGetDatum(raw);
		if (ehk != NULL && ehk->type == jbvString)
		{
			v[1] = PointerGetDatum(cstring_to_text_with_len(ehk->val.string.val, ehk->val.string.len));
			nl[1] = false;
		}
		v[2] = PointerGetDatum(cstring_to_text_with_len(pk->val.string.val, pk->val.string.len));
		entries[i] = HeapTupleGetDatum(heap_form_tuple(entry_desc, v, nl));
	}

	argtypes[0] = array_type;
	argtypes[1] = TEXTOID;
	out = call_fn(kinesis_func("put_records", 2, argtypes), 2,
				  PointerGetDatum(construct_array(entries, n, entry_type, -1, false, TYPALIGN_DOUBLE)),
				  false,
				  PointerGetDatum(cstring_to_text_with_len(stream->val.string.val, stream->val.string.len)),
				  false);

	/* kinesis.put_records_output: failed_record_count, records, encryption_type */
	deform(out, &out_desc, ov, on);
	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	push_key(&st, "FailedRecordCount");
	push_numeric(&st, int64_to_numeric(on[0] ? 0 : DatumGetInt32(ov[0])));
	push_text_member(&st, "EncryptionType", ov[2], on[2]);
	push_key(&st, "Records");
	pushJsonbValue(&st, WJB_BEGIN_ARRAY, NULL);
	if (!on[1])
	{
		array_elements(ov[1], &res, &resnulls, &nres);
		for (int i = 0; i < nres; i++)
		{
			Datum		rv[4];
			bool		rn[4];

			/* kinesis.put_records_result_entry: sequence_number, shard_id, error_code, error_message */
			deform(res[i], &res_desc, rv, rn);
			pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
			push_text_member(&st, "SequenceNumber", rv[0], rn[0]);
			push_text_member(&st, "ShardId", rv[1], rn[1]);
			push_text_member(&st, "ErrorCode", rv[2], rn[2]);
			push_text_member(&st, "ErrorMessage", rv[3], rn[3]);
			pushJsonbValue(&st, WJB_END_OBJECT, NULL);
		}
	}
	pushJsonbValue(&st, WJB_END_ARRAY, NULL);
	result = pushJsonbValue(&st, WJB_END_OBJECT, NULL);
	PG_RETURN_JSONB_P(JsonbValueToJsonb(result));
}

/* ------------------------------------------------------------------------
 * GetRecords
 * ------------------------------------------------------------------------
 */

/*
 * get_records_fast
 *		kinesis.get_records() for a GetRecords request that is plainly well
 *		formed (a ShardIterator string, a Limit that is absent, null or an
 *		integer that fits): its composite answer in *out.  False, without
 *		calling anything, for any other request, which the PL/pgSQL decoder
 *		words the errors of.
 */
static bool
get_records_fast(Jsonb *request, Datum *out)
{
	JsonbValue *iterator;
	JsonbValue *limit;
	Datum		limit_value = (Datum) 0;
	bool		limit_null = true;
	Oid			argtypes[2] = {TEXTOID, INT4OID};

	if (!JB_ROOT_IS_OBJECT(request))
		return false;
	iterator = member(&request->root, "ShardIterator");
	limit = member(&request->root, "Limit");
	if (iterator == NULL || iterator->type != jbvString)
		return false;
	if (limit != NULL && limit->type == jbvNumeric)
	{
		/* an integer that fits; anything else is the checked path's to word */
		Numeric		n = limit->val.numeric;
		bool		have_error = false;
		int32		l;

		if (numeric_is_nan(n) || numeric_is_inf(n) ||
			!DatumGetBool(DirectFunctionCall2(numeric_eq, NumericGetDatum(n),
											  DirectFunctionCall2(numeric_trunc, NumericGetDatum(n),
																  Int32GetDatum(0)))))
			return false;
		l = numeric_int4_opt_error(n, &have_error);
		if (have_error)
			return false;
		limit_value = Int32GetDatum(l);
		limit_null = false;
	}
	else if (limit != NULL && limit->type != jbvNull)
		return false;

	*out = call_fn(kinesis_func("get_records", 2, argtypes), 2,
				   PointerGetDatum(cstring_to_text_with_len(iterator->val.string.val,
															iterator->val.string.len)),
				   false, limit_value, limit_null);
	return true;
}

/*
 * kinesis._api_get_records(request jsonb) returns jsonb
 *		GetRecords for kinesis.api(): see the file header.
 */
Datum
kinesis_api_get_records(PG_FUNCTION_ARGS)
{
	Jsonb	   *request = PG_GETARG_JSONB_P(0);
	Datum		out;

	if (!get_records_fast(request, &out))
		return checked_path("_api_get_records_checked", request);
	/* one encoder: the text answer (get_records_text()) read back as jsonb */
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(TextDatumGetCString(get_records_text(out))));
}

/* ------------------------------------------------------------------------
 * kinesis.api_json(): the API with JSON text in and out
 * ------------------------------------------------------------------------
 */

/*
 * append_text_string
 *		A text datum as a JSON string.
 */
static void
append_text_string(StringInfo buf, Datum t)
{
	escape_json(buf, TextDatumGetCString(t));
}

/*
 * append_plain_string
 *		A text datum that needs no escaping (digits, letters) as a JSON
 *		string: sequence numbers and encryption types, which are ours.
 */
static void
append_plain_string(StringInfo buf, Datum t)
{
	text	   *tx = DatumGetTextPP(t);

	appendStringInfoChar(buf, '"');
	appendBinaryStringInfo(buf, VARDATA_ANY(tx), VARSIZE_ANY_EXHDR(tx));
	appendStringInfoChar(buf, '"');
}

/*
 * append_epoch_seconds
 *		A timestamp as kinesis.api() writes it: epoch seconds truncated to
 *		milliseconds, without trailing zeros, as kinesis._api_timestamp_out()
 *		gives them.
 */
static void
append_epoch_seconds(StringInfo buf, TimestampTz ts)
{
	int64		us = ts + (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY;
	int64		ms = us / 1000;	/* truncated towards zero, as trunc() */
	int64		secs = ms / 1000;
	int			frac = (int) (ms % 1000);

	if (frac < 0)
	{
		/* before 1970: the sign goes in front of the whole number */
		appendStringInfoString(buf, secs == 0 ? "-0" : "");
		frac = -frac;
	}
	appendStringInfo(buf, INT64_FORMAT, secs);
	if (frac != 0)
	{
		char		digits[4];

		snprintf(digits, sizeof(digits), "%03d", frac);
		for (int n = 3; digits[n - 1] == '0'; n--)
			digits[n - 1] = '\0';
		appendStringInfo(buf, ".%s", digits);
	}
}

/*
 * get_records_text
 *		The GetRecords response for kinesis.get_records()'s answer, written
 *		as JSON text: the members and values of kinesis_api_get_records()'s
 *		jsonb, with no jsonb in between.  Returned as a text datum built in
 *		place (the varlena header is reserved in front of the buffer).
 */
static Datum
get_records_text(Datum out)
{
	StringInfoData buf;
	TupleDesc	out_desc = NULL;
	TupleDesc	rec_desc = NULL;
	TupleDesc	child_desc = NULL;
	Datum		ov[4];
	bool		on[4];
	Datum	   *recs;
	bool	   *recnulls;
	int			nrecs = 0;

	initStringInfo(&buf);
	appendStringInfoSpaces(&buf, VARHDRSZ);

	/* records, next_shard_iterator, millis_behind_latest, child_shards */
	deform(out, &out_desc, ov, on);
	appendStringInfoString(&buf, "{\"Records\":[");
	if (!on[0])
		array_elements(ov[0], &recs, &recnulls, &nrecs);
	for (int i = 0; i < nrecs; i++)
	{
		Datum		rv[5];
		bool		rn[5];

		/* kinesis.record: sequence_number, approximate_arrival_timestamp, data, partition_key, encryption_type */
		deform(recs[i], &rec_desc, rv, rn);
		appendStringInfoString(&buf, i == 0 ? "{" : ",{");
		if (rn[0])
			elog(ERROR, "kinesis.get_records returned a record without a sequence number");
		appendStringInfoString(&buf, "\"SequenceNumber\":");
		append_plain_string(&buf, rv[0]);
		if (!rn[1])
		{
			appendStringInfoString(&buf, ",\"ApproximateArrivalTimestamp\":");
			append_epoch_seconds(&buf, DatumGetTimestampTz(rv[1]));
		}
		if (!rn[2])
		{
			bytea	   *data = DatumGetByteaPP(rv[2]);
			int			dlen = VARSIZE_ANY_EXHDR(data);
			int			room = pg_b64_enc_len(dlen);
			int			blen;

			appendStringInfoString(&buf, ",\"Data\":\"");
			enlargeStringInfo(&buf, room + 2);
			blen = pg_b64_encode(VARDATA_ANY(data), dlen, buf.data + buf.len, room);
			if (blen < 0)
				elog(ERROR, "could not encode a record's data as base64");
			buf.len += blen;
			appendStringInfoChar(&buf, '"');
		}
		if (!rn[3])
		{
			appendStringInfoString(&buf, ",\"PartitionKey\":");
			append_text_string(&buf, rv[3]);
		}
		if (!rn[4])
		{
			appendStringInfoString(&buf, ",\"EncryptionType\":");
			append_plain_string(&buf, rv[4]);
		}
		appendStringInfoChar(&buf, '}');
	}
	appendStringInfoChar(&buf, ']');
	if (!on[1])
	{
		appendStringInfoString(&buf, ",\"NextShardIterator\":");
		append_text_string(&buf, ov[1]);
	}
	if (!on[2])
		appendStringInfo(&buf, ",\"MillisBehindLatest\":" INT64_FORMAT, DatumGetInt64(ov[2]));
	if (!on[3])
	{
		Datum	   *kids;
		bool	   *kidnulls;
		int			nkids;

		array_elements(ov[3], &kids, &kidnulls, &nkids);
		if (nkids > 0)
		{
			appendStringInfoString(&buf, ",\"ChildShards\":[");
			for (int i = 0; i < nkids; i++)
			{
				Datum		cv[4];
				bool		cn[4];

				/* kinesis.child_shard: shard_id, parent_shards, starting_hash_key, ending_hash_key */
				deform(kids[i], &child_desc, cv, cn);
				appendStringInfoString(&buf, i == 0 ? "{\"ShardId\":" : ",{\"ShardId\":");
				append_text_string(&buf, cv[0]);
				if (!cn[1])
				{
					Datum	   *parents;
					bool	   *pnulls;
					int			np;
					bool		first = true;

					array_elements(cv[1], &parents, &pnulls, &np);
					appendStringInfoString(&buf, ",\"ParentShards\":[");
					for (int j = 0; j < np; j++)
					{
						if (pnulls[j])
							continue;
						if (!first)
							appendStringInfoChar(&buf, ',');
						append_text_string(&buf, parents[j]);
						first = false;
					}
					appendStringInfoChar(&buf, ']');
				}
				appendStringInfoString(&buf, ",\"HashKeyRange\":{");
				if (!cn[2])
				{
					appendStringInfoString(&buf, "\"StartingHashKey\":");
					append_text_string(&buf, cv[2]);
				}
				if (!cn[3])
				{
					appendStringInfoString(&buf, cn[2] ? "\"EndingHashKey\":" : ",\"EndingHashKey\":");
					append_text_string(&buf, cv[3]);
				}
				appendStringInfoString(&buf, "}}");
			}
			appendStringInfoChar(&buf, ']');
		}
	}
	appendStringInfoChar(&buf, '}');
	SET_VARSIZE(buf.data, buf.len);
	return PointerGetDatum(buf.data);
}

/*
 * api_text
 *		kinesis.api(operation, request) as JSON text; either may be NULL
 *		(kinesis.api() answers that as it answers any bad request).
 */
static Datum
api_text(Datum operation, bool operation_null, Jsonb *request)
{
	Oid			argtypes[2] = {TEXTOID, JSONBOID};
	Datum		r = call_fn(kinesis_func("api", 2, argtypes), 2,
							operation, operation_null,
							PointerGetDatum(request), request == NULL);

	return CStringGetTextDatum(DatumGetCString(DirectFunctionCall1(jsonb_out, r)));
}

/*
 * error_body
 *		The AWS error body of a Kinesis error (SQLSTATE class KN) as text,
 *		by kinesis._api_error(), as kinesis.api() answers it.
 */
static Datum
error_body(const char *state, const char *message)
{
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	Datum		body = call_fn(kinesis_func("_api_error", 2, argtypes), 2,
							   CStringGetTextDatum(state), false,
							   CStringGetTextDatum(message), false);

	return CStringGetTextDatum(DatumGetCString(DirectFunctionCall1(jsonb_out, body)));
}

/*
 * in_subtransaction
 *		fn(arg) in a subtransaction, as a PL/pgSQL exception block runs its
 *		body: on success *result is fn's and NULL is returned; on an error
 *		the subtransaction is rolled back (nothing it did stays) and the
 *		error is returned for the caller to answer or raise again.
 */
static ErrorData *
in_subtransaction(Datum (*fn) (void *arg), void *arg, Datum *result)
{
	MemoryContext oldcontext = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	ErrorData  *volatile edata = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcontext);
	PG_TRY();
	{
		*result = fn(arg);
		ReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(oldcontext);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(oldcontext);
	CurrentResourceOwner = oldowner;
	return edata;
}

static Datum
parse_body(void *arg)
{
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(TextDatumGetCString(*(Datum *) arg)));
}

/*
 * parse_request
 *		The request body as jsonb, read as a cast to jsonb reads it; NULL
 *		when it is no JSON that jsonb accepts (a syntax error, \u0000, a
 *		number beyond numeric, nesting deeper than the parser allows),
 *		which AWS answers with SerializationException.  Other errors are
 *		raised.
 */
static Jsonb *
parse_request(Datum body)
{
	Datum		request = (Datum) 0;
	ErrorData  *edata = in_subtransaction(parse_body, &body, &request);

	if (edata == NULL)
		return DatumGetJsonbP(request);
	if (edata->sqlerrcode != ERRCODE_INVALID_TEXT_REPRESENTATION &&
		edata->sqlerrcode != ERRCODE_UNTRANSLATABLE_CHARACTER &&
		edata->sqlerrcode != ERRCODE_INVALID_JSON_TEXT &&
		edata->sqlerrcode != ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE &&
		edata->sqlerrcode != ERRCODE_STATEMENT_TOO_COMPLEX)
		ReThrowError(edata);
	FreeErrorData(edata);
	return NULL;
}

/*
 * read_as_text
 *		The GetRecords answer as text for a plainly well-formed request,
 *		(Datum) 0 for any other.
 */
static Datum
read_as_text(void *arg)
{
	Datum		out;

	if (!get_records_fast((Jsonb *) arg, &out))
		return (Datum) 0;
	return get_records_text(out);
}

/*
 * kinesis.api_json(operation text, request text) returns text
 *		kinesis.api() with the bodies as JSON text, for wire gateways, which
 *		receive and send text anyway.  A body that is no JSON jsonb takes
 *		gets the SerializationException body (parse_request()), and every
 *		operation is kinesis.api()'s,
 *		with one shortcut: the answer to a well-formed GetRecords request is
 *		written as text straight from kinesis.get_records(), since building
 *		a jsonb of up to 10 MiB only to print it cost PostgreSQL more than
 *		the read itself (test/bench, gateway group).
 *
 * The shortcut keeps kinesis.api()'s contract: a Kinesis error (SQLSTATE
 * class KN) is answered with its AWS error body, and leaves no effects,
 * because the read runs in a subtransaction, as the PL/pgSQL exception
 * block of kinesis.api() runs it; other errors are raised.
 */
Datum
kinesis_api_json(PG_FUNCTION_ARGS)
{
	Jsonb	   *request;
	Datum		result = (Datum) 0;
	ErrorData  *edata;

	/* a body that is no JSON: SerializationException, as AWS answers it */
	request = PG_ARGISNULL(1) ? NULL : parse_request(PG_GETARG_DATUM(1));
	if (!PG_ARGISNULL(1) && request == NULL)
		PG_RETURN_DATUM(error_body(unpack_sql_state(kinesis_exception_sqlstate(KX_SERIALIZATION)), ""));

	/* NULLs, and every operation but GetRecords, are kinesis.api()'s */
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) ||
		strcmp(TextDatumGetCString(PG_GETARG_DATUM(0)), "GetRecords") != 0)
		PG_RETURN_DATUM(api_text(PG_GETARG_DATUM(0), PG_ARGISNULL(0), request));

	edata = in_subtransaction(read_as_text, request, &result);
	if (edata != NULL)
	{
		char		state[6];

		memcpy(state, unpack_sql_state(edata->sqlerrcode), sizeof(state));
		if (strncmp(state, "KN", 2) != 0)
			ReThrowError(edata);
		PG_RETURN_DATUM(error_body(state, edata->message ? edata->message : ""));
	}

	/* not plainly well formed: kinesis.api() words what is wrong with it */
	if (result == (Datum) 0)
		PG_RETURN_DATUM(api_text(PG_GETARG_DATUM(0), false, request));
	PG_RETURN_DATUM(result);
}
