# Crash safety under load.  Producers of three kinds (one put_record per
# transaction, put_records batches of 20..100 entries, rows captured by
# kinesis.capture_trigger) and a consumer that applies what it reads and
# checkpoints in the same transaction run as separate psql processes while
# the POSTMASTER is killed with SIGKILL at random moments, round after round;
# its orphaned children are killed too and the server is started again.
# Some rounds request a resharding (held back by kinesis.update_stream_delay)
# just before the kill; after the earlier one, the producers wait until it
# is done and the last put to every parent shard before it closes is one
# this test rolls back.  Afterwards:
#
#   * every record whose COMMIT was acknowledged to its producer is read back
#     exactly once, in order, under the shard and sequence number the put
#     returned (trigger events: found by their payload);
#   * a transaction whose COMMIT did not return is wholly present or wholly
#     absent (every record carries its transaction id, its index and the
#     transaction's record count), and a rolled-back transaction is absent;
#   * after every restart a new put gets a number above every committed and
#     every acknowledged one of its shard;
#   * a resharding pending at a crash is completed by the worker after the
#     restart, with valid lineage; a closed parent reads to its end and then
#     names its children;
#   * the consumer, resumed from its checkpoints until caught up, has applied
#     every record exactly once, in shard order, parents before children.
#
# Producers log "ACK ..." with psql's \echo only after COMMIT returned, so a
# log line is an acknowledgement.  Waits are polls; the sleeps only pace the
# load and pick the moments of the crashes.  KINESIS_CRASH_SEED=<n> repeats a
# run's schedule (the load periods, the delays, which rounds reshard and
# how); KINESIS_CRASH_ROUNDS=<n> (at least 4) changes the number of crashes.
use strict;
use warnings;
use POSIX qw(WNOHANG);
use Cwd qw(abs_path);
use Time::HiRes qw(usleep time);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

plan skip_all => 'the postmaster kill needs Linux /proc' unless -d "/proc/$$/fd";

my $seed = $ENV{KINESIS_CRASH_SEED} // ((time() * 1000 ^ $$ * 7919) % 2_000_000_000);
my $rounds = $ENV{KINESIS_CRASH_ROUNDS} // 5;
$rounds = 4 if $rounds < 4;
srand($seed);
note "seed $seed, $rounds rounds (KINESIS_CRASH_SEED=$seed repeats the schedule)";

# The schedule is drawn first, so that a seed repeats it whatever the
# scripts below draw later: how long the load runs before each kill, how long
# the orphans of the killed postmaster may go on before they are killed too,
# and which two rounds end with a resharding pending (one split, one
# update_shard_count, in a random order).
my @plan = map {
	{ load => 0.8 + rand(2.2), grace => (rand() < 0.5 ? 0 : rand(0.3)), pick => rand() }
} 1 .. $rounds;
{
	my $a = int(rand($rounds));
	my $b = int(rand($rounds - 1));
	$b++ if $b >= $a;
	my @kinds = rand() < 0.5 ? ('split', 'scale') : ('scale', 'split');
	$plan[$a]{transition} = $kinds[0];
	$plan[$b]{transition} = $kinds[1];
	# the earlier one is followed by at least one more crash
	$plan[ $a < $b ? $a : $b ]{quiet} = 1;
}
note sprintf('round %d: load %.2fs, %s%s',
	$_ + 1, $plan[$_]{load},
	$plan[$_]{grace} ? sprintf('its orphans killed %.3fs after the postmaster', $plan[$_]{grace})
	  : 'every process of the cluster killed at once',
	$plan[$_]{transition}
	  ? ", $plan[$_]{transition} pending at the kill"
	  . ($plan[$_]{quiet} ? ' (then completed without load, after a rolled-back put to every parent)'
		  : ' (then completed under load)')
	  : '')
  for 0 .. $#plan;

# The postmaster is started by pg_ctl, which exits: its children are
# reparented.  A killed postmaster has to be reaped before a new one can
# take the lock file (a zombie's pid still answers kill 0), and init may not
# reap (some containers' PID 1 does not), so this process becomes the
# reaper of its orphaned descendants.
sub become_subreaper
{
	my $nr = eval { require 'syscall.ph'; main::SYS_prctl() };
	$nr //= { x86_64 => 157, aarch64 => 167 }->{ (POSIX::uname())[4] };
	return defined $nr && syscall($nr, 36, 1, 0, 0, 0) == 0;    # PR_SET_CHILD_SUBREAPER
}
my $subreaper = become_subreaper();
note $subreaper ? 'this test reaps the orphans of killed postmasters'
  : 'could not become a subreaper: relying on init to reap';

my $node = PostgreSQL::Test::Cluster->new('crashload');
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'kinesis'
restart_after_crash = on
kinesis.worker = on
max_connections = 50
});
$node->start;
my $datadir = abs_path($node->data_dir);
my $connstr = $node->connstr('postgres');
my $work = PostgreSQL::Test::Utils::tempdir;

