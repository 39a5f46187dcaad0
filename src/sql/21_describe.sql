-- DescribeStream, DescribeStreamSummary, ListStreams, ListShards and
-- DescribeLimits: the read side of the control plane.
--
-- Where a request member and a response member share a name (StreamName in
-- DescribeStream, NextToken in ListShards) the function returns a named
-- composite type instead of OUT parameters; SELECT * FROM f(...) gives the
-- same columns either way.

-- ---------------------------------------------------------------------
-- Response shapes
-- ---------------------------------------------------------------------
CREATE TYPE kinesis.hash_key_range AS (
    starting_hash_key text,
    ending_hash_key   text
);
COMMENT ON TYPE kinesis.hash_key_range IS
    'HashKeyRange: the inclusive range of 128-bit hash keys a shard owns, as decimal strings.';

CREATE TYPE kinesis.sequence_number_range AS (
    starting_sequence_number text,
    ending_sequence_number   text
);
COMMENT ON TYPE kinesis.sequence_number_range IS
    'SequenceNumberRange: the first sequence number of a shard and, once the shard is closed, its last one (NULL while open).';

CREATE TYPE kinesis.shard AS (
    shard_id                 text,
    parent_shard_id          text,
    adjacent_parent_shard_id text,
    hash_key_range           kinesis.hash_key_range,
    sequence_number_range    kinesis.sequence_number_range
);
COMMENT ON TYPE kinesis.shard IS
    'Shard: one element of DescribeStream Shards and ListShards Shards.';

CREATE TYPE kinesis.enhanced_metrics AS (
    shard_level_metrics text[]
);
COMMENT ON TYPE kinesis.enhanced_metrics IS
    'EnhancedMetrics: the shard-level metrics enabled on a stream (EnhancedMonitoring element).';

CREATE TYPE kinesis.stream_description AS (
    stream_name               text,
    stream_arn                text,
    stream_status             text,
    shards                    kinesis.shard[],
    has_more_shards           boolean,
    retention_period_hours    integer,
    stream_creation_timestamp timestamptz,
    enhanced_monitoring       kinesis.enhanced_metrics[],
    encryption_type           text,
    key_id                    text
);
COMMENT ON TYPE kinesis.stream_description IS
    'StreamDescription: the DescribeStream response.';

CREATE TYPE kinesis.stream_description_summary AS (
    stream_name               text,
    stream_arn                text,
    stream_status             text,
    retention_period_hours    integer,
    stream_creation_timestamp timestamptz,
    enhanced_monitoring       kinesis.enhanced_metrics[],
    encryption_type           text,
    key_id                    text,
    open_shard_count          integer,
    consumer_count            integer
);
COMMENT ON TYPE kinesis.stream_description_summary IS
    'StreamDescriptionSummary: the DescribeStreamSummary response.';

CREATE TYPE kinesis.list_shards_output AS (
    shards     kinesis.shard[],
    next_token text
);
COMMENT ON TYPE kinesis.list_shards_output IS
    'The ListShards response: a page of shards and, when more remain, the token for the next page.';

