-- The life of a stream after CreateStream: the asynchronous transitions
-- (CREATING, DELETING, UPDATING), resharding (SplitShard, MergeShards,
-- UpdateShardCount), retention changes, time buckets and their trimming,
-- and the maintenance entry points (kinesis._due_tasks(),
-- kinesis._run_task(), kinesis.run_maintenance()).
--
-- Each task runs in one transaction and records its outcome in
-- kinesis.maintenance_status.  Locks that producers or consumers hold are
-- waited for at most kinesis.maintenance_lock_timeout; a task that times
-- out is skipped and retried on the next run.

-- ---------------------------------------------------------------------
-- Shards and buckets
-- ---------------------------------------------------------------------
CREATE FUNCTION kinesis._shard_last_counter(stream_id integer, shard_index integer)
RETURNS bigint
LANGUAGE C VOLATILE STRICT
AS 'MODULE_PATHNAME', 'kinesis_shard_last_counter';
COMMENT ON FUNCTION kinesis._shard_last_counter(integer, integer) IS
    'Internal: the last counter a shard has handed out. Final only while the caller holds the stream lock exclusively.';

CREATE FUNCTION kinesis._bucket_table(stream_id integer, bucket integer)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT format('kinesis.%I', 'records_' || stream_id || '_' || bucket)
$$;
COMMENT ON FUNCTION kinesis._bucket_table(integer, integer) IS
    'Internal: the qualified name of a bucket table, kinesis.records_<stream_id>_<bucket>.';

CREATE FUNCTION kinesis._add_bucket(stream_id integer)
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    b integer;
BEGIN
    SELECT coalesce(max(k.bucket) + 1, 0) INTO b FROM kinesis.buckets k
     WHERE k.stream_id = _add_bucket.stream_id;
    -- an inheritance child, not a partition: dropping it later needs no
    -- lock on kinesis.records, so trimming never blocks other streams
    EXECUTE format('CREATE TABLE %s (PRIMARY KEY (shard_index, seq), CHECK (stream_id = %s)) '
                   'INHERITS (kinesis.records)',
                   kinesis._bucket_table(stream_id, b), stream_id);
    INSERT INTO kinesis.buckets (stream_id, bucket, created_at)
    VALUES (_add_bucket.stream_id, b, kinesis._now());
    RETURN b;
END
$$;
COMMENT ON FUNCTION kinesis._add_bucket(integer) IS
    'Internal: start a stream''s next time bucket (a table inheriting from kinesis.records); puts write to the newest bucket once this commits.';

CREATE FUNCTION kinesis._close_shard(stream_id integer, shard_index integer, closed timestamptz)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE kinesis.shard_meta h
       SET closed_at = closed,
           ending_counter = kinesis._shard_last_counter(h.stream_id, h.shard_index)
     WHERE h.stream_id = _close_shard.stream_id AND h.shard_index = _close_shard.shard_index;
END
$$;
COMMENT ON FUNCTION kinesis._close_shard(integer, integer, timestamptz) IS
    'Internal: close a shard with its real last counter as ending number. The caller holds the stream lock exclusively, so no put to it is in flight.';

CREATE FUNCTION kinesis._new_shard(stream_id integer, parent integer, adjacent_parent integer,
                                   starting_hash_key numeric, ending_hash_key numeric,
                                   created timestamptz)
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    idx integer;
BEGIN
    UPDATE kinesis.stream_meta s SET next_shard_index = s.next_shard_index + 1
     WHERE s.stream_id = _new_shard.stream_id
    RETURNING s.next_shard_index - 1 INTO idx;
    -- children's numbers embed a creation time one second later, as AWS's do
    INSERT INTO kinesis.shard_meta (stream_id, shard_index, parent_shard_index,
                                    adjacent_parent_shard_index, starting_hash_key,
                                    ending_hash_key, create_epoch, created_at)
    VALUES (_new_shard.stream_id, idx, parent, adjacent_parent, starting_hash_key,
            ending_hash_key, floor(extract(epoch FROM created))::bigint + 1, created);
    RETURN idx;
END
$$;
COMMENT ON FUNCTION kinesis._new_shard(integer, integer, integer, numeric, numeric, timestamptz) IS
    'Internal: add a child shard with the stream''s next shard index and its lineage.';

CREATE FUNCTION kinesis._split(stream_id integer, shard_index integer, new_starting_hash_key numeric,
                               at timestamptz)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p kinesis.shard_meta;
BEGIN
    SELECT * INTO p FROM kinesis.shard_meta h
     WHERE h.stream_id = _split.stream_id AND h.shard_index = _split.shard_index;
    PERFORM kinesis._close_shard(stream_id, shard_index, at);
    -- the lower half takes the lower index
    PERFORM kinesis._new_shard(stream_id, shard_index, NULL, p.starting_hash_key,
                               new_starting_hash_key - 1, at);
    PERFORM kinesis._new_shard(stream_id, shard_index, NULL, new_starting_hash_key,
                               p.ending_hash_key, at);
END
$$;
COMMENT ON FUNCTION kinesis._split(integer, integer, numeric, timestamptz) IS
    'Internal: carry out a split: close the parent, add the two children (lower half first).';

CREATE FUNCTION kinesis._merge(stream_id integer, shard_index integer, adjacent_shard_index integer,
                               at timestamptz)
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a kinesis.shard_meta;
    b kinesis.shard_meta;
BEGIN
    SELECT * INTO a FROM kinesis.shard_meta h
     WHERE h.stream_id = _merge.stream_id AND h.shard_index = _merge.shard_index;
    SELECT * INTO b FROM kinesis.shard_meta h
     WHERE h.stream_id = _merge.stream_id AND h.shard_index = adjacent_shard_index;
    PERFORM kinesis._close_shard(stream_id, shard_index, at);
    PERFORM kinesis._close_shard(stream_id, adjacent_shard_index, at);
    RETURN kinesis._new_shard(stream_id, shard_index, adjacent_shard_index,
                              least(a.starting_hash_key, b.starting_hash_key),
                              greatest(a.ending_hash_key, b.ending_hash_key), at);
