-- Types and C functions of the data plane: put, get, iterators, routing,
-- sequence numbers, and the internal helpers the SQL control plane uses.

-- ---------------------------------------------------------------------
-- Types: boto3 request/response shapes, keys in snake_case
-- ---------------------------------------------------------------------
CREATE TYPE kinesis.record AS (
    sequence_number               text,
    approximate_arrival_timestamp timestamptz,
    data                          bytea,
    partition_key                 text,
    encryption_type               text
);
COMMENT ON TYPE kinesis.record IS
    'A data record as GetRecords returns it (Records[] member).';

CREATE TYPE kinesis.child_shard AS (
    shard_id          text,
    parent_shards     text[],
    starting_hash_key text,
    ending_hash_key   text
);
COMMENT ON TYPE kinesis.child_shard IS
    'A shard that a closed shard was split or merged into, as GetRecords ChildShards lists it at the end of the closed shard (HashKeyRange flattened into its two keys).';

CREATE TYPE kinesis.put_records_request_entry AS (
    data              bytea,
    explicit_hash_key text,
    partition_key     text
);
COMMENT ON TYPE kinesis.put_records_request_entry IS
    'One entry of the PutRecords Records parameter.';

CREATE TYPE kinesis.put_records_result_entry AS (
    sequence_number text,
    shard_id        text,
    error_code      text,
    error_message   text
);
COMMENT ON TYPE kinesis.put_records_result_entry IS
    'One entry of the PutRecords response Records list.';

CREATE TYPE kinesis.put_records_output AS (
    failed_record_count integer,
    records             kinesis.put_records_result_entry[],
    encryption_type     text
);
COMMENT ON TYPE kinesis.put_records_output IS
    'The PutRecords response.';

-- ---------------------------------------------------------------------
-- Errors
-- ---------------------------------------------------------------------
CREATE FUNCTION kinesis._raise(exception text, message text)
RETURNS void
LANGUAGE C VOLATILE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'kinesis_raise_sql';
COMMENT ON FUNCTION kinesis._raise(text, text) IS
    'Internal: throw the named Kinesis exception with its SQLSTATE and the given AWS message.';

CREATE FUNCTION kinesis.error_codes(OUT exception text, OUT sqlstate text)
RETURNS SETOF record
LANGUAGE C IMMUTABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'kinesis_error_codes';
COMMENT ON FUNCTION kinesis.error_codes() IS
    'The SQLSTATE of every Kinesis exception the extension raises.';

-- ---------------------------------------------------------------------
-- Routing and sequence numbers
-- ---------------------------------------------------------------------
CREATE FUNCTION kinesis.hash_key(partition_key text)
RETURNS numeric
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'kinesis_hash_key';
COMMENT ON FUNCTION kinesis.hash_key(text) IS
    'The 128-bit hash key a partition key routes by: MD5 of its UTF-8 bytes as an unsigned big-endian integer.';

CREATE FUNCTION kinesis.format_sequence_number(shard_epoch bigint, shard_index integer,
                                               counter bigint, seq_epoch bigint)
RETURNS text
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'kinesis_format_sequence_number';
COMMENT ON FUNCTION kinesis.format_sequence_number(bigint, integer, bigint, bigint) IS
    'Builds the 56-digit sequence number of a shard (creation epoch seconds, index), a per-shard counter and a put time (epoch seconds).';

CREATE FUNCTION kinesis.parse_sequence_number(sequence_number text,
                                              OUT shard_epoch bigint, OUT shard_index integer,
                                              OUT counter bigint, OUT seq_epoch bigint)
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'kinesis_parse_sequence_number';
COMMENT ON FUNCTION kinesis.parse_sequence_number(text) IS
    'Splits a sequence number into its parts; NULL if it is not a sequence number of this layout.';

-- ---------------------------------------------------------------------
-- Internal helpers for the control plane
-- ---------------------------------------------------------------------
CREATE FUNCTION kinesis._lock_stream(stream_id integer, exclusive boolean)
RETURNS void
LANGUAGE C VOLATILE STRICT
AS 'MODULE_PATHNAME', 'kinesis_lock_stream_sql';
COMMENT ON FUNCTION kinesis._lock_stream(integer, boolean) IS
    'Internal: lock a stream to the end of the transaction; shared by writers, exclusive to delete it or close shards (waits for puts in flight).';

CREATE FUNCTION kinesis._shard_map_invalidate()
RETURNS trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'kinesis_shard_map_invalidate';
COMMENT ON FUNCTION kinesis._shard_map_invalidate() IS
    'Internal: statement trigger that makes every backend reload its cached shard maps.';

CREATE TRIGGER stream_meta_invalidate
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON kinesis.stream_meta
    FOR EACH STATEMENT EXECUTE FUNCTION kinesis._shard_map_invalidate();
CREATE TRIGGER shard_meta_invalidate
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON kinesis.shard_meta
    FOR EACH STATEMENT EXECUTE FUNCTION kinesis._shard_map_invalidate();
