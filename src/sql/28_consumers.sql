-- Stream consumers: RegisterStreamConsumer, DeregisterStreamConsumer,
-- DescribeStreamConsumer, ListStreamConsumers; and checkpoints, which
-- Kinesis leaves to the KCL: a registered consumer stores how far it has
-- read each shard in the database, in its own transaction, so a SQL
-- consumer that checkpoints in the transaction that applies the records is
-- exactly-once with respect to its own tables.
--
-- Consumer ARNs are <stream ARN>/consumer/<name>:<creation epoch seconds>,
-- so a name registered again gets a new ARN.  At most 20 consumers per
-- stream and 5 CREATING at once; CREATING -> ACTIVE and DELETING -> gone
-- are maintenance tasks, after kinesis.consumer_delay.

CREATE TYPE kinesis.consumer AS (
    consumer_name               text,
    consumer_arn                text,
    consumer_status             text,
    consumer_creation_timestamp timestamptz
);
COMMENT ON TYPE kinesis.consumer IS
    'A registered consumer as RegisterStreamConsumer and ListStreamConsumers return it.';

CREATE TYPE kinesis.consumer_description AS (
    consumer_name               text,
    consumer_arn                text,
    consumer_status             text,
    consumer_creation_timestamp timestamptz,
    stream_arn                  text
);
COMMENT ON TYPE kinesis.consumer_description IS
    'A registered consumer as DescribeStreamConsumer returns it.';

CREATE TYPE kinesis.list_stream_consumers_output AS (
    consumers  kinesis.consumer[],
    next_token text
);
COMMENT ON TYPE kinesis.list_stream_consumers_output IS
    'The ListStreamConsumers response.';

CREATE FUNCTION kinesis._consumer_arn(stream_name text, consumer_name text, created timestamptz)
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT kinesis.stream_arn(stream_name) || '/consumer/' || consumer_name || ':'
           || floor(extract(epoch FROM created))::bigint
$$;
COMMENT ON FUNCTION kinesis._consumer_arn(text, text, timestamptz) IS
    'Internal: a consumer''s ARN, <stream ARN>/consumer/<name>:<creation epoch seconds>.';

CREATE FUNCTION kinesis._validate_arn(value text, field text, pattern text, shown_pattern text,
                                      required boolean)
