-- Tags: AddTagsToStream, RemoveTagsFromStream, ListTagsForStream, with
-- every validation and semantic error, through SQL and kinesis.api().
\set VERBOSITY terse

SELECT kinesis.create_stream('tg', 1);
SELECT kinesis.create_stream('tg_other', 1);
-- tags can be set while the stream is still CREATING
SELECT kinesis.add_tags_to_stream('tg', '{"team": "data", "env": "test"}');
SELECT stream_name, task, outcome FROM kinesis.run_maintenance() WHERE task <> 'metrics' ORDER BY 1, 2;

-- ---------------------------------------------------------------------
-- AddTagsToStream
-- ---------------------------------------------------------------------
SELECT kinesis.add_tags_to_stream(NULL, NULL);
SELECT kinesis.add_tags_to_stream('tg', '{}');
SELECT kinesis.add_tags_to_stream('tg', (SELECT jsonb_object_agg('k' || i, 'v') FROM generate_series(1, 11) i));
SELECT kinesis.add_tags_to_stream('tg', jsonb_build_object('', 'v'));
SELECT kinesis.add_tags_to_stream('tg', jsonb_build_object(repeat('k', 129), 'v'));
SELECT kinesis.add_tags_to_stream('tg', jsonb_build_object('k', repeat('v', 257)));
SELECT kinesis.add_tags_to_stream('bad name', '{"a": "b"}');
SELECT kinesis.add_tags_to_stream('tg', '["not", "a", "map"]');
SELECT kinesis.add_tags_to_stream('tg', '{"a": 1}');
SELECT kinesis.add_tags_to_stream('no_such', '{"a": "b"}');
SELECT kinesis.add_tags_to_stream('tg', '{"a": "b!"}');
SELECT kinesis.add_tags_to_stream('tg', '{"a#": "b"}');
SELECT kinesis.add_tags_to_stream('tg', '{"100%": "b"}');
SELECT kinesis.add_tags_to_stream('tg', '{"a": "50%"}');
-- the allowed characters, Unicode letters among them; empty values are fine
SELECT kinesis.add_tags_to_stream('tg', '{"Owner Name": "Zoë Ünal", "path/to=x+y-z@h:1": "", "ключ": "值"}');
-- an existing key is overwritten
SELECT kinesis.add_tags_to_stream('tg', '{"env": "prod"}');
SELECT key, value FROM unnest((kinesis.list_tags_for_stream('tg', "limit" => 50)).tags);
-- at most 50 per stream (AWS's message says 10)
SELECT kinesis.add_tags_to_stream('tg_other', (SELECT jsonb_object_agg('k' || lpad(i::text, 2, '0'), 'v') FROM generate_series(1, 10) i))
  FROM generate_series(1, 1);
DO $$
BEGIN
    FOR b IN 1..4 LOOP
        PERFORM kinesis.add_tags_to_stream('tg_other',
            (SELECT jsonb_object_agg('k' || lpad((b * 10 + i)::text, 2, '0'), 'v') FROM generate_series(1, 10) i));
    END LOOP;
END $$;
SELECT count(*) AS tags FROM unnest((kinesis.list_tags_for_stream('tg_other', "limit" => 50)).tags);
SELECT kinesis.add_tags_to_stream('tg_other', '{"one_more": "v"}');
-- overwriting an existing key when full is fine
SELECT kinesis.add_tags_to_stream('tg_other', '{"k01": "changed"}');

-- ---------------------------------------------------------------------
-- ListTagsForStream: key order, pages, has_more_tags
-- ---------------------------------------------------------------------
SELECT kinesis.list_tags_for_stream(NULL);
SELECT kinesis.list_tags_for_stream('tg', '', 0);
SELECT kinesis.list_tags_for_stream('tg', repeat('k', 129), 51);
SELECT kinesis.list_tags_for_stream('no_such');
SELECT cardinality(tags), has_more_tags, (tags[1]).key AS first, (tags[cardinality(tags)]).key AS last
  FROM kinesis.list_tags_for_stream('tg_other');
SELECT cardinality(tags), has_more_tags, (tags[1]).key AS first
  FROM kinesis.list_tags_for_stream('tg_other', exclusive_start_tag_key => 'k40');
SELECT cardinality(tags), has_more_tags FROM kinesis.list_tags_for_stream('tg_other', exclusive_start_tag_key => 'k50');
SELECT cardinality(tags), has_more_tags FROM kinesis.list_tags_for_stream('tg_other', "limit" => 50);
SELECT cardinality(tags), has_more_tags FROM kinesis.list_tags_for_stream('tg', "limit" => 2);

-- ---------------------------------------------------------------------
-- RemoveTagsFromStream: absent keys are ignored
-- ---------------------------------------------------------------------
SELECT kinesis.remove_tags_from_stream(NULL, NULL);
SELECT kinesis.remove_tags_from_stream('tg', '{}');
SELECT kinesis.remove_tags_from_stream('tg', ARRAY(SELECT 'k' || i FROM generate_series(1, 11) i));
SELECT kinesis.remove_tags_from_stream('tg', ARRAY['', repeat('k', 129)]);
SELECT kinesis.remove_tags_from_stream('no_such', ARRAY['a']);
SELECT kinesis.remove_tags_from_stream('tg', ARRAY['a!']);
SELECT kinesis.remove_tags_from_stream('tg', ARRAY['a%']);
SELECT kinesis.remove_tags_from_stream('tg', ARRAY['team', 'no_such_key']);
SELECT key, value FROM unnest((kinesis.list_tags_for_stream('tg', "limit" => 50)).tags);

-- ---------------------------------------------------------------------
-- Through kinesis.api()
-- ---------------------------------------------------------------------
SELECT kinesis.api('AddTagsToStream', '{"StreamName": "tg", "Tags": {"api": "yes", "nothing": null}}');
SELECT kinesis.api('AddTagsToStream', '{"StreamName": "tg", "Tags": {"api": 1}}');
SELECT kinesis.api('AddTagsToStream', '{"StreamName": "tg", "Tags": ["api"]}');
SELECT kinesis.api('AddTagsToStream', '{"StreamName": "tg", "Tags": {}}');
SELECT kinesis.api('AddTagsToStream', '{"StreamName": "tg"}');
SELECT kinesis.api('ListTagsForStream', '{"StreamName": "tg", "Limit": 2}');
SELECT kinesis.api('ListTagsForStream', '{"StreamName": "tg", "ExclusiveStartTagKey": "env"}');
SELECT kinesis.api('ListTagsForStream', '{"StreamName": "tg", "Limit": 0}');
SELECT kinesis.api('RemoveTagsFromStream', '{"StreamName": "tg", "TagKeys": ["api", "env"]}');
SELECT kinesis.api('RemoveTagsFromStream', '{"StreamName": "tg", "TagKeys": "api"}');
SELECT kinesis.api('RemoveTagsFromStream', '{"StreamName": "tg", "TagKeys": [1]}');
SELECT kinesis.api('ListTagsForStream', '{"StreamName": "tg"}');

-- ---------------------------------------------------------------------
-- Tags go with their stream
-- ---------------------------------------------------------------------
SELECT kinesis.delete_stream('tg');
SELECT kinesis.delete_stream('tg_other');
SELECT stream_name, task, outcome FROM kinesis.run_maintenance() WHERE task <> 'metrics' ORDER BY 1, 2;
SELECT count(*) AS tags_left FROM kinesis.tags;
SELECT kinesis.create_stream('tg', 1);
SELECT stream_name, task, outcome FROM kinesis.run_maintenance() WHERE task <> 'metrics' ORDER BY 1, 2;
SELECT tags, has_more_tags FROM kinesis.list_tags_for_stream('tg');
SELECT kinesis.delete_stream('tg');
SELECT stream_name, task, outcome FROM kinesis.run_maintenance() WHERE task <> 'metrics' ORDER BY 1, 2;