END
$$;
COMMENT ON FUNCTION kinesis._merge(integer, integer, integer, timestamptz) IS
    'Internal: carry out a merge: close both parents, add the child (ParentShardId the shard to merge, AdjacentParentShardId the other).';

CREATE FUNCTION kinesis._scale(stream_id integer, target integer, at timestamptz)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    -- div(), not floor(a / b): numeric division rounds to its result scale
    step numeric := div(340282366920938463463374607431768211456::numeric, target);
    boundary numeric;
    lo numeric;
    hi numeric;
    s kinesis.shard_meta;
    first_index integer;
    next_index integer;
BEGIN
    -- 1. split every open shard at each target boundary inside it, so
    --    that every boundary of the uniform layout is a shard boundary
    FOR i IN 1 .. target - 1 LOOP
        boundary := step * i;
        SELECT * INTO s FROM kinesis.shard_meta h
         WHERE h.stream_id = _scale.stream_id AND h.closed_at IS NULL
           AND h.starting_hash_key < boundary AND h.ending_hash_key >= boundary;
        IF FOUND THEN
            PERFORM kinesis._split(stream_id, s.shard_index, boundary, at);
        END IF;
    END LOOP;
    -- 2. merge the pieces of each target range pairwise, in hash order,
    --    so that no shard has more than two parents
    FOR i IN 0 .. target - 1 LOOP
        lo := step * i;
        hi := CASE WHEN i = target - 1 THEN 340282366920938463463374607431768211455::numeric
                   ELSE step * (i + 1) - 1 END;
        LOOP
            SELECT h.shard_index INTO first_index FROM kinesis.shard_meta h
             WHERE h.stream_id = _scale.stream_id AND h.closed_at IS NULL
               AND h.starting_hash_key >= lo AND h.ending_hash_key <= hi
             ORDER BY h.starting_hash_key LIMIT 1;
            SELECT h.shard_index INTO next_index FROM kinesis.shard_meta h
             WHERE h.stream_id = _scale.stream_id AND h.closed_at IS NULL
               AND h.starting_hash_key >= lo AND h.ending_hash_key <= hi
             ORDER BY h.starting_hash_key OFFSET 1 LIMIT 1;
            EXIT WHEN NOT FOUND;
            PERFORM kinesis._merge(stream_id, first_index, next_index, at);
        END LOOP;
    END LOOP;
END
$$;
COMMENT ON FUNCTION kinesis._scale(integer, integer, timestamptz) IS
    'Internal: reach exactly target equal-width open shards (boundaries floor(2^128/N)*i) through real splits and merges, each shard with at most two parents.';

CREATE FUNCTION kinesis._child_shards(stream_id integer, shard_index integer)
RETURNS kinesis.child_shard[]
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(array_agg(ROW(kinesis._shard_id(c.shard_index),
                                  array_remove(ARRAY[kinesis._shard_id(c.parent_shard_index),
                                                     kinesis._shard_id(c.adjacent_parent_shard_index)],
                                               NULL),
                                  c.starting_hash_key::text, c.ending_hash_key::text)::kinesis.child_shard
                              ORDER BY c.shard_index), '{}')
      FROM kinesis.shard_meta c
     WHERE c.stream_id = _child_shards.stream_id
       AND (c.parent_shard_index = _child_shards.shard_index
            OR c.adjacent_parent_shard_index = _child_shards.shard_index)
$$;
COMMENT ON FUNCTION kinesis._child_shards(integer, integer) IS
    'Internal: the shards a shard was split or merged into, with their parents and hash ranges (GetRecords ChildShards).';

-- ---------------------------------------------------------------------
-- Resharding requests
-- ---------------------------------------------------------------------
CREATE FUNCTION kinesis._active_stream(stream_name text, or_updating boolean DEFAULT false)
RETURNS kinesis.stream_meta
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s kinesis.stream_meta;
BEGIN
    SELECT * INTO s FROM kinesis.stream_meta m WHERE m.stream_name = _active_stream.stream_name FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM kinesis._stream_not_found(stream_name);
    END IF;
    IF s.stream_status <> 'ACTIVE' AND NOT (or_updating AND s.stream_status = 'UPDATING') THEN
        PERFORM kinesis._raise('ResourceInUseException',
            format('Stream %s under account %s not ACTIVE, instead in state %s',
                   stream_name, current_setting('kinesis.account_id'), s.stream_status));
    END IF;
    RETURN s;
END
$$;
COMMENT ON FUNCTION kinesis._active_stream(text, boolean) IS
    'Internal: the stream row, locked, for an operation that needs it ACTIVE (or UPDATING, if or_updating): ResourceNotFoundException or ResourceInUseException otherwise.';

CREATE FUNCTION kinesis._open_shard_for_reshard(s kinesis.stream_meta, shard_id text)
RETURNS kinesis.shard_meta
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    h kinesis.shard_meta;
BEGIN
    SELECT * INTO h FROM kinesis.shard_meta m
     WHERE m.stream_id = s.stream_id AND m.shard_index = kinesis._parse_shard_id(shard_id);
    IF NOT FOUND THEN
        PERFORM kinesis._raise('ResourceNotFoundException',
            format('Could not find shard %s in stream %s under account %s.',
                   shard_id, s.stream_name, current_setting('kinesis.account_id')));
    END IF;
    IF h.closed_at IS NOT NULL THEN
        PERFORM kinesis._raise('InvalidArgumentException',
            format('Shard %s in stream %s under account %s has already been merged or split, and thus is not eligible for merging or splitting.',
                   kinesis._shard_id(h.shard_index), s.stream_name, current_setting('kinesis.account_id')));
    END IF;
    RETURN h;
END
$$;
COMMENT ON FUNCTION kinesis._open_shard_for_reshard(kinesis.stream_meta, text) IS
    'Internal: the open shard a split or merge names (ResourceNotFoundException if none, InvalidArgumentException if closed).';

