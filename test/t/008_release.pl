# Releases and upgrades.  Version 1.0 is the first release; its install
# script is frozen in releases/kinesis--1.0.sql and installed beside the
# current one.  Two things are checked:
#
#   * while kinesis.control's default_version is a released version, the
#     install script the build produces is byte for byte the frozen one: a
#     change to the schema must come with a new version and an upgrade
#     script, never silently under a released version number;
#   * every earlier release can be installed and updated to the current
#     version with ALTER EXTENSION kinesis UPDATE, keeping its streams and
#     records, and the result has the same member objects as a fresh
#     installation (names and signatures).  With 1.0 as the only release
#     there is no earlier one yet; the first version after it makes this
#     part run.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $control = slurp_file('kinesis.control');
my ($current) = $control =~ /^default_version\s*=\s*'([^']+)'/m;
ok(defined $current, "kinesis.control names the default version ($current)");

my @releases = sort map { m{releases/kinesis--([^-]+)\.sql$} ? $1 : () } glob('releases/kinesis--*.sql');
ok(scalar(@releases) > 0, 'releases/ holds the frozen install scripts: ' . join(', ', @releases));

# ---------------------------------------------------------------------
# A released version's script never changes
# ---------------------------------------------------------------------
if (grep { $_ eq $current } @releases)
{
	ok(-e "kinesis--$current.sql", "the build produced kinesis--$current.sql");
	my $built = slurp_file("kinesis--$current.sql");
	my $frozen = slurp_file("releases/kinesis--$current.sql");
	ok($built eq $frozen,
		"the schema of released version $current is unchanged (src/sql/ builds releases/kinesis--$current.sql exactly; "
		  . 'a schema change needs a new version and an upgrade script)');
}
else
{
	my @to_current = glob("kinesis--*--$current.sql");
	ok(scalar(@to_current) > 0, "version $current, not released yet, has an upgrade script to it");
}

# ---------------------------------------------------------------------
# Earlier releases update to the current version
# ---------------------------------------------------------------------
my @earlier = grep { $_ ne $current } @releases;
SKIP:
{
	skip "no release before $current yet", 1 unless @earlier;

	my $node = PostgreSQL::Test::Cluster->new('release');
	$node->init;
	$node->append_conf('postgresql.conf', "shared_preload_libraries = 'kinesis'\n");
	$node->start;
	$node->safe_psql('postgres', 'CREATE DATABASE fresh');
	$node->safe_psql('fresh', 'CREATE EXTENSION kinesis CASCADE');
	my $fresh = $node->safe_psql('fresh', q{
		SELECT string_agg(pg_describe_object(classid, objid, 0), E'\n' ORDER BY 1)
		  FROM pg_depend WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
		   AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'kinesis')});
	foreach my $v (@earlier)
	{
		my $db = "from_" . ($v =~ s/\W/_/gr);
		$node->safe_psql('postgres', "CREATE DATABASE $db");
		$node->safe_psql($db, "CREATE EXTENSION kinesis VERSION '$v' CASCADE");
		$node->safe_psql($db, q{
			SELECT kinesis.create_stream('up', 2);
			SELECT kinesis.wait_for_stream('up');
			CREATE TABLE put AS
			SELECT p.sequence_number FROM generate_series(1, 200) i,
			       LATERAL kinesis.put_record('up', convert_to('r' || i, 'UTF8'), 'k' || i) p;
		});
		$node->safe_psql($db, 'ALTER EXTENSION kinesis UPDATE');
		is($node->safe_psql($db, "SELECT extversion FROM pg_extension WHERE extname = 'kinesis'"),
			$current, "$v updates to $current");
		is($node->safe_psql($db, q{
			SELECT string_agg(pg_describe_object(classid, objid, 0), E'\n' ORDER BY 1)
			  FROM pg_depend WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
			   AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'kinesis')}),
			$fresh, "after the update from $v, the extension has the objects of a fresh $current");
		is($node->safe_psql($db, q{
			SELECT count(*) FROM kinesis.stream_records r JOIN put p USING (sequence_number)}),
			'200', "the records put under $v are all readable after the update");
	}
	$node->stop;
}

done_testing();
