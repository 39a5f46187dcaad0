-- kinesis extension, version 1.0: server-side encryption.
--
-- The local key store (kinesis.kms_key_store and kinesis.kms_aliases, see
-- 00_catalog.sql) stands in for AWS KMS: keys have GUIDs and ARNs, can be
-- aliased, disabled and enabled again.  StartStreamEncryption and
-- StopStreamEncryption make the stream UPDATING; maintenance switches it
-- once every put in flight has finished, so every record put after the
-- stream is ACTIVE again is stored in the new form.  Records are encrypted
-- and decrypted in C (src/kms.c) with pgcrypto's AES.

-- ---------------------------------------------------------------------
-- C helpers
-- ---------------------------------------------------------------------
CREATE FUNCTION kinesis._kms_new_material()
RETURNS bytea
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'kinesis_kms_new_material';
COMMENT ON FUNCTION kinesis._kms_new_material() IS
    'Internal: 64 random bytes from the strong random source, the material of a new key (AES-256 key, HMAC-SHA256 key).';
REVOKE ALL ON FUNCTION kinesis._kms_new_material() FROM PUBLIC;

CREATE FUNCTION kinesis._kms_decrypt(stream_id integer, key_ref integer, shard_index integer,
                                     seq bigint, data bytea)
RETURNS bytea
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'kinesis_kms_decrypt_sql';
COMMENT ON FUNCTION kinesis._kms_decrypt(integer, integer, integer, bigint, bytea) IS
    'Internal: a stored record''s data as readers get it (decrypted when key_ref is not NULL; KMSDisabledException if its key is disabled), for kinesis.stream_records. AccessDeniedException unless the caller may read (GetRecords) the stream with that id; a ciphertext decrypts only under the stream, shard and position it was written at.';

CREATE FUNCTION kinesis._kms_invalidate()
RETURNS trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'kinesis_kms_invalidate';
COMMENT ON FUNCTION kinesis._kms_invalidate() IS
    'Internal: statement trigger that makes every backend reload its cached keys.';

CREATE TRIGGER kms_key_store_invalidate
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON kinesis.kms_key_store
    FOR EACH STATEMENT EXECUTE FUNCTION kinesis._kms_invalidate();

-- ---------------------------------------------------------------------
-- Keys and aliases
-- ---------------------------------------------------------------------
CREATE FUNCTION kinesis._kms_arn(resource text)
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT 'arn:aws:kms:' || current_setting('kinesis.region') || ':'
           || current_setting('kinesis.account_id') || ':' || resource
$$;
COMMENT ON FUNCTION kinesis._kms_arn(text) IS
    'Internal: the ARN of a key (key/<guid>) or alias (alias/<name>) in this account and region.';

CREATE VIEW kinesis.kms_keys AS
SELECT k.key_id,
       kinesis._kms_arn('key/' || k.key_id) AS key_arn,
       ARRAY(SELECT a.alias_name FROM kinesis.kms_aliases a
              WHERE a.key_ref = k.key_ref ORDER BY a.alias_name) AS aliases,
       CASE WHEN k.enabled THEN 'Enabled' ELSE 'Disabled' END AS key_state,
       CASE WHEN k.aws_managed THEN 'AWS' ELSE 'CUSTOMER' END AS key_manager,
       k.description,
       k.created_at,
       ARRAY(SELECT s.stream_name FROM kinesis.stream_meta s
              WHERE s.kms_key_ref = k.key_ref ORDER BY s.stream_name) AS streams
  FROM kinesis.kms_key_store k;
COMMENT ON VIEW kinesis.kms_keys IS
    'The keys of the local key store as KMS describes them (GUID, ARN, aliases, Enabled/Disabled, AWS- or customer-managed) and the streams encrypted with each, without the key material. Readable by superusers only, as the store is.';
REVOKE ALL ON kinesis.kms_keys FROM PUBLIC;

