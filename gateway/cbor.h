/*-------------------------------------------------------------------------
 *
 * cbor.h
 *		The CBOR side of the gateway's wire protocol: conversion between
 *		AWS CBOR 1.1 bodies (Content-Type application/x-amz-cbor-1.1, the
 *		AWS Java SDK's default for Kinesis) and the AWS JSON 1.1 bodies
 *		that the database takes and returns.
 *
 * The two formats carry the same document; they differ in two kinds of
 * members (tables in cbor.c):
 *
 *	- timestamps: CBOR tag 1 holding epoch MILLISECONDS (an integer; AWS
 *	  departs from RFC 8949 here) <-> a JSON number of epoch seconds with
 *	  up to 3 decimals, printed exactly ("1700000000.123", "1700000000");
 *	- blobs ("Data"): CBOR byte strings <-> standard padded base64 text.
 *
 * kgw_cbor_to_json is meant for untrusted request bodies.  It accepts all
 * of RFC 8949's well-formed encodings that map onto JSON (definite and
 * indefinite lengths, chunked strings, every integer width, half, single
 * and double floats, undefined as null, tags: tag 1 as above, any other
 * tag ignored) and refuses anything else with a short reason: truncated
 * input, trailing bytes, invalid UTF-8, a misplaced break, map keys that
 * are not text strings (or hold U+0000, or repeat), integers outside the
 * int64 range, NaN and infinities, simple values other than
 * false/true/null/undefined, timestamps outside +-8.64e15 ms (the
 * ECMAScript date range, +-273,790 years), and more than
 * KGW_CBOR_MAX_DEPTH nested arrays, maps and tags.  The body must be one
 * data item, of any type (the database checks that a request is an
 * object).  An empty body is refused too: the caller decides what an
 * empty request means.
 *
 * kgw_json_to_cbor is meant for the database's responses.  It writes maps
 * and arrays with indefinite lengths, as AWS does.
 *
 * Both functions are thread-safe (no global state) and allocate with
 * malloc; the caller frees the result.  Numbers are formatted and parsed
 * with snprintf/strtod, so the process must keep LC_NUMERIC at "C".
 *
 * gateway/cbor.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef KGW_CBOR_H
#define KGW_CBOR_H

#include <stddef.h>

/* the Content-Type of AWS CBOR 1.1 bodies */
#define KGW_CBOR_CONTENT_TYPE "application/x-amz-cbor-1.1"

/* at most this many arrays, maps and tags nested in a CBOR body */
#define KGW_CBOR_MAX_DEPTH 64

/*
 * CBOR request body in[0..len) -> JSON text (malloc'd, NUL-terminated,
 * compact, *json_len bytes without the NUL).  Returns 0, or -1 with a
 * short reason in err (if err is not NULL and errlen > 0) and *json NULL.
 */
extern int	kgw_cbor_to_json(const unsigned char *in, size_t len,
							 char **json, size_t *json_len,
							 char *err, size_t errlen);

/*
 * JSON text json[0..len) -> CBOR (malloc'd, *out_len bytes).  Returns 0,
 * or -1 with a short reason in err and *out NULL.
 */
extern int	kgw_json_to_cbor(const char *json, size_t len,
							 unsigned char **out, size_t *out_len,
							 char *err, size_t errlen);

#endif							/* KGW_CBOR_H */
