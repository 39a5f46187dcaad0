# Releases and upgrades.  Version 1.0 is the first release.  While it is
# the current version, releases/kinesis--1.0.sql.sha256 holds the checksum
# of its install script; when the next version is started, the script
# itself is added as releases/kinesis--1.0.sql (built from tag v1.0) and
# installed beside the new one.  Two things are checked:
#
#   * while kinesis.control's default_version is a released version, the
#     install script the build produces is byte for byte the frozen one (or
#     has its checksum): a
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
use Digest::SHA qw(sha256_hex);

my $control = slurp_file('kinesis.control');
my ($current) = $control =~ /^default_version\s*=\s*'([^']+)'/m;
ok(defined $current, "kinesis.control names the default version ($current)");

my %seen;
my @releases = sort grep { !$seen{$_}++ }
  map { m{releases/kinesis--([^-]+)\.sql(\.sha256)?$} ? $1 : () } glob('releases/kinesis--*');
ok(scalar(@releases) > 0, 'releases/ holds the released install scripts or their checksums: ' . join(', ', @releases));

# ---------------------------------------------------------------------
# A released version's script never changes
# ---------------------------------------------------------------------
if (grep { $_ eq $current } @releases)
{
	ok(-e "kinesis--$current.sql", "the build produced kinesis--$current.sql");
	my $built = slurp_file("kinesis--$current.sql");
	my $frozen = -e "releases/kinesis--$current.sql"
	  ? sha256_hex(slurp_file("releases/kinesis--$current.sql"))
	  : (split /\s+/, slurp_file("releases/kinesis--$current.sql.sha256"))[0];
	ok(sha256_hex($built) eq $frozen,
		"the schema of released version $current is unchanged (src/sql/ builds the released script exactly; "
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
# updating needs the earlier release's whole script
my @earlier = grep { $_ ne $current && -e "releases/kinesis--$_.sql" } @releases;
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
		SELECT string_agg(pg_describe_object(classid, objid, 0), E'\n' ORDER BY pg_describe_object(classid, objid, 0))
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
			SELECT string_agg(pg_describe_object(classid, objid, 0), E'\n' ORDER BY pg_describe_object(classid, objid, 0))
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
