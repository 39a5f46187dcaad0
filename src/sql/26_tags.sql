-- Tags: AddTagsToStream, RemoveTagsFromStream, ListTagsForStream.
--
-- Limits and texts follow AWS: 1..10 tags per call, 50 per stream, keys
-- 1..128 and values 0..256 characters of Unicode letters, digits, spaces
-- and _ . / = + - % @ : (and '%' refused with its own message).  Tags
-- can be changed in any stream status and go away with their stream.

CREATE TYPE kinesis.tag AS (
    key   text,
    value text
);
COMMENT ON TYPE kinesis.tag IS
    'A stream tag as ListTagsForStream returns it (Tags[] member).';

CREATE FUNCTION kinesis._tag_chars_ok(t text)
RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    -- letters and digits (ASCII and the Unicode letter blocks AWS accepts),
    -- the space and _ . / = + - % @ :
    SELECT t ~ '^[A-Za-z0-9_. /=+%@:\u00C0-\u1FFF\u2C00-\uD7FF-]*$'
$$;
COMMENT ON FUNCTION kinesis._tag_chars_ok(text) IS
    'Internal: whether a tag key or value uses only the characters AWS allows.';

CREATE FUNCTION kinesis._java_map_text(m jsonb)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    -- a map as AWS prints it in a ValidationException: Java's toString
    SELECT '{' || coalesce(string_agg(e.key || '=' || (e.value #>> '{}'), ', '), '') || '}'
      FROM jsonb_each(m) AS e
$$;
COMMENT ON FUNCTION kinesis._java_map_text(jsonb) IS
    'Internal: a JSON object printed as a Java Map (''{k=v, k2=v2}''), as ValidationException messages show maps.';

CREATE FUNCTION kinesis._check_tag_chars(stream_name text, words text[], action text)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- first any character outside the set, then '%', which the set lists
    -- but AWS refuses with a message of its own
    IF EXISTS (SELECT 1 FROM unnest(words) w WHERE NOT kinesis._tag_chars_ok(w)) THEN
        PERFORM kinesis._raise('InvalidArgumentException',
            'Some tags contain invalid characters. Valid characters: Unicode letters, digits, white space, _ . / = + - % @.');
    END IF;
    IF EXISTS (SELECT 1 FROM unnest(words) w WHERE strpos(w, '%') > 0) THEN
        PERFORM kinesis._raise('InvalidArgumentException',
            format('Failed to %s stream %s under account %s because some tags contained illegal characters. The allowed characters are Unicode letters, white-spaces, ''_'','','',''/'',''='',''+'',''-'',''@''.',
                   action, stream_name, current_setting('kinesis.account_id')));
    END IF;
END
$$;
COMMENT ON FUNCTION kinesis._check_tag_chars(text, text[], text) IS
    'Internal: InvalidArgumentException, with AWS''s texts, for tag keys or values with characters AWS refuses.';

CREATE FUNCTION kinesis.add_tags_to_stream(stream_name text, tags jsonb)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    errors text[] := '{}';
    s kinesis.stream_meta;
    n integer;
BEGIN
    IF tags IS NOT NULL AND (jsonb_typeof(tags) <> 'object'
                             OR EXISTS (SELECT 1 FROM jsonb_each(tags) e WHERE jsonb_typeof(e.value) <> 'string')) THEN
        RAISE EXCEPTION 'tags must be a JSON object whose values are strings'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF tags IS NULL THEN
        errors := errors || 'Value null at ''tags'' failed to satisfy constraint: Member must not be null'::text;
    ELSE
        SELECT count(*) INTO n FROM jsonb_object_keys(tags);
        IF n < 1 THEN
            errors := errors || format('Value ''%s'' at ''tags'' failed to satisfy constraint: Member must have length greater than or equal to 1', kinesis._java_map_text(tags));
        ELSIF n > 10 THEN
            errors := errors || format('Value ''%s'' at ''tags'' failed to satisfy constraint: Member must have length less than or equal to 10', kinesis._java_map_text(tags));
        END IF;
        IF EXISTS (SELECT 1 FROM jsonb_object_keys(tags) k WHERE length(k) NOT BETWEEN 1 AND 128) THEN
            errors := errors || format('Value ''%s'' at ''tags'' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1]', kinesis._java_map_text(tags));
        END IF;
        IF EXISTS (SELECT 1 FROM jsonb_each_text(tags) e WHERE length(e.value) > 256) THEN
            errors := errors || format('Value ''%s'' at ''tags'' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 256, Member must have length greater than or equal to 0]', kinesis._java_map_text(tags));
        END IF;
    END IF;
    errors := errors || kinesis._validate_stream_name(stream_name);
    PERFORM kinesis._raise_validation(errors);

    SELECT * INTO s FROM kinesis.stream_meta m WHERE m.stream_name = add_tags_to_stream.stream_name FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM kinesis._stream_not_found(stream_name);
    END IF;
    PERFORM kinesis._check_tag_chars(stream_name,
        ARRAY(SELECT k FROM jsonb_object_keys(tags) k) || ARRAY(SELECT v FROM jsonb_each_text(tags) e(k, v)),
        'add tags to');
    -- AWS's text says 10 while it enforces 50
    IF (SELECT count(*) FROM (SELECT t.tag_key FROM kinesis.tags t WHERE t.stream_id = s.stream_id
                              UNION SELECT k FROM jsonb_object_keys(tags) k) a) > 50 THEN
        PERFORM kinesis._raise('InvalidArgumentException',
            format('Failed to add tags to stream %s under account %s because a given stream cannot have more than 10 tags associated with it.',
                   stream_name, current_setting('kinesis.account_id')));
    END IF;
    INSERT INTO kinesis.tags AS t (stream_id, tag_key, tag_value)
    SELECT s.stream_id, e.key, e.value FROM jsonb_each_text(tags) e
    ON CONFLICT (stream_id, tag_key) DO UPDATE SET tag_value = excluded.tag_value;
END
$$;
COMMENT ON FUNCTION kinesis.add_tags_to_stream(text, jsonb) IS
    'AddTagsToStream: add or overwrite up to 10 tags (a JSON object of strings); a stream has at most 50.';

CREATE FUNCTION kinesis.remove_tags_from_stream(stream_name text, tag_keys text[])
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    errors text[] := '{}';
    s kinesis.stream_meta;
    shown text := '[' || array_to_string(tag_keys, ', ', 'null') || ']';
BEGIN
    IF tag_keys IS NULL THEN
        errors := errors || 'Value null at ''tagKeys'' failed to satisfy constraint: Member must not be null'::text;
    ELSE
        IF coalesce(cardinality(tag_keys), 0) < 1 THEN
            errors := errors || format('Value ''%s'' at ''tagKeys'' failed to satisfy constraint: Member must have length greater than or equal to 1', shown);
        ELSIF cardinality(tag_keys) > 10 THEN
            errors := errors || format('Value ''%s'' at ''tagKeys'' failed to satisfy constraint: Member must have length less than or equal to 10', shown);
        END IF;
        IF EXISTS (SELECT 1 FROM unnest(tag_keys) k WHERE k IS NULL OR length(k) NOT BETWEEN 1 AND 128) THEN
            errors := errors || format('Value ''%s'' at ''tagKeys'' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1]', shown);
        END IF;
    END IF;
    errors := errors || kinesis._validate_stream_name(stream_name);
    PERFORM kinesis._raise_validation(errors);

    SELECT * INTO s FROM kinesis.stream_meta m WHERE m.stream_name = remove_tags_from_stream.stream_name FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM kinesis._stream_not_found(stream_name);
    END IF;
    PERFORM kinesis._check_tag_chars(stream_name, tag_keys, 'remove tags from');
    -- keys the stream does not have are ignored
    DELETE FROM kinesis.tags t WHERE t.stream_id = s.stream_id AND t.tag_key = ANY (tag_keys);
END
$$;
COMMENT ON FUNCTION kinesis.remove_tags_from_stream(text, text[]) IS
    'RemoveTagsFromStream: remove up to 10 tags by key; keys the stream does not have are ignored.';

CREATE FUNCTION kinesis.list_tags_for_stream(stream_name text, exclusive_start_tag_key text DEFAULT NULL,
                                             "limit" integer DEFAULT NULL,
                                             OUT tags kinesis.tag[], OUT has_more_tags boolean)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    errors text[] := '{}';
    s kinesis.stream_meta;
    page_size integer := coalesce("limit", 10);
BEGIN
    errors := errors || kinesis._validate_range("limit", 'limit', 1, 50);
    IF exclusive_start_tag_key IS NOT NULL AND length(exclusive_start_tag_key) NOT BETWEEN 1 AND 128 THEN
        errors := errors || format('Value ''%s'' at ''exclusiveStartTagKey'' failed to satisfy constraint: Member must have length %s',
                                   exclusive_start_tag_key,
                                   CASE WHEN length(exclusive_start_tag_key) < 1 THEN 'greater than or equal to 1'
                                        ELSE 'less than or equal to 128' END);
    END IF;
    errors := errors || kinesis._validate_stream_name(stream_name);
    PERFORM kinesis._raise_validation(errors);

    s := kinesis._find_stream(stream_name);
    -- keys in byte order; one more than a page says whether there are more
    SELECT coalesce(array_agg(ROW(t.tag_key, t.tag_value)::kinesis.tag ORDER BY t.tag_key)
                    FILTER (WHERE t.n <= page_size), '{}'),
           count(*) > page_size
      INTO tags, has_more_tags
      FROM (SELECT g.tag_key, g.tag_value, row_number() OVER (ORDER BY g.tag_key) AS n
              FROM kinesis.tags g
             WHERE g.stream_id = s.stream_id
               AND (exclusive_start_tag_key IS NULL OR g.tag_key > exclusive_start_tag_key)
             ORDER BY g.tag_key LIMIT page_size + 1) t;
END
$$;
COMMENT ON FUNCTION kinesis.list_tags_for_stream(text, text, integer) IS
    'ListTagsForStream: the stream''s tags in key order after exclusive_start_tag_key, at most "limit" (1..50, default 10), and whether more follow.';