$node->safe_psql('postgres', <<'SQL');
	CREATE EXTENSION kinesis;
	SELECT kinesis.create_stream('load', 2);
	SELECT kinesis.wait_for_stream('load');
	SELECT kinesis.register_stream_consumer(kinesis.stream_arn('load'), 'c1');

	-- rows of this table become events of the stream
	CREATE TABLE ev (id bigint PRIMARY KEY, k text NOT NULL, payload text NOT NULL);
	CREATE TRIGGER ev_capture AFTER INSERT ON ev
	    FOR EACH ROW EXECUTE FUNCTION kinesis.capture_trigger('load', 'k');

	-- the consumer's own table, and the shards it has read to their end
	CREATE TABLE consumed (ord bigserial PRIMARY KEY, shard_id text NOT NULL,
	                       seq numeric NOT NULL, data text NOT NULL);
	CREATE TABLE consumer_done (shard_id text PRIMARY KEY, children text[] NOT NULL);

	-- One step of the consumer, one transaction: for every shard whose
	-- parents it has finished, read from the checkpoint, apply, checkpoint.
	-- Returns the records applied plus the shards finished.
	CREATE FUNCTION consume_step(lim integer) RETURNS integer
	LANGUAGE plpgsql AS $$
	DECLARE
	    sh record;
	    g record;
	    k integer;
	    progress integer := 0;
	BEGIN
	    FOR sh IN SELECT s.shard_id, s.parent_shard_id AS p, s.adjacent_parent_shard_id AS a
	                FROM kinesis.shards s WHERE s.stream_name = 'load' ORDER BY s.shard_index
	    LOOP
	        CONTINUE WHEN EXISTS (SELECT 1 FROM consumer_done d WHERE d.shard_id = sh.shard_id);
	        CONTINUE WHEN (sh.p IS NOT NULL AND NOT EXISTS (SELECT 1 FROM consumer_done d WHERE d.shard_id = sh.p))
	                   OR (sh.a IS NOT NULL AND NOT EXISTS (SELECT 1 FROM consumer_done d WHERE d.shard_id = sh.a));
	        SELECT * INTO g FROM kinesis.get_records(kinesis.checkpoint_iterator('load', 'c1', sh.shard_id), lim);
	        k := cardinality(g.records);
	        IF k > 0 THEN
	            INSERT INTO consumed (shard_id, seq, data)
	            SELECT sh.shard_id, r.sequence_number::numeric, convert_from(r.data, 'UTF8')
	              FROM unnest(g.records) WITH ORDINALITY AS r ORDER BY r.ordinality;
	            PERFORM kinesis.checkpoint('load', 'c1', sh.shard_id, (g.records[k]).sequence_number);
	            progress := progress + k;
	        END IF;
	        IF g.next_shard_iterator IS NULL THEN
	            INSERT INTO consumer_done
	            VALUES (sh.shard_id, ARRAY(SELECT c.shard_id FROM unnest(g.child_shards) c ORDER BY 1));
	            progress := progress + 1;
	        END IF;
	    END LOOP;
	    RETURN progress;
	END $$;

	-- What the producers were told (acks), asked to do (sent) and rolled
	-- back themselves (rolled), loaded from their logs.
	CREATE TABLE acks (producer text, ackno integer, kind text, txid text, n integer, idx integer,
	                   tag text, shard_id text, seq numeric, failed integer);
	CREATE TABLE sent (producer text, txid text PRIMARY KEY, kind text, n integer);
	CREATE TABLE rolled (txid text PRIMARY KEY);
	-- the transaction each producer had in flight (or was about to begin)
	-- when a crash ended its run
	CREATE TABLE interrupted (txid text PRIMARY KEY);

	-- Everything the stream holds, read shard by shard from TRIM_HORIZON with
	-- get_records; every record's tag is kind:txid:index:count.
	CREATE TABLE truth (ord bigserial PRIMARY KEY, shard_id text, seq numeric, data text,
	                    tag text, kind text, txid text, idx integer, n integer);
	CREATE TABLE shard_end (shard_id text PRIMARY KEY, records integer, next_null boolean,
	                        children text[]);
	CREATE FUNCTION read_truth() RETURNS void
	LANGUAGE plpgsql AS $$
	DECLARE
	    sh record;
	    it text;
	    g record;
	    n integer;
	    empty integer;
	BEGIN
	    DELETE FROM truth;
	    DELETE FROM shard_end;
	    FOR sh IN SELECT shard_id, is_open FROM kinesis.shards WHERE stream_name = 'load' ORDER BY shard_index LOOP
	        it := kinesis.get_shard_iterator('load', sh.shard_id, 'TRIM_HORIZON');
	        n := 0;
	        empty := 0;
	        LOOP
	            SELECT * INTO g FROM kinesis.get_records(it, 10000);
	            INSERT INTO truth (shard_id, seq, data, tag, kind, txid, idx, n)
	            SELECT sh.shard_id, x.seq, x.data, x.tag,
	                   split_part(x.tag, ':', 1), split_part(x.tag, ':', 2),
	                   split_part(x.tag, ':', 3)::integer, split_part(x.tag, ':', 4)::integer
	              FROM (SELECT r.ordinality, r.sequence_number::numeric AS seq, d.data,
	                           CASE WHEN t.tag ~ '^[a-z]+:[^:]+:[0-9]+:[0-9]+$' THEN t.tag END AS tag
	                      FROM unnest(g.records) WITH ORDINALITY AS r,
	                           LATERAL (SELECT convert_from(r.data, 'UTF8') AS data) d,
	                           LATERAL (SELECT CASE WHEN d.data LIKE '{%'
	                                                THEN d.data::jsonb -> 'new' ->> 'payload'
	                                                ELSE d.data END AS tag) t) x
	             ORDER BY x.ordinality;
	            n := n + cardinality(g.records);
	            IF g.next_shard_iterator IS NULL THEN
	                INSERT INTO shard_end
	                VALUES (sh.shard_id, n, true, ARRAY(SELECT c.shard_id FROM unnest(g.child_shards) c ORDER BY 1));
	                EXIT;
	            END IF;
	            -- an open shard is read when a page comes back empty; a closed
	            -- one may answer a few empty pages before its end, not forever
	            empty := CASE WHEN cardinality(g.records) = 0 THEN empty + 1 ELSE 0 END;
	            IF empty > 0 AND sh.is_open OR empty >= 5 THEN
	                INSERT INTO shard_end VALUES (sh.shard_id, n, false, NULL);
	                EXIT;
	            END IF;
	            it := g.next_shard_iterator;
	        END LOOP;
	    END LOOP;
	END $$;
