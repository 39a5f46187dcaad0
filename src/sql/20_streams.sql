-- CreateStream and DeleteStream.

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
    open_shards bigint;
    new_id integer;
    step numeric;
    epoch bigint;
    created timestamptz := date_trunc('milliseconds', clock_timestamp());
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
    SELECT count(*) INTO open_shards FROM kinesis.shard_meta h WHERE h.closed_at IS NULL;
    IF open_shards + shard_count > current_setting('kinesis.shard_limit')::integer THEN
        PERFORM kinesis._raise('LimitExceededException',
            format('This request would exceed the shard limit for the account %s in %s. Current shard count for the account: %s. Limit: %s. Number of additional shards that would have resulted from this request: %s. Refer to the AWS Service Limits page (http://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) for current limits and how to request higher limits.',
                   current_setting('kinesis.account_id'), current_setting('kinesis.region'),
                   open_shards, current_setting('kinesis.shard_limit'), shard_count));
    END IF;

    INSERT INTO kinesis.stream_meta (stream_name, stream_status, stream_creation_timestamp, next_shard_index)
    VALUES (create_stream.stream_name, 'ACTIVE', created, shard_count)
    RETURNING stream_id INTO new_id;

    -- AWS splits the hash space evenly: step = floor(2^128 / N), the last
    -- shard ends at 2^128 - 1.  Sequence numbers embed a creation time
    -- two seconds in the past, as AWS's do.
    step := floor(340282366920938463463374607431768211456::numeric / shard_count);
    epoch := floor(extract(epoch FROM created))::bigint - 2;
    INSERT INTO kinesis.shard_meta (stream_id, shard_index, starting_hash_key, ending_hash_key,
                                    create_epoch, created_at)
    SELECT new_id, i, step * i,
           CASE WHEN i = shard_count - 1 THEN 340282366920938463463374607431768211455::numeric
                ELSE step * (i + 1) - 1 END,
           epoch, created
      FROM generate_series(0, shard_count - 1) AS i;
END
$$;
COMMENT ON FUNCTION kinesis.create_stream(text, integer) IS
    'CreateStream: a stream with shard_count shards (default 4) splitting the 128-bit hash space evenly. The stream is ACTIVE when the transaction commits.';

CREATE FUNCTION kinesis.delete_stream(stream_name text, enforce_consumer_deletion boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    sid integer;
BEGIN
    PERFORM kinesis._raise_validation(kinesis._validate_stream_name(stream_name));
    SELECT s.stream_id INTO sid FROM kinesis.stream_meta s
     WHERE s.stream_name OPERATOR(pg_catalog.=) delete_stream.stream_name FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM kinesis._raise('ResourceNotFoundException',
            format('Stream %s under account %s not found.', stream_name, current_setting('kinesis.account_id')));
    END IF;
    -- waits for every transaction with puts in flight to this stream
    PERFORM kinesis._lock_stream(sid, true);
    DELETE FROM kinesis.records r WHERE r.stream_id OPERATOR(pg_catalog.=) sid;
    DELETE FROM kinesis.stream_meta s WHERE s.stream_id OPERATOR(pg_catalog.=) sid;
END
$$;
COMMENT ON FUNCTION kinesis.delete_stream(text, boolean) IS
    'DeleteStream: waits for puts in flight to the stream, then removes it with its shards and records when the transaction commits.';
