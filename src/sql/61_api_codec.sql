-- kinesis extension, since version 1.1: PutRecords and GetRecords of
-- kinesis.api() decoded and encoded in C (src/apicodec.c).
--
-- The PL/pgSQL decoders of 40_api.sql stay, under the names
-- _api_put_records_checked and _api_get_records_checked, for the requests
-- the C path hands over (anything not plainly well formed), so that every
-- type error keeps AWS's wording.  Part of the 1.0 -> 1.1 upgrade script.

ALTER FUNCTION kinesis._api_put_records(jsonb) RENAME TO _api_put_records_checked;
COMMENT ON FUNCTION kinesis._api_put_records_checked(jsonb) IS
    'Internal: PutRecords for kinesis.api(), decoded member by member in PL/pgSQL; kinesis._api_put_records() hands it the requests that are not plainly well formed.';
ALTER FUNCTION kinesis._api_get_records(jsonb) RENAME TO _api_get_records_checked;
COMMENT ON FUNCTION kinesis._api_get_records_checked(jsonb) IS
    'Internal: GetRecords for kinesis.api(), decoded member by member in PL/pgSQL; kinesis._api_get_records() hands it the requests that are not plainly well formed.';

CREATE FUNCTION kinesis._api_put_records(request jsonb)
RETURNS jsonb
LANGUAGE C VOLATILE STRICT
AS 'MODULE_PATHNAME', 'kinesis_api_put_records';
COMMENT ON FUNCTION kinesis._api_put_records(jsonb) IS
    'Internal: PutRecords for kinesis.api(), in C: a well-formed request straight to kinesis.put_records(), the response built as jsonb without null members; any other request to kinesis._api_put_records_checked().';

CREATE FUNCTION kinesis._api_get_records(request jsonb)
RETURNS jsonb
LANGUAGE C VOLATILE STRICT
AS 'MODULE_PATHNAME', 'kinesis_api_get_records';
COMMENT ON FUNCTION kinesis._api_get_records(jsonb) IS
    'Internal: GetRecords for kinesis.api(), in C: a well-formed request straight to kinesis.get_records(), the response built as jsonb without null members; any other request to kinesis._api_get_records_checked().';

CREATE FUNCTION kinesis.api_json(operation text, request text DEFAULT '{}')
RETURNS text
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'kinesis_api_json';
COMMENT ON FUNCTION kinesis.api_json(text, text) IS
    'kinesis.api() with the request and response bodies as JSON text, for wire gateways (kinesis-gateway calls it): a body that is no JSON jsonb accepts gets the SerializationException body, every operation is kinesis.api()''s, and a well-formed GetRecords request is answered with text written straight from kinesis.get_records() (the same document, without an intermediate jsonb). Kinesis errors come back as the AWS error body and leave no effects; other errors are raised.';
