-- kinesis.api(operation, request): the Kinesis API as AWS JSON 1.1 documents.
--
-- operation is the X-Amz-Target suffix ('PutRecord', 'ListShards', ...);
-- request and response are the JSON bodies AWS takes and gives.  An HTTP
-- gateway only has to pass the body through and pick the status code from
-- the response (an object with "__type" is an error: 500 for
-- InternalFailure, 400 otherwise).
--
-- JSON conventions, the same for every operation:
--   * member names as AWS spells them (StreamName, StreamARN, ShardId);
--   * blobs (Data) are standard base64 strings with padding, no line breaks;
--   * timestamps are JSON numbers of epoch seconds with up to three
--     decimals (milliseconds); requests may also send an ISO-8601 string;
--   * an absent optional member is left out of a response, never null; in
--     a request a member whose value is JSON null counts as absent, and
--     members the operation does not know are ignored;
--   * operations without output (CreateStream, DeleteStream) answer {}.
--
-- Decoding reproduces AWS's type errors as SerializationException, member
-- by member in the order AWS checks them.  Missing or out-of-range members
-- reach the typed functions as NULL or as given, and those raise the
-- ValidationException or the semantic exception themselves.  Every error of
-- SQLSTATE class KN becomes the AWS error body {"__type", "message"}
-- ("Message" for SerializationException; a bare {"__type"} when AWS sends
-- no text, as for InternalFailure); the failed call's effects are rolled
-- back with it.  Any other error propagates.
--
-- To add an operation: write kinesis._api_<operation>(request jsonb)
-- RETURNS jsonb (decode the members with the kinesis._api_<type> helpers,
-- or kinesis._api_value() for a List or Structure, in AWS's order; call the
-- typed function; build the response, nulls and all) and add its WHEN line
-- to kinesis.api().

-- ---------------------------------------------------------------------
-- Errors
-- ---------------------------------------------------------------------
CREATE FUNCTION kinesis._api_type_error(value jsonb, expected text)
RETURNS void
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    actual text := jsonb_typeof(value);
    message text;