CREATE FUNCTION kinesis._request_update(stream_id integer, pending jsonb)
RETURNS void
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    UPDATE kinesis.stream_meta s
       SET stream_status = 'UPDATING', status_since = clock_timestamp(),
           pending = _request_update.pending
                     || jsonb_build_object('not_before', kinesis._not_before('kinesis.update_stream_delay'))
     WHERE s.stream_id = _request_update.stream_id;
    SELECT kinesis._wake_worker();
$$;
COMMENT ON FUNCTION kinesis._request_update(integer, jsonb) IS
    'Internal: make the stream UPDATING with the resharding maintenance will carry out after kinesis.update_stream_delay.';

CREATE FUNCTION kinesis._shard_limit_check(additional bigint)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    open_shards bigint := kinesis._open_shard_count();
BEGIN
    IF additional > 0 AND open_shards + additional > current_setting('kinesis.shard_limit')::integer THEN
        PERFORM kinesis._raise('LimitExceededException',
            format('This request would exceed the shard limit for the account %s in %s. Current shard count for the account: %s. Limit: %s. Number of additional shards that would have resulted from this request: %s. Refer to the AWS Service Limits page (http://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) for current limits and how to request higher limits.',
                   current_setting('kinesis.account_id'), current_setting('kinesis.region'),
                   open_shards, current_setting('kinesis.shard_limit'), additional));
    END IF;
END
$$;
COMMENT ON FUNCTION kinesis._shard_limit_check(bigint) IS
    'Internal: LimitExceededException if adding this many open shards would pass kinesis.shard_limit.';

CREATE FUNCTION kinesis.split_shard(stream_name text, shard_to_split text, new_starting_hash_key text)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    errors text[] := '{}';
    s kinesis.stream_meta;
    h kinesis.shard_meta;
    k numeric;
BEGIN
    IF new_starting_hash_key IS NULL THEN
        errors := errors || 'Value null at ''newStartingHashKey'' failed to satisfy constraint: Member must not be null'::text;
    ELSIF new_starting_hash_key !~ '^(0|[1-9][0-9]{0,38})$' THEN
        errors := errors || format('Value ''%s'' at ''newStartingHashKey'' failed to satisfy constraint: Member must satisfy regular expression pattern: 0|([1-9]\d{0,38})', new_starting_hash_key);
    END IF;
    IF shard_to_split IS NULL THEN
        errors := errors || 'Value null at ''shardToSplit'' failed to satisfy constraint: Member must not be null'::text;
    ELSE
        IF shard_to_split !~ '^[a-zA-Z0-9_.-]+$' THEN
            errors := errors || format('Value ''%s'' at ''shardToSplit'' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+', shard_to_split);
        END IF;
        IF length(shard_to_split) < 1 THEN
            errors := errors || format('Value ''%s'' at ''shardToSplit'' failed to satisfy constraint: Member must have length greater than or equal to 1', shard_to_split);
        ELSIF length(shard_to_split) > 128 THEN
            errors := errors || format('Value ''%s'' at ''shardToSplit'' failed to satisfy constraint: Member must have length less than or equal to 128', shard_to_split);
        END IF;
    END IF;
    errors := errors || kinesis._validate_stream_name(stream_name);
    PERFORM kinesis._raise_validation(errors);

    s := kinesis._active_stream(stream_name);
    h := kinesis._open_shard_for_reshard(s, shard_to_split);
    k := new_starting_hash_key::numeric;
    IF NOT (k > h.starting_hash_key + 1 AND k < h.ending_hash_key) THEN
        PERFORM kinesis._raise('InvalidArgumentException',
            format('NewStartingHashKey %s used in SplitShard() on shard %s in stream %s under account %s is not both greater than one plus the shard''s StartingHashKey %s and less than the shard''s EndingHashKey %s.',
                   new_starting_hash_key, kinesis._shard_id(h.shard_index), stream_name,
                   current_setting('kinesis.account_id'), h.starting_hash_key, h.ending_hash_key));
    END IF;
    PERFORM kinesis._shard_limit_check(1);
    PERFORM kinesis._request_update(s.stream_id,
        jsonb_build_object('op', 'split', 'shard', h.shard_index, 'key', k::text));
END
$$;
COMMENT ON FUNCTION kinesis.split_shard(text, text, text) IS
    'SplitShard: the stream is UPDATING until maintenance closes the shard and adds its two children ([start, key-1] and [key, end]); until then describe shows the old shards and puts go to them.';

CREATE FUNCTION kinesis.merge_shards(stream_name text, shard_to_merge text, adjacent_shard_to_merge text)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    errors text[] := '{}';
    s kinesis.stream_meta;
    a kinesis.shard_meta;
    b kinesis.shard_meta;
    field text;
    v text;
BEGIN
    FOREACH field IN ARRAY ARRAY['shardToMerge', 'adjacentShardToMerge'] LOOP
        v := CASE field WHEN 'shardToMerge' THEN shard_to_merge ELSE adjacent_shard_to_merge END;
        IF v IS NULL THEN
            errors := errors || format('Value null at ''%s'' failed to satisfy constraint: Member must not be null', field);
        ELSE
            IF v !~ '^[a-zA-Z0-9_.-]+$' THEN
                errors := errors || format('Value ''%s'' at ''%s'' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+', v, field);
            END IF;
            IF length(v) < 1 THEN
                errors := errors || format('Value ''%s'' at ''%s'' failed to satisfy constraint: Member must have length greater than or equal to 1', v, field);
            ELSIF length(v) > 128 THEN
                errors := errors || format('Value ''%s'' at ''%s'' failed to satisfy constraint: Member must have length less than or equal to 128', v, field);
            END IF;
        END IF;
    END LOOP;
    errors := errors || kinesis._validate_stream_name(stream_name);
    PERFORM kinesis._raise_validation(errors);

    s := kinesis._active_stream(stream_name);
    a := kinesis._open_shard_for_reshard(s, shard_to_merge);
    b := kinesis._open_shard_for_reshard(s, adjacent_shard_to_merge);
    -- adjacent in either order: the union of the ranges has no gap
    IF a.shard_index = b.shard_index
       OR NOT (a.ending_hash_key + 1 = b.starting_hash_key OR b.ending_hash_key + 1 = a.starting_hash_key) THEN
        PERFORM kinesis._raise('InvalidArgumentException',
            format('Shards %s and %s in stream %s under account %s are not an adjacent pair of shards eligible for merging',
                   kinesis._shard_id(a.shard_index), kinesis._shard_id(b.shard_index), stream_name,
                   current_setting('kinesis.account_id')));
    END IF;
    PERFORM kinesis._request_update(s.stream_id,
        jsonb_build_object('op', 'merge', 'shard', a.shard_index, 'adjacent', b.shard_index));