-- ---------------------------------------------------------------------
-- Internal helpers
-- ---------------------------------------------------------------------
CREATE FUNCTION kinesis._validate_range(value bigint, field text, min_value bigint, max_value bigint)
RETURNS text[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    errors text[] := '{}';
BEGIN
    -- every integer member checked this way is optional: null is fine
    IF value IS NULL THEN
        RETURN errors;
    END IF;
    IF value < min_value THEN
        errors := errors || format('Value ''%s'' at ''%s'' failed to satisfy constraint: Member must have value greater than or equal to %s',
                                   value, field, min_value);
    END IF;
    IF value > max_value THEN
        errors := errors || format('Value ''%s'' at ''%s'' failed to satisfy constraint: Member must have value less than or equal to %s',
                                   value, field, max_value);
    END IF;
    RETURN errors;
END
$$;
COMMENT ON FUNCTION kinesis._validate_range(bigint, text, bigint, bigint) IS
    'Internal: the ValidationException entries for an optional integer member outside [min_value, max_value].';

CREATE FUNCTION kinesis._shard_id(shard_index integer)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT 'shardId-' OPERATOR(pg_catalog.||) pg_catalog.lpad(shard_index::text, 12, '0')
$$;
COMMENT ON FUNCTION kinesis._shard_id(integer) IS
    'Internal: the shard id of a shard index, shardId-<12 digits>.';

CREATE FUNCTION kinesis._parse_shard_id(shard_id text)
RETURNS integer
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    -- Like AWS: whatever precedes the first '-' is ignored, and the digits
    -- after it (up to another '-') are the index: 'shardId-0', 'shard-0'
    -- and 'x-000000000000' all name shard 0.
    SELECT CASE WHEN length(m[1]) <= 20 AND m[1]::numeric <= 2147483647
                THEN m[1]::integer END
      FROM regexp_match(shard_id, '^[^-]*-([0-9]+)(?:-|$)') AS m
$$;
COMMENT ON FUNCTION kinesis._parse_shard_id(text) IS
    'Internal: the shard index a shard id names, parsed loosely as AWS does (digits after the first ''-''); NULL if it names none.';

CREATE FUNCTION kinesis._shard(h kinesis.shard_meta)
RETURNS kinesis.shard
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT ROW('shardId-' || lpad(h.shard_index::text, 12, '0'),
               'shardId-' || lpad(h.parent_shard_index::text, 12, '0'),
               'shardId-' || lpad(h.adjacent_parent_shard_index::text, 12, '0'),
               ROW(h.starting_hash_key::text, h.ending_hash_key::text)::kinesis.hash_key_range,
               ROW(kinesis.format_sequence_number(h.create_epoch, h.shard_index, 0, h.create_epoch),
                   CASE WHEN h.closed_at IS NOT NULL
                        THEN kinesis.format_sequence_number(h.create_epoch, h.shard_index, h.ending_counter,
                                                            extract(epoch FROM h.closed_at)::bigint)
                   END)::kinesis.sequence_number_range
           )::kinesis.shard
$$;
COMMENT ON FUNCTION kinesis._shard(kinesis.shard_meta) IS
    'Internal: a shard_meta row as the Shard structure DescribeStream and ListShards return.';

CREATE FUNCTION kinesis._stream_not_found(stream_name text)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM kinesis._raise('ResourceNotFoundException',
        format('Stream %s under account %s not found.', stream_name, current_setting('kinesis.account_id')));
END
$$;
COMMENT ON FUNCTION kinesis._stream_not_found(text) IS
    'Internal: throw ResourceNotFoundException "Stream <name> under account <account> not found."';

CREATE FUNCTION kinesis._find_stream(stream_name text, created timestamptz DEFAULT NULL)
RETURNS kinesis.stream_meta
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s kinesis.stream_meta;
BEGIN
    -- The lookup every call by stream name makes, so that all fail alike.
    -- ListShards may name the stream's creation time too: a stream of that
    -- name that is not the one created then counts as not found.  The
    -- second is compared: SDKs send timestamps in whole seconds.
    SELECT * INTO s FROM kinesis.stream_meta m WHERE m.stream_name = _find_stream.stream_name;
    IF NOT FOUND
       OR (created IS NOT NULL
           AND date_trunc('second', created) <> date_trunc('second', s.stream_creation_timestamp)) THEN
        PERFORM kinesis._stream_not_found(stream_name);
    END IF;
    RETURN s;
END
$$;
COMMENT ON FUNCTION kinesis._find_stream(text, timestamptz) IS
    'Internal: the stream_meta row of a stream by name, optionally checked against its creation time (to the second); ResourceNotFoundException if there is none.';

CREATE FUNCTION kinesis._stream_description(s kinesis.stream_meta, shape anyelement)
RETURNS anyelement
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    -- The members DescribeStream and DescribeStreamSummary share, filled
    -- in by field name into shape, a kinesis.stream_description or
    -- kinesis.stream_description_summary; the caller sets the rest.
    SELECT jsonb_populate_record(shape, jsonb_build_object(
        'stream_name', s.stream_name,
        'stream_arn', kinesis.stream_arn(s.stream_name),
        'stream_status', s.stream_status,
        'retention_period_hours', s.retention_period_hours,
        'stream_creation_timestamp', s.stream_creation_timestamp,
        'enhanced_monitoring', jsonb_build_array(
            jsonb_build_object('shard_level_metrics', s.enhanced_monitoring)),
        'encryption_type', s.encryption_type,
        'key_id', s.key_id))
$$;
COMMENT ON FUNCTION kinesis._stream_description(kinesis.stream_meta, anyelement) IS
    'Internal: shape (a kinesis.stream_description or kinesis.stream_description_summary) with the stream''s name, ARN, status and settings filled in.';

CREATE FUNCTION kinesis._shard_page(stream_id integer, page_size integer,
                                    exclusive_start_shard_id text, after_index integer DEFAULT -1,
                                    OUT shards kinesis.shard[], OUT has_more boolean,
                                    OUT last_index integer)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    start_index integer := after_index;
    start_text text;
    page kinesis.shard[];
    indexes integer[];
BEGIN
    -- The paging DescribeStream and ListShards share.  The shards after
    -- ExclusiveStartShardId are those with a greater index, whether or not
    -- that shard exists; an id that names no index is compared with the
    -- shard ids as text.  Without one, those after shard after_index (the
    -- last one a ListShards NextToken returned).
    IF exclusive_start_shard_id IS NOT NULL THEN
        start_index := coalesce(kinesis._parse_shard_id(exclusive_start_shard_id), -1);
        IF start_index < 0 THEN
            start_text := exclusive_start_shard_id;
        END IF;
    END IF;

    -- one shard beyond the page tells whether more follow
    SELECT coalesce(array_agg(p.shard ORDER BY p.shard_index), '{}'),
           coalesce(array_agg(p.shard_index ORDER BY p.shard_index), '{}')
      INTO page, indexes
      FROM (SELECT kinesis._shard(h) AS shard, h.shard_index
              FROM kinesis.shard_meta h
             WHERE h.stream_id = _shard_page.stream_id AND h.shard_index > start_index
               AND (start_text IS NULL
                    OR kinesis._shard_id(h.shard_index) COLLATE "C" > start_text COLLATE "C")
             ORDER BY h.shard_index
             LIMIT page_size + 1) p;

    shards := page[1:page_size];
    has_more := cardinality(page) > page_size;
    last_index := indexes[least(cardinality(indexes), page_size)];
END
$$;
COMMENT ON FUNCTION kinesis._shard_page(integer, integer, text, integer) IS
    'Internal: up to page_size shards of a stream in shard order, after exclusive_start_shard_id or else after shard index after_index; has_more tells whether more follow, last_index is the index of the last shard returned.';

-- ---------------------------------------------------------------------
-- DescribeStream
-- ---------------------------------------------------------------------
CREATE FUNCTION kinesis.describe_stream(stream_name text, "limit" integer DEFAULT NULL,
                                        exclusive_start_shard_id text DEFAULT NULL)
RETURNS kinesis.stream_description
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    errors text[];
    s kinesis.stream_meta;
    page_size integer;
    result kinesis.stream_description;
BEGIN
    -- members in AWS's order: Limit, ExclusiveStartShardId, StreamName
    errors := kinesis._validate_range("limit", 'limit', 1, 10000);
    IF exclusive_start_shard_id IS NOT NULL THEN
        errors := errors || kinesis._validate_stream_name(exclusive_start_shard_id, 'exclusiveStartShardId');
    END IF;
    errors := errors || kinesis._validate_stream_name(describe_stream.stream_name);
    PERFORM kinesis._raise_validation(errors);

    s := kinesis._find_stream(describe_stream.stream_name);
    result := kinesis._stream_description(s, result);

    -- Limit is only a maximum: AWS returns at most 100 shards a call
    page_size := least(coalesce("limit", 100), 100);
    SELECT p.shards, p.has_more INTO result.shards, result.has_more_shards
      FROM kinesis._shard_page(s.stream_id, page_size, exclusive_start_shard_id) AS p;
    RETURN result;
END
$$;
COMMENT ON FUNCTION kinesis.describe_stream(text, integer, text) IS
    'DescribeStream: the stream''s status, settings and up to "limit" shards (default 100; larger values return at most 100) in shard order after exclusive_start_shard_id; has_more_shards tells whether more follow.';

-- ---------------------------------------------------------------------
-- DescribeStreamSummary
-- ---------------------------------------------------------------------
CREATE FUNCTION kinesis.describe_stream_summary(stream_name text)
RETURNS kinesis.stream_description_summary
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s kinesis.stream_meta;
    result kinesis.stream_description_summary;
BEGIN
    PERFORM kinesis._raise_validation(kinesis._validate_stream_name(describe_stream_summary.stream_name));

    s := kinesis._find_stream(describe_stream_summary.stream_name);
    result := kinesis._stream_description(s, result);
    SELECT count(*) INTO result.open_shard_count
      FROM kinesis.shard_meta h
     WHERE h.stream_id = s.stream_id AND h.closed_at IS NULL;
    -- registered consumers, whatever their status, as AWS counts them
    result.consumer_count := (SELECT count(*) FROM kinesis.consumers c WHERE c.stream_id = s.stream_id);
    RETURN result;
END
$$;
COMMENT ON FUNCTION kinesis.describe_stream_summary(text) IS
    'DescribeStreamSummary: the stream''s status and settings with its number of open shards and of registered consumers, without the shard list.';

-- ---------------------------------------------------------------------
-- ListStreams
-- ---------------------------------------------------------------------
CREATE FUNCTION kinesis.list_streams("limit" integer DEFAULT NULL,
                                     exclusive_start_stream_name text DEFAULT NULL,
                                     OUT stream_names text[], OUT has_more_streams boolean)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    errors text[];
    page_size integer;
    names text[];
BEGIN
    -- members in AWS's order: Limit, ExclusiveStartStreamName
    errors := kinesis._validate_range("limit", 'limit', 1, 10000);
    IF exclusive_start_stream_name IS NOT NULL THEN
        errors := errors || kinesis._validate_stream_name(exclusive_start_stream_name, 'exclusiveStartStreamName');
    END IF;
    PERFORM kinesis._raise_validation(errors);

    page_size := coalesce("limit", 10);
    SELECT coalesce(array_agg(p.stream_name ORDER BY p.stream_name COLLATE "C"), '{}')
      INTO names
      FROM (SELECT m.stream_name
              FROM kinesis.stream_meta m
             WHERE exclusive_start_stream_name IS NULL
                OR m.stream_name COLLATE "C" > exclusive_start_stream_name COLLATE "C"
             ORDER BY m.stream_name COLLATE "C"
             LIMIT page_size + 1) p;
    stream_names := names[1:page_size];
    has_more_streams := cardinality(names) > page_size;
END
$$;
COMMENT ON FUNCTION kinesis.list_streams(integer, text) IS
    'ListStreams: up to "limit" stream names (default 10) in byte order after exclusive_start_stream_name; has_more_streams tells whether more follow.';

-- ---------------------------------------------------------------------
-- ListShards
-- ---------------------------------------------------------------------
CREATE FUNCTION kinesis._page_token(kind "char", next_token text, operation text)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    payload bytea := kinesis._token_decode(kind, next_token);
    token jsonb;
    now_ms bigint := floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint;
    issued_ms bigint;
BEGIN
    -- Pagination tokens are signed: anything we did not issue, or edited,
    -- fails here.  The payload is JSON with the operation ("o", so that a
    -- token of another paginated call is refused too) and the time it was
    -- issued ("t", milliseconds since 1970), plus what the operation keeps.
    IF payload IS NOT NULL THEN
        BEGIN
            token := convert_from(payload, 'UTF8')::jsonb;
        EXCEPTION WHEN invalid_text_representation OR character_not_in_repertoire THEN
            token := NULL;
        END;
    END IF;
    IF token IS NULL OR jsonb_typeof(token) <> 'object' OR token ->> 'o' IS DISTINCT FROM operation
       -- the numbers the operations read back: whole and in range (a token
       -- of another version of the extension must not fail their casts)
       OR coalesce(token ->> 't', '') !~ '^[0-9]{1,15}$'
       OR (token ? 'i' AND coalesce(token ->> 'i', '') !~ '^-?[0-9]{1,9}$')
       OR (operation = 'ListShards' AND coalesce(token ->> 'a', '') !~ '^-?[0-9]{1,9}$') THEN
        PERFORM kinesis._raise('InvalidArgumentException', 'Invalid NextToken.');
    END IF;
    issued_ms := (token ->> 't')::bigint;
    IF issued_ms > now_ms + 1000 THEN
        PERFORM kinesis._raise('InvalidArgumentException', 'Invalid NextToken.');
    END IF;
    IF now_ms - issued_ms > 300000 THEN
        PERFORM kinesis._raise('ExpiredNextTokenException', 'The pagination token passed to the operation is expired.');
    END IF;
    RETURN token;
END
$$;
COMMENT ON FUNCTION kinesis._page_token("char", text, text) IS
    'Internal: the payload of a pagination token of the given kind and operation (InvalidArgumentException if it is not one we issued, ExpiredNextTokenException after 300 seconds).';

CREATE FUNCTION kinesis.list_shards(stream_name text DEFAULT NULL, next_token text DEFAULT NULL,
                                    exclusive_start_shard_id text DEFAULT NULL,
                                    max_results integer DEFAULT NULL,
                                    stream_creation_timestamp timestamptz DEFAULT NULL)
RETURNS kinesis.list_shards_output
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    errors text[];
    token jsonb;
    now_ms bigint := floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint;
    s kinesis.stream_meta;
    start_index integer := -1;
    page_size integer;
    page record;
    result kinesis.list_shards_output;
BEGIN
    -- members in AWS's order: ExclusiveStartShardId, MaxResults, NextToken,
    -- StreamName
    errors := '{}';
    IF exclusive_start_shard_id IS NOT NULL THEN
        errors := errors || kinesis._validate_stream_name(exclusive_start_shard_id, 'exclusiveStartShardId');
    END IF;
    errors := errors || kinesis._validate_range(max_results, 'maxResults', 1, 10000);
    IF next_token IS NOT NULL AND length(next_token) < 1 THEN
        errors := errors || format('Value ''%s'' at ''nextToken'' failed to satisfy constraint: Member must have length greater than or equal to 1',
                                   next_token);
    END IF;
    IF list_shards.stream_name IS NOT NULL THEN
        errors := errors || kinesis._validate_stream_name(list_shards.stream_name);
    END IF;
    PERFORM kinesis._raise_validation(errors);

    IF next_token IS NULL AND list_shards.stream_name IS NULL THEN
        PERFORM kinesis._raise('InvalidArgumentException', 'Either NextToken or StreamName should be provided.');
    END IF;
    IF next_token IS NOT NULL THEN
        IF list_shards.stream_name IS NOT NULL THEN
            PERFORM kinesis._raise('InvalidArgumentException', 'NextToken and StreamName cannot be provided together.');
        END IF;
        IF exclusive_start_shard_id IS NOT NULL THEN
            PERFORM kinesis._raise('InvalidArgumentException', 'NextToken and ExclusiveStartShardId cannot be provided together.');
        END IF;
        IF list_shards.stream_creation_timestamp IS NOT NULL THEN
            PERFORM kinesis._raise('InvalidArgumentException', 'NextToken and StreamCreationTimestamp cannot be provided together.');
        END IF;

        -- The payload: the stream (id "i" and name "n") and the last shard
        -- index returned ("a"); see kinesis._page_token().
        token := kinesis._page_token('L', next_token, 'ListShards');
        SELECT * INTO s FROM kinesis.stream_meta m
         WHERE m.stream_id = (token ->> 'i')::integer AND m.stream_name = token ->> 'n';
        IF NOT FOUND THEN
            PERFORM kinesis._stream_not_found(token ->> 'n');
        END IF;
        start_index := (token ->> 'a')::integer;
    ELSE
        s := kinesis._find_stream(list_shards.stream_name, list_shards.stream_creation_timestamp);
    END IF;

    -- MaxResults is only a maximum: at most 1000 shards a call.  With a
    -- token exclusive_start_shard_id is NULL and start_index counts.
    page_size := least(coalesce(max_results, 1000), 1000);
    SELECT * INTO page
      FROM kinesis._shard_page(s.stream_id, page_size, exclusive_start_shard_id, start_index);

    result.shards := page.shards;
    IF page.has_more THEN
        result.next_token := kinesis._token_encode('L', convert_to(
            jsonb_build_object('o', 'ListShards', 'i', s.stream_id, 'n', s.stream_name,
                               'a', page.last_index, 't', now_ms)::text, 'UTF8'));
    END IF;
    RETURN result;
END
$$;
COMMENT ON FUNCTION kinesis.list_shards(text, text, text, integer, timestamptz) IS
    'ListShards: up to max_results shards (default 1000; larger values return at most 1000) of a stream in shard order, by stream_name (optionally checked against stream_creation_timestamp, starting after exclusive_start_shard_id) or by a next_token from an earlier call. next_token is set only when more shards remain; it is signed, bound to the stream and expires after 300 seconds.';

-- ---------------------------------------------------------------------
-- DescribeLimits
-- ---------------------------------------------------------------------
CREATE FUNCTION kinesis.describe_limits(OUT shard_limit integer, OUT open_shard_count integer)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.current_setting('kinesis.shard_limit')::integer,
           kinesis._open_shard_count()::integer
$$;
COMMENT ON FUNCTION kinesis.describe_limits() IS
    'DescribeLimits: the account''s shard limit (the kinesis.shard_limit setting) and the number of open shards across all streams (counting those of streams still CREATING).';
