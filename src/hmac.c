/*-------------------------------------------------------------------------
 *
 * hmac.c
 *		HMAC-SHA256 for the tags of encrypted records, without a library
 *		call per record.
 *
 * Every encrypted record is tagged when it is put and checked when it is
 * read.  Through OpenSSL 3 (PostgreSQL's pg_hmac) each tag costs a context
 * set-up with an algorithm fetch under locks, which measured as the larger
 * part of reading encrypted records.  HMAC's key only enters through two
 * hash states (the key XOR ipad and XOR opad blocks), so those are computed
 * once per key here and each tag starts from copies of them: a 12-byte
 * position plus an IV and ciphertext costs a few SHA-256 compressions and
 * nothing else.  The compressions are OpenSSL's low-level SHA-256 (which
 * uses the CPU's SHA instructions where there are some; a portable SHA-256
 * of our own measured four times slower); the SQL function
 * kinesis._hmac_sha256() lets the regression tests compare the result with
 * pgcrypto's hmac().
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <openssl/sha.h>

#include "fmgr.h"
#include "utils/builtins.h"

#include "kinesis.h"

PG_FUNCTION_INFO_V1(kinesis_hmac_sha256_sql);

/*
 * kinesis_hmac_prepare
 *		The two hash states an HMAC key stands for (RFC 2104); keys longer
 *		than a block are hashed first.
 */
void
kinesis_hmac_prepare(KinesisHmacKey *hk, const uint8 *key, size_t keylen)
{
	uint8		block[64];
	uint8		pad[64];
	int			i;

	StaticAssertStmt(sizeof(SHA256_CTX) <= sizeof(hk->inner),
					 "KinesisSha256 must hold an OpenSSL SHA256_CTX");
	memset(block, 0, sizeof(block));
	if (keylen > 64)
		SHA256(key, keylen, block);
	else
		memcpy(block, key, keylen);
	for (i = 0; i < 64; i++)
		pad[i] = block[i] ^ 0x36;
	SHA256_Init((SHA256_CTX *) &hk->inner);
	SHA256_Update((SHA256_CTX *) &hk->inner, pad, 64);
	for (i = 0; i < 64; i++)
		pad[i] = block[i] ^ 0x5c;
	SHA256_Init((SHA256_CTX *) &hk->outer);
	SHA256_Update((SHA256_CTX *) &hk->outer, pad, 64);
}

/*
 * kinesis_hmac_sha256
 *		HMAC-SHA256 of the concatenation of two pieces under a prepared key.
 */
void
kinesis_hmac_sha256(const KinesisHmacKey *hk, const uint8 *a, size_t alen,
					const uint8 *b, size_t blen, uint8 *mac)
{
	SHA256_CTX	s;
	uint8		inner[32];

	memcpy(&s, &hk->inner, sizeof(s));
	SHA256_Update(&s, a, alen);
	if (blen > 0)
		SHA256_Update(&s, b, blen);
	SHA256_Final(inner, &s);
	memcpy(&s, &hk->outer, sizeof(s));
	SHA256_Update(&s, inner, sizeof(inner));
	SHA256_Final(mac, &s);
}

/*
 * kinesis._hmac_sha256(key bytea, message bytea) RETURNS bytea
 *		The same computation from SQL, for the regression tests.
 */
Datum
kinesis_hmac_sha256_sql(PG_FUNCTION_ARGS)
{
	bytea	   *key = PG_GETARG_BYTEA_PP(0);
	bytea	   *msg = PG_GETARG_BYTEA_PP(1);
	KinesisHmacKey hk;
	bytea	   *out = palloc(VARHDRSZ + 32);

	kinesis_hmac_prepare(&hk, (const uint8 *) VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key));
	kinesis_hmac_sha256(&hk, (const uint8 *) VARDATA_ANY(msg), VARSIZE_ANY_EXHDR(msg),
						NULL, 0, (uint8 *) VARDATA(out));
	SET_VARSIZE(out, VARHDRSZ + 32);
	PG_RETURN_BYTEA_P(out);
}