SQL
ok($node->poll_query_until('postgres',
	q{SELECT consumer_status = 'ACTIVE' FROM kinesis.consumers WHERE consumer_name = 'c1'}),
	'the consumer is ACTIVE')
  or diag($node->safe_psql('postgres', q{
	SELECT * FROM kinesis.consumers;
	SELECT * FROM kinesis.maintenance;
	SELECT * FROM kinesis._due_tasks();
	SELECT pid, backend_type, state, wait_event_type, wait_event, left(query, 60)
	  FROM pg_stat_activity WHERE backend_type LIKE 'kinesis%';
}));

# ---------------------------------------------------------------------
# Clients: each a psql process running a generated script; a new script
# (new transaction ids) is started whenever one ends, while the server is up.
# ---------------------------------------------------------------------
my @clients = (
	{ name => 's1', kind => 'single' },
	{ name => 's2', kind => 'single' },
	{ name => 'b1', kind => 'batch' },
	{ name => 't1', kind => 'trigger' },
	{ name => 'c1', kind => 'consumer' },
);
$_->{runs} = [] for @clients;
my @sent;          # [producer, txid, kind, n]
my @probe_acks;    # acks of the probes put by this process after restarts
my @test_rolled;   # transactions this process rolled back
my $ev_id = 0;
my $sleep = sub { sprintf("SELECT pg_sleep(%.3f) \\gset\n", $_[0]) };

sub script_for
{
	my ($c, $run) = @_;
	my $s = '';
	if ($c->{kind} eq 'single')
	{
		for my $k (1 .. 300)
		{
			my $tx = "$c->{name}-$run-$k";
			push @sent, [ $c->{name}, $tx, 'single', 1 ];
			$s .= "BEGIN;\n"
			  . "SELECT shard_id AS sh, sequence_number AS sq FROM kinesis.put_record('load', "
			  . "convert_to('single:$tx:1:1', 'UTF8'), 'pk" . int(rand(1e9)) . "') \\gset\n";
			# sometimes hold the put in flight for a while
			$s .= $sleep->(rand(0.03)) if rand() < 0.25;
			$s .= "COMMIT;\n\\echo ACK S $tx :sh :sq\n";
			$s .= $sleep->(0.003) if rand() < 0.5;
		}
	}
	elsif ($c->{kind} eq 'batch')
	{
		for my $k (1 .. 100)
		{
			my $tx = "$c->{name}-$run-$k";
			my $n = 20 + int(rand(81));
			push @sent, [ $c->{name}, $tx, 'batch', $n ];
			$s .= "BEGIN;\n"
			  . "SELECT p.failed_record_count AS failed,\n"
			  . "       string_agg(r.shard_id || '/' || r.sequence_number, ',' ORDER BY r.o) AS res\n"
			  . "  FROM kinesis.put_records(ARRAY(\n"
			  . "         SELECT ROW(convert_to('batch:$tx:' || i || ':$n', 'UTF8'), NULL,\n"
			  . "                    md5('$tx/' || i))::kinesis.put_records_request_entry\n"
			  . "           FROM generate_series(1, $n) i ORDER BY i), 'load') p,\n"
			  . "       unnest(p.records) WITH ORDINALITY AS r(sequence_number, shard_id, error_code, error_message, o)\n"
			  . " GROUP BY p.failed_record_count \\gset\n";
			$s .= $sleep->(rand(0.05)) if rand() < 0.3;
			if (rand() < 0.1)
			{
				$s .= "ROLLBACK;\n\\echo RB B $tx\n";
			}
			else
			{
				$s .= "COMMIT;\n\\echo ACK B $tx $n :failed :res\n";
			}
			$s .= $sleep->(0.01 + rand(0.03));
		}
	}
	elsif ($c->{kind} eq 'trigger')
	{
		for my $k (1 .. 200)
		{
			my $tx = "$c->{name}-$run-$k";
			my $n = 1 + int(rand(8));
			push @sent, [ $c->{name}, $tx, 'trig', $n ];
			my @rows = map {
				sprintf("(%d, 'k%d', 'trig:%s:%d:%d')", ++$ev_id, int(rand(1e9)), $tx, $_, $n)
			} 1 .. $n;
			$s .= "BEGIN;\nINSERT INTO ev (id, k, payload) VALUES " . join(', ', @rows) . ";\n";
			$s .= $sleep->(rand(0.03)) if rand() < 0.25;
			$s .= "COMMIT;\n\\echo ACK T $tx $n\n";
			$s .= $sleep->(0.005) if rand() < 0.5;
		}
	}
	else
	{
		for my $k (1 .. 2000)
		{
			$s .= sprintf("SELECT consume_step(%d) AS got \\gset\n", 20 + int(rand(400)));
			$s .= $sleep->(0.02);
		}
	}
	return $s;
}