END
$$;
COMMENT ON FUNCTION kinesis.merge_shards(text, text, text) IS
    'MergeShards: the stream is UPDATING until maintenance closes both shards and adds the child covering both ranges (ParentShardId the shard to merge, AdjacentParentShardId the other).';

CREATE TYPE kinesis.update_shard_count_output AS (
    stream_name         text,
    current_shard_count integer,
    target_shard_count  integer,
    stream_arn          text
);
COMMENT ON TYPE kinesis.update_shard_count_output IS
    'The UpdateShardCount response.';

CREATE FUNCTION kinesis.update_shard_count(stream_name text, target_shard_count integer,
                                           scaling_type text DEFAULT 'UNIFORM_SCALING')
RETURNS kinesis.update_shard_count_output
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    errors text[] := '{}';
    s kinesis.stream_meta;
    target integer := update_shard_count.target_shard_count;
    name text := update_shard_count.stream_name;
    cur integer;
    recent timestamptz[];
BEGIN
    IF target IS NULL THEN
        errors := errors || 'Value null at ''targetShardCount'' failed to satisfy constraint: Member must not be null'::text;
    ELSIF target < 1 THEN
        errors := errors || format('Value ''%s'' at ''targetShardCount'' failed to satisfy constraint: Member must have value greater than or equal to 1', target);
    END IF;
    IF scaling_type IS NULL THEN
        errors := errors || 'Value null at ''scalingType'' failed to satisfy constraint: Member must not be null'::text;
    ELSIF scaling_type <> 'UNIFORM_SCALING' THEN
        errors := errors || format('Value ''%s'' at ''scalingType'' failed to satisfy constraint: Member must satisfy enum value set: [UNIFORM_SCALING]', scaling_type);
    END IF;
    errors := errors || kinesis._validate_stream_name(name);
    PERFORM kinesis._raise_validation(errors);

    s := kinesis._active_stream(name);
    SELECT count(*) INTO cur FROM kinesis.shard_meta h
     WHERE h.stream_id = s.stream_id AND h.closed_at IS NULL;
    IF target > 10000 THEN
        PERFORM kinesis._raise('LimitExceededException',
            format('Target shard count or number of open shards cannot be greater than %s. Current open shard count: %s, Target shard count: %s',
                   10000, cur, target));
    END IF;
    IF target > 2 * cur THEN
        PERFORM kinesis._raise('LimitExceededException',
            format('UpdateShardCount cannot scale up over double your current open shard count. Current open shard count: %s, Target shard count: %s',
                   cur, target));
    END IF;
    IF 2 * target < cur THEN
        PERFORM kinesis._raise('LimitExceededException',
            format('UpdateShardCount cannot scale down below half your current open shard count. Current open shard count: %s, Target shard count: %s',
                   cur, target));
    END IF;
    recent := ARRAY(SELECT t FROM unnest(s.scaling_history) t WHERE t > clock_timestamp() - interval '24 hours');
    IF cardinality(recent) >= current_setting('kinesis.max_scalings_per_day')::integer THEN
        PERFORM kinesis._raise('LimitExceededException',
            format('Exceeded the limit of %s UpdateShardCount calls per rolling 24 hours for stream %s under account %s.',
                   current_setting('kinesis.max_scalings_per_day'), name, current_setting('kinesis.account_id')));
    END IF;
    PERFORM kinesis._shard_limit_check(target - cur);
    UPDATE kinesis.stream_meta m SET scaling_history = recent || clock_timestamp()
     WHERE m.stream_id = s.stream_id;
    PERFORM kinesis._request_update(s.stream_id, jsonb_build_object('op', 'scale', 'target', target));
    RETURN ROW(name, cur, target, kinesis.stream_arn(name))::kinesis.update_shard_count_output;
END
$$;
COMMENT ON FUNCTION kinesis.update_shard_count(text, integer, text) IS
    'UpdateShardCount (UNIFORM_SCALING): the stream is UPDATING until maintenance reaches exactly target equal-width open shards through real splits and merges. At most double, at least half the open shards, at most kinesis.max_scalings_per_day calls per stream in 24 hours.';

-- ---------------------------------------------------------------------
-- Retention
-- ---------------------------------------------------------------------
CREATE FUNCTION kinesis._change_retention(stream_name text, retention_period_hours integer, increase boolean)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s kinesis.stream_meta;
    hours integer := retention_period_hours;
    errors text[];
BEGIN
    errors := kinesis._validate_stream_name(stream_name);
    IF hours IS NULL THEN
        errors := 'Value null at ''retentionPeriodHours'' failed to satisfy constraint: Member must not be null'::text || errors;
    END IF;
    PERFORM kinesis._raise_validation(errors);
    IF hours < 24 THEN
        PERFORM kinesis._raise('InvalidArgumentException',
            format('Minimum allowed retention period is 24 hours. Requested retention period (%s hours) is too short.', hours));
    END IF;
    IF hours > 8760 THEN
        PERFORM kinesis._raise('InvalidArgumentException',
            format('Maximum allowed retention period is 8760 hours. Requested retention period (%s hours) is too long.', hours));
    END IF;
    s := kinesis._active_stream(stream_name);
    IF increase AND hours < s.retention_period_hours THEN
        PERFORM kinesis._raise('InvalidArgumentException',
            format('Requested retention period (%s hours) for stream %s can not be shorter than existing retention period (%s hours). Use DecreaseRetentionPeriod API.',
                   hours, stream_name, s.retention_period_hours));
    END IF;
    IF NOT increase AND hours > s.retention_period_hours THEN
        PERFORM kinesis._raise('InvalidArgumentException',
            format('Requested retention period (%s hours) for stream %s can not be longer than existing retention period (%s hours). Use IncreaseRetentionPeriod API.',
                   hours, stream_name, s.retention_period_hours));
    END IF;
    -- records already past the old period stay inaccessible
    UPDATE kinesis.stream_meta m
       SET retention_period_hours = hours,
           expired_before = greatest(m.expired_before,
                                     kinesis._now() - make_interval(hours => m.retention_period_hours))
     WHERE m.stream_id = s.stream_id;
    PERFORM kinesis._wake_worker();
