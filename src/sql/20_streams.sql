-- CreateStream and DeleteStream.

CREATE FUNCTION kinesis._wake_worker()
RETURNS void
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'kinesis_wake_worker';
COMMENT ON FUNCTION kinesis._wake_worker() IS
    'Internal: wake this database''s maintenance worker when the transaction commits (starting one if needed).';

CREATE FUNCTION kinesis.maintenance_worker_pid()
RETURNS integer
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'kinesis_worker_pid';
COMMENT ON FUNCTION kinesis.maintenance_worker_pid() IS
    'The process id of this database''s maintenance worker, or NULL if none runs.';

CREATE FUNCTION kinesis._not_before(delay_setting text)
RETURNS timestamptz
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT clock_timestamp() + current_setting(delay_setting)::interval
$$;
COMMENT ON FUNCTION kinesis._not_before(text) IS
    'Internal: when a transition requested now may be carried out, given the delay setting that emulates AWS timing.';

CREATE FUNCTION kinesis._open_shard_count()
RETURNS bigint
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT (SELECT count(*) FROM kinesis.shard_meta h WHERE h.closed_at IS NULL)
         + (SELECT coalesce(sum((s.pending ->> 'shard_count')::bigint), 0)
              FROM kinesis.stream_meta s WHERE s.stream_status = 'CREATING')
$$;
COMMENT ON FUNCTION kinesis._open_shard_count() IS
    'Internal: open shards across all streams, counting the shards of streams still CREATING (the shard limit applies to them too).';

CREATE FUNCTION kinesis.stream_arn(stream_name text)
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT 'arn:aws:kinesis:' OPERATOR(pg_catalog.||) pg_catalog.current_setting('kinesis.region')
           OPERATOR(pg_catalog.||) ':' OPERATOR(pg_catalog.||) pg_catalog.current_setting('kinesis.account_id')
           OPERATOR(pg_catalog.||) ':stream/' OPERATOR(pg_catalog.||) stream_name
$$;
COMMENT ON FUNCTION kinesis.stream_arn(text) IS
    'The ARN of a stream: arn:aws:kinesis:<kinesis.region>:<kinesis.account_id>:stream/<name>.';

