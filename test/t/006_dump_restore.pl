# Backup and restore: pg_dump of a database with streams of every kind
# (several shards, closed-shard lineage from a split and a merge and from
# UpdateShardCount, thousands of records from put_record, put_records and
# the capture trigger, tags, consumers with checkpoints, streams encrypted
# with the AWS-managed key and with a customer key, retention changes),
# restored into a fresh cluster three ways: pg_restore of a custom-format
# dump, a parallel pg_restore of the same archive, and psql of a
# plain-format dump.  The catalog (streams, shards and their lineage,
# buckets, tags, consumers, checkpoints, the key store and the identity
# sequences) must come back as it was, every shard must read back the very
# same records in the same order, consumers must resume from their
# checkpoints, new puts must get larger sequence numbers than every restored
# one and be read after them, and the maintenance worker must serve the
# restored database.
#
# Then a dump taken while an UpdateShardCount, a SplitShard and a
# DeleteStream are pending: once restored, the worker must carry them out
# as the source does, and must not act on a half-restored catalog.
#
# Where the timing of a restore decides the outcome (the order in which a
# parallel restore commits its loads, how long the records take to load),
# a lock in the target database holds one step back, so that the outcome
# never depends on scheduling.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(usleep);

my $src = PostgreSQL::Test::Cluster->new('dump_source');
$src->init;
$src->append_conf('postgresql.conf', "shared_preload_libraries = 'kinesis'\n");
$src->start;
$src->safe_psql('postgres', 'CREATE DATABASE app');

# ---------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------

# Every psql session that reads records defines this first: the records of
# one shard, read with get_records from TRIM_HORIZON (or from the given
# iterator) following next_shard_iterator to the end, in the order
# delivered.
my $shard_log_fn = q{
SET TimeZone = 'UTC';
CREATE FUNCTION pg_temp.shard_log(stream text, shard text, start_iterator text DEFAULT NULL)
RETURNS TABLE (pos bigint, seq text, pkey text, payload bytea, enc text, arrived timestamptz)
LANGUAGE plpgsql AS $fn$
DECLARE
    it text := coalesce(start_iterator, kinesis.get_shard_iterator(stream, shard, 'TRIM_HORIZON'));
    g record;
    got bigint := 0;
    calls integer := 0;
BEGIN
    LOOP
        SELECT * INTO g FROM kinesis.get_records(it, 10000);
        RETURN QUERY
            SELECT got + u.o, u.sequence_number, u.partition_key, u.data, u.encryption_type,
                   u.approximate_arrival_timestamp
              FROM unnest(g.records) WITH ORDINALITY
                   AS u(sequence_number, approximate_arrival_timestamp, data, partition_key,
                        encryption_type, o);
        got := got + coalesce(cardinality(g.records), 0);
        EXIT WHEN g.next_shard_iterator IS NULL OR coalesce(cardinality(g.records), 0) = 0;
        it := g.next_shard_iterator;
        calls := calls + 1;
        IF calls > 1000 THEN
            RAISE EXCEPTION 'shard % of stream % never ends', shard, stream;
        END IF;
    END LOOP;
END
$fn$;
};