END
$$;
COMMENT ON FUNCTION kinesis._change_retention(text, integer, boolean) IS
    'Internal: IncreaseStreamRetentionPeriod and DecreaseStreamRetentionPeriod (24 to 8760 hours, AWS''s messages). Takes effect for readers at commit.';

CREATE FUNCTION kinesis.increase_stream_retention_period(stream_name text, retention_period_hours integer)
RETURNS void
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT kinesis._change_retention(stream_name, retention_period_hours, true)
$$;
COMMENT ON FUNCTION kinesis.increase_stream_retention_period(text, integer) IS
    'IncreaseStreamRetentionPeriod: up to 8760 hours. Records already past the old period stay inaccessible.';

CREATE FUNCTION kinesis.decrease_stream_retention_period(stream_name text, retention_period_hours integer)
RETURNS void
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT kinesis._change_retention(stream_name, retention_period_hours, false)
$$;
COMMENT ON FUNCTION kinesis.decrease_stream_retention_period(text, integer) IS
    'DecreaseStreamRetentionPeriod: down to 24 hours. Records older than the new period are inaccessible at once; maintenance drops their buckets later.';

-- ---------------------------------------------------------------------
-- Maintenance tasks
-- ---------------------------------------------------------------------
CREATE FUNCTION kinesis._bucket_width(retention_period_hours integer)
RETURNS interval
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    -- eight buckets per retention period: storage exceeds the retained
    -- data by at most an eighth
    SELECT make_interval(hours => retention_period_hours) / 8
$$;
COMMENT ON FUNCTION kinesis._bucket_width(integer) IS
    'Internal: how long a stream writes to one time bucket (an eighth of its retention period).';

CREATE FUNCTION kinesis._catalog_complete(stream_id integer)
RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    -- A stream past CREATING always has shards and at least one bucket,
    -- and each bucket table has its primary key.  During a restore the
    -- rows arrive table by table and the keys come last (pg_dump puts
    -- them after all data), so this is false until the stream's data is in.
    SELECT EXISTS (SELECT FROM kinesis.shard_meta h WHERE h.stream_id = _catalog_complete.stream_id)
       AND EXISTS (SELECT FROM kinesis.buckets b WHERE b.stream_id = _catalog_complete.stream_id)
       AND NOT EXISTS (
           SELECT FROM kinesis.buckets b
            WHERE b.stream_id = _catalog_complete.stream_id
              AND NOT EXISTS (SELECT FROM pg_index i
                               WHERE i.indrelid = to_regclass(kinesis._bucket_table(b.stream_id, b.bucket))
                                 AND i.indisprimary))
$$;
COMMENT ON FUNCTION kinesis._catalog_complete(integer) IS
    'Internal: whether a stream''s shards, buckets and bucket tables (with their primary keys) are all there. Maintenance leaves a stream alone until they are, so that it never acts on a database that pg_restore is still filling.';

CREATE FUNCTION kinesis._due_tasks(OUT stream_id integer, OUT task text)
RETURNS SETOF record
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT d.stream_id, d.task FROM (
    SELECT s.stream_id,
           CASE s.stream_status WHEN 'CREATING' THEN 'create'
                                WHEN 'DELETING' THEN 'delete'
                                ELSE CASE WHEN s.pending ->> 'op' IN ('start_encryption', 'stop_encryption')
                                          THEN 'encryption' ELSE 'reshard' END END
      FROM kinesis.stream_meta s
     WHERE s.stream_status IN ('CREATING', 'DELETING', 'UPDATING')
       AND s.pending IS NOT NULL
       AND (s.pending ->> 'not_before')::timestamptz <= clock_timestamp()
    UNION ALL
    -- a new bucket every eighth of the retention period
    SELECT s.stream_id, 'rotate'
      FROM kinesis.stream_meta s
     WHERE s.stream_status IN ('ACTIVE', 'UPDATING')
       AND (SELECT max(b.created_at) FROM kinesis.buckets b WHERE b.stream_id = s.stream_id)
           <= kinesis._now() - kinesis._bucket_width(s.retention_period_hours)
    UNION ALL
    -- the oldest bucket, once the next one started before the retention
    -- horizon (so its records are, all but stragglers, past it)
    SELECT s.stream_id, 'trim'
      FROM kinesis.stream_meta s
     WHERE s.stream_status IN ('ACTIVE', 'UPDATING')
       AND (SELECT b.created_at FROM kinesis.buckets b WHERE b.stream_id = s.stream_id
             ORDER BY b.bucket OFFSET 1 LIMIT 1)
           < kinesis._now() - make_interval(hours => s.retention_period_hours)
    UNION ALL
    -- metrics, once a minute
    SELECT s.stream_id, 'metrics'
      FROM kinesis.stream_meta s
     WHERE s.stream_status IN ('ACTIVE', 'UPDATING')
       AND coalesce((SELECT m.last_run FROM kinesis.maintenance_status m
                      WHERE m.stream_id = s.stream_id AND m.task = 'metrics'),
                    '-infinity') < date_trunc('minute', clock_timestamp())
    UNION ALL
    -- consumers to make ACTIVE or to remove
    SELECT DISTINCT c.stream_id, 'consumers'
      FROM kinesis.consumers c
     WHERE c.consumer_status IN ('CREATING', 'DELETING') AND c.not_before <= clock_timestamp()
    ) d (stream_id, task)
    -- only a stream being created may be worked on before its catalog is
    -- complete (its shards and first bucket are what the task adds)
     WHERE d.task = 'create' OR kinesis._catalog_complete(d.stream_id)
    ORDER BY 1, 2