CREATE TRIGGER buckets_invalidate
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON kinesis.buckets
    FOR EACH STATEMENT EXECUTE FUNCTION kinesis._shard_map_invalidate();

CREATE FUNCTION kinesis._token_encode(kind "char", payload bytea)
RETURNS text
LANGUAGE C VOLATILE STRICT
AS 'MODULE_PATHNAME', 'kinesis_token_encode';
COMMENT ON FUNCTION kinesis._token_encode("char", bytea) IS
    'Internal: sign a payload into an opaque pagination token (HMAC-SHA256 with the key in kinesis.secrets).';

CREATE FUNCTION kinesis._token_decode(kind "char", token text)
RETURNS bytea
LANGUAGE C VOLATILE STRICT
AS 'MODULE_PATHNAME', 'kinesis_token_decode';
COMMENT ON FUNCTION kinesis._token_decode("char", text) IS
    'Internal: the payload of a genuine token of that kind, or NULL for a forged or edited one.';

CREATE FUNCTION kinesis.inflight(OUT stream_id integer, OUT shard_index integer,
                                 OUT next_counter bigint, OUT inflight_transactions integer,
                                 OUT watermark bigint)
RETURNS SETOF record
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'kinesis_inflight_stats';
COMMENT ON FUNCTION kinesis.inflight() IS
    'Shards tracked in shared memory: next counter, transactions with puts in flight, and the watermark readers stop at.';

-- ---------------------------------------------------------------------
-- The data plane
-- ---------------------------------------------------------------------
CREATE FUNCTION kinesis.put_record(stream_name text, data bytea, partition_key text,
                                   explicit_hash_key text DEFAULT NULL,
                                   sequence_number_for_ordering text DEFAULT NULL,
                                   OUT shard_id text, OUT sequence_number text,
                                   OUT encryption_type text)
LANGUAGE C VOLATILE PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'kinesis_put_record';
COMMENT ON FUNCTION kinesis.put_record(text, bytea, text, text, text) IS
    'PutRecord: write one record in the current transaction; returns its shard and sequence number.';

CREATE FUNCTION kinesis.put_records(records kinesis.put_records_request_entry[],
                                    stream_name text)
RETURNS kinesis.put_records_output
LANGUAGE C VOLATILE PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'kinesis_put_records';
COMMENT ON FUNCTION kinesis.put_records(kinesis.put_records_request_entry[], text) IS
    'PutRecords: write 1..500 records (at most 5 MiB) in the current transaction, in array order.';

CREATE FUNCTION kinesis.get_shard_iterator(stream_name text, shard_id text,
                                           shard_iterator_type text,
                                           starting_sequence_number text DEFAULT NULL,
                                           "timestamp" timestamptz DEFAULT NULL,
                                           OUT shard_iterator text)
LANGUAGE C VOLATILE PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'kinesis_get_shard_iterator';
COMMENT ON FUNCTION kinesis.get_shard_iterator(text, text, text, text, timestamptz) IS
    'GetShardIterator: an opaque iterator (valid 300 s) at AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER, TRIM_HORIZON, LATEST or AT_TIMESTAMP.';

CREATE FUNCTION kinesis.get_records(shard_iterator text, "limit" integer DEFAULT NULL,
                                    OUT records kinesis.record[],
                                    OUT next_shard_iterator text,
                                    OUT millis_behind_latest bigint,
                                    OUT child_shards kinesis.child_shard[])
LANGUAGE C VOLATILE PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'kinesis_get_records';
COMMENT ON FUNCTION kinesis.get_records(text, integer) IS
    'GetRecords: up to "limit" (max 10,000) committed records, at most 10 MiB, in sequence order, never skipping one that commits later. At the end of a closed shard next_shard_iterator is NULL and child_shards names its children.';

CREATE FUNCTION kinesis.read_records(shard_iterator text, "limit" integer DEFAULT NULL)
RETURNS TABLE (sequence_number text,
               approximate_arrival_timestamp timestamptz,
               data bytea,
               partition_key text,
               encryption_type text,
               next_shard_iterator text,
               millis_behind_latest bigint,
               child_shards kinesis.child_shard[])
LANGUAGE C VOLATILE PARALLEL UNSAFE ROWS 1000
AS 'MODULE_PATHNAME', 'kinesis_read_records';
COMMENT ON FUNCTION kinesis.read_records(text, integer) IS
    'GetRecords as rows: one row per record (next_shard_iterator, millis_behind_latest and child_shards NULL), then one closing row whose record columns are NULL and which carries next_shard_iterator, millis_behind_latest and, at the end of a closed shard, child_shards.';

CREATE FUNCTION kinesis._now()
RETURNS timestamptz
LANGUAGE C VOLATILE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'kinesis_now_sql';
COMMENT ON FUNCTION kinesis._now() IS
    'Internal: the clock of puts, retention and maintenance (the current time plus kinesis.test_clock_offset, which only tests set).';