CREATE FUNCTION kinesis.create_kms_key(description text DEFAULT '', alias_name text DEFAULT NULL,
                                       OUT key_id uuid, OUT key_arn text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    ref integer;
BEGIN
    INSERT INTO kinesis.kms_key_store (key_id, description, material)
    VALUES (gen_random_uuid(), coalesce(create_kms_key.description, ''), kinesis._kms_new_material())
    RETURNING kms_key_store.key_ref, kms_key_store.key_id INTO ref, key_id;
    key_arn := kinesis._kms_arn('key/' || key_id);
    IF alias_name IS NOT NULL THEN
        PERFORM kinesis.create_kms_alias(alias_name, key_id::text);
    END IF;
END
$$;
COMMENT ON FUNCTION kinesis.create_kms_key(text, text) IS
    'Create a customer-managed key in the local key store with fresh random material, optionally with an alias (alias/<name>); returns its GUID and ARN. Superusers only.';
REVOKE ALL ON FUNCTION kinesis.create_kms_key(text, text) FROM PUBLIC;

CREATE FUNCTION kinesis._kms_alias_name(alias_name text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF alias_name IS NULL OR alias_name !~ '^alias/[a-zA-Z0-9/_-]{1,250}$' THEN
        PERFORM kinesis._raise('InvalidArgumentException',
            format('Alias name %s is invalid: it must be alias/ followed by 1 to 250 letters, digits, /, _ or -.',
                   coalesce(alias_name, 'null')));
    END IF;
    IF alias_name LIKE 'alias/aws/%' THEN
        PERFORM kinesis._raise('InvalidArgumentException',
            format('Alias name %s is reserved: names that begin with alias/aws/ belong to AWS-managed keys.', alias_name));
    END IF;
    RETURN alias_name;
END
$$;
COMMENT ON FUNCTION kinesis._kms_alias_name(text) IS
    'Internal: a valid customer alias name (alias/<name>, not alias/aws/...), or InvalidArgumentException.';

CREATE FUNCTION kinesis.create_kms_alias(alias_name text, target_key_id text)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    ref integer := kinesis._kms_resolve(target_key_id, false);
BEGIN
    IF EXISTS (SELECT FROM kinesis.kms_aliases a WHERE a.alias_name = kinesis._kms_alias_name(create_kms_alias.alias_name)) THEN
        PERFORM kinesis._raise('InvalidArgumentException',
            format('An alias with the name %s already exists', kinesis._kms_arn(alias_name)));
    END IF;
    INSERT INTO kinesis.kms_aliases (alias_name, key_ref) VALUES (alias_name, ref);
END
$$;
COMMENT ON FUNCTION kinesis.create_kms_alias(text, text) IS
    'Give a key of the local key store an alias (alias/<name>), by which a stream''s KeyId can name it. Superusers only.';
REVOKE ALL ON FUNCTION kinesis.create_kms_alias(text, text) FROM PUBLIC;

CREATE FUNCTION kinesis.delete_kms_alias(alias_name text)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    DELETE FROM kinesis.kms_aliases a WHERE a.alias_name = kinesis._kms_alias_name(delete_kms_alias.alias_name);
    IF NOT FOUND THEN
        PERFORM kinesis._raise('KMSNotFoundException',
            format('Alias %s is not found.', kinesis._kms_arn(alias_name)));
    END IF;
END
$$;
COMMENT ON FUNCTION kinesis.delete_kms_alias(text) IS
    'Remove an alias; the key and the streams encrypted with it are not affected (a stream keeps the key it resolved). Superusers only.';
REVOKE ALL ON FUNCTION kinesis.delete_kms_alias(text) FROM PUBLIC;

CREATE FUNCTION kinesis._kms_set_enabled(key_id text, enabled boolean)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    ref integer := kinesis._kms_resolve(key_id, false);
BEGIN
    IF (SELECT k.aws_managed FROM kinesis.kms_key_store k WHERE k.key_ref = ref) THEN
        PERFORM kinesis._raise('InvalidArgumentException',
            format('%s is an AWS-managed key, which cannot be disabled or enabled.',
                   kinesis._kms_arn('key/' || (SELECT k.key_id FROM kinesis.kms_key_store k WHERE k.key_ref = ref))));
    END IF;
    UPDATE kinesis.kms_key_store k SET enabled = _kms_set_enabled.enabled WHERE k.key_ref = ref;
END
$$;
COMMENT ON FUNCTION kinesis._kms_set_enabled(text, boolean) IS
    'Internal: enable or disable a customer-managed key.';

CREATE FUNCTION kinesis.disable_kms_key(key_id text)
RETURNS void
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT kinesis._kms_set_enabled(key_id, false) $$;
COMMENT ON FUNCTION kinesis.disable_kms_key(text) IS
    'Disable a customer-managed key (named in any KeyId form): puts to and reads from streams encrypted with it fail with KMSDisabledException until it is enabled again. Superusers only.';
REVOKE ALL ON FUNCTION kinesis.disable_kms_key(text) FROM PUBLIC;

CREATE FUNCTION kinesis.enable_kms_key(key_id text)
RETURNS void
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT kinesis._kms_set_enabled(key_id, true) $$;
COMMENT ON FUNCTION kinesis.enable_kms_key(text) IS
    'Enable a disabled customer-managed key again. Superusers only.';
REVOKE ALL ON FUNCTION kinesis.enable_kms_key(text) FROM PUBLIC;

-- ---------------------------------------------------------------------
-- Resolving a KeyId
-- ---------------------------------------------------------------------
CREATE FUNCTION kinesis._kms_resolve(key_id text, require_enabled boolean DEFAULT true)
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    prefix text := 'arn:aws:kms:' || current_setting('kinesis.region') || ':'
                   || current_setting('kinesis.account_id') || ':';
    resource text;
    ref integer;
    k kinesis.kms_key_store;
BEGIN
    -- the four forms of the reference: key ARN, alias ARN, GUID, alias/name
    IF key_id IS NULL THEN
        resource := NULL;
    ELSIF key_id ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
        resource := 'key/' || lower(key_id);
    ELSIF key_id LIKE 'alias/%' THEN
        resource := key_id;
    ELSIF key_id LIKE 'arn:aws:kms:%' THEN
        IF left(key_id, length(prefix)) <> prefix THEN
            -- another region or account: no key of this store
            PERFORM kinesis._raise('KMSNotFoundException',
                format('Key ''%s'' does not exist', key_id));
        END IF;
        resource := substr(key_id, length(prefix) + 1);
    END IF;

    IF resource ~* '^key/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
        SELECT * INTO k FROM kinesis.kms_key_store s WHERE s.key_id = substr(resource, 5)::uuid;
        IF NOT FOUND THEN
            PERFORM kinesis._raise('KMSNotFoundException',
                format('Key ''%s'' does not exist', kinesis._kms_arn(lower(resource))));
        END IF;
    ELSIF resource ~ '^alias/[a-zA-Z0-9/_-]{1,250}$' THEN
        SELECT s.* INTO k FROM kinesis.kms_aliases a JOIN kinesis.kms_key_store s USING (key_ref)
         WHERE a.alias_name = resource;
        IF NOT FOUND AND resource = 'alias/aws/kinesis' THEN
            -- the AWS-managed key is created on first use, as AWS does; the
            -- lock makes concurrent first uses create one key
            LOCK TABLE kinesis.kms_aliases IN SHARE ROW EXCLUSIVE MODE;
            SELECT s.* INTO k FROM kinesis.kms_aliases a JOIN kinesis.kms_key_store s USING (key_ref)
             WHERE a.alias_name = resource;
            IF NOT FOUND THEN
                INSERT INTO kinesis.kms_key_store (key_id, description, aws_managed, material)
                VALUES (gen_random_uuid(), 'Default key that protects my Kinesis data when no other key is defined',
                        true, kinesis._kms_new_material())
                RETURNING * INTO k;
                INSERT INTO kinesis.kms_aliases (alias_name, key_ref) VALUES (resource, k.key_ref);
            END IF;
        ELSIF NOT FOUND THEN
            PERFORM kinesis._raise('KMSNotFoundException',
                format('Alias %s is not found.', kinesis._kms_arn(resource)));
        END IF;
    ELSE
        PERFORM kinesis._raise('KMSNotFoundException', format('Invalid keyId %s', key_id));
    END IF;

    IF require_enabled AND NOT k.enabled THEN
        PERFORM kinesis._raise('KMSDisabledException',
            format('%s is disabled.', kinesis._kms_arn('key/' || k.key_id)));
    END IF;
    RETURN k.key_ref;
END
$$;
COMMENT ON FUNCTION kinesis._kms_resolve(text, boolean) IS
    'Internal: the key a KeyId names (key ARN, alias ARN, GUID or alias/<name>; alias/aws/kinesis creates the AWS-managed key on first use): KMSNotFoundException if there is none, KMSDisabledException if it is disabled and require_enabled. SECURITY DEFINER so that callers who may change a stream''s encryption need no access to the key store; it reveals only whether a key exists.';
REVOKE ALL ON FUNCTION kinesis._kms_resolve(text, boolean) FROM PUBLIC;

-- ---------------------------------------------------------------------
-- StartStreamEncryption, StopStreamEncryption
-- ---------------------------------------------------------------------
CREATE FUNCTION kinesis._change_encryption(stream_name text, encryption_type text, key_id text,
                                           start boolean)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    errors text[] := '{}';
    s kinesis.stream_meta;
    ref integer;
    recent timestamptz[];
    op text := CASE WHEN start THEN 'StartStreamEncryption' ELSE 'StopStreamEncryption' END;
BEGIN
    IF encryption_type IS NULL THEN
        errors := errors || 'Value null at ''encryptionType'' failed to satisfy constraint: Member must not be null'::text;
    ELSIF encryption_type NOT IN ('NONE', 'KMS') THEN
        errors := errors || format('Value ''%s'' at ''encryptionType'' failed to satisfy constraint: Member must satisfy enum value set: [NONE, KMS]', encryption_type);
    END IF;
    IF key_id IS NULL THEN
        errors := errors || 'Value null at ''keyId'' failed to satisfy constraint: Member must not be null'::text;
    ELSIF length(key_id) < 1 THEN
        errors := errors || format('Value ''%s'' at ''keyId'' failed to satisfy constraint: Member must have length greater than or equal to 1', key_id);
    ELSIF length(key_id) > 2048 THEN
        errors := errors || format('Value ''%s'' at ''keyId'' failed to satisfy constraint: Member must have length less than or equal to 2048', key_id);
    END IF;
    errors := errors || kinesis._validate_stream_name(stream_name);
    PERFORM kinesis._raise_validation(errors);

    s := kinesis._active_stream(stream_name);
    IF encryption_type <> 'KMS' THEN
        PERFORM kinesis._raise('InvalidArgumentException',
            format('Encryption type %s is not supported by %s; the only valid value is KMS.', encryption_type, op));
    END IF;
    -- a key that is not usable fails the call; stopping needs no usable key
    ref := kinesis._kms_resolve(key_id, start);
    recent := ARRAY(SELECT t FROM unnest(s.encryption_history) t WHERE t > clock_timestamp() - interval '24 hours');
    IF cardinality(recent) >= 25 THEN
        PERFORM kinesis._raise('LimitExceededException',
            format('Exceeded the limit of 25 StartStreamEncryption and StopStreamEncryption calls per rolling 24 hours for stream %s under account %s.',
                   stream_name, current_setting('kinesis.account_id')));
    END IF;
    UPDATE kinesis.stream_meta m SET encryption_history = recent || clock_timestamp()
     WHERE m.stream_id = s.stream_id;
    PERFORM kinesis._request_update(s.stream_id,
        CASE WHEN start THEN jsonb_build_object('op', 'start_encryption', 'key_ref', ref, 'key_id', key_id)
             ELSE jsonb_build_object('op', 'stop_encryption') END);
END
$$;
COMMENT ON FUNCTION kinesis._change_encryption(text, text, text, boolean) IS
    'Internal: StartStreamEncryption and StopStreamEncryption: validate, resolve the key, count the call against 25 per rolling 24 hours, and make the stream UPDATING.';

CREATE FUNCTION kinesis.start_stream_encryption(stream_name text, encryption_type text, key_id text)
RETURNS void
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT kinesis._change_encryption(stream_name, encryption_type, key_id, true) $$;
COMMENT ON FUNCTION kinesis.start_stream_encryption(text, text, text) IS
    'StartStreamEncryption: encryption_type KMS and a key_id as a key ARN, alias ARN, GUID or alias/<name> (alias/aws/kinesis for the AWS-managed key). The stream is UPDATING until maintenance switches it; every record put after it is ACTIVE again is stored encrypted (AES-256 via pgcrypto) and reported with encryption_type KMS. KMSNotFoundException, KMSDisabledException; at most 25 calls (start and stop) per stream in 24 hours.';

CREATE FUNCTION kinesis.stop_stream_encryption(stream_name text, encryption_type text, key_id text)
RETURNS void
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT kinesis._change_encryption(stream_name, encryption_type, key_id, false) $$;
COMMENT ON FUNCTION kinesis.stop_stream_encryption(text, text, text) IS
    'StopStreamEncryption: the stream is UPDATING until maintenance switches it; records put after it is ACTIVE again are stored in plaintext. Records stored encrypted stay so and are still decrypted for readers (with their own key).';

CREATE FUNCTION kinesis._task_encryption(sid integer, OUT outcome text, OUT detail text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s kinesis.stream_meta;
    op text;
BEGIN
    SELECT * INTO s FROM kinesis.stream_meta m WHERE m.stream_id = sid FOR UPDATE;
    op := s.pending ->> 'op';
    IF NOT FOUND OR s.stream_status <> 'UPDATING' OR op NOT IN ('start_encryption', 'stop_encryption') THEN
        outcome := 'nothing to do';
        RETURN;
    END IF;
    -- every put in flight finishes first: puts after this use the new form
    PERFORM kinesis._lock_stream(sid, true);
    IF op = 'start_encryption' THEN
        UPDATE kinesis.stream_meta m
           SET encryption_type = 'KMS', key_id = s.pending ->> 'key_id',
               kms_key_ref = (s.pending ->> 'key_ref')::integer
         WHERE m.stream_id = sid;
        detail := format('encrypting with %s', s.pending ->> 'key_id');
    ELSE
        UPDATE kinesis.stream_meta m
           SET encryption_type = 'NONE', key_id = NULL, kms_key_ref = NULL
         WHERE m.stream_id = sid;
        detail := 'encryption stopped';
    END IF;
    UPDATE kinesis.stream_meta m
       SET stream_status = 'ACTIVE', status_since = clock_timestamp(), pending = NULL
     WHERE m.stream_id = sid;
    outcome := 'done';
END
$$;
COMMENT ON FUNCTION kinesis._task_encryption(integer) IS
    'Internal: UPDATING -> ACTIVE for StartStreamEncryption and StopStreamEncryption: wait for puts in flight, then switch the stream''s encryption.';

CREATE FUNCTION kinesis._hmac_sha256(key bytea, message bytea)
RETURNS bytea
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'kinesis_hmac_sha256_sql';
COMMENT ON FUNCTION kinesis._hmac_sha256(bytea, bytea) IS
    'Internal: HMAC-SHA256 as the tags of encrypted records compute it (src/hmac.c), for the regression tests.';