RETURNS text[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    errors text[] := '{}';
BEGIN
    IF value IS NULL THEN
        IF required THEN
            errors := errors || format('Value null at ''%s'' failed to satisfy constraint: Member must not be null', field);
        END IF;
        RETURN errors;
    END IF;
    IF value !~ pattern THEN
        errors := errors || format('Value ''%s'' at ''%s'' failed to satisfy constraint: Member must satisfy regular expression pattern: %s',
                                   value, field, shown_pattern);
    END IF;
    IF length(value) < 1 THEN
        errors := errors || format('Value ''%s'' at ''%s'' failed to satisfy constraint: Member must have length greater than or equal to 1', value, field);
    ELSIF length(value) > 2048 THEN
        errors := errors || format('Value ''%s'' at ''%s'' failed to satisfy constraint: Member must have length less than or equal to 2048', value, field);
    END IF;
    RETURN errors;
END
$$;
COMMENT ON FUNCTION kinesis._validate_arn(text, text, text, text, boolean) IS
    'Internal: the ValidationException entries for a StreamARN or ConsumerARN member.';

CREATE FUNCTION kinesis._stream_arn_errors(stream_arn text, required boolean)
RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT kinesis._validate_arn(stream_arn, 'streamARN', '^arn:aws.*:kinesis:.*:\d{12}:stream/\S+$',
                                 'arn:aws.*:kinesis:.*:\d{12}:stream/\S+', required)
$$;
COMMENT ON FUNCTION kinesis._stream_arn_errors(text, boolean) IS
    'Internal: the ValidationException entries for a StreamARN.';

CREATE FUNCTION kinesis._consumer_arn_errors(consumer_arn text)
RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT kinesis._validate_arn(consumer_arn, 'consumerARN',
        '^(arn):aws.*:kinesis:.*:\d{12}:.*stream/[a-zA-Z0-9_.-]+/consumer/[a-zA-Z0-9_.-]+:[0-9]+$',
        '^(arn):aws.*:kinesis:.*:\d{12}:.*stream\/[a-zA-Z0-9_.-]+\/consumer\/[a-zA-Z0-9_.-]+:[0-9]+', false)
$$;
COMMENT ON FUNCTION kinesis._consumer_arn_errors(text) IS
    'Internal: the ValidationException entries for a ConsumerARN.';

CREATE FUNCTION kinesis._stream_by_arn(stream_arn text)
RETURNS kinesis.stream_meta
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    m text[] := regexp_match(stream_arn, '^arn:aws[^:]*:kinesis:[^:]*:\d{12}:stream/(.+)$');
    s kinesis.stream_meta;
BEGIN
    -- only this region's and account's ARNs name a stream here
    SELECT * INTO s FROM kinesis.stream_meta x
     WHERE x.stream_name = m[1] AND kinesis.stream_arn(x.stream_name) = stream_arn;
    IF NOT FOUND THEN
        PERFORM kinesis._stream_not_found(coalesce(m[1], stream_arn));
    END IF;
    RETURN s;
END
$$;
COMMENT ON FUNCTION kinesis._stream_by_arn(text) IS
    'Internal: the stream a StreamARN names (ResourceNotFoundException if none here).';

CREATE FUNCTION kinesis._find_consumer(stream_arn text, consumer_name text, consumer_arn text,
                                       OUT s kinesis.stream_meta, OUT c kinesis.consumers)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    m text[];
BEGIN
    PERFORM kinesis._raise_validation(
        kinesis._stream_arn_errors(stream_arn, false)
        || CASE WHEN consumer_name IS NULL THEN '{}'::text[]
                ELSE kinesis._validate_stream_name(consumer_name, 'consumerName') END
        || kinesis._consumer_arn_errors(consumer_arn));
    -- a consumer ARN alone, or a stream ARN with a consumer name, or all
    -- three as long as they agree
    IF consumer_arn IS NULL AND (stream_arn IS NULL OR consumer_name IS NULL) THEN
        PERFORM kinesis._raise('InvalidArgumentException',
            'Either ConsumerARN or both ConsumerName and StreamARN must be provided.');
    END IF;
    IF consumer_arn IS NOT NULL THEN
        m := regexp_match(consumer_arn, '^(arn:[^/]*:stream/[^/]+)/consumer/([^:]+):([0-9]+)$');
        IF (stream_arn IS NOT NULL AND stream_arn <> m[1])
           OR (consumer_name IS NOT NULL AND consumer_name <> m[2]) THEN
            PERFORM kinesis._raise('InvalidArgumentException',
                format('ConsumerARN %s does not belong to the given StreamARN and ConsumerName.', consumer_arn));
        END IF;
        stream_arn := m[1];
        consumer_name := m[2];
    END IF;
    s := kinesis._stream_by_arn(stream_arn);
    SELECT * INTO c FROM kinesis.consumers x
     WHERE x.stream_id = (s).stream_id AND x.consumer_name = _find_consumer.consumer_name;
    IF NOT FOUND OR (consumer_arn IS NOT NULL
                     AND floor(extract(epoch FROM (c).created_at))::numeric <> m[3]::numeric) THEN
        PERFORM kinesis._raise('ResourceNotFoundException',
            format('Consumer %s under stream %s not found.',
                   coalesce(consumer_arn, consumer_name), (s).stream_name));
    END IF;
END
$$;
COMMENT ON FUNCTION kinesis._find_consumer(text, text, text) IS
    'Internal: the consumer named by a ConsumerARN or by StreamARN and ConsumerName, after validating the three (ValidationException, InvalidArgumentException if they are missing or disagree, ResourceNotFoundException if there is none).';

CREATE FUNCTION kinesis.register_stream_consumer(stream_arn text, consumer_name text)
RETURNS kinesis.consumer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s kinesis.stream_meta;
    created timestamptz := date_trunc('second', clock_timestamp());
    n integer;
BEGIN
    PERFORM kinesis._raise_validation(
        kinesis._validate_stream_name(consumer_name, 'consumerName')
        || kinesis._stream_arn_errors(stream_arn, true));
    -- locked: one registration at a time per stream, so the limits hold
    s := kinesis._active_stream((kinesis._stream_by_arn(stream_arn)).stream_name, true);
    IF EXISTS (SELECT 1 FROM kinesis.consumers c
                WHERE c.stream_id = s.stream_id AND c.consumer_name = register_stream_consumer.consumer_name) THEN
        PERFORM kinesis._raise('ResourceInUseException',
            format('Consumer %s under stream %s already exists for account %s.',
                   consumer_name, s.stream_name, current_setting('kinesis.account_id')));
    END IF;
    SELECT count(*) INTO n FROM kinesis.consumers c WHERE c.stream_id = s.stream_id;
    IF n >= 20 THEN
        PERFORM kinesis._raise('LimitExceededException',
            format('Stream %s under account %s already has %s consumers; at most 20 may be registered.',
                   s.stream_name, current_setting('kinesis.account_id'), n));
    END IF;
    SELECT count(*) INTO n FROM kinesis.consumers c WHERE c.consumer_status = 'CREATING';
    IF n >= 5 THEN
        PERFORM kinesis._raise('LimitExceededException',
            format('Account %s in %s already has %s consumers in the CREATING state; at most 5 may be CREATING at once.',
                   current_setting('kinesis.account_id'), current_setting('kinesis.region'), n));
    END IF;
    INSERT INTO kinesis.consumers (stream_id, consumer_name, consumer_status, created_at, not_before)
    VALUES (s.stream_id, consumer_name, 'CREATING', created, kinesis._not_before('kinesis.consumer_delay'));
    PERFORM kinesis._wake_worker();
    RETURN ROW(consumer_name, kinesis._consumer_arn(s.stream_name, consumer_name, created),
               'CREATING', created)::kinesis.consumer;
END
$$;
COMMENT ON FUNCTION kinesis.register_stream_consumer(text, text) IS
    'RegisterStreamConsumer: a consumer of the stream, CREATING until maintenance makes it ACTIVE (after kinesis.consumer_delay); at most 20 per stream and 5 CREATING at once.';

CREATE FUNCTION kinesis.deregister_stream_consumer(stream_arn text DEFAULT NULL, consumer_name text DEFAULT NULL,
                                                   consumer_arn text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    f record;
BEGIN
    SELECT * INTO f FROM kinesis._find_consumer(stream_arn, consumer_name, consumer_arn);
    IF (f.c).consumer_status = 'DELETING' THEN
        RETURN;
    END IF;
    UPDATE kinesis.consumers c
       SET consumer_status = 'DELETING', not_before = kinesis._not_before('kinesis.consumer_delay')
     WHERE c.stream_id = (f.s).stream_id AND c.consumer_name = (f.c).consumer_name;
    PERFORM kinesis._wake_worker();
END
$$;
COMMENT ON FUNCTION kinesis.deregister_stream_consumer(text, text, text) IS
    'DeregisterStreamConsumer: by consumer_arn, or by stream_arn and consumer_name (all three if they agree); DELETING until maintenance removes it with its checkpoints.';

CREATE FUNCTION kinesis.describe_stream_consumer(stream_arn text DEFAULT NULL, consumer_name text DEFAULT NULL,
                                                 consumer_arn text DEFAULT NULL)
RETURNS kinesis.consumer_description
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    f record;
BEGIN
    SELECT * INTO f FROM kinesis._find_consumer(stream_arn, consumer_name, consumer_arn);
    RETURN ROW((f.c).consumer_name,
               kinesis._consumer_arn((f.s).stream_name, (f.c).consumer_name, (f.c).created_at),
               (f.c).consumer_status, (f.c).created_at,
               kinesis.stream_arn((f.s).stream_name))::kinesis.consumer_description;
END
$$;
COMMENT ON FUNCTION kinesis.describe_stream_consumer(text, text, text) IS
    'DescribeStreamConsumer: by consumer_arn, or by stream_arn and consumer_name (all three if they agree).';

CREATE FUNCTION kinesis.list_stream_consumers(stream_arn text DEFAULT NULL, next_token text DEFAULT NULL,
                                              max_results integer DEFAULT NULL,
                                              stream_creation_timestamp timestamptz DEFAULT NULL)
RETURNS kinesis.list_stream_consumers_output
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    errors text[] := '{}';
    token jsonb;
    now_ms bigint := floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint;
    s kinesis.stream_meta;
    after_name text := NULL;
    page_size integer := coalesce(max_results, 100);
    result kinesis.list_stream_consumers_output;
    last text;
    more boolean;
BEGIN
    errors := errors || kinesis._validate_range(max_results, 'maxResults', 1, 10000);
    IF next_token IS NOT NULL AND length(next_token) NOT BETWEEN 1 AND 1048576 THEN
        errors := errors || format('Value ''%s'' at ''nextToken'' failed to satisfy constraint: Member must have length greater than or equal to 1', next_token);
    END IF;
    errors := errors || kinesis._stream_arn_errors(stream_arn, true);
    PERFORM kinesis._raise_validation(errors);
    IF next_token IS NOT NULL AND stream_creation_timestamp IS NOT NULL THEN
        PERFORM kinesis._raise('InvalidArgumentException', 'NextToken and StreamCreationTimestamp cannot be provided together.');
    END IF;

    s := kinesis._stream_by_arn(stream_arn);
    IF stream_creation_timestamp IS NOT NULL
       AND date_trunc('milliseconds', stream_creation_timestamp) <> s.stream_creation_timestamp THEN
        PERFORM kinesis._stream_not_found(s.stream_name);
    END IF;
    IF next_token IS NOT NULL THEN
        -- bound to this stream, 300 s to live
        token := kinesis._page_token('C', next_token, 'ListStreamConsumers');
        IF (token ->> 'i')::integer IS DISTINCT FROM s.stream_id THEN
            PERFORM kinesis._raise('InvalidArgumentException', 'Invalid NextToken.');
        END IF;
        after_name := token ->> 'a';
    END IF;
    -- at most 100 a call, in name order; one more says whether there are more
    page_size := least(page_size, 100);
    SELECT coalesce(array_agg(ROW(x.consumer_name,
                                  kinesis._consumer_arn(s.stream_name, x.consumer_name, x.created_at),
                                  x.consumer_status, x.created_at)::kinesis.consumer
                              ORDER BY x.consumer_name) FILTER (WHERE x.n <= page_size), '{}'),
           max(x.consumer_name) FILTER (WHERE x.n <= page_size),
           count(*) > page_size
      INTO result.consumers, last, more
      FROM (SELECT c.*, row_number() OVER (ORDER BY c.consumer_name) AS n
              FROM kinesis.consumers c
             WHERE c.stream_id = s.stream_id AND (after_name IS NULL OR c.consumer_name > after_name)
             ORDER BY c.consumer_name LIMIT page_size + 1) x;
    IF more THEN
        result.next_token := kinesis._token_encode('C', convert_to(
            jsonb_build_object('o', 'ListStreamConsumers', 'i', s.stream_id, 'a', last, 't', now_ms)::text, 'UTF8'));
    END IF;
    RETURN result;
END
$$;
COMMENT ON FUNCTION kinesis.list_stream_consumers(text, text, integer, timestamptz) IS
    'ListStreamConsumers: the stream''s consumers in name order, at most max_results (default and most 100) a call; next_token (signed, bound to the stream, 300 s to live) when more remain.';

-- ---------------------------------------------------------------------
-- Checkpoints
-- ---------------------------------------------------------------------
CREATE FUNCTION kinesis._consumer_shard(stream_name text, consumer_name text, shard_id text,
                                        OUT s kinesis.stream_meta, OUT shard_index integer)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    s := kinesis._find_stream(stream_name);
    IF NOT EXISTS (SELECT 1 FROM kinesis.consumers c
                    WHERE c.stream_id = (s).stream_id AND c.consumer_name = _consumer_shard.consumer_name
                      AND c.consumer_status <> 'DELETING') THEN
        PERFORM kinesis._raise('ResourceNotFoundException',
            format('Consumer %s under stream %s not found.', consumer_name, stream_name));
    END IF;
    shard_index := kinesis._parse_shard_id(shard_id);
    IF shard_index IS NULL OR NOT EXISTS (SELECT 1 FROM kinesis.shard_meta h
                                           WHERE h.stream_id = (s).stream_id AND h.shard_index = _consumer_shard.shard_index) THEN
        PERFORM kinesis._raise('ResourceNotFoundException',
            format('Shard %s in stream %s under account %s does not exist',
                   shard_id, stream_name, current_setting('kinesis.account_id')));
    END IF;
END
$$;
COMMENT ON FUNCTION kinesis._consumer_shard(text, text, text) IS
    'Internal: the stream and shard index a checkpoint call names, checking that the consumer is registered.';

CREATE FUNCTION kinesis.checkpoint(stream_name text, consumer_name text, shard_id text, sequence_number text)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    f record;
    p record;
BEGIN
    SELECT * INTO f FROM kinesis._consumer_shard(stream_name, consumer_name, shard_id);
    SELECT * INTO p FROM kinesis.parse_sequence_number(sequence_number);
    IF p IS NULL OR p.shard_index IS DISTINCT FROM f.shard_index THEN
        PERFORM kinesis._raise('InvalidArgumentException',
            format('Sequence number %s does not belong to shard %s of stream %s.',
                   sequence_number, kinesis._shard_id(f.shard_index), stream_name));
    END IF;
    INSERT INTO kinesis.checkpoints AS k (stream_id, consumer_name, shard_index, sequence_number)
    VALUES ((f.s).stream_id, consumer_name, f.shard_index, sequence_number)
    ON CONFLICT ON CONSTRAINT checkpoints_pkey
    DO UPDATE SET sequence_number = excluded.sequence_number, updated_at = clock_timestamp();
END
$$;
COMMENT ON FUNCTION kinesis.checkpoint(text, text, text, text) IS
    'Beyond Kinesis: record that a registered consumer has processed the shard up to this sequence number. Call it in the transaction that applies the records, so the work and the checkpoint commit or roll back together.';

CREATE FUNCTION kinesis.checkpoint_iterator(stream_name text, consumer_name text, shard_id text,
                                            initial_position text DEFAULT 'TRIM_HORIZON')
RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    f record;
    seq text;
BEGIN
    SELECT * INTO f FROM kinesis._consumer_shard(stream_name, consumer_name, shard_id);
    SELECT k.sequence_number INTO seq FROM kinesis.checkpoints k
     WHERE k.stream_id = (f.s).stream_id AND k.consumer_name = checkpoint_iterator.consumer_name
       AND k.shard_index = f.shard_index;
    IF seq IS NULL THEN
        RETURN kinesis.get_shard_iterator(stream_name, shard_id, initial_position);
    END IF;
    RETURN kinesis.get_shard_iterator(stream_name, shard_id, 'AFTER_SEQUENCE_NUMBER', seq);
END
$$;
COMMENT ON FUNCTION kinesis.checkpoint_iterator(text, text, text, text) IS
    'Beyond Kinesis: a shard iterator that resumes a registered consumer just after its checkpoint in the shard, or at initial_position (TRIM_HORIZON or LATEST) if it has none.';