$$;
COMMENT ON FUNCTION kinesis._due_tasks() IS
    'Internal: the maintenance tasks due now, for streams whose catalog is complete (kinesis._catalog_complete; a restore in progress is left alone): create, delete, reshard, encryption (transitions whose delay has passed), rotate (start a new bucket), trim (drop the oldest bucket), consumers (registrations and deregistrations to finish), metrics (the per-minute roll-up).';

CREATE FUNCTION kinesis._task_create(sid integer, OUT outcome text, OUT detail text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s kinesis.stream_meta;
    n integer;
    step numeric;
    created timestamptz := date_trunc('milliseconds', kinesis._now());
    epoch bigint;
BEGIN
    SELECT * INTO s FROM kinesis.stream_meta m WHERE m.stream_id = sid FOR UPDATE;
    IF NOT FOUND OR s.stream_status <> 'CREATING' THEN
        outcome := 'nothing to do';
        RETURN;
    END IF;
    n := (s.pending ->> 'shard_count')::integer;
    -- AWS splits the hash space evenly: step = floor(2^128 / N) (div(): a
    -- numeric division would round), the last shard ends at 2^128 - 1.  Sequence numbers embed a creation time
    -- two seconds in the past, as AWS's do.
    step := div(340282366920938463463374607431768211456::numeric, n);
    epoch := floor(extract(epoch FROM created))::bigint - 2;
    INSERT INTO kinesis.shard_meta (stream_id, shard_index, starting_hash_key, ending_hash_key,
                                    create_epoch, created_at)
    SELECT sid, i, step * i,
           CASE WHEN i = n - 1 THEN 340282366920938463463374607431768211455::numeric
                ELSE step * (i + 1) - 1 END,
           epoch, created
      FROM generate_series(0, n - 1) AS i;
    PERFORM kinesis._add_bucket(sid);
    UPDATE kinesis.stream_meta m
       SET stream_status = 'ACTIVE', status_since = clock_timestamp(), pending = NULL,
           next_shard_index = n
     WHERE m.stream_id = sid;
    outcome := 'done';
    detail := format('ACTIVE with %s shards', n);
END
$$;
COMMENT ON FUNCTION kinesis._task_create(integer) IS
    'Internal: CREATING -> ACTIVE: add the shards and the first time bucket.';

CREATE FUNCTION kinesis._task_delete(sid integer, OUT outcome text, OUT detail text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s kinesis.stream_meta;
    b integer;
BEGIN
    SELECT * INTO s FROM kinesis.stream_meta m WHERE m.stream_id = sid FOR UPDATE;
    IF NOT FOUND OR s.stream_status <> 'DELETING' THEN
        outcome := 'nothing to do';
        RETURN;
    END IF;
    -- wait (at most the lock timeout) for every put in flight to the stream
    PERFORM kinesis._lock_stream(sid, true);
    FOR b IN SELECT k.bucket FROM kinesis.buckets k WHERE k.stream_id = sid LOOP
        EXECUTE format('DROP TABLE %s', kinesis._bucket_table(sid, b));
    END LOOP;
    -- no foreign keys cascade (see 00_catalog.sql): everything of the stream
    DELETE FROM kinesis.checkpoints c WHERE c.stream_id = sid;
    DELETE FROM kinesis.consumers c WHERE c.stream_id = sid;
    DELETE FROM kinesis.tags t WHERE t.stream_id = sid;
    DELETE FROM kinesis.buckets k WHERE k.stream_id = sid;
    DELETE FROM kinesis.shard_meta h WHERE h.stream_id = sid;
    DELETE FROM kinesis.stream_meta m WHERE m.stream_id = sid;
    -- its id may come back (after DROP and CREATE EXTENSION): forget its
    -- counters, buckets and metrics in shared memory
    PERFORM kinesis._forget_streams(sid);
    outcome := 'done';
    detail := 'stream removed';
END
$$;
COMMENT ON FUNCTION kinesis._task_delete(integer) IS
    'Internal: DELETING -> gone: wait for puts in flight, drop the buckets, remove the stream with its shards.';

CREATE FUNCTION kinesis._task_reshard(sid integer, OUT outcome text, OUT detail text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s kinesis.stream_meta;
    at timestamptz := date_trunc('milliseconds', kinesis._now());
    op text;
BEGIN
    SELECT * INTO s FROM kinesis.stream_meta m WHERE m.stream_id = sid FOR UPDATE;
    IF NOT FOUND OR s.stream_status <> 'UPDATING' OR s.pending IS NULL THEN
        outcome := 'nothing to do';
        RETURN;
    END IF;
    -- every put in flight to the stream finishes first, so the parents'
    -- last counters are final; puts after this see the new shards
    PERFORM kinesis._lock_stream(sid, true);
    op := s.pending ->> 'op';
    IF op = 'split' THEN
        PERFORM kinesis._split(sid, (s.pending ->> 'shard')::integer, (s.pending ->> 'key')::numeric, at);
        detail := format('split %s', kinesis._shard_id((s.pending ->> 'shard')::integer));
    ELSIF op = 'merge' THEN
        PERFORM kinesis._merge(sid, (s.pending ->> 'shard')::integer,
                               (s.pending ->> 'adjacent')::integer, at);
        detail := format('merged %s and %s', kinesis._shard_id((s.pending ->> 'shard')::integer),
                         kinesis._shard_id((s.pending ->> 'adjacent')::integer));
    ELSIF op = 'scale' THEN
        PERFORM kinesis._scale(sid, (s.pending ->> 'target')::integer, at);
        detail := format('scaled to %s shards', s.pending ->> 'target');
    ELSE
        RAISE EXCEPTION 'unknown pending operation %', op;
    END IF;
    UPDATE kinesis.stream_meta m
       SET stream_status = 'ACTIVE', status_since = clock_timestamp(), pending = NULL
     WHERE m.stream_id = sid;
    outcome := 'done';
END
$$;
COMMENT ON FUNCTION kinesis._task_reshard(integer) IS
    'Internal: UPDATING -> ACTIVE: wait for puts in flight, then close the parents with their final ending numbers and add the children.';

CREATE FUNCTION kinesis._task_rotate(sid integer, OUT outcome text, OUT detail text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s kinesis.stream_meta;
BEGIN
    SELECT * INTO s FROM kinesis.stream_meta m WHERE m.stream_id = sid FOR UPDATE;
    IF NOT FOUND OR s.stream_status NOT IN ('ACTIVE', 'UPDATING')
       OR (SELECT max(b.created_at) FROM kinesis.buckets b WHERE b.stream_id = sid)
          > kinesis._now() - kinesis._bucket_width(s.retention_period_hours) THEN
        outcome := 'nothing to do';
        RETURN;
    END IF;
    outcome := 'done';
    detail := format('started bucket %s', kinesis._add_bucket(sid));
END
$$;
COMMENT ON FUNCTION kinesis._task_rotate(integer) IS
    'Internal: start a stream''s next time bucket.';

CREATE FUNCTION kinesis._task_trim(sid integer, OUT outcome text, OUT detail text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s kinesis.stream_meta;
    b integer;
    tbl text;
    newest timestamptz;
    cutoff timestamptz;
BEGIN
    SELECT * INTO s FROM kinesis.stream_meta m WHERE m.stream_id = sid;
    SELECT k.bucket INTO b FROM kinesis.buckets k WHERE k.stream_id = sid ORDER BY k.bucket LIMIT 1;
    IF s.stream_status NOT IN ('ACTIVE', 'UPDATING') OR b IS NULL
       OR b = (SELECT max(k.bucket) FROM kinesis.buckets k WHERE k.stream_id = sid) THEN
        outcome := 'nothing to do';
        RETURN;
    END IF;
    tbl := kinesis._bucket_table(sid, b);
    -- readers of this bucket hold it for a moment; wait at most the lock
    -- timeout, then look again under the lock (a late put may have landed)
    EXECUTE format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', tbl);
    cutoff := greatest(kinesis._now() - make_interval(hours => s.retention_period_hours),
                       s.expired_before);
    EXECUTE format('SELECT max(x.arrival) FROM kinesis.shard_meta h, LATERAL ('
                   '  SELECT r.arrival FROM %s r WHERE r.shard_index = h.shard_index'
                   '   ORDER BY r.seq DESC LIMIT 1) x WHERE h.stream_id = $1', tbl)
       INTO newest USING sid;
    IF newest >= cutoff THEN
        outcome := 'skipped';
        detail := format('bucket %s still holds records within the retention period (newest %s)', b, newest);
        RETURN;
    END IF;
    -- the shards' counters must never be issued again
    EXECUTE format('UPDATE kinesis.shard_meta h SET seq_floor = x.top FROM ('
                   '  SELECT m.shard_index, (SELECT t.seq FROM %s t WHERE t.shard_index = m.shard_index'
                   '                          ORDER BY t.seq DESC LIMIT 1) AS top'
                   '    FROM kinesis.shard_meta m WHERE m.stream_id = $1) x'
                   ' WHERE h.stream_id = $1 AND h.shard_index = x.shard_index AND x.top > h.seq_floor', tbl)
       USING sid;
    EXECUTE format('DROP TABLE %s', tbl);
    DELETE FROM kinesis.buckets k WHERE k.stream_id = sid AND k.bucket = b;
    outcome := 'done';
    detail := format('dropped bucket %s', b);
END
$$;
COMMENT ON FUNCTION kinesis._task_trim(integer) IS
    'Internal: drop a stream''s oldest bucket once every record in it has passed the retention period, keeping the shards'' last counters in seq_floor.';

CREATE FUNCTION kinesis._task_consumers(sid integer, OUT outcome text, OUT detail text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    activated integer;
    removed integer;
BEGIN
    UPDATE kinesis.consumers c SET consumer_status = 'ACTIVE'
     WHERE c.stream_id = sid AND c.consumer_status = 'CREATING' AND c.not_before <= clock_timestamp();
    GET DIAGNOSTICS activated = ROW_COUNT;
    -- their checkpoints go with them
    WITH gone AS (
        DELETE FROM kinesis.consumers c
         WHERE c.stream_id = sid AND c.consumer_status = 'DELETING' AND c.not_before <= clock_timestamp()
        RETURNING c.consumer_name),
    their_checkpoints AS (
        DELETE FROM kinesis.checkpoints p
         WHERE p.stream_id = sid AND p.consumer_name IN (SELECT g.consumer_name FROM gone g))
    SELECT count(*) INTO removed FROM gone;
    outcome := CASE WHEN activated + removed > 0 THEN 'done' ELSE 'nothing to do' END;
    detail := format('%s consumers ACTIVE, %s removed', activated, removed);
END
$$;
COMMENT ON FUNCTION kinesis._task_consumers(integer) IS
    'Internal: CREATING consumers -> ACTIVE, DELETING consumers -> gone, once their delay has passed.';

CREATE FUNCTION kinesis._record_status(stream_id integer, stream_name text, task text, outcome text,
                                       detail text)
RETURNS void
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    INSERT INTO kinesis.maintenance_status AS m (stream_id, stream_name, task, last_run, outcome, detail)
    VALUES (stream_id, coalesce(stream_name, ''), task, clock_timestamp(), outcome, detail)
    ON CONFLICT ON CONSTRAINT maintenance_status_pkey DO UPDATE
       SET stream_name = CASE WHEN excluded.stream_name = '' THEN m.stream_name ELSE excluded.stream_name END,
           last_run = excluded.last_run, outcome = excluded.outcome, detail = excluded.detail
$$;
COMMENT ON FUNCTION kinesis._record_status(integer, text, text, text, text) IS
    'Internal: remember what a maintenance task last did.';

CREATE FUNCTION kinesis._run_task(stream_id integer, task text)
RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    o text;
    d text;
    old_timeout text := current_setting('lock_timeout');
    state text;
    message text;
    name text;
BEGIN
    -- the name now: a delete removes the stream row
    SELECT s.stream_name INTO name FROM kinesis.stream_meta s WHERE s.stream_id = _run_task.stream_id;
    PERFORM set_config('lock_timeout', current_setting('kinesis.maintenance_lock_timeout'), true);
    BEGIN
        CASE task
            WHEN 'create' THEN SELECT * INTO o, d FROM kinesis._task_create(stream_id);
            WHEN 'delete' THEN SELECT * INTO o, d FROM kinesis._task_delete(stream_id);
            WHEN 'reshard' THEN SELECT * INTO o, d FROM kinesis._task_reshard(stream_id);
            WHEN 'encryption' THEN SELECT * INTO o, d FROM kinesis._task_encryption(stream_id);
            WHEN 'rotate' THEN SELECT * INTO o, d FROM kinesis._task_rotate(stream_id);
            WHEN 'trim' THEN SELECT * INTO o, d FROM kinesis._task_trim(stream_id);
            WHEN 'consumers' THEN SELECT * INTO o, d FROM kinesis._task_consumers(stream_id);
            WHEN 'metrics' THEN SELECT * INTO o, d FROM kinesis._task_metrics(stream_id);
            ELSE RAISE EXCEPTION 'unknown maintenance task %', task;
        END CASE;
    EXCEPTION
        WHEN lock_not_available THEN
            o := 'skipped';
            d := 'a lock is held by another session; retrying on the next run';
        WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
            o := 'error';
            d := message || ' (SQLSTATE ' || state || ')';
    END;
    PERFORM set_config('lock_timeout', old_timeout, true);
    PERFORM kinesis._record_status(stream_id, name, task, o, d);
    RETURN o;
END
$$;
COMMENT ON FUNCTION kinesis._run_task(integer, text) IS
    'Internal: run one maintenance task in a subtransaction under kinesis.maintenance_lock_timeout and record its outcome (done, nothing to do, skipped, error).';

CREATE FUNCTION kinesis.run_maintenance(OUT stream_name text, OUT task text, OUT outcome text,
                                        OUT detail text)
RETURNS SETOF record
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t record;
    rounds integer := 0;
    did boolean;
BEGIN
    -- run what is due, again while something gets done (trimming drops
    -- one bucket per task), within one call
    LOOP
        did := false;
        rounds := rounds + 1;
        FOR t IN SELECT d.stream_id, d.task, s.stream_name AS name
                   FROM kinesis._due_tasks() d
                   JOIN kinesis.stream_meta s ON s.stream_id = d.stream_id LOOP
            outcome := kinesis._run_task(t.stream_id, t.task);
            SELECT m.detail INTO detail FROM kinesis.maintenance_status m
             WHERE m.stream_id = t.stream_id AND m.task = t.task;
            stream_name := t.name;
            task := t.task;
            RETURN NEXT;
            did := did OR outcome = 'done';
        END LOOP;
        EXIT WHEN NOT did OR rounds >= 100;
    END LOOP;
END
$$;
COMMENT ON FUNCTION kinesis.run_maintenance() IS
    'Runs the maintenance tasks that are due (the worker''s job) in the calling transaction and returns what each did: for deployments that run with kinesis.worker = off and schedule this instead, e.g. with pg_cron.';

CREATE FUNCTION kinesis.wait_for_stream(stream_name text, status text DEFAULT 'ACTIVE',
                                        timeout interval DEFAULT '30 seconds')
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    deadline timestamptz;
    current text;
BEGIN
    BEGIN
        deadline := clock_timestamp() + coalesce(timeout, interval '30 seconds');
    EXCEPTION WHEN datetime_field_overflow THEN
        -- beyond the end (or the start) of time: no deadline (or one passed)
        deadline := CASE WHEN timeout > interval '0' THEN 'infinity'::timestamptz
                         ELSE '-infinity'::timestamptz END;
    END;
    -- the waiters of the SDKs (stream_exists, stream_not_exists): status
    -- NULL waits for the stream to be gone
    LOOP
        SELECT s.stream_status INTO current FROM kinesis.stream_meta s
         WHERE s.stream_name = wait_for_stream.stream_name;
        EXIT WHEN current IS NOT DISTINCT FROM status;
        IF clock_timestamp() >= deadline THEN
            RAISE EXCEPTION 'stream % is %, not % after %', stream_name,
                coalesce(current, 'gone'), coalesce(status, 'gone'), timeout;
        END IF;
        PERFORM pg_sleep(0.01);
    END LOOP;
END
$$;
COMMENT ON FUNCTION kinesis.wait_for_stream(text, text, interval) IS
    'Waits until the stream has the given status (NULL: until it is gone), polling, or raises after timeout. Needs the maintenance worker (or another session running kinesis.run_maintenance()); call it outside a REPEATABLE READ transaction.';

CREATE FUNCTION kinesis._forget_streams(stream_id integer)
RETURNS void
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'kinesis_forget_stream';
COMMENT ON FUNCTION kinesis._forget_streams(integer) IS
    'Internal: drop a removed stream''s entries (NULL: every stream''s) from the shared in-flight table, so that a stream given the same id later starts afresh.';

CREATE FUNCTION kinesis._drop_bucket_tables()
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    b record;
BEGIN
    PERFORM kinesis._forget_streams(NULL);
    FOR b IN SELECT k.stream_id, k.bucket FROM kinesis.buckets k LOOP
        EXECUTE format('DROP TABLE IF EXISTS %s', kinesis._bucket_table(b.stream_id, b.bucket));
    END LOOP;
END
$$;
COMMENT ON FUNCTION kinesis._drop_bucket_tables() IS
    'Internal: drop every bucket table and forget every stream''s shared entries; DROP EXTENSION kinesis calls it first, so that it needs no CASCADE and a re-created extension starts afresh.';