BEGIN
    -- AWS's own wording, which depends on both the expected and the
    -- actual type; clients match on it
    IF actual = 'array' AND expected <> 'List' THEN
        message := 'Start of list found where not expected';
    ELSIF actual = 'object' AND expected NOT IN ('Structure', 'Map') THEN
        message := 'Start of structure or map found where not expected.';
    ELSIF expected = 'List' THEN
        message := CASE actual WHEN 'object' THEN 'Start of structure or map found where not expected.'
                               ELSE 'Expected list or null' END;
    ELSIF expected = 'Map' THEN
        message := 'Expected map or null';
    ELSIF expected = 'Structure' THEN
        message := 'Expected null';
    ELSIF expected = 'Timestamp' THEN
        message := CASE actual WHEN 'boolean' THEN 'class java.lang.Boolean'
                               ELSE 'class java.lang.String' END
                   || ' can not be converted to milliseconds since epoch';
    ELSIF expected = 'Boolean' AND actual = 'string' THEN
        message := format('''%s'' can not be converted to an Boolean', upper(value #>> '{}'));
    ELSE
        -- scalars: String, Integer, Long, Boolean, Blob
        message := CASE actual
                       WHEN 'boolean' THEN 'class java.lang.Boolean'
                       WHEN 'number' THEN 'class com.amazon.coral.value.json.numbers.TruncatingBigNumber'
                       ELSE 'class java.lang.String' END
                   || ' can not be converted to '
                   || CASE expected WHEN 'Blob' THEN 'a ' ELSE 'an ' END || expected;
    END IF;
    PERFORM kinesis._raise('SerializationException', message);
END
$$;
COMMENT ON FUNCTION kinesis._api_type_error(jsonb, text) IS
    'Internal: throw the SerializationException AWS gives for a JSON value of the wrong type, expected being String, Integer, Long, Boolean, Blob, Timestamp, List, Map or Structure.';

CREATE FUNCTION kinesis._api_error(state text, message text)
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    name text;
BEGIN
    -- the exception name comes from the SQLSTATE, the text after "Name: "
    -- from the message; AWS spells the member "Message" for one exception
    SELECT e.exception INTO name FROM kinesis.error_codes() e WHERE e.sqlstate = state;
    IF name IS NULL THEN
        name := split_part(message, ':', 1);
    END IF;
    IF starts_with(message, name || ': ') THEN
        message := substr(message, length(name) + 3);
    ELSIF message = name || ':' THEN
        message := '';
    END IF;
    IF message = '' OR name = 'InternalFailure' THEN
        RETURN jsonb_build_object('__type', name);
    ELSIF name = 'SerializationException' THEN
        RETURN jsonb_build_object('__type', name, 'Message', message);
    END IF;
    RETURN jsonb_build_object('__type', name, 'message', message);
END
$$;
COMMENT ON FUNCTION kinesis._api_error(text, text) IS
    'Internal: the AWS JSON error body for a Kinesis error (SQLSTATE class KN) whose message is "<ExceptionName>: <AWS message>".';

-- ---------------------------------------------------------------------
-- Request decoding: kinesis._api_value() checks a value against an AWS
-- member type; the typed helpers take the enclosing JSON object and the
-- member name and add the cast.  JSON null and absence give NULL.
-- ---------------------------------------------------------------------
CREATE FUNCTION kinesis._api_body(request jsonb)
RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- kept apart from member decoding: a bad body has its own bare error
    IF request IS NULL OR jsonb_typeof(request) <> 'object' THEN
        -- no body, or not a JSON object: AWS answers with a bare type
        PERFORM kinesis._raise('SerializationException', '');
    END IF;
    RETURN request;
END
$$;
COMMENT ON FUNCTION kinesis._api_body(jsonb) IS
    'Internal: the request body of a known operation; SerializationException unless it is a JSON object.';

CREATE FUNCTION kinesis._api_value(v jsonb, expected text)
RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    -- the JSON type that carries each AWS type
    json_type text := CASE expected
                          WHEN 'String' THEN 'string'
                          WHEN 'Blob' THEN 'string'
                          WHEN 'Integer' THEN 'number'
                          WHEN 'Long' THEN 'number'
                          WHEN 'Boolean' THEN 'boolean'
                          WHEN 'List' THEN 'array'
                          ELSE 'object' END;        -- Structure, Map
BEGIN
    -- The check every member type shares, so that all of them treat JSON
    -- null as absent and raise AWS's type error the same way.  Timestamp
    -- takes two JSON types and does its own checking.
    IF v IS NULL OR jsonb_typeof(v) = 'null' THEN
        RETURN NULL;
    ELSIF jsonb_typeof(v) <> json_type THEN
        PERFORM kinesis._api_type_error(v, expected);
    END IF;
    RETURN v;
END
$$;
COMMENT ON FUNCTION kinesis._api_value(jsonb, text) IS
    'Internal: a request value that must be of AWS type expected (String, Integer, Long, Boolean, Blob, List, Map or Structure): NULL for JSON null or absence, the value itself when its JSON type fits, SerializationException otherwise.';

-- The typed wrappers below add only what differs per type: the cast.
CREATE FUNCTION kinesis._api_string(obj jsonb, member text)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    -- a String member as text
    SELECT kinesis._api_value(obj -> member, 'String') #>> '{}'
$$;
COMMENT ON FUNCTION kinesis._api_string(jsonb, text) IS
    'Internal: a String member of a request object.';

CREATE FUNCTION kinesis._api_integer(obj jsonb, member text)
RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    -- AWS truncates fractions (towards minus infinity) and saturates; the
    -- WHERE keeps an absent member NULL, which greatest() would not
    SELECT least(greatest(floor(v::numeric), -2147483648), 2147483647)::integer
      FROM kinesis._api_value(obj -> member, 'Integer') AS v
     WHERE v IS NOT NULL
$$;
COMMENT ON FUNCTION kinesis._api_integer(jsonb, text) IS
    'Internal: an Integer member of a request object; fractions are floored and out-of-range values saturate, as AWS does.';

CREATE FUNCTION kinesis._api_boolean(obj jsonb, member text)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    -- a Boolean member as boolean
    SELECT kinesis._api_value(obj -> member, 'Boolean')::boolean
$$;
COMMENT ON FUNCTION kinesis._api_boolean(jsonb, text) IS
    'Internal: a Boolean member of a request object.';

CREATE FUNCTION kinesis._api_blob(obj jsonb, member text)
RETURNS bytea
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s text := kinesis._api_value(obj -> member, 'Blob') #>> '{}';
    len bigint;
    bad text;
    pad integer;
    bits integer;
BEGIN
    -- a base64 string, checked as strictly as AWS checks it
    IF s IS NULL THEN
        RETURN NULL;
    END IF;

    -- AWS counts UTF-16 code units: a character beyond U+FFFF counts twice
    len := length(s);
    IF octet_length(s) <> len THEN
        len := len + (SELECT count(*) FROM regexp_split_to_table(s, '') AS c WHERE ascii(c) > 65535);
    END IF;
    IF len % 4 <> 0 THEN
        PERFORM kinesis._raise('SerializationException',
            format('''%s'' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: %s',
                   s, len));
    END IF;

    -- a character outside the alphabet, or padding followed by data
    bad := substring(s FROM '[^a-zA-Z0-9+/=]|=[^=]');
    IF bad IS NOT NULL THEN
        PERFORM kinesis._raise('SerializationException',
            format('''%s'' can not be converted to a Blob: Invalid Base64 character: ''%s''',
                   s, left(bad, 1)));
    END IF;

    -- now s is data characters then padding: at most two '=', and the bits
    -- the padding leaves over in the last data character must be zero
    pad := length(s) - length(rtrim(s, '='));
    IF pad > 0 THEN
        bits := strpos('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/',
                       substr(s, length(s) - pad, 1)) - 1;
    END IF;
    IF pad > 2 OR (pad = 1 AND bits % 4 <> 0) OR (pad = 2 AND bits % 16 <> 0) THEN
        PERFORM kinesis._raise('SerializationException',
            format('''%s'' can not be converted to a Blob: Invalid last non-pad Base64 character dectected', s));
    END IF;
    RETURN decode(s, 'base64');
END
$$;
COMMENT ON FUNCTION kinesis._api_blob(jsonb, text) IS
    'Internal: a Blob member of a request object, decoded from strict base64 (length a multiple of 4, standard alphabet, canonical padding).';

CREATE FUNCTION kinesis._api_timestamp(obj jsonb, member text)
RETURNS timestamptz
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v jsonb := obj -> member;
    s text;
BEGIN
    -- not kinesis._api_value(): a Timestamp may be a number or a string
    IF v IS NULL OR jsonb_typeof(v) = 'null' THEN
        RETURN NULL;
    ELSIF jsonb_typeof(v) = 'number' THEN
        -- saturate at the ends of the timestamp range rather than fail
        -- (and to microseconds first: a tiny fraction would underflow)
        RETURN to_timestamp(round(least(greatest(v::numeric, -210866803200), 9224318015999), 6)::double precision);
    ELSIF jsonb_typeof(v) = 'string' THEN
        -- ISO-8601, as the AWS CLI accepts; no zone means UTC
        s := v #>> '{}';
        IF s ~ '^\d{4}-\d\d-\d\d([Tt ]\d\d:\d\d(:\d\d(\.\d+)?)?([Zz]|[+-]\d\d(:?\d\d)?)?)?$' THEN
            BEGIN
                IF s ~ '([Zz]|[+-]\d\d(:?\d\d)?)$' AND s ~ '[Tt ]' THEN
                    RETURN s::timestamptz;
                END IF;
                RETURN s::timestamp AT TIME ZONE 'UTC';
            EXCEPTION WHEN data_exception THEN
                NULL;           -- e.g. 2024-13-01 or +16:00: falls through to the type error
            END;
        END IF;
    END IF;
    PERFORM kinesis._api_type_error(v, 'Timestamp');
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION kinesis._api_timestamp(jsonb, text) IS
    'Internal: a Timestamp member of a request object: epoch seconds as a JSON number (fractions allowed), or an ISO-8601 string.';

-- ---------------------------------------------------------------------
-- Response encoding.  Members may be built as JSON null: kinesis.api()
-- strips them from every response, so that absent means left out.
-- ---------------------------------------------------------------------
CREATE FUNCTION kinesis._api_timestamp_out(ts timestamptz)
RETURNS numeric
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    -- AWS sends milliseconds at most, so the microseconds are cut off
    SELECT trim_scale(trunc(extract(epoch FROM ts), 3))
$$;
COMMENT ON FUNCTION kinesis._api_timestamp_out(timestamptz) IS
    'Internal: a timestamp as AWS JSON sends it: epoch seconds, truncated to milliseconds.';

CREATE FUNCTION kinesis._api_blob_out(data bytea)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    -- encode() breaks lines every 76 characters; AWS JSON does not
    SELECT translate(encode(data, 'base64'), E'\n', '')
$$;
COMMENT ON FUNCTION kinesis._api_blob_out(bytea) IS
    'Internal: a blob as AWS JSON sends it: base64 on one line.';

CREATE FUNCTION kinesis._api_shards_out(shards kinesis.shard[])
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    -- DescribeStream and ListShards send the same Shard structure
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'ShardId', s.shard_id,
               'ParentShardId', s.parent_shard_id,
               'AdjacentParentShardId', s.adjacent_parent_shard_id,
               'HashKeyRange', jsonb_build_object(
                   'StartingHashKey', (s.hash_key_range).starting_hash_key,
                   'EndingHashKey', (s.hash_key_range).ending_hash_key),
               'SequenceNumberRange', jsonb_build_object(
                   'StartingSequenceNumber', (s.sequence_number_range).starting_sequence_number,
                   'EndingSequenceNumber', (s.sequence_number_range).ending_sequence_number))
               ORDER BY s.i), '[]')
      FROM unnest(shards) WITH ORDINALITY
           AS s(shard_id, parent_shard_id, adjacent_parent_shard_id, hash_key_range,
                sequence_number_range, i)
$$;
COMMENT ON FUNCTION kinesis._api_shards_out(kinesis.shard[]) IS
    'Internal: a Shards list as AWS JSON sends it.';

CREATE FUNCTION kinesis._api_stream_out(d anyelement)
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- The members StreamDescription and StreamDescriptionSummary share,
    -- read by field name from either kinesis.stream_description or
    -- kinesis.stream_description_summary; each caller adds its own.
    RETURN jsonb_build_object(
        'StreamName', d.stream_name,
        'StreamARN', d.stream_arn,
        'StreamStatus', d.stream_status,
        'RetentionPeriodHours', d.retention_period_hours,
        -- whole seconds, as AWS sends it (and as SDKs send it back to ListShards)
        'StreamCreationTimestamp', floor(extract(epoch FROM d.stream_creation_timestamp)),
        'EnhancedMonitoring', (SELECT jsonb_agg(jsonb_build_object(
                                          'ShardLevelMetrics', coalesce(to_jsonb(m.shard_level_metrics), '[]'))
                                      ORDER BY m.i)
                                 FROM unnest(d.enhanced_monitoring) WITH ORDINALITY
                                      AS m(shard_level_metrics, i)),
        'EncryptionType', d.encryption_type,
        'KeyId', d.key_id);
END
$$;
COMMENT ON FUNCTION kinesis._api_stream_out(anyelement) IS
    'Internal: the members a kinesis.stream_description or kinesis.stream_description_summary shares with the other, as AWS JSON sends them.';

-- ---------------------------------------------------------------------
-- Operations: decode the members in AWS's order (the order of the
-- DECLARE initialisers), call the typed function, build the response
-- ---------------------------------------------------------------------
CREATE FUNCTION kinesis._api_create_stream(request jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    shard_count integer := kinesis._api_integer(request, 'ShardCount');
    stream_name text := kinesis._api_string(request, 'StreamName');
BEGIN
    -- CreateStream has no output
    PERFORM kinesis.create_stream(stream_name, shard_count);
    RETURN '{}';
END
$$;
COMMENT ON FUNCTION kinesis._api_create_stream(jsonb) IS
    'Internal: CreateStream for kinesis.api().';

CREATE FUNCTION kinesis._api_delete_stream(request jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    enforce boolean := kinesis._api_boolean(request, 'EnforceConsumerDeletion');
    stream_name text := kinesis._api_string(request, 'StreamName');
BEGIN
    -- DeleteStream has no output
    PERFORM kinesis.delete_stream(stream_name, coalesce(enforce, false));
    RETURN '{}';
END
$$;
COMMENT ON FUNCTION kinesis._api_delete_stream(jsonb) IS
    'Internal: DeleteStream for kinesis.api().';

CREATE FUNCTION kinesis._api_put_record(request jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    ordering text := kinesis._api_string(request, 'SequenceNumberForOrdering');
    partition_key text := kinesis._api_string(request, 'PartitionKey');
    explicit_hash_key text := kinesis._api_string(request, 'ExplicitHashKey');
    data bytea := kinesis._api_blob(request, 'Data');
    stream_name text := kinesis._api_string(request, 'StreamName');
    r record;
BEGIN
    -- one record in; its shard and sequence number out
    SELECT * INTO r
      FROM kinesis.put_record(stream_name, data, partition_key, explicit_hash_key, ordering);
    RETURN jsonb_build_object(
        'ShardId', r.shard_id,
        'SequenceNumber', r.sequence_number,
        'EncryptionType', r.encryption_type);
END
$$;
COMMENT ON FUNCTION kinesis._api_put_record(jsonb) IS
    'Internal: PutRecord for kinesis.api().';

CREATE FUNCTION kinesis._api_put_records_entry(entry jsonb)
RETURNS kinesis.put_records_request_entry
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    partition_key text;
    explicit_hash_key text;
    data bytea;
BEGIN
    -- a list element is decoded like a request, in AWS's member order
    entry := kinesis._api_value(entry, 'Structure');
    IF entry IS NULL THEN
        RETURN NULL;            -- kinesis.put_records reports the null member
    END IF;
    partition_key := kinesis._api_string(entry, 'PartitionKey');
    explicit_hash_key := kinesis._api_string(entry, 'ExplicitHashKey');
    data := kinesis._api_blob(entry, 'Data');
    RETURN ROW(data, explicit_hash_key, partition_key)::kinesis.put_records_request_entry;
END
$$;
COMMENT ON FUNCTION kinesis._api_put_records_entry(jsonb) IS
    'Internal: one element of the PutRecords Records list.';

CREATE FUNCTION kinesis._api_put_records(request jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    records_json jsonb := kinesis._api_value(request -> 'Records', 'List');
    entries kinesis.put_records_request_entry[];
    stream_name text;
    r record;
BEGIN
    IF records_json IS NOT NULL THEN
        -- entries in list order; a type error stops at the first bad one
        SELECT coalesce(array_agg(kinesis._api_put_records_entry(x.v) ORDER BY x.i), '{}')
          INTO entries
          FROM jsonb_array_elements(records_json) WITH ORDINALITY AS x(v, i);
    END IF;
    stream_name := kinesis._api_string(request, 'StreamName');

    -- one result per entry, in the order of the request
    SELECT * INTO r FROM kinesis.put_records(entries, stream_name);
    RETURN jsonb_build_object(
        'FailedRecordCount', r.failed_record_count,
        'Records', coalesce((SELECT jsonb_agg(jsonb_build_object(
                                        'SequenceNumber', x.sequence_number,
                                        'ShardId', x.shard_id,
                                        'ErrorCode', x.error_code,
                                        'ErrorMessage', x.error_message) ORDER BY x.i)
                               FROM unnest(r.records) WITH ORDINALITY
                                    AS x(sequence_number, shard_id, error_code, error_message, i)),
                            '[]'),
        'EncryptionType', r.encryption_type);
END
$$;
COMMENT ON FUNCTION kinesis._api_put_records(jsonb) IS
    'Internal: PutRecords for kinesis.api().';

CREATE FUNCTION kinesis._api_get_shard_iterator(request jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    shard_id text := kinesis._api_string(request, 'ShardId');
    iterator_type text := kinesis._api_string(request, 'ShardIteratorType');
    starting_sequence_number text := kinesis._api_string(request, 'StartingSequenceNumber');
    stream_name text := kinesis._api_string(request, 'StreamName');
    ts timestamptz := kinesis._api_timestamp(request, 'Timestamp');
    iterator text;
BEGIN
    -- the iterator is the only output
    SELECT g.shard_iterator INTO iterator
      FROM kinesis.get_shard_iterator(stream_name, shard_id, iterator_type,
                                      starting_sequence_number, ts) AS g;
    RETURN jsonb_build_object('ShardIterator', iterator);
END
$$;
COMMENT ON FUNCTION kinesis._api_get_shard_iterator(jsonb) IS
    'Internal: GetShardIterator for kinesis.api().';

CREATE FUNCTION kinesis._api_get_records(request jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    lim integer := kinesis._api_integer(request, 'Limit');
    shard_iterator text := kinesis._api_string(request, 'ShardIterator');
    r record;
BEGIN
    -- the records in shard order, with the iterator to continue from
    SELECT * INTO r FROM kinesis.get_records(shard_iterator, lim);
    RETURN jsonb_build_object(
        'Records', coalesce((SELECT jsonb_agg(jsonb_build_object(
                                        'SequenceNumber', x.sequence_number,
                                        'ApproximateArrivalTimestamp',
                                            kinesis._api_timestamp_out(x.approximate_arrival_timestamp),
                                        'Data', kinesis._api_blob_out(x.data),
                                        'PartitionKey', x.partition_key,
                                        'EncryptionType', x.encryption_type) ORDER BY x.i)
                               FROM unnest(r.records) WITH ORDINALITY
                                    AS x(sequence_number, approximate_arrival_timestamp, data,
                                         partition_key, encryption_type, i)),
                            '[]'),
        'NextShardIterator', r.next_shard_iterator,
        'MillisBehindLatest', r.millis_behind_latest,
        'ChildShards', (SELECT jsonb_agg(jsonb_build_object(
                                   'ShardId', c.shard_id,
                                   'ParentShards', to_jsonb(c.parent_shards),
                                   'HashKeyRange', jsonb_build_object(
                                       'StartingHashKey', c.starting_hash_key,
                                       'EndingHashKey', c.ending_hash_key)) ORDER BY c.i)
                          FROM unnest(r.child_shards) WITH ORDINALITY
                               AS c(shard_id, parent_shards, starting_hash_key, ending_hash_key, i)));
END
$$;
COMMENT ON FUNCTION kinesis._api_get_records(jsonb) IS
    'Internal: GetRecords for kinesis.api().';

CREATE FUNCTION kinesis._api_describe_stream(request jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    lim integer := kinesis._api_integer(request, 'Limit');
    exclusive_start_shard_id text := kinesis._api_string(request, 'ExclusiveStartShardId');
    stream_name text := kinesis._api_string(request, 'StreamName');
    d kinesis.stream_description;
BEGIN
    -- the shared stream members plus the page of shards
    SELECT * INTO d FROM kinesis.describe_stream(stream_name, lim, exclusive_start_shard_id);
    RETURN jsonb_build_object('StreamDescription', kinesis._api_stream_out(d) || jsonb_build_object(
        'Shards', kinesis._api_shards_out(d.shards),
        'HasMoreShards', d.has_more_shards));
END
$$;
COMMENT ON FUNCTION kinesis._api_describe_stream(jsonb) IS
    'Internal: DescribeStream for kinesis.api().';

CREATE FUNCTION kinesis._api_describe_stream_summary(request jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    stream_name text := kinesis._api_string(request, 'StreamName');
    d kinesis.stream_description_summary;
BEGIN
    -- the shared stream members plus the counts
    SELECT * INTO d FROM kinesis.describe_stream_summary(stream_name);
    RETURN jsonb_build_object('StreamDescriptionSummary', kinesis._api_stream_out(d) || jsonb_build_object(
        'OpenShardCount', d.open_shard_count,
        'ConsumerCount', d.consumer_count));
END
$$;
COMMENT ON FUNCTION kinesis._api_describe_stream_summary(jsonb) IS
    'Internal: DescribeStreamSummary for kinesis.api().';

CREATE FUNCTION kinesis._api_list_streams(request jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    lim integer := kinesis._api_integer(request, 'Limit');
    exclusive_start_stream_name text := kinesis._api_string(request, 'ExclusiveStartStreamName');
    next_token text := kinesis._api_string(request, 'NextToken');
    start_after text;
    r record;
BEGIN
    -- AWS's later API pages with NextToken as well (the SDKs' paginators
    -- follow it): here it only carries the last name of the page, which
    -- ExclusiveStartStreamName could name as well, so it needs no signature
    IF next_token IS NOT NULL THEN
        IF exclusive_start_stream_name IS NOT NULL THEN
            PERFORM kinesis._raise('InvalidArgumentException',
                'NextToken and ExclusiveStartStreamName cannot be provided together.');
        END IF;
        BEGIN
            start_after := convert_from(decode(next_token, 'base64'), 'UTF8');
        EXCEPTION WHEN OTHERS THEN
            start_after := NULL;
        END;
        IF start_after IS NULL OR NOT starts_with(start_after, 'ListStreams:') THEN
            PERFORM kinesis._raise('InvalidArgumentException', 'Invalid NextToken.');
        END IF;
        exclusive_start_stream_name := substr(start_after, 13);
    END IF;
    -- StreamNames is a list even when empty
    SELECT * INTO r FROM kinesis.list_streams(lim, exclusive_start_stream_name);
    RETURN jsonb_build_object(
        'StreamNames', coalesce(to_jsonb(r.stream_names), '[]'),
        'HasMoreStreams', r.has_more_streams,
        'NextToken', CASE WHEN r.has_more_streams THEN
                         kinesis._api_blob_out(convert_to('ListStreams:' || r.stream_names[cardinality(r.stream_names)],
                                                          'UTF8')) END);
END
$$;
COMMENT ON FUNCTION kinesis._api_list_streams(jsonb) IS
    'Internal: ListStreams for kinesis.api(), with NextToken (set while HasMoreStreams) as AWS''s later API pages.';

CREATE FUNCTION kinesis._api_list_shards(request jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    exclusive_start_shard_id text := kinesis._api_string(request, 'ExclusiveStartShardId');
    max_results integer := kinesis._api_integer(request, 'MaxResults');
    next_token text := kinesis._api_string(request, 'NextToken');
    stream_creation_timestamp timestamptz := kinesis._api_timestamp(request, 'StreamCreationTimestamp');
    stream_name text := kinesis._api_string(request, 'StreamName');
    r kinesis.list_shards_output;
BEGIN
    -- a page of shards and, when more remain, the token for the next
    SELECT * INTO r FROM kinesis.list_shards(stream_name, next_token, exclusive_start_shard_id,
                                             max_results, stream_creation_timestamp);
    RETURN jsonb_build_object(
        'Shards', kinesis._api_shards_out(r.shards),
        'NextToken', r.next_token);
END
$$;
COMMENT ON FUNCTION kinesis._api_list_shards(jsonb) IS
    'Internal: ListShards for kinesis.api().';

CREATE FUNCTION kinesis._api_describe_limits(request jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r record;
BEGIN
    -- DescribeLimits takes no members
    SELECT * INTO r FROM kinesis.describe_limits();
    RETURN jsonb_build_object(
        'ShardLimit', r.shard_limit,
        'OpenShardCount', r.open_shard_count);
END
$$;
COMMENT ON FUNCTION kinesis._api_describe_limits(jsonb) IS
    'Internal: DescribeLimits for kinesis.api().';

CREATE FUNCTION kinesis._api_split_shard(request jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    new_starting_hash_key text := kinesis._api_string(request, 'NewStartingHashKey');
    shard_to_split text := kinesis._api_string(request, 'ShardToSplit');
    stream_name text := kinesis._api_string(request, 'StreamName');
BEGIN
    PERFORM kinesis.split_shard(stream_name, shard_to_split, new_starting_hash_key);
    RETURN '{}';
END
$$;
COMMENT ON FUNCTION kinesis._api_split_shard(jsonb) IS
    'Internal: SplitShard for kinesis.api().';

CREATE FUNCTION kinesis._api_merge_shards(request jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    adjacent text := kinesis._api_string(request, 'AdjacentShardToMerge');
    shard_to_merge text := kinesis._api_string(request, 'ShardToMerge');
    stream_name text := kinesis._api_string(request, 'StreamName');
BEGIN
    PERFORM kinesis.merge_shards(stream_name, shard_to_merge, adjacent);
    RETURN '{}';
END
$$;
COMMENT ON FUNCTION kinesis._api_merge_shards(jsonb) IS
    'Internal: MergeShards for kinesis.api().';

CREATE FUNCTION kinesis._api_update_shard_count(request jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    scaling_type text := kinesis._api_string(request, 'ScalingType');
    stream_name text := kinesis._api_string(request, 'StreamName');
    target integer := kinesis._api_integer(request, 'TargetShardCount');
    r kinesis.update_shard_count_output;
BEGIN
    r := kinesis.update_shard_count(stream_name, target, scaling_type);
    RETURN jsonb_build_object('StreamName', r.stream_name,
                              'CurrentShardCount', r.current_shard_count,
                              'TargetShardCount', r.target_shard_count,
                              'StreamARN', r.stream_arn);
END
$$;
COMMENT ON FUNCTION kinesis._api_update_shard_count(jsonb) IS
    'Internal: UpdateShardCount for kinesis.api().';

CREATE FUNCTION kinesis._api_change_retention(request jsonb, increase boolean)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    hours integer := kinesis._api_integer(request, 'RetentionPeriodHours');
    stream_name text := kinesis._api_string(request, 'StreamName');
BEGIN
    -- the public functions, so that the caller's privileges are checked
    IF increase THEN
        PERFORM kinesis.increase_stream_retention_period(stream_name, hours);
    ELSE
        PERFORM kinesis.decrease_stream_retention_period(stream_name, hours);
    END IF;
    RETURN '{}';
END
$$;
COMMENT ON FUNCTION kinesis._api_change_retention(jsonb, boolean) IS
    'Internal: IncreaseStreamRetentionPeriod and DecreaseStreamRetentionPeriod for kinesis.api().';

CREATE FUNCTION kinesis._api_add_tags_to_stream(request jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    stream_name text := kinesis._api_string(request, 'StreamName');
    tags jsonb := kinesis._api_value(request -> 'Tags', 'Map');
    v jsonb;
BEGIN
    -- a Map of Strings: every value is type-checked as a String member
    FOR v IN SELECT e.value FROM jsonb_each(coalesce(tags, '{}')) e LOOP
        PERFORM kinesis._api_value(v, 'String');
    END LOOP;
    -- JSON null values count as absent, as elsewhere
    tags := (SELECT jsonb_object_agg(e.key, e.value) FROM jsonb_each(tags) e
              WHERE jsonb_typeof(e.value) <> 'null');
    IF request ? 'Tags' AND jsonb_typeof(request -> 'Tags') = 'object' AND tags IS NULL THEN
        tags := '{}';
    END IF;
    PERFORM kinesis.add_tags_to_stream(stream_name, tags);
    RETURN '{}';
END
$$;
COMMENT ON FUNCTION kinesis._api_add_tags_to_stream(jsonb) IS
    'Internal: AddTagsToStream for kinesis.api().';

CREATE FUNCTION kinesis._api_remove_tags_from_stream(request jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    stream_name text := kinesis._api_string(request, 'StreamName');
    keys jsonb := kinesis._api_value(request -> 'TagKeys', 'List');
    k jsonb;
BEGIN
    FOR k IN SELECT e FROM jsonb_array_elements(coalesce(keys, '[]')) e LOOP
        PERFORM kinesis._api_value(k, 'String');
    END LOOP;
    PERFORM kinesis.remove_tags_from_stream(stream_name,
        CASE WHEN keys IS NULL THEN NULL
             ELSE ARRAY(SELECT e #>> '{}' FROM jsonb_array_elements(keys) e) END);
    RETURN '{}';
END
$$;
COMMENT ON FUNCTION kinesis._api_remove_tags_from_stream(jsonb) IS
    'Internal: RemoveTagsFromStream for kinesis.api().';

CREATE FUNCTION kinesis._api_list_tags_for_stream(request jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    exclusive_start text := kinesis._api_string(request, 'ExclusiveStartTagKey');
    lim integer := kinesis._api_integer(request, 'Limit');
    stream_name text := kinesis._api_string(request, 'StreamName');
    r record;
BEGIN
    SELECT * INTO r FROM kinesis.list_tags_for_stream(stream_name, exclusive_start, lim);
    RETURN jsonb_build_object(
        'Tags', coalesce((SELECT jsonb_agg(jsonb_build_object('Key', t.key, 'Value', t.value) ORDER BY t.i)
                            FROM unnest(r.tags) WITH ORDINALITY AS t(key, value, i)), '[]'),
        'HasMoreTags', r.has_more_tags);
END
$$;
COMMENT ON FUNCTION kinesis._api_list_tags_for_stream(jsonb) IS
    'Internal: ListTagsForStream for kinesis.api().';

CREATE FUNCTION kinesis._api_consumer_out(c kinesis.consumer)
RETURNS jsonb
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT jsonb_build_object('ConsumerName', c.consumer_name, 'ConsumerARN', c.consumer_arn,
                              'ConsumerStatus', c.consumer_status,
                              'ConsumerCreationTimestamp', kinesis._api_timestamp_out(c.consumer_creation_timestamp))
$$;
COMMENT ON FUNCTION kinesis._api_consumer_out(kinesis.consumer) IS
    'Internal: a consumer as the API returns it (Consumer structure).';

CREATE FUNCTION kinesis._api_register_stream_consumer(request jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    consumer_name text := kinesis._api_string(request, 'ConsumerName');
    stream_arn text := kinesis._api_string(request, 'StreamARN');
BEGIN
    RETURN jsonb_build_object('Consumer',
        kinesis._api_consumer_out(kinesis.register_stream_consumer(stream_arn, consumer_name)));
END
$$;
COMMENT ON FUNCTION kinesis._api_register_stream_consumer(jsonb) IS
    'Internal: RegisterStreamConsumer for kinesis.api().';

CREATE FUNCTION kinesis._api_deregister_stream_consumer(request jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    consumer_arn text := kinesis._api_string(request, 'ConsumerARN');
    consumer_name text := kinesis._api_string(request, 'ConsumerName');
    stream_arn text := kinesis._api_string(request, 'StreamARN');
BEGIN
    PERFORM kinesis.deregister_stream_consumer(stream_arn, consumer_name, consumer_arn);
    RETURN '{}';
END
$$;
COMMENT ON FUNCTION kinesis._api_deregister_stream_consumer(jsonb) IS
    'Internal: DeregisterStreamConsumer for kinesis.api().';

CREATE FUNCTION kinesis._api_describe_stream_consumer(request jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    consumer_arn text := kinesis._api_string(request, 'ConsumerARN');
    consumer_name text := kinesis._api_string(request, 'ConsumerName');
    stream_arn text := kinesis._api_string(request, 'StreamARN');
    d kinesis.consumer_description;
BEGIN
    d := kinesis.describe_stream_consumer(stream_arn, consumer_name, consumer_arn);
    RETURN jsonb_build_object('ConsumerDescription',
        kinesis._api_consumer_out(ROW(d.consumer_name, d.consumer_arn, d.consumer_status,
                                      d.consumer_creation_timestamp)::kinesis.consumer)
        || jsonb_build_object('StreamARN', d.stream_arn));
END
$$;
COMMENT ON FUNCTION kinesis._api_describe_stream_consumer(jsonb) IS
    'Internal: DescribeStreamConsumer for kinesis.api().';

CREATE FUNCTION kinesis._api_list_stream_consumers(request jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    max_results integer := kinesis._api_integer(request, 'MaxResults');
    next_token text := kinesis._api_string(request, 'NextToken');
    stream_arn text := kinesis._api_string(request, 'StreamARN');
    created timestamptz := kinesis._api_timestamp(request, 'StreamCreationTimestamp');
    r kinesis.list_stream_consumers_output;
BEGIN
    r := kinesis.list_stream_consumers(stream_arn, next_token, max_results, created);
    RETURN jsonb_build_object(
        'Consumers', coalesce((SELECT jsonb_agg(kinesis._api_consumer_out(c) ORDER BY c.consumer_name)
                                 FROM unnest(r.consumers) c), '[]'),
        'NextToken', r.next_token);
END
$$;
COMMENT ON FUNCTION kinesis._api_list_stream_consumers(jsonb) IS
    'Internal: ListStreamConsumers for kinesis.api().';

CREATE FUNCTION kinesis._api_change_monitoring(request jsonb, enable boolean)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    metrics jsonb := kinesis._api_value(request -> 'ShardLevelMetrics', 'List');
    stream_name text := kinesis._api_string(request, 'StreamName');
    m jsonb;
    list text[];
    r kinesis.enhanced_monitoring_output;
BEGIN
    FOR m IN SELECT e FROM jsonb_array_elements(coalesce(metrics, '[]')) e LOOP
        PERFORM kinesis._api_value(m, 'String');
    END LOOP;
    list := CASE WHEN metrics IS NULL THEN NULL
                 ELSE ARRAY(SELECT e #>> '{}' FROM jsonb_array_elements(metrics) e) END;
    -- the public functions, so that the caller's privileges are checked
    IF enable THEN
        r := kinesis.enable_enhanced_monitoring(stream_name, list);
    ELSE
        r := kinesis.disable_enhanced_monitoring(stream_name, list);
    END IF;
    RETURN jsonb_build_object('StreamName', r.stream_name,
                              'CurrentShardLevelMetrics', to_jsonb(r.current_shard_level_metrics),
                              'DesiredShardLevelMetrics', to_jsonb(r.desired_shard_level_metrics),
                              'StreamARN', r.stream_arn);
END
$$;
COMMENT ON FUNCTION kinesis._api_change_monitoring(jsonb, boolean) IS
    'Internal: EnableEnhancedMonitoring and DisableEnhancedMonitoring for kinesis.api().';

CREATE FUNCTION kinesis._api_change_encryption(request jsonb, start boolean)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    encryption_type text := kinesis._api_string(request, 'EncryptionType');
    key_id text := kinesis._api_string(request, 'KeyId');
    stream_name text := kinesis._api_string(request, 'StreamName');
BEGIN
    -- the public functions, so that the caller's privileges are checked
    IF start THEN
        PERFORM kinesis.start_stream_encryption(stream_name, encryption_type, key_id);
    ELSE
        PERFORM kinesis.stop_stream_encryption(stream_name, encryption_type, key_id);
    END IF;
    RETURN '{}';
END
$$;
COMMENT ON FUNCTION kinesis._api_change_encryption(jsonb, boolean) IS
    'Internal: StartStreamEncryption and StopStreamEncryption for kinesis.api().';

-- ---------------------------------------------------------------------
-- The dispatcher
-- ---------------------------------------------------------------------
CREATE FUNCTION kinesis.api(operation text, request jsonb DEFAULT '{}')
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    response jsonb;
    state text;
    message text;
BEGIN
    -- a body that is not a JSON object fails before the operation is looked up
    IF jsonb_typeof(request) <> 'object' THEN
        PERFORM kinesis._raise('SerializationException', '');
    END IF;

    -- one branch per operation; kinesis._api_body() turns a missing body
    -- into a SerializationException, but only for an operation AWS knows
    CASE operation
        WHEN 'CreateStream' THEN
            response := kinesis._api_create_stream(kinesis._api_body(request));
        WHEN 'DeleteStream' THEN
            response := kinesis._api_delete_stream(kinesis._api_body(request));
        WHEN 'DescribeStream' THEN
            response := kinesis._api_describe_stream(kinesis._api_body(request));
        WHEN 'DescribeStreamSummary' THEN
            response := kinesis._api_describe_stream_summary(kinesis._api_body(request));
        WHEN 'ListStreams' THEN
            response := kinesis._api_list_streams(kinesis._api_body(request));
        WHEN 'ListShards' THEN
            response := kinesis._api_list_shards(kinesis._api_body(request));
        WHEN 'DescribeLimits' THEN
            response := kinesis._api_describe_limits(kinesis._api_body(request));
        WHEN 'PutRecord' THEN
            response := kinesis._api_put_record(kinesis._api_body(request));
        WHEN 'PutRecords' THEN
            response := kinesis._api_put_records(kinesis._api_body(request));
        WHEN 'GetShardIterator' THEN
            response := kinesis._api_get_shard_iterator(kinesis._api_body(request));
        WHEN 'GetRecords' THEN
            response := kinesis._api_get_records(kinesis._api_body(request));
        WHEN 'EnableEnhancedMonitoring' THEN
            response := kinesis._api_change_monitoring(kinesis._api_body(request), true);
        WHEN 'DisableEnhancedMonitoring' THEN
            response := kinesis._api_change_monitoring(kinesis._api_body(request), false);
        WHEN 'RegisterStreamConsumer' THEN
            response := kinesis._api_register_stream_consumer(kinesis._api_body(request));
        WHEN 'DeregisterStreamConsumer' THEN
            response := kinesis._api_deregister_stream_consumer(kinesis._api_body(request));
        WHEN 'DescribeStreamConsumer' THEN
            response := kinesis._api_describe_stream_consumer(kinesis._api_body(request));
        WHEN 'ListStreamConsumers' THEN
            response := kinesis._api_list_stream_consumers(kinesis._api_body(request));
        WHEN 'AddTagsToStream' THEN
            response := kinesis._api_add_tags_to_stream(kinesis._api_body(request));
        WHEN 'RemoveTagsFromStream' THEN
            response := kinesis._api_remove_tags_from_stream(kinesis._api_body(request));
        WHEN 'ListTagsForStream' THEN
            response := kinesis._api_list_tags_for_stream(kinesis._api_body(request));
        WHEN 'SplitShard' THEN
            response := kinesis._api_split_shard(kinesis._api_body(request));
        WHEN 'MergeShards' THEN
            response := kinesis._api_merge_shards(kinesis._api_body(request));
        WHEN 'UpdateShardCount' THEN
            response := kinesis._api_update_shard_count(kinesis._api_body(request));
        WHEN 'IncreaseStreamRetentionPeriod' THEN
            response := kinesis._api_change_retention(kinesis._api_body(request), true);
        WHEN 'DecreaseStreamRetentionPeriod' THEN
            response := kinesis._api_change_retention(kinesis._api_body(request), false);
        WHEN 'StartStreamEncryption' THEN
            response := kinesis._api_change_encryption(kinesis._api_body(request), true);
        WHEN 'StopStreamEncryption' THEN
            response := kinesis._api_change_encryption(kinesis._api_body(request), false);
        WHEN 'SubscribeToShard' THEN
            response := kinesis._api_subscribe_to_shard(kinesis._api_body(request));
        ELSE
            PERFORM kinesis._raise('UnknownOperationException', '');
    END CASE;
    -- absent optional members are left out, at every depth, never null
    -- (the C encoders of PutRecords and GetRecords make none)
    IF operation IN ('PutRecords', 'GetRecords') THEN
        RETURN response;
    END IF;
    RETURN jsonb_strip_nulls(response);
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
    IF left(state, 2) <> 'KN' THEN
        RAISE;
    END IF;
    RETURN kinesis._api_error(state, message);
END
$$;
COMMENT ON FUNCTION kinesis.api(text, jsonb) IS
    'The Kinesis API in AWS JSON 1.1: operation is the X-Amz-Target suffix (e.g. PutRecords), request and response the JSON bodies (base64 blobs, epoch-second timestamps). Kinesis errors come back as the AWS error body {"__type", "message"} and leave no effects; other errors are raised.';