sub start_client
{
	my ($c) = @_;
	my $run = @{ $c->{runs} } + 1;
	my $base = "$work/$c->{name}.$run";
	open(my $fh, '>', "$base.sql") or die "$base.sql: $!";
	print $fh script_for($c, $run);
	close $fh;
	my $pid = fork();
	die "fork: $!" unless defined $pid;
	if ($pid == 0)
	{
		open(STDIN, '<', '/dev/null');
		open(STDOUT, '>', "$base.out");
		open(STDERR, '>', "$base.err");
		exec('psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $connstr, '-f', "$base.sql")
		  or POSIX::_exit(127);
	}
	push @{ $c->{runs} }, { base => $base, status => undef };
	$c->{pid} = $pid;
	return;
}

# Collect the clients that have ended.
sub reap_clients
{
	for my $c (@clients)
	{
		next unless $c->{pid};
		if (waitpid($c->{pid}, WNOHANG) == $c->{pid})
		{
			$c->{runs}[-1]{status} = $? >> 8;
			$c->{pid} = undef;
		}
	}
	return;
}

# Keep every client running for a while.
sub run_load
{
	my ($seconds) = @_;
	my $end = time() + $seconds;
	while (time() < $end)
	{
		reap_clients();
		$_->{pid} or start_client($_) for @clients;
		usleep(50_000);
	}
	return;
}

sub wait_clients_gone
{
	my $deadline = time() + $PostgreSQL::Test::Utils::timeout_default;
	while (grep { $_->{pid} } @clients)
	{
		reap_clients();
		if (time() > $deadline)
		{
			diag 'clients still running after the crash: terminating them';
			kill 'TERM', map { $_->{pid} } grep { $_->{pid} } @clients;
			$deadline = time() + 10;
		}
		usleep(20_000);
	}
	return;
}

# ---------------------------------------------------------------------
# The crash: SIGKILL of the postmaster, then SIGKILL of every process still
# running in the data directory (so that the port, the lock files and the
# shared memory are free for a new postmaster): at once (a backend dies in
# the middle of whatever it was doing), or after a grace period during which
# the orphaned backends may go on, and commit, and acknowledge.
# ---------------------------------------------------------------------
sub cluster_pids
{
	my @pids;
	opendir(my $d, '/proc') or die "/proc: $!";
	for my $p (grep { /^\d+$/ } readdir $d)
	{
		my $cwd = readlink("/proc/$p/cwd");
		next unless defined $cwd && $cwd eq $datadir;
		open(my $st, '<', "/proc/$p/stat") or next;
		my $stat = <$st> // '';
		close $st;
		next if $stat =~ /\)\s+[ZX]\s/;
		push @pids, $p;
	}
	closedir $d;
	return @pids;
}

my $orphans_killed = 0;

sub crash_server
{
	my ($grace) = @_;
	open(my $fh, '<', "$datadir/postmaster.pid") or die "postmaster.pid: $!";
	chomp(my $pm = <$fh>);
	close $fh;
	my @children = $grace ? () : grep { $_ != $pm } cluster_pids();
	note "killing postmaster $pm with SIGKILL";
	kill('KILL', $pm) or die "could not kill the postmaster $pm: $!";
	if ($grace)
	{
		usleep(int($grace * 1_000_000));
	}
	else
	{
		kill 'KILL', @children;
	}
	my %killed = ($pm => 1, map { $_ => 1 } @children);
	my $deadline = time() + $PostgreSQL::Test::Utils::timeout_default;
	# stragglers: a backend forked just before the kill, an orphan still busy
	while (my @left = grep { $_ != $pm } cluster_pids())
	{
		kill 'KILL', @left;
		$killed{$_}++ for @left;
		$orphans_killed += grep { $killed{$_} == 1 } @left if $grace;
		die 'processes of the killed cluster do not go away' if time() > $deadline;
		usleep(10_000);
	}
	# reap the postmaster (and what else of the cluster was reparented here)
	waitpid($_, WNOHANG) for grep { $_ != $pm } keys %killed;
	while (-e "/proc/$pm")
	{
		# our child (adopted) or, without a subreaper, init's
		last if waitpid($pm, WNOHANG) == $pm;
		BAIL_OUT("the killed postmaster $pm is never reaped") if time() > $deadline;
		usleep(10_000);
	}
	$node->_update_pid(-1);    # its postmaster.pid is stale now
	wait_clients_gone();
	return;
}

# ---------------------------------------------------------------------
# Loading the producers' logs.
# ---------------------------------------------------------------------
my %bad_lines;