CREATE FUNCTION kinesis._validate_stream_name(stream_name text, field text DEFAULT 'streamName')
RETURNS text[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    errors text[] := '{}';
BEGIN
    IF stream_name IS NULL THEN
        RETURN ARRAY[format('Value null at ''%s'' failed to satisfy constraint: Member must not be null', field)];
    END IF;
    IF stream_name !~ '^[a-zA-Z0-9_.-]+$' THEN
        errors := errors || format('Value ''%s'' at ''%s'' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+', stream_name, field);
    END IF;
    IF length(stream_name) < 1 THEN
        errors := errors || format('Value ''%s'' at ''%s'' failed to satisfy constraint: Member must have length greater than or equal to 1', stream_name, field);
    END IF;
    IF length(stream_name) > 128 THEN
        errors := errors || format('Value ''%s'' at ''%s'' failed to satisfy constraint: Member must have length less than or equal to 128', stream_name, field);
    END IF;
    RETURN errors;
END
$$;
COMMENT ON FUNCTION kinesis._validate_stream_name(text, text) IS
    'Internal: the ValidationException entries for a stream name (null, pattern, length), in AWS''s order. Values are printed as AWS prints them: between single quotes, nothing escaped.';

CREATE FUNCTION kinesis._raise_validation(errors text[])
RETURNS void
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n integer := coalesce(cardinality(errors), 0);
BEGIN
    IF n > 0 THEN
        PERFORM kinesis._raise('ValidationException',
            format('%s validation error%s detected: %s', least(n, 10),
                   CASE WHEN n = 1 THEN '' ELSE 's' END,
                   array_to_string(errors[1:10], '; ')));
    END IF;
END
$$;
COMMENT ON FUNCTION kinesis._raise_validation(text[]) IS
    'Internal: throw one ValidationException listing up to ten schema problems, if there are any.';

CREATE FUNCTION kinesis.create_stream(stream_name text, shard_count integer DEFAULT 4)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    errors text[] := '{}';
    creating integer;
BEGIN
    IF shard_count IS NULL THEN
        shard_count := 4;
    END IF;
    IF shard_count < 1 THEN
        errors := errors || format('Value ''%s'' at ''shardCount'' failed to satisfy constraint: Member must have value greater than or equal to 1', shard_count);
    END IF;
    errors := errors || kinesis._validate_stream_name(stream_name);
    PERFORM kinesis._raise_validation(errors);

    -- one creator at a time, so the shard limit and name checks hold
    LOCK TABLE kinesis.stream_meta IN SHARE ROW EXCLUSIVE MODE;
    IF EXISTS (SELECT 1 FROM kinesis.stream_meta s WHERE s.stream_name OPERATOR(pg_catalog.=) create_stream.stream_name) THEN
        PERFORM kinesis._raise('ResourceInUseException',
            format('Stream %s under account %s already exists.', stream_name, current_setting('kinesis.account_id')));
    END IF;
    -- the shards of streams still CREATING count too
    PERFORM kinesis._shard_limit_check(shard_count);
    SELECT count(*) INTO creating FROM kinesis.stream_meta s WHERE s.stream_status = 'CREATING';
    IF creating >= 5 THEN
        PERFORM kinesis._raise('LimitExceededException',
            format('Account %s in %s already has %s streams in the CREATING state; at most 5 may be CREATING at once.',
                   current_setting('kinesis.account_id'), current_setting('kinesis.region'), creating));
    END IF;

    -- the shards appear when maintenance makes the stream ACTIVE
    INSERT INTO kinesis.stream_meta (stream_name, stream_status, stream_creation_timestamp,
                                     status_since, pending)
    VALUES (create_stream.stream_name, 'CREATING', date_trunc('milliseconds', clock_timestamp()),
            clock_timestamp(),
            jsonb_build_object('op', 'create', 'shard_count', shard_count,
                               'not_before', kinesis._not_before('kinesis.create_stream_delay')));
    PERFORM kinesis._wake_worker();
END
$$;
COMMENT ON FUNCTION kinesis.create_stream(text, integer) IS
    'CreateStream: a stream with shard_count shards (default 4) splitting the 128-bit hash space evenly. It is CREATING until maintenance (the worker, or kinesis.run_maintenance()) makes it ACTIVE, after kinesis.create_stream_delay.';

CREATE FUNCTION kinesis.delete_stream(stream_name text, enforce_consumer_deletion boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s kinesis.stream_meta;
BEGIN
    PERFORM kinesis._raise_validation(kinesis._validate_stream_name(stream_name));
    SELECT * INTO s FROM kinesis.stream_meta m
     WHERE m.stream_name OPERATOR(pg_catalog.=) delete_stream.stream_name FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM kinesis._stream_not_found(stream_name);
    END IF;
    IF s.stream_status = 'DELETING' THEN
        RETURN;
    END IF;
    IF NOT coalesce(enforce_consumer_deletion, false)
       AND EXISTS (SELECT 1 FROM kinesis.consumers c WHERE c.stream_id = s.stream_id) THEN
        PERFORM kinesis._raise('ResourceInUseException',
            format('Stream %s under account %s has registered consumers; deregister them, or set EnforceConsumerDeletion to delete them with the stream.',
                   stream_name, current_setting('kinesis.account_id')));
    END IF;
    -- from now on puts and reads fail; maintenance removes the stream
    UPDATE kinesis.stream_meta m
       SET stream_status = 'DELETING', status_since = clock_timestamp(),
           pending = jsonb_build_object('op', 'delete',
                                        'not_before', kinesis._not_before('kinesis.delete_stream_delay'))
     WHERE m.stream_id = s.stream_id;
    PERFORM kinesis._wake_worker();
END
$$;
COMMENT ON FUNCTION kinesis.delete_stream(text, boolean) IS
    'DeleteStream: the stream is DELETING (puts and reads fail at once) until maintenance, after kinesis.delete_stream_delay, waits for puts in flight and removes it with its shards, records, tags and consumers. Refused while consumers are registered unless enforce_consumer_deletion.';