# Compare two multi-line outputs; on a difference, say where, without
# printing thousands of lines.
sub same_lines
{
	my ($got, $want, $name) = @_;
	my @g = split /\n/, $got, -1;
	my @w = split /\n/, $want, -1;
	my $i = 0;
	$i++ while ($i < @g && $i < @w && $g[$i] eq $w[$i]);
	if ($i == @g && $i == @w)
	{
		pass($name);
		return 1;
	}
	fail($name);
	diag(sprintf("got %d lines, expected %d; first difference at line %d:\n  got:      %s\n  expected: %s",
		scalar(@g), scalar(@w), $i + 1, $g[$i] // '(end)', $w[$i] // '(end)'));
	return 0;
}

# Every record of every shard of the given streams, as
# {"<stream> <shard>" => [lines]}; an empty shard has an empty list.
sub shard_listing
{
	my ($node, $db, @streams) = @_;
	my $list = join(', ', map { "'$_'" } @streams);
	my $out = $node->safe_psql($db, $shard_log_fn . qq{
		SELECT h.stream_name || ' ' || h.shard_id || E'\t'
		       || coalesce(l.seq || ' ' || to_json(l.pkey)::text || ' ' || encode(l.payload, 'hex')
		                   || ' ' || l.enc || ' ' || l.arrived, '')
		  FROM kinesis.shards h
		  LEFT JOIN LATERAL pg_temp.shard_log(h.stream_name, h.shard_id) l ON true
		 WHERE h.stream_name IN ($list)
		 ORDER BY h.stream_name, h.shard_index, l.pos;
	});
	my %by_shard;
	for my $line (split /\n/, $out)
	{
		my ($key, $rec) = split /\t/, $line, 2;
		$by_shard{$key} //= [];
		push @{ $by_shard{$key} }, $rec if $rec ne '';
	}
	return \%by_shard;
}

# Catalog and API views whose output must survive the round trip unchanged.
my @streams = qw(captured enc_aws enc_cmk plain resharded scaled);
my %catalog_queries = (
	'stream_meta rows' => q{
		SELECT to_jsonb(s) FROM kinesis.stream_meta s ORDER BY stream_id},
	'shard_meta rows' => q{
		SELECT to_jsonb(h) FROM kinesis.shard_meta h ORDER BY stream_id, shard_index},
	'buckets rows' => q{
		SELECT to_jsonb(b) FROM kinesis.buckets b ORDER BY stream_id, bucket},
	'tags rows' => q{
		SELECT to_jsonb(t) FROM kinesis.tags t ORDER BY stream_id, tag_key},
	'consumers rows' => q{
		SELECT to_jsonb(c) FROM kinesis.consumers c ORDER BY stream_id, consumer_name},
	'checkpoints rows' => q{
		SELECT to_jsonb(k) FROM kinesis.checkpoints k ORDER BY stream_id, consumer_name, shard_index},
	'key store rows (material by digest)' => q{
		SELECT to_jsonb(k) - 'material' || jsonb_build_object('material', md5(k.material))
		  FROM kinesis.kms_key_store k ORDER BY key_ref},
	'key aliases rows' => q{
		SELECT to_jsonb(a) FROM kinesis.kms_aliases a ORDER BY alias_name},
	'identity sequences' => q{
		SELECT 'stream', last_value, is_called FROM kinesis.stream_meta_stream_id_seq
		UNION ALL
		SELECT 'key', last_value, is_called FROM kinesis.kms_key_store_key_ref_seq},
	'bucket tables (inheriting from kinesis.records, with a primary key)' => q{
		SELECT c.relname, p.relname, i.indisprimary, pg_get_indexdef(i.indexrelid)
		  FROM pg_class c
		  JOIN pg_inherits ih ON ih.inhrelid = c.oid
		  JOIN pg_class p ON p.oid = ih.inhparent
		  LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary
		 WHERE c.relnamespace = 'kinesis'::regnamespace AND c.relkind = 'r'
		 ORDER BY 1},
	'kinesis.streams' => q{
		SELECT * FROM kinesis.streams ORDER BY stream_name},
	'kinesis.shards' => q{
		SELECT * FROM kinesis.shards ORDER BY stream_name, shard_index},
	'kinesis.kms_keys' => q{
		SELECT * FROM kinesis.kms_keys ORDER BY key_arn},
	'describe_stream_summary' => q{
		SELECT d.* FROM kinesis.streams s, LATERAL kinesis.describe_stream_summary(s.stream_name) d
		 ORDER BY s.stream_name},
	'describe_stream (with the shard list)' => q{
		SELECT d.* FROM kinesis.streams s, LATERAL kinesis.describe_stream(s.stream_name, 100) d
		 ORDER BY s.stream_name},
	'list_tags_for_stream' => q{
		SELECT s.stream_name, t.* FROM kinesis.streams s,
		       LATERAL kinesis.list_tags_for_stream(s.stream_name, NULL, 50) t
		 ORDER BY s.stream_name},
	'list_stream_consumers' => q{
		SELECT s.stream_name, c.consumers
		  FROM kinesis.streams s, LATERAL kinesis.list_stream_consumers(s.stream_arn) c
		 ORDER BY s.stream_name},
	'capture source table' => q{
		SELECT count(*), md5(string_agg(o::text, ',' ORDER BY id)) FROM app_orders o},
	'capture trigger' => q{
		SELECT tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t
		 WHERE tgrelid = 'app_orders'::regclass AND NOT tgisinternal},
);

sub catalog_snapshot
{
	my ($node, $db) = @_;
	my %snap;
	for my $name (sort keys %catalog_queries)
	{
		$snap{$name} = $node->safe_psql($db,
			"SET TimeZone = 'UTC';\n" . $catalog_queries{$name});
	}
	return \%snap;
}

# Where each consumer resumes: per checkpoint, what the iterator from the
# checkpoint yields, and what the full shard holds after the checkpoint.
my $resume_query = $shard_log_fn . q{
	WITH cp AS (
	    SELECT s.stream_name, k.consumer_name,
	           'shardId-' || lpad(k.shard_index::text, 12, '0') AS shard_id, k.sequence_number
	      FROM kinesis.checkpoints k JOIN kinesis.stream_meta s USING (stream_id))
	SELECT cp.stream_name, cp.consumer_name, cp.shard_id, cp.sequence_number,
	       r.n, r.digest, r.n = e.n AND r.digest IS NOT DISTINCT FROM e.digest
	  FROM cp,
	  LATERAL (SELECT count(*) AS n,
	                  md5(string_agg(l.seq || ' ' || encode(l.payload, 'hex') || ' ' || l.enc, ','
	                                 ORDER BY l.pos)) AS digest
	             FROM pg_temp.shard_log(cp.stream_name, cp.shard_id,
	                                    kinesis.checkpoint_iterator(cp.stream_name, cp.consumer_name,
	                                                                cp.shard_id)) l) r,
	  LATERAL (SELECT count(*) AS n,
	                  md5(string_agg(l.seq || ' ' || encode(l.payload, 'hex') || ' ' || l.enc, ','
	                                 ORDER BY l.pos)) AS digest
	             FROM pg_temp.shard_log(cp.stream_name, cp.shard_id) l
	            WHERE l.seq::numeric > cp.sequence_number::numeric) e
	 ORDER BY 1, 2, 3;
};

# A consumer shard without a checkpoint starts at TRIM_HORIZON.
my $no_checkpoint_query = $shard_log_fn . q{
	SELECT (SELECT count(*) FROM pg_temp.shard_log('resharded', 'shardId-000000000000',
	            kinesis.checkpoint_iterator('resharded', 'analytics', 'shardId-000000000000')))
	     = (SELECT count(*) FROM pg_temp.shard_log('resharded', 'shardId-000000000000')),
	       (SELECT count(*) FROM pg_temp.shard_log('resharded', 'shardId-000000000000')) > 0;
};

# ---------------------------------------------------------------------
# The source database
# ---------------------------------------------------------------------

sub put_many
{
	my ($stream, $tag, $n) = @_;
	return $src->safe_psql('app', qq{
		SELECT count(*) FROM generate_series(1, $n) i,
		       LATERAL kinesis.put_record('$stream', convert_to('$tag-' || i, 'UTF8'), '$tag-key-' || i) p;
	});
}

sub put_batches
{
	my ($stream, $tag, $batches) = @_;
	return $src->safe_psql('app', qq{
		SELECT string_agg((kinesis.put_records(ARRAY(
		           SELECT ROW(convert_to('$tag-' || b || '-' || i, 'UTF8'),
		                      CASE WHEN i % 50 = 0 THEN '0' END,
		                      '$tag-batch-key-' || i)::kinesis.put_records_request_entry
		             FROM generate_series(1, 500) i), '$stream')).failed_record_count::text, ',')
		  FROM generate_series(1, $batches) b;
	});
}

sub wait_active
{
	my ($stream) = @_;
	$src->safe_psql('app', "SELECT kinesis.wait_for_stream('$stream', 'ACTIVE', '60 seconds')");
}

$src->safe_psql('app', q{
	CREATE EXTENSION kinesis;
	SELECT kinesis.create_stream('plain', 3);
	SELECT kinesis.create_stream('resharded', 2);
	SELECT kinesis.create_stream('scaled', 2);
	SELECT kinesis.create_stream('captured', 2);
	SELECT kinesis.create_stream('enc_aws', 2);
});
wait_active($_) for qw(plain resharded scaled captured enc_aws);
$src->safe_psql('app', q{SELECT kinesis.create_stream('enc_cmk', 2)});
wait_active('enc_cmk');

# plain: put_record and put_records, odd bytes and keys, a longer retention
is(put_many('plain', 'single', 1000), '1000', 'plain: 1000 records by put_record');
is(put_batches('plain', 'batch', 2), '0,0', 'plain: 1000 records by put_records');
$src->safe_psql('app', q{
	SELECT kinesis.put_record('plain',
	           (SELECT decode(string_agg(lpad(to_hex(b), 2, '0'), ''), 'hex') FROM generate_series(0, 255) b),
	           'ключ ''quoted'' \ back\slash');
	SELECT kinesis.put_record('plain', '\x00'::bytea, 'z', '340282366920938463463374607431768211455');
	SELECT kinesis.increase_stream_retention_period('plain', 168);
	SELECT kinesis.add_tags_to_stream('plain', '{"team": "data", "env": "test", "cost-center": "42"}');
	SELECT kinesis.remove_tags_from_stream('plain', ARRAY['env']);
});

# resharded: records before a split, between the split and a merge, after
$src->safe_psql('app', q{SELECT kinesis.add_tags_to_stream('resharded', '{"owner": "alice@example.com", "tier": "gold"}')});
put_many('resharded', 'r1', 600);
$src->safe_psql('app', q{
	SELECT kinesis.split_shard('resharded', 'shardId-000000000000', '85070591730234615865843651857942052864');
});
wait_active('resharded');
put_many('resharded', 'r2', 600);
$src->safe_psql('app', q{
	SELECT kinesis.merge_shards('resharded', 'shardId-000000000003', 'shardId-000000000001');
});
wait_active('resharded');
put_many('resharded', 'r3', 600);

# scaled: update_shard_count 2 -> 3, retention up then down, monitoring
put_many('scaled', 's1', 500);
$src->safe_psql('app', q{SELECT kinesis.update_shard_count('scaled', 3)});
wait_active('scaled');
put_many('scaled', 's2', 500);
$src->safe_psql('app', q{
	SELECT kinesis.increase_stream_retention_period('scaled', 72);
	SELECT kinesis.decrease_stream_retention_period('scaled', 48);
	SELECT kinesis.enable_enhanced_monitoring('scaled', ARRAY['IncomingBytes', 'OutgoingRecords']);
});

# captured: row changes of a table through the capture trigger
$src->safe_psql('app', q{
	CREATE TABLE app_orders (id integer PRIMARY KEY, customer text NOT NULL, amount numeric, note text);
	CREATE TRIGGER app_orders_capture AFTER INSERT OR UPDATE OR DELETE ON app_orders
	    FOR EACH ROW EXECUTE FUNCTION kinesis.capture_trigger('captured', 'customer');
	INSERT INTO app_orders SELECT i, 'customer-' || (i % 37), i * 1.5, 'note ' || i
	  FROM generate_series(1, 1000) i;
	UPDATE app_orders SET amount = amount + 1, note = note || E' \'upd\'' WHERE id % 10 < 3;
	DELETE FROM app_orders WHERE id % 10 = 9;
});

# enc_aws: plaintext records, then the AWS-managed key
put_many('enc_aws', 'a1', 400);
$src->safe_psql('app', q{SELECT kinesis.start_stream_encryption('enc_aws', 'KMS', 'alias/aws/kinesis')});
wait_active('enc_aws');
is(put_batches('enc_aws', 'a2', 1), '0', 'enc_aws: records put while encrypted');

# enc_cmk: plaintext records, then a customer key; a spare key, disabled
$src->safe_psql('app', q{
	SELECT kinesis.create_kms_key('dump test key', 'alias/dump-test');
	SELECT kinesis.create_kms_key('spare key', 'alias/spare');
	SELECT kinesis.disable_kms_key('alias/spare');
	SELECT kinesis.add_tags_to_stream('enc_cmk', '{"secure": "yes"}');
});
put_many('enc_cmk', 'c1', 400);
$src->safe_psql('app', q{SELECT kinesis.start_stream_encryption('enc_cmk', 'KMS', 'alias/dump-test')});
wait_active('enc_cmk');
put_many('enc_cmk', 'c2', 400);

# consumers, ACTIVE through the worker, with checkpoints in some shards:
# about a third into the shard, and at the very last record of one
$src->safe_psql('app', q{
	SELECT kinesis.register_stream_consumer(kinesis.stream_arn('resharded'), 'billing');
	SELECT kinesis.register_stream_consumer(kinesis.stream_arn('resharded'), 'analytics');
	SELECT kinesis.register_stream_consumer(kinesis.stream_arn('plain'), 'audit');
	SELECT kinesis.register_stream_consumer(kinesis.stream_arn('enc_cmk'), 'crypto');
});
ok($src->poll_query_until('app', q{
	SELECT count(*) = 4 AND bool_and(consumer_status = 'ACTIVE') FROM kinesis.consumers}),
	'the consumers are ACTIVE on the source');
is($src->safe_psql('app', q{
	SELECT count(*) FROM (
	    SELECT kinesis.checkpoint(x.stream_name, x.consumer_name, x.shard_id, x.sequence_number)
	      FROM (SELECT c.stream_name, c.consumer_name, r.shard_id, r.sequence_number,
	                   row_number() OVER w AS n, count(*) OVER w AS cnt
	              FROM (VALUES ('resharded', 'billing'), ('plain', 'audit'), ('enc_cmk', 'crypto'))
	                   AS c(stream_name, consumer_name)
	              JOIN kinesis.stream_records r USING (stream_name)
	            WINDOW w AS (PARTITION BY c.consumer_name, r.shard_id
	                         ORDER BY r.sequence_number::numeric
	                         ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)) x
	     WHERE x.shard_id NOT LIKE '%1'
	       AND x.n = CASE WHEN x.consumer_name = 'crypto' AND x.shard_id = 'shardId-000000000000'
	                      THEN x.cnt ELSE x.cnt / 3 + 1 END) s}), '7',
	'checkpoints stored (billing: shards 0, 2, 3, 4; audit: 0, 2; crypto: 0, at its last record)');

# what the source holds
is($src->safe_psql('app', q{
	SELECT string_agg(stream_name || ':' || open_shard_count || '/' || shard_count, ' ' ORDER BY stream_name)
	  FROM kinesis.streams}),
	'captured:2/2 enc_aws:2/2 enc_cmk:2/2 plain:3/3 resharded:2/5 scaled:3/7',
	'source: open and total shards (closed lineage in resharded and scaled)');
is($src->safe_psql('app', q{
	SELECT string_agg(shard_id || '<' || coalesce(parent_shard_id, '-') || ',' || coalesce(adjacent_parent_shard_id, '-')
	                  || CASE WHEN is_open THEN '' ELSE ' closed' END, ' ' ORDER BY shard_index)
	  FROM kinesis.shards WHERE stream_name = 'resharded'}),
	'shardId-000000000000<-,- closed shardId-000000000001<-,- closed '
	  . 'shardId-000000000002<shardId-000000000000,- shardId-000000000003<shardId-000000000000,- closed '
	  . 'shardId-000000000004<shardId-000000000003,shardId-000000000001',
	'source: resharded lineage');
is($src->safe_psql('app', q{
	SELECT string_agg(stream_name || ':' || encryption_type || ':' || n, ' ' ORDER BY stream_name, encryption_type)
	  FROM (SELECT stream_name, encryption_type, count(*) AS n FROM kinesis.stream_records
	         WHERE stream_name LIKE 'enc%' GROUP BY 1, 2) x}),
	'enc_aws:KMS:500 enc_aws:NONE:400 enc_cmk:KMS:400 enc_cmk:NONE:400',
	'source: encrypted streams hold plaintext and encrypted records');
is($src->safe_psql('app', q{SELECT count(*) FROM kinesis.stream_records WHERE stream_name = 'captured'}),
	'1400', 'source: the capture trigger put 1400 row changes');

my $src_catalog = catalog_snapshot($src, 'app');
my $src_records = shard_listing($src, 'app', @streams);
my $src_resume = $src->safe_psql('app', $resume_query);
my $total = 0;
$total += scalar(@{ $src_records->{$_} }) for keys %$src_records;
is($total, 1000 + 1000 + 2 + 1800 + 1000 + 1400 + 900 + 800,
	'source: every record reads back through get_records');
is(scalar(keys %$src_records), 21, 'source: 21 shards');
ok(!grep({ $_ ne 't' } map { (split /\|/)[6] } split /\n/, $src_resume),
	'source: every consumer resumes just after its checkpoint');
like($src_resume, qr/^enc_cmk\|crypto\|shardId-000000000000\|\d+\|0\|/m,
	'source: a checkpoint at the end of a shard resumes with nothing');
is($src->safe_psql('app', $no_checkpoint_query), 't|t',
	'source: a shard without a checkpoint resumes at TRIM_HORIZON');

# ---------------------------------------------------------------------
# Dumps
# ---------------------------------------------------------------------
my $tmp = PostgreSQL::Test::Utils::tempdir;
my $custom_dump = "$tmp/app.dump";
my $plain_dump = "$tmp/app.sql";

sub run_tool
{
	my ($node, @cmd) = @_;
	my ($out, $err) = ('', '');
	local $ENV{PGHOST} = $node->host;
	local $ENV{PGPORT} = $node->port;
	my $ok = IPC::Run::run(\@cmd, '>', \$out, '2>', \$err);
	return ($ok, $out, $err);
}

my ($ok, $out, $err) = run_tool($src, $src->installed_command('pg_dump'), '-Fc', '-f', $custom_dump, '-d', 'app');
ok($ok, 'pg_dump -Fc succeeds');
is($err, '', 'pg_dump -Fc reports nothing');
($ok, $out, $err) = run_tool($src, $src->installed_command('pg_dump'), '-Fp', '-f', $plain_dump, '-d', 'app');
ok($ok, 'pg_dump (plain) succeeds');
is($err, '', 'pg_dump (plain) reports nothing');

# ---------------------------------------------------------------------
# Restores into a fresh cluster
# ---------------------------------------------------------------------
my $dst = PostgreSQL::Test::Cluster->new('dump_target');
$dst->init;
$dst->append_conf('postgresql.conf', "shared_preload_libraries = 'kinesis'\n");
$dst->start;
is($dst->safe_psql('postgres', q{
	SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_database}),
	'postgres,template0,template1', 'the target cluster is fresh');

my $pg_restore = $dst->installed_command('pg_restore');

# A parallel restore loads the data of the extension's configuration tables
# concurrently, each in its own transaction, so the load of stream_meta may
# commit after the loads of the tables that reference it.  That happens by
# chance in a plain pg_restore -j; here a lock holds the load of
# stream_meta back (SHARE blocks its COPY but not the foreign key checks of
# the other tables' loads) until the load of shard_meta has ended, either
# way, so that the outcome does not depend on scheduling.
sub parallel_restore
{
	my ($db) = @_;
	my ($ok1, $out1, $err1) = run_tool($dst, $pg_restore, '--section=pre-data', '-d', $db, $custom_dump);
	my $blocker = $dst->background_psql($db);
	$blocker->set_query_timer_restart;
	$blocker->query_safe('BEGIN; LOCK TABLE kinesis.stream_meta IN SHARE MODE;');
	my ($data_out, $data_err) = ('', '');
	my $data;
	{
		local $ENV{PGHOST} = $dst->host;
		local $ENV{PGPORT} = $dst->port;
		$data = IPC::Run::start([ $pg_restore, '-j', '4', '--section=data', '-d', $db, $custom_dump ],
			'>', \$data_out, '2>', \$data_err);
	}
	my $deadline = time() + $PostgreSQL::Test::Utils::timeout_default;
	while (time() < $deadline)
	{
		$data->pump_nb;
		last if $data_err =~ /"shard_meta"/;
		last if $dst->safe_psql($db, 'SELECT EXISTS (SELECT 1 FROM kinesis.shard_meta)') eq 't';
		usleep(100_000);
	}
	$blocker->query_safe('COMMIT');
	$blocker->quit;
	my $ok2 = $data->finish;
	my ($ok3, $out3, $err3) = run_tool($dst, $pg_restore, '--section=post-data', '-d', $db, $custom_dump);
	return ($ok1 && $ok2 && $ok3, '', join('', $err1, $data_err, $err3));
}

my @restored = (
	[ 'restored_custom', 'pg_restore',
	  sub { run_tool($dst, $pg_restore, '-d', $_[0], $custom_dump) } ],
	[ 'restored_parallel', 'pg_restore -j 4', \&parallel_restore ],
	[ 'restored_plain', 'psql of the plain dump',
	  sub { run_tool($dst, $dst->installed_command('psql'), '-X', '-q', '-o', '/dev/null',
			  '-d', $_[0], '-f', $plain_dump) } ],
);

for my $r (@restored)
{
	my ($db, $how, $restore) = @$r;
	$dst->safe_psql('postgres', "CREATE DATABASE $db");
	($ok, $out, $err) = $restore->($db);
	ok($ok, "$db: $how exits with success");
	is($err, '', "$db: $how reports no error");
}

# The checks of one restored database; a failure that ends them early (an
# error from a query) counts as one failed test and the other databases are
# still checked.
sub check_restored
{
	my ($db) = @_;

	# --- the catalog, as the source had it
	my $cat = catalog_snapshot($dst, $db);
	for my $name (sort keys %catalog_queries)
	{
		same_lines($cat->{$name}, $src_catalog->{$name}, "$db: $name as on the source");
	}

	# --- every record of every shard, in order
	my $recs = shard_listing($dst, $db, @streams);
	is(join(' ', sort keys %$recs), join(' ', sort keys %$src_records), "$db: the same shards hold records");
	for my $shard (sort keys %$src_records)
	{
		same_lines(join("\n", @{ $recs->{$shard} // [] }), join("\n", @{ $src_records->{$shard} }),
			"$db: $shard reads back the same " . scalar(@{ $src_records->{$shard} }) . ' records');
	}

	# --- consumers resume from their checkpoints
	my $resume = $dst->safe_psql($db, $resume_query);
	same_lines($resume, $src_resume, "$db: each consumer resumes where it did on the source");
	ok(!grep({ $_ ne 't' } map { (split /\|/)[6] } split /\n/, $resume),
		"$db: the iterator from each checkpoint yields exactly the records after it");
	is($dst->safe_psql($db, $no_checkpoint_query), 't|t',
		"$db: a shard without a checkpoint resumes at TRIM_HORIZON");

	# --- new puts into every open shard: larger numbers, read after the old ones
	my $puts = $dst->safe_psql($db, $shard_log_fn . q{
		CREATE TEMP TABLE tops AS
		SELECT h.stream_name, h.shard_id, h.starting_hash_key,
		       (SELECT max(l.seq::numeric) FROM pg_temp.shard_log(h.stream_name, h.shard_id) l) AS top
		  FROM kinesis.shards h WHERE h.is_open;
		CREATE TEMP TABLE puts AS
		SELECT t.stream_name, t.shard_id AS target, t.top, p.*
		  FROM tops t,
		       LATERAL kinesis.put_record(t.stream_name, convert_to('after restore ' || t.shard_id, 'UTF8'),
		                                  'after-restore', t.starting_hash_key::text) p;
		SELECT stream_name, target, shard_id = target, sequence_number::numeric > coalesce(top, 0),
		       sequence_number, encryption_type
		  FROM puts ORDER BY 1, 2;
	});
	my @put_rows = map { [ split /\|/ ] } split /\n/, $puts;
	is(scalar(@put_rows), 14, "$db: one put into each of the 14 open shards");
	is(join(', ', map { "$_->[0] $_->[1]" } grep { $_->[2] ne 't' } @put_rows), '',
		"$db: each new record lands in its target shard");
	ok(!grep({ $_->[3] ne 't' } @put_rows),
		"$db: each new sequence number is larger than every restored one of its shard")
	  or diag($puts);
	ok(!grep({ $_->[5] ne ($_->[0] =~ /^enc_/ ? 'KMS' : 'NONE') } @put_rows),
		"$db: new records are encrypted in the encrypted streams only")
	  or diag($puts);

	my $after = shard_listing($dst, $db, @streams);
	my @bad;
	for my $shard (sort keys %$src_records)
	{
		my @old = @{ $src_records->{$shard} };
		my @now = @{ $after->{$shard} // [] };
		my ($put) = grep { "$_->[0] $_->[1]" eq $shard } @put_rows;
		my @want = @old;
		if ($put)
		{
			my $hex = unpack('H*', "after restore $put->[1]");
			push @want, "$put->[4] \"after-restore\" $hex $put->[5]";
			$now[-1] =~ s/ [^ ]+ [^ ]+$// if @now;    # drop the arrival time
		}
		push @bad, $shard unless join("\n", @now) eq join("\n", @want);
	}
	is(join(', ', @bad), '',
		"$db: every shard reads its restored records, then the new one");

	# the capture trigger, restored after the data, fires once per change
	is($dst->safe_psql($db, q{
		INSERT INTO app_orders VALUES (5000, 'restored customer', 1, 'after restore');
		SELECT count(*) FILTER (WHERE CASE WHEN partition_key = 'after-restore' THEN false
		                                   ELSE convert_from(data, 'UTF8')::jsonb #>> '{new,id}' = '5000' END),
		       count(*)
		  FROM kinesis.stream_records WHERE stream_name = 'captured';
	}), '1|1403', "$db: the restored capture trigger puts each new change once (and only new ones)");

	# --- the maintenance worker serves the restored database
	ok($dst->poll_query_until($db, 'SELECT kinesis.maintenance_worker_pid() IS NOT NULL'),
		"$db: a maintenance worker runs");
	$dst->safe_psql($db, q{SELECT kinesis.create_stream('after_restore', 2)});
	ok($dst->poll_query_until($db,
		q{SELECT stream_status = 'ACTIVE' FROM kinesis.streams WHERE stream_name = 'after_restore'}),
		"$db: a stream created after the restore reaches ACTIVE");
	is($dst->safe_psql($db, q{
		SELECT (SELECT stream_id FROM kinesis.stream_meta WHERE stream_name = 'after_restore')
		       > (SELECT max(stream_id) FROM kinesis.stream_meta WHERE stream_name <> 'after_restore')}),
		't', "$db: it gets a new stream id");

	# --- the key store: the AWS-managed key is the restored one
	$dst->safe_psql($db, q{SELECT kinesis.start_stream_encryption('after_restore', 'KMS', 'alias/aws/kinesis')});
	ok($dst->poll_query_until($db, q{
		SELECT stream_status = 'ACTIVE' AND encryption_type = 'KMS' FROM kinesis.streams
		 WHERE stream_name = 'after_restore'}),
		"$db: encryption with alias/aws/kinesis is switched on by the worker");
	is($dst->safe_psql($db, q{
		SELECT (SELECT kms_key_ref FROM kinesis.stream_meta WHERE stream_name = 'after_restore')
		       = (SELECT kms_key_ref FROM kinesis.stream_meta WHERE stream_name = 'enc_aws'),
		       (SELECT count(*) FROM kinesis.kms_key_store WHERE aws_managed)}),
		't|1', "$db: alias/aws/kinesis names the restored AWS-managed key");
	is($dst->safe_psql($db, q{
		CREATE TEMP TABLE fresh AS
		SELECT * FROM kinesis.put_record('after_restore', convert_to('fresh', 'UTF8'), 'k');
		SELECT p.encryption_type || ' ' || convert_from(r.data, 'UTF8') || ' ' || r.encryption_type
		  FROM fresh p,
		       kinesis.get_records(kinesis.get_shard_iterator('after_restore', p.shard_id, 'TRIM_HORIZON')) g,
		       unnest(g.records) r}),
		'KMS fresh KMS', "$db: a record put to it is encrypted and reads back");
	is($dst->safe_psql($db, q{
		SELECT count(*) FROM kinesis.create_kms_key('after restore', 'alias/after-restore') k
		 WHERE k.key_id IS NOT NULL;
		SELECT max(key_ref) FROM kinesis.kms_key_store}),
		"1\n4", "$db: a new key can be created in the restored key store");
}

for my $r (@restored)
{
	my ($db) = @$r;
	eval { check_restored($db); 1 }
	  or fail("$db: the checks ended early: $@");
}

# ---------------------------------------------------------------------
# A dump taken while transitions are pending
# ---------------------------------------------------------------------
# A producer transaction left open keeps maintenance from carrying out an
# UpdateShardCount, a SplitShard and a DeleteStream (each waits for puts in
# flight, and is skipped and retried), so the dump holds three streams that
# are UPDATING or DELETING with their transitions due.  In the restored
# database the worker carries them out once the restore is complete.  The
# data section is restored while a lock holds the load of the records
# tables back, as a large records table would: in the archive they come
# between stream_meta and shard_meta, and the worker must not act on the
# half-restored catalog in the meantime.
$src->safe_psql('postgres', 'CREATE DATABASE busy');
$src->safe_psql('busy', q{
	CREATE EXTENSION kinesis;
	SELECT kinesis.create_stream('grow', 2);
	SELECT kinesis.create_stream('split', 2);
	SELECT kinesis.create_stream('gone', 1);
	SELECT kinesis.create_stream('steady', 2);
	SELECT kinesis.wait_for_stream(s) FROM unnest(ARRAY['grow', 'split', 'gone', 'steady']) s;
	SELECT count(*) FROM unnest(ARRAY['grow', 'split', 'gone', 'steady']) s, generate_series(1, 300) i,
	       LATERAL kinesis.put_record(s, convert_to(s || '-' || i, 'UTF8'), 'key-' || i) p;
});
my $producer = $src->background_psql('busy');
$producer->set_query_timer_restart;
$producer->query_safe(q{
	BEGIN;
	SELECT kinesis.put_record(s, 'in flight', 'k') FROM unnest(ARRAY['grow', 'split', 'gone']) s;
});
$src->safe_psql('busy', q{
	SELECT kinesis.update_shard_count('grow', 3);
	SELECT kinesis.split_shard('split', 'shardId-000000000000', '85070591730234615865843651857942052864');
	SELECT kinesis.delete_stream('gone');
});
ok($src->poll_query_until('busy', q{
	SELECT count(*) = 3 FROM kinesis.maintenance
	 WHERE outcome = 'skipped' AND stream_name IN ('grow', 'split', 'gone')}),
	'busy: maintenance holds the three transitions back while puts are in flight');
is($src->safe_psql('busy', q{
	SELECT string_agg(stream_name || ':' || stream_status, ' ' ORDER BY stream_name) FROM kinesis.streams}),
	'gone:DELETING grow:UPDATING split:UPDATING steady:ACTIVE',
	'busy: the dump sees the transitions pending');
my $busy_records = shard_listing($src, 'busy', qw(grow split steady));
my $busy_dump = "$tmp/busy.dump";
($ok, $out, $err) = run_tool($src, $src->installed_command('pg_dump'), '-Fc', '-f', $busy_dump, '-d', 'busy');
ok($ok && $err eq '', 'busy: pg_dump -Fc succeeds') or diag($err);
$producer->query_safe('ROLLBACK');
$producer->quit;
# what the transitions leave on the source
ok($src->poll_query_until('busy', q{
	SELECT count(*) = 3 AND bool_and(stream_status = 'ACTIVE') FROM kinesis.stream_meta}),
	'busy: the source carries the transitions out');
my $shape_query = q{
	SELECT stream_name, shard_id, parent_shard_id, adjacent_parent_shard_id,
	       starting_hash_key, ending_hash_key, is_open
	  FROM kinesis.shards ORDER BY stream_name, shard_index};
my $busy_shape = $src->safe_psql('busy', $shape_query);

eval {
	$dst->safe_psql('postgres', 'CREATE DATABASE busy_restored');
	my $restore = $pg_restore;
	($ok, $out, $err) = run_tool($dst, $restore, '--section=pre-data', '-d', 'busy_restored', $busy_dump);
	ok($ok && $err eq '', 'busy_restored: pre-data restored') or diag($err);

	# the first records table in the archive (they come in name order)
	my $first = $dst->safe_psql('busy_restored', q{
		SELECT format('kinesis.%I', relname) FROM pg_class
		 WHERE relnamespace = 'kinesis'::regnamespace AND relkind = 'r' AND relname ~ '^records_\d+_\d+$'
		 ORDER BY relname COLLATE "C" LIMIT 1});
	my $blocker = $dst->background_psql('busy_restored');
	$blocker->set_query_timer_restart;
	$blocker->query_safe("BEGIN; LOCK TABLE $first IN ACCESS EXCLUSIVE MODE;");
	my ($data_out, $data_err) = ('', '');
	my $data;
	{
		local $ENV{PGHOST} = $dst->host;
		local $ENV{PGPORT} = $dst->port;
		$data = IPC::Run::start([ $restore, '--section=data', '-d', 'busy_restored', $busy_dump ],
			'>', \$data_out, '2>', \$data_err);
	}
	ok($dst->poll_query_until('busy_restored', qq{
		SELECT count(*) > 0 FROM pg_stat_activity
		 WHERE datname = 'busy_restored' AND wait_event_type = 'Lock'
		   AND query LIKE 'COPY $first %'}),
		'busy_restored: the data restore waits before the records tables');
	# the worker has had a full pass over the streams restored so far (its
	# passes go in stream id order, and steady, the last, gets a metrics
	# roll-up in the first one)
	$dst->poll_query_until('busy_restored', q{
		SELECT kinesis.maintenance_worker_pid() IS NULL
		    OR EXISTS (SELECT 1 FROM kinesis.maintenance_status
		                WHERE task = 'metrics' AND stream_id = (SELECT max(stream_id) FROM kinesis.stream_meta))});
	$blocker->query_safe('COMMIT');
	$blocker->quit;
	$data->finish;
	is($data_err, '', 'busy_restored: the data section restores without error');
	($ok, $out, $err) = run_tool($dst, $restore, '--section=post-data', '-d', 'busy_restored', $busy_dump);
	ok($ok && $err eq '', 'busy_restored: post-data restored') or diag($err);

	# the worker finishes the transitions; a task that still fails after
	# the restore is complete ends the wait
	my $restored_at = $dst->safe_psql('busy_restored', 'SELECT clock_timestamp()');
	$dst->poll_query_until('busy_restored', qq{
		SELECT NOT EXISTS (SELECT 1 FROM kinesis.stream_meta WHERE stream_status <> 'ACTIVE')
		    OR EXISTS (SELECT 1 FROM kinesis.maintenance
		                WHERE outcome = 'error' AND last_run > '$restored_at')});
	is($dst->safe_psql('busy_restored', q{
		SELECT string_agg(stream_name || ':' || stream_status, ' ' ORDER BY stream_name) FROM kinesis.streams}),
		'grow:ACTIVE split:ACTIVE steady:ACTIVE',
		'busy_restored: the pending transitions are carried out after the restore')
	  or diag($dst->safe_psql('busy_restored', q{
		SELECT stream_name, task, outcome, detail FROM kinesis.maintenance
		 WHERE task <> 'metrics' ORDER BY 1, 2}));
	same_lines($dst->safe_psql('busy_restored', $shape_query), $busy_shape,
		'busy_restored: shards, hash ranges and lineage as the transitions left them on the source');
	my $recs = shard_listing($dst, 'busy_restored', qw(grow split steady));
	for my $shard (sort keys %$busy_records)
	{
		same_lines(join("\n", @{ $recs->{$shard} // [] }), join("\n", @{ $busy_records->{$shard} }),
			"busy_restored: $shard reads back the same " . scalar(@{ $busy_records->{$shard} }) . ' records');
	}
	is($dst->safe_psql('busy_restored', q{
		SELECT count(*) FILTER (WHERE p.sequence_number IS NOT NULL)
		  FROM kinesis.shards h,
		       LATERAL kinesis.put_record(h.stream_name, 'new', 'k', h.starting_hash_key::text) p
		 WHERE h.is_open}), '8', 'busy_restored: every open shard takes new records');
	1;
} or fail("busy_restored: the checks ended early: $@");

$dst->stop;
$src->stop;
done_testing();
