-- Stand-ins for the boto3 client-side helpers: waiters (stream_exists,
-- stream_not_exists) and paginators (describe_stream, list_streams,
-- list_shards) as SQL functions.

CREATE FUNCTION kinesis._wait_for_status(stream_name text, status text, waiter text,
                                         delay interval, max_attempts integer)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    current text;
    mine boolean;
BEGIN
    IF delay IS NULL OR delay < interval '0' OR max_attempts IS NULL OR max_attempts < 1 THEN
        RAISE EXCEPTION 'delay must be an interval of 0 or more and max_attempts at least 1'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- a snapshot that never moves, or a change this transaction has not
    -- committed, could never show the new status: refuse rather than wait
    IF current_setting('transaction_isolation') IN ('repeatable read', 'serializable') THEN
        RAISE EXCEPTION 'Waiter % cannot run in a % transaction: its snapshot would never show the change',
            waiter, upper(current_setting('transaction_isolation'))
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Wait in a READ COMMITTED transaction or outside a transaction block.';
    END IF;
    SELECT s.xmin::text::bigint = (pg_current_xact_id_if_assigned()::text::bigint % 4294967296)
      INTO mine FROM kinesis.stream_meta s WHERE s.stream_name = _wait_for_status.stream_name;
    IF mine THEN
        RAISE EXCEPTION 'Waiter % cannot see stream % change: this transaction changed it and has not committed',
            waiter, stream_name
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Commit the call that changed the stream, then wait.';
    END IF;
    FOR attempt IN 1 .. max_attempts LOOP
        SELECT s.stream_status INTO current FROM kinesis.stream_meta s
         WHERE s.stream_name = _wait_for_status.stream_name;
        IF NOT FOUND THEN
            current := NULL;
        END IF;
        IF current IS NOT DISTINCT FROM status THEN
            RETURN;
        END IF;
        IF attempt < max_attempts THEN
            PERFORM pg_sleep(extract(epoch FROM delay));
        END IF;
    END LOOP;
    RAISE EXCEPTION 'Waiter % failed: Max attempts exceeded', waiter
        USING ERRCODE = 'query_canceled',
              DETAIL = format('Stream %s is %s after %s attempts.', stream_name,
                              coalesce(current, 'gone'), max_attempts);
END
$$;
COMMENT ON FUNCTION kinesis._wait_for_status(text, text, text, interval, integer) IS
    'Internal: poll a stream''s status (NULL: gone) with a fresh snapshot each attempt, as the SDK waiters do.';

CREATE FUNCTION kinesis.wait_for_stream_exists(stream_name text, delay interval DEFAULT '10 seconds',
                                               max_attempts integer DEFAULT 18)
RETURNS void
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT kinesis._wait_for_status(stream_name, 'ACTIVE', 'StreamExists', delay, max_attempts)
$$;
COMMENT ON FUNCTION kinesis.wait_for_stream_exists(text, interval, integer) IS
    'The stream_exists waiter: polls until the stream is ACTIVE (every 10 s, 18 times by default); refuses to wait where it could never see the change.';

CREATE FUNCTION kinesis.wait_for_stream_not_exists(stream_name text, delay interval DEFAULT '10 seconds',
                                                   max_attempts integer DEFAULT 18)
RETURNS void
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT kinesis._wait_for_status(stream_name, NULL, 'StreamNotExists', delay, max_attempts)
$$;
COMMENT ON FUNCTION kinesis.wait_for_stream_not_exists(text, interval, integer) IS
    'The stream_not_exists waiter: polls until the stream is gone (every 10 s, 18 times by default); refuses to wait where it could never see the change.';

CREATE FUNCTION kinesis.list_all_streams(page_size integer DEFAULT NULL)
RETURNS SETOF text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    page record;
    last text;
BEGIN
    -- the list_streams paginator: every page, following the last name
    LOOP
        SELECT * INTO page FROM kinesis.list_streams(page_size, last);
        RETURN QUERY SELECT unnest(page.stream_names);
        EXIT WHEN NOT page.has_more_streams OR cardinality(page.stream_names) = 0;
        last := page.stream_names[cardinality(page.stream_names)];
    END LOOP;
END
$$;
COMMENT ON FUNCTION kinesis.list_all_streams(integer) IS
    'The list_streams paginator: the names of every stream, in ListStreams order, page by page (page_size: the PageSize of boto3''s PaginationConfig).';

CREATE FUNCTION kinesis.list_all_shards(stream_name text, page_size integer DEFAULT NULL)
RETURNS SETOF kinesis.shard
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    page kinesis.list_shards_output;
BEGIN
    -- the list_shards paginator: every page, following next_token
    page := kinesis.list_shards(stream_name => list_all_shards.stream_name, max_results => page_size);
    LOOP
        RETURN QUERY SELECT * FROM unnest(page.shards);
        EXIT WHEN page.next_token IS NULL;
        page := kinesis.list_shards(next_token => page.next_token, max_results => page_size);
    END LOOP;
END
$$;
COMMENT ON FUNCTION kinesis.list_all_shards(text, integer) IS
    'The list_shards paginator: every shard of the stream (open and closed), page by page (page_size: max_results of each call).';

CREATE FUNCTION kinesis.describe_stream_all_shards(stream_name text, page_size integer DEFAULT NULL)
RETURNS SETOF kinesis.shard
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    page kinesis.stream_description;
    last text;
BEGIN
    -- the describe_stream paginator: every page, following the last shard id
    LOOP
        page := kinesis.describe_stream(stream_name, page_size, last);
        RETURN QUERY SELECT * FROM unnest(page.shards);
        EXIT WHEN NOT page.has_more_shards OR cardinality(page.shards) = 0;
        last := (page.shards[cardinality(page.shards)]).shard_id;
    END LOOP;
END
$$;
COMMENT ON FUNCTION kinesis.describe_stream_all_shards(text, integer) IS
    'The describe_stream paginator: every shard DescribeStream lists for the stream, page by page (page_size: the limit of each call).';