sub load_acks
{
	my $csv = "$work/acks.csv";
	my @interrupted;
	open(my $out, '>', $csv) or die "$csv: $!";
	for my $c (grep { $_->{kind} ne 'consumer' } @clients)
	{
		my $no = 0;
		for my $i (0 .. $#{ $c->{runs} })
		{
			my $run = $c->{runs}[$i];
			my $last = 0;
			open(my $in, '<', "$run->{base}.out") or next;
			while (my $line = <$in>)
			{
				chomp $line;
				$no++;
				$last = $1 if $line =~ /^(?:ACK|RB) [SBT] \Q$c->{name}\E-\d+-(\d+)(?: |$)/;
				if ($line =~ /^ACK S (\S+) (shardId-\d+) (\d+)$/)
				{
					print $out join(',', $c->{name}, $no, 'S', $1, 1, 1, "single:$1:1:1", $2, $3, ''), "\n";
				}
				elsif ($line =~ /^ACK B (\S+) (\d+) (\d+) (\S+)$/)
				{
					my ($tx, $n, $failed, @res) = ($1, $2, $3, split(/,/, $4));
					$bad_lines{$line}++ unless @res == $n;
					for my $i (1 .. @res)
					{
						my ($sh, $sq) = split m{/}, $res[ $i - 1 ];
						print $out join(',', $c->{name}, $no, 'B', $tx, $n, $i, "batch:$tx:$i:$n",
							$sh, $sq, $failed), "\n";
					}
				}
				elsif ($line =~ /^ACK T (\S+) (\d+)$/)
				{
					print $out join(',', $c->{name}, $no, 'T', $1, $2, $_, "trig:$1:$_:$2", '', '', ''), "\n"
					  for 1 .. $2;
				}
				elsif ($line =~ /^RB B (\S+)$/)
				{
					print $out join(',', $c->{name}, $no, 'R', $1, '', '', '', '', '', ''), "\n";
				}
				else
				{
					$bad_lines{$line}++;
				}
			}
			close $in;
			push @interrupted, "$c->{name}-" . ($i + 1) . '-' . ($last + 1)
			  if defined $run->{status} && $run->{status} != 0;
		}
	}
	print $out join(',', 'test', 0, 'R', $_, '', '', '', '', '', ''), "\n" for @test_rolled;
	my $no = 0;
	for my $p (@probe_acks)
	{
		$no++;
		print $out join(',', 'probe', $no, 'P', $p->{txid}, 1, 1, $p->{tag}, $p->{shard}, $p->{seq}, ''), "\n";
	}
	close $out;
	my $sentcsv = "$work/sent.csv";
	open($out, '>', $sentcsv) or die "$sentcsv: $!";
	print $out join(',', @$_), "\n" for @sent;
	close $out;
	my $intcsv = "$work/interrupted.csv";
	open($out, '>', $intcsv) or die "$intcsv: $!";
	print $out "$_\n" for @interrupted;
	close $out;
	$node->safe_psql('postgres', qq{
		TRUNCATE acks, sent, rolled, interrupted;
		COPY acks FROM '$csv' (FORMAT csv);
		INSERT INTO rolled SELECT txid FROM acks WHERE kind = 'R';
		DELETE FROM acks WHERE kind = 'R';
		COPY sent FROM '$sentcsv' (FORMAT csv);
		COPY interrupted FROM '$intcsv' (FORMAT csv);
		ANALYZE acks, sent, rolled, interrupted;
	});
	return;
}

# A count that must be zero, with a sample of the offenders when it is not.
sub none
{
	my ($what, $count_sql, $sample_sql) = @_;
	my $n = $node->safe_psql('postgres', "SELECT count(*) FROM ($count_sql) x");
	is($n, '0', $what)
	  or diag("offenders:\n"
		  . $node->safe_psql('postgres', ($sample_sql // $count_sql) . ' LIMIT 20'));
	return;
}

# After a restart: put a record into every open shard and check that each
# gets a number above every other record of its shard, stored (committed
# before the crash, acknowledged or not) or acknowledged.
sub probe_after_restart
{
	my ($round) = @_;
	my $out = $node->safe_psql('postgres', qq{
		SELECT x.tag || ' ' || p.shard_id || ' ' || p.sequence_number
		  FROM (SELECT 'probe:r$round-' || shard_index || ':1:1' AS tag, starting_hash_key
		          FROM kinesis.shards WHERE stream_name = 'load' AND is_open) x,
		       LATERAL kinesis.put_record('load', convert_to(x.tag, 'UTF8'), 'probe',
		                                  explicit_hash_key => x.starting_hash_key::text) p
	});
	for my $line (split /\n/, $out)
	{
		my ($tag, $shard, $seq) = split / /, $line;
		push @probe_acks,
		  { tag => $tag, txid => (split /:/, $tag)[1], shard => $shard, seq => $seq };
	}
	load_acks();
	none("round $round: after the restart new puts get numbers above every committed and acknowledged one of their shard",
		qq{
		SELECT p.tag, p.shard_id, p.seq FROM acks p
		 WHERE p.kind = 'P' AND p.txid LIKE 'r$round-%'
		   AND (EXISTS (SELECT 1 FROM acks a WHERE a.shard_id = p.shard_id AND a.seq >= p.seq AND a.tag <> p.tag)
		        OR EXISTS (SELECT 1 FROM kinesis.stream_records r
		                    WHERE r.stream_name = 'load' AND r.shard_id = p.shard_id
		                      AND r.sequence_number::numeric >= p.seq
		                      AND convert_from(r.data, 'UTF8') <> p.tag))});
	return;
}

# Open shards tile the hash key space; every parent is closed with an ending
# number; children cover their parents' ranges.
sub lineage_problems
{
	return $node->safe_psql('postgres', q{
		WITH s AS (SELECT * FROM kinesis.shards WHERE stream_name = 'load'),
		     o AS (SELECT s.*, lag(ending_hash_key) OVER (ORDER BY starting_hash_key) AS prev_end
		             FROM s WHERE is_open)
		SELECT concat_ws(', ',
		         CASE WHEN (SELECT min(starting_hash_key) FROM o) <> 0
		                OR (SELECT max(ending_hash_key) FROM o) <> 2::numeric ^ 128 - 1
		                OR EXISTS (SELECT 1 FROM o WHERE prev_end IS NOT NULL AND starting_hash_key <> prev_end + 1)
		              THEN 'open shards do not tile the hash key space' END,
		         (SELECT 'parent not closed: ' || string_agg(c.shard_id, ' ')
		            FROM s c JOIN s p ON p.shard_id IN (c.parent_shard_id, c.adjacent_parent_shard_id)
		           WHERE p.is_open OR p.ending_sequence_number IS NULL),
		         (SELECT 'children do not cover: ' || string_agg(p.shard_id, ' ')
		            FROM s p
		           WHERE NOT p.is_open
		             AND NOT EXISTS (SELECT 1 FROM s c
		                              WHERE p.shard_id IN (c.parent_shard_id, c.adjacent_parent_shard_id)
		                             HAVING min(c.starting_hash_key) <= p.starting_hash_key
		                                AND max(c.ending_hash_key) >= p.ending_hash_key)))
	});
}

# Request a resharding that maintenance must hold back for 3 s, so that it
# is still pending when the postmaster is killed right after.
my @transitions;

sub request_transition
{
	my ($r) = @_;
	my $p = $plan[ $r - 1 ];
	my @open = split /\n/, $node->safe_psql('postgres', q{
		SELECT shard_id || ' ' || div(starting_hash_key + ending_hash_key, 2)
		  FROM kinesis.shards WHERE stream_name = 'load' AND is_open ORDER BY shard_index});
	my ($call, $expect_open);
	if ($p->{transition} eq 'split')
	{
		my ($shard, $mid) = split / /, $open[ int($p->{pick} * @open) ];
		$call = "kinesis.split_shard('load', '$shard', '$mid')";
		$expect_open = @open + 1;
	}
	else
	{
		my $cur = @open;
		my @targets = grep { $_ != $cur } (int(($cur + 1) / 2) .. ($cur * 2 < 6 ? $cur * 2 : 6));
		$expect_open = $targets[ int($p->{pick} * @targets) ];
		$call = "kinesis.update_shard_count('load', $expect_open)";
	}
	my $status = (split /\n/, $node->safe_psql('postgres', qq{
		SET kinesis.update_stream_delay = 3000;
		SELECT $call;
		SELECT stream_status || ',' || (pending ->> 'op') FROM kinesis.stream_meta WHERE stream_name = 'load';
	}))[-1];
	is($status, 'UPDATING,' . $p->{transition}, "round $r: $call is pending when the postmaster is killed");
	my $t = { round => $r, call => $call, open => $expect_open, quiet => $p->{quiet} };
	push @transitions, $t;
	return $t;
}

# A put to every open shard that this test rolls back: while a resharding
# waits and nothing else is put, it is the last put to each parent before
# the parent closes.
sub rolled_back_puts
{
	my ($r) = @_;
	my @tags = map { "abort:rb-r$r-$_:1:1" } split /\n/, $node->safe_psql('postgres',
		q{SELECT shard_index FROM kinesis.shards WHERE stream_name = 'load' AND is_open ORDER BY 1});
	$node->safe_psql('postgres', qq{
		BEGIN;
		SELECT count(*)
		  FROM kinesis.shards s,
		       LATERAL kinesis.put_record('load', convert_to('abort:rb-r$r-' || s.shard_index || ':1:1', 'UTF8'),
		                                  'abort', explicit_hash_key => s.starting_hash_key::text) p
		 WHERE s.stream_name = 'load' AND s.is_open;
		ROLLBACK;
	});
	for my $tag (@tags)
	{
		my $tx = (split /:/, $tag)[1];
		push @test_rolled, $tx;
		push @sent, [ 'test', $tx, 'abort', 1 ];
	}
	return;
}

sub check_transition_done
{
	my ($r, $t) = @_;
	ok($node->poll_query_until('postgres',
		q{SELECT stream_status FROM kinesis.streams WHERE stream_name = 'load'}, 'ACTIVE'),
		"round $r: the pending $t->{call} completes after the restart");
	is($node->safe_psql('postgres', q{
		SELECT outcome = 'done' AND last_run > pg_postmaster_start_time()
		  FROM kinesis.maintenance WHERE stream_name = 'load' AND task = 'reshard'}),
		't', "round $r: carried out by maintenance after the restart");
	is($node->safe_psql('postgres',
		q{SELECT open_shard_count FROM kinesis.streams WHERE stream_name = 'load'}),
		$t->{open}, "round $r: with $t->{open} open shards");
	is(lineage_problems(), '', "round $r: and a valid lineage");
	return;
}

# ---------------------------------------------------------------------
# The rounds.
# ---------------------------------------------------------------------
for my $r (1 .. $rounds)
{
	my $p = $plan[ $r - 1 ];
	run_load($p->{load});
	my $pending = $p->{transition} ? request_transition($r) : undef;
	crash_server($p->{grace});
	$node->start;
	probe_after_restart($r);
	if ($pending && $pending->{quiet})
	{
		rolled_back_puts($r);
		check_transition_done($r, $pending);
	}
	# the load goes on (while a pending resharding is carried out, unless
	# it was the quiet one)
	if ($r < $rounds)
	{
		$_->{pid} or start_client($_) for @clients;
	}
	check_transition_done($r, $pending) if $pending && !$pending->{quiet};
}
reap_clients();
is(scalar(grep { $_->{pid} } @clients), 0, 'no client is left after the last crash');

# Client errors other than those of the crashes themselves.
my $crash_noise = qr{
	server\ closed\ the\ connection\ unexpectedly
  | This\ probably\ means\ the\ server\ terminated\ abnormally
  | before\ or\ while\ processing\ the\ request
  | connection\ to\ server\ was\ lost
  | terminating\ connection\ due\ to\ unexpected\ postmaster\ exit
  | terminating\ connection\ because\ of\ crash\ of\ another\ server\ process
  | In\ a\ moment\ you\ should\ be\ able\ to\ reconnect
  | The\ postmaster\ has\ commanded\ this\ server\ process
  | connection\ to\ server\ (on\ socket|at)
  | could\ not\ connect\ to\ server
  | Connection\ refused
  | No\ such\ file\ or\ directory
  | Is\ the\ server\ running
  | the\ database\ system\ is\ (starting\ up|in\ recovery\ mode|shutting\ down|not\ yet\ accepting\ connections)
  | Consistent\ recovery\ state\ has\ not\ been\ yet\ reached
  | no\ connection\ to\ the\ server
  | could\ not\ (send|receive)\ data\ (to|from)\ server
  | Broken\ pipe | Connection\ reset\ by\ peer
  | FATAL:\s*$
}x;
my @unexpected;
my $runs = 0;
for my $c (@clients)
{
	for my $run (@{ $c->{runs} })
	{
		$runs++;
		open(my $in, '<', "$run->{base}.err") or next;
		my @lines = grep { !/$crash_noise/ && /\S/ } <$in>;
		close $in;
		push @unexpected, "$c->{name} ($run->{base}, exit $run->{status}): $_" for @lines;
		push @unexpected, "$c->{name} ($run->{base}) exited with $run->{status} without a message\n"
		  if !@lines && defined $run->{status} && $run->{status} !~ /^[02]$/;
	}
}
is(scalar(@unexpected), 0, "the $runs client runs saw no error but those of the crashes")
  or diag(join('', @unexpected[ 0 .. ($#unexpected < 20 ? $#unexpected : 19) ]));

# ---------------------------------------------------------------------
# What the stream holds against what the producers were told.
# ---------------------------------------------------------------------
load_acks();
is(scalar(keys %bad_lines), 0, 'every line of the producers\' logs is a complete acknowledgement')
  or diag(join("\n", (keys %bad_lines)[0 .. 9]));
$node->safe_psql('postgres', 'SELECT read_truth(); ANALYZE truth, shard_end;');

none('get_records returns exactly what storage holds', q{
	SELECT coalesce(s.shard_id, t.shard_id) AS shard_id, coalesce(s.seq, t.seq) AS seq,
	       s.seq IS NULL AS only_read, t.seq IS NULL AS only_stored
	  FROM (SELECT shard_id, sequence_number::numeric AS seq FROM kinesis.stream_records
	         WHERE stream_name = 'load') s
	  FULL JOIN truth t ON t.shard_id = s.shard_id AND t.seq = s.seq
	 WHERE s.seq IS NULL OR t.seq IS NULL});
none('every shard reads in strictly increasing sequence number order (no number used twice)', q{
	SELECT * FROM (SELECT shard_id, seq, lag(seq) OVER (PARTITION BY shard_id ORDER BY ord) AS prev
	                 FROM truth) x WHERE prev >= seq});
none('every record read back is one a producer put', q{
	SELECT ord, shard_id, left(data, 80) FROM truth t
	 WHERE tag IS NULL
	    OR (kind <> 'probe' AND NOT EXISTS (SELECT 1 FROM sent s WHERE s.txid = t.txid AND s.n = t.n))});
none('no record is read back twice', q{
	SELECT tag, count(*) FROM truth GROUP BY tag HAVING count(*) > 1});
none('every acknowledged record is read back exactly once, with the shard and sequence number it was given', q{
	SELECT a.producer, a.tag, a.shard_id, a.seq, t.c, t.sh, t.sq
	  FROM acks a
	  LEFT JOIN (SELECT tag, count(*) AS c, min(shard_id) AS sh, min(seq) AS sq FROM truth GROUP BY tag) t
	         ON t.tag = a.tag
	 WHERE t.c IS DISTINCT FROM 1 OR (a.seq IS NOT NULL AND (t.sh <> a.shard_id OR t.sq <> a.seq))});
none('no sequence number was acknowledged twice', q{
	SELECT shard_id, seq, count(*) FROM acks WHERE seq IS NOT NULL GROUP BY 1, 2 HAVING count(*) > 1});
none('every producer\'s acknowledged records are in its order within each shard', q{
	SELECT * FROM (
	    SELECT a.producer, a.tag, t.shard_id, t.seq,
	           lag(t.seq) OVER (PARTITION BY a.producer, t.shard_id ORDER BY a.ackno, a.idx) AS prev
	      FROM acks a JOIN truth t ON t.tag = a.tag) x
	 WHERE prev >= seq});
none('no put_records batch reported a failed entry', q{
	SELECT DISTINCT txid, failed FROM acks WHERE kind = 'B' AND failed <> 0});
none('every transaction is wholly present or wholly absent', q{
	SELECT txid, min(n) AS n, count(*) AS present, count(DISTINCT idx) AS distinct_idx
	  FROM truth GROUP BY txid
	HAVING count(*) <> min(n) OR count(DISTINCT idx) <> min(n) OR min(n) <> max(n)
	    OR min(idx) <> 1 OR max(idx) <> min(n)});
none('trigger events and the rows that fired them are both there or both gone, per transaction', q{
	SELECT coalesce(e.txid, t.txid) AS txid, e.c AS rows, t.c AS events
	  FROM (SELECT split_part(payload, ':', 2) AS txid, count(*) AS c FROM ev GROUP BY 1) e
	  FULL JOIN (SELECT txid, count(*) AS c FROM truth WHERE kind = 'trig' GROUP BY 1) t
	         ON t.txid = e.txid
	 WHERE e.c IS DISTINCT FROM t.c});
none('rolled-back transactions are absent', q{
	SELECT txid FROM truth WHERE txid IN (SELECT txid FROM rolled)});

# Closed shards: readable to their end, then no next iterator and the
# children of the lineage; their records within their sequence number range.
my $lineage = q{
	ARRAY(SELECT c.shard_id FROM kinesis.shards c
	       WHERE c.stream_name = 'load' AND s.shard_id IN (c.parent_shard_id, c.adjacent_parent_shard_id)
	       ORDER BY 1)};
none('every closed shard reads to its end, then yields its child shards', qq{
	SELECT s.shard_id, e.next_null, e.children, $lineage AS lineage
	  FROM kinesis.shards s LEFT JOIN shard_end e USING (shard_id)
	 WHERE s.stream_name = 'load'
	   AND CASE WHEN s.is_open THEN e.next_null IS DISTINCT FROM false
	            ELSE e.next_null IS NOT TRUE OR cardinality(e.children) = 0
	                 OR e.children IS DISTINCT FROM $lineage END}, qq{
	SELECT s.shard_id, s.is_open, e.records, e.next_null, e.children, $lineage AS lineage,
	       'ending counter ' || (kinesis.parse_sequence_number(s.ending_sequence_number)).counter
	       || ', last record''s ' || (SELECT max((kinesis.parse_sequence_number(t.seq::text)).counter)
	                                  FROM truth t WHERE t.shard_id = s.shard_id) AS counters
	  FROM kinesis.shards s LEFT JOIN shard_end e USING (shard_id)
	 WHERE s.stream_name = 'load' ORDER BY s.shard_index});
none('records of every shard lie within its sequence number range', q{
	SELECT t.shard_id, t.seq FROM truth t JOIN kinesis.shards s USING (shard_id)
	 WHERE s.stream_name = 'load'
	   AND (t.seq < s.starting_sequence_number::numeric OR t.seq > s.ending_sequence_number::numeric)});
my $closed_with_records = $node->safe_psql('postgres', q{
	SELECT count(*) FROM shard_end e JOIN kinesis.shards s USING (shard_id)
	 WHERE s.stream_name = 'load' AND NOT s.is_open AND e.records > 0});
ok($closed_with_records > 0, "closed parents with records were read ($closed_with_records)");

# ---------------------------------------------------------------------
# The consumer, resumed from its checkpoints until caught up.
# ---------------------------------------------------------------------
ok($node->poll_query_until('postgres', 'SELECT consume_step(2000) = 0'),
	'the consumer catches up from its checkpoints');
none('the consumer applied every record exactly once, with its data', q{
	SELECT coalesce(c.shard_id, t.shard_id) AS shard_id, coalesce(c.seq, t.seq) AS seq, c.n AS applied
	  FROM (SELECT shard_id, seq, count(*) AS n, min(data) AS data FROM consumed GROUP BY 1, 2) c
	  FULL JOIN truth t ON t.shard_id = c.shard_id AND t.seq = c.seq
	 WHERE c.n IS DISTINCT FROM 1 OR t.seq IS NULL OR c.data <> t.data});
none('the consumer applied each shard in order', q{
	SELECT * FROM (SELECT shard_id, seq, lag(seq) OVER (PARTITION BY shard_id ORDER BY ord) AS prev
	                 FROM consumed) x WHERE prev >= seq});
none('the consumer applied parents before children', q{
	SELECT c.shard_id, p.shard_id AS parent
	  FROM (SELECT shard_id, min(ord) AS first FROM consumed GROUP BY 1) c
	  JOIN kinesis.shards s ON s.stream_name = 'load' AND s.shard_id = c.shard_id
	  JOIN (SELECT shard_id, max(ord) AS last FROM consumed GROUP BY 1) p
	    ON p.shard_id IN (s.parent_shard_id, s.adjacent_parent_shard_id)
	 WHERE p.last > c.first});
none('the consumer finished every closed shard and was told its children', qq{
	SELECT s.shard_id, d.children FROM kinesis.shards s LEFT JOIN consumer_done d USING (shard_id)
	 WHERE s.stream_name = 'load' AND NOT s.is_open AND d.children IS DISTINCT FROM $lineage});
none('its checkpoints are the last record of every shard', q{
	SELECT t.shard_id, t.last, k.cp
	  FROM (SELECT shard_id, max(seq) AS last FROM truth GROUP BY 1) t
	  LEFT JOIN (SELECT 'shardId-' || lpad(shard_index::text, 12, '0') AS shard_id,
	                    sequence_number::numeric AS cp
	               FROM kinesis.checkpoints WHERE consumer_name = 'c1') k USING (shard_id)
	 WHERE k.cp IS DISTINCT FROM t.last});

# ---------------------------------------------------------------------
# Summary.
# ---------------------------------------------------------------------
my $summary = $node->safe_psql('postgres', q{
	SELECT concat_ws(E'\n',
	  'acknowledged records: ' || (SELECT count(*) FROM acks)
	    || ' (' || (SELECT string_agg(kind || ' ' || c, ', ' ORDER BY kind)
	                  FROM (SELECT kind, count(*) AS c FROM acks GROUP BY kind) x) || ')',
	  'acknowledged transactions: ' || (SELECT count(DISTINCT txid) FROM acks),
	  'records present: ' || (SELECT count(*) FROM truth) || ' in '
	    || (SELECT count(*) FROM kinesis.shards WHERE stream_name = 'load') || ' shards ('
	    || (SELECT count(*) FROM kinesis.shards WHERE stream_name = 'load' AND is_open) || ' open)',
	  'transactions present without an acknowledgement (committed as the server died): '
	    || (SELECT count(DISTINCT txid) FROM truth t WHERE NOT EXISTS (SELECT 1 FROM acks a WHERE a.txid = t.txid)),
	  'transactions a crash interrupted (in flight, or about to begin): ' || (SELECT count(*) FROM interrupted)
	    || ', wholly present after it: '
	    || (SELECT count(*) FROM interrupted i WHERE EXISTS (SELECT 1 FROM truth t WHERE t.txid = i.txid))
	    || ', records of theirs present: '
	    || (SELECT count(*) FROM truth t JOIN interrupted i USING (txid)),
	  'transactions rolled back by their producer or this test: ' || (SELECT count(*) FROM rolled),
	  'records applied by the consumer: ' || (SELECT count(*) FROM consumed))
});
note "summary (seed $seed):";
note "rounds: $rounds, postmaster kills: $rounds ("
  . scalar(grep { !$_->{grace} } @plan) . " with the whole cluster at once), "
  . "orphans still running after a grace period and killed: $orphans_killed";
my %exits;
$exits{ $_->{status} // 'none' }++ for map { @{ $_->{runs} } } @clients;
note "client runs: $runs (by psql exit status: "
  . join(', ', map { "$_: $exits{$_}" } sort keys %exits) . ')';
note $_ for split /\n/, $summary;
note "resharding pending at a kill: "
  . join('; ', map { "round $_->{round}: $_->{call}" . ($_->{quiet} ? ' (quiet)' : '') } @transitions);
diag "reproduce the schedule with KINESIS_CRASH_SEED=$seed" unless Test::More->builder->is_passing;

$node->stop;
done_testing();
