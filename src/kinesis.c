/*-------------------------------------------------------------------------
 *
 * kinesis.c
 *		Module set-up for the kinesis extension: PG_MODULE_MAGIC, the GUCs,
 *		the shared-memory hooks, the background worker registration and the
 *		extension's clock.
 *
 * The library must be loaded through shared_preload_libraries: the
 * in-flight table that keeps readers gap-free (inflight.c) lives in shared
 * memory sized at postmaster start.  Loaded any other way, the SQL
 * functions that need it refuse to run with a clear error.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "kinesis.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/* GUC variables */
char	   *kinesis_region = NULL;
char	   *kinesis_account_id = NULL;
int			kinesis_shard_limit = 500;
int			kinesis_max_tracked_shards = 1024;
int			kinesis_test_clock_offset = 0;
static int	kinesis_create_delay = 0;
static int	kinesis_delete_delay = 0;
static int	kinesis_update_delay = 0;
static int	kinesis_consumer_delay = 0;
static int	kinesis_metrics_retention = 24 * 3600;
static int	kinesis_max_scalings = 10;
static int	kinesis_maintenance_lock_timeout = 100;

PG_FUNCTION_INFO_V1(kinesis_now_sql);

/* true when loaded by shared_preload_libraries */
bool		kinesis_preloaded = false;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static void kinesis_shmem_request(void);
static void kinesis_shmem_startup(void);
static bool kinesis_check_account_id(char **newval, void **extra, GucSource source);

/*
 * _PG_init
 *		Define the GUCs; when preloading, also request shared memory.
 */
void
_PG_init(void)
{
	DefineCustomStringVariable("kinesis.region",
							   "AWS region shown in stream ARNs and messages.",
							   NULL,
							   &kinesis_region,
							   "us-east-1",
							   PGC_SUSET,
							   0,
							   NULL, NULL, NULL);

	DefineCustomStringVariable("kinesis.account_id",
							   "Twelve-digit AWS account id shown in stream ARNs and messages.",
							   NULL,
							   &kinesis_account_id,
							   "000000000000",
							   PGC_SUSET,
							   0,
							   kinesis_check_account_id, NULL, NULL);

	DefineCustomIntVariable("kinesis.shard_limit",
							"Maximum number of open shards across all streams (DescribeLimits ShardLimit).",
							NULL,
							&kinesis_shard_limit,
							500,
							1, 1000000,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("kinesis.max_tracked_shards",
							"Number of shards whose counters and in-flight puts shared memory tracks at once.",
							"Idle entries are recycled when the table is full; size it to the number of shards written concurrently.",
							&kinesis_max_tracked_shards,
							1024,
							16, 1000000,
							PGC_POSTMASTER,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("kinesis.test_clock_offset",
							"For tests only: seconds added to the clock that puts, retention and maintenance use.",
							"Lets tests exercise retention without waiting for hours. Never set it in production: arrival times and sequence numbers follow it.",
							&kinesis_test_clock_offset,
							0,
							0, 400 * 24 * 3600,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("kinesis.create_stream_delay",
							"How long a new stream stays CREATING before maintenance makes it ACTIVE.",
							"Emulates AWS timing for testing applications' waiting logic; 0 means at the next maintenance run.",
							&kinesis_create_delay,
							0,
							0, 3600 * 1000,
							PGC_SUSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("kinesis.delete_stream_delay",
							"How long a deleted stream stays DELETING before maintenance removes it.",
							NULL,
							&kinesis_delete_delay,
							0,
							0, 3600 * 1000,
							PGC_SUSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("kinesis.update_stream_delay",
							"How long a split, merge or UpdateShardCount keeps the stream UPDATING before maintenance applies it.",
							NULL,
							&kinesis_update_delay,
							0,
							0, 3600 * 1000,
							PGC_SUSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("kinesis.consumer_delay",
							"How long a registered consumer stays CREATING, and a deregistered one DELETING, before maintenance finishes it.",
							NULL,
							&kinesis_consumer_delay,
							0,
							0, 3600 * 1000,
							PGC_SUSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("kinesis.metrics_retention",
							"How long the per-minute metrics history is kept.",
							NULL,
							&kinesis_metrics_retention,
							24 * 3600,
							60, 400 * 24 * 3600,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("kinesis.max_scalings_per_day",
							"UpdateShardCount calls allowed per stream in a rolling 24 hours.",
							NULL,
							&kinesis_max_scalings,
							10,
							1, 1000000,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("kinesis.maintenance_lock_timeout",
							"How long maintenance waits for a lock before it skips a task and retries later.",
							NULL,
							&kinesis_maintenance_lock_timeout,
							100,
							1, 60 * 1000,
							PGC_SUSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomBoolVariable("kinesis.enforce_throughput_limits",
							 "Enforce AWS's per-shard limits: 1,000 records and 1 MiB written, 5 reads and 2 MiB read per second.",
							 "Puts and reads over the limits fail with ProvisionedThroughputExceededException; put_records fails those entries only.",
							 &kinesis_enforce_throughput,
							 false,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomBoolVariable("kinesis.worker",
							 "Run the maintenance worker in every database that has the extension.",
							 "When off, schedule kinesis.run_maintenance() instead (for example with pg_cron).",
							 &kinesis_worker_enabled,
							 true,
							 PGC_SIGHUP,
							 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("kinesis.worker_naptime",
							"Longest time a maintenance worker sleeps between runs.",
							"Requests wake the worker at once; the nap bounds how late time-based work (delays, trimming) happens.",
							&kinesis_worker_naptime,
							1000,
							10, 3600 * 1000,
							PGC_SIGHUP,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("kinesis.reader_memory_keep",
							"Free memory a backend that reads records keeps mapped for its next read, instead of giving it back to the kernel.",
							"Saves the page faults of materializing large GetRecords answers again on every call; the backend's resident size then stays at its peak. 0 leaves the C library's defaults.",
							&kinesis_reader_memory_keep,
							64 * 1024,
							0, 1024 * 1024,
							PGC_USERSET,
							GUC_UNIT_KB,
							NULL, NULL, NULL);

	MarkGUCPrefixReserved("kinesis");

	if (!process_shared_preload_libraries_in_progress)
		return;

	kinesis_preloaded = true;
	kinesis_worker_register();
	kinesis_utility_register();
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = kinesis_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = kinesis_shmem_startup;
}

/*
 * kinesis_check_account_id
 *		GUC check hook: an account id is exactly twelve digits.
 */
static bool
kinesis_check_account_id(char **newval, void **extra, GucSource source)
{
	const char *p = *newval;
	int			n = 0;

	if (p == NULL)
		return false;
	for (; *p; p++, n++)
		if (*p < '0' || *p > '9')
			break;
	if (*p != '\0' || n != 12)
	{
		GUC_check_errdetail("kinesis.account_id must be exactly 12 digits.");
		return false;
	}
	return true;
}

/*
 * kinesis_shmem_request
 *		shmem_request_hook: reserve the in-flight table (PG 15 requires
 *		requests to happen here, after MaxBackends is known).
 */
static void
kinesis_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	kinesis_inflight_shmem_request();
	kinesis_worker_shmem_request();
}

/*
 * kinesis_shmem_startup
 *		shmem_startup_hook: attach to (or create) the in-flight table.
 */
static void
kinesis_shmem_startup(void)
{
	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	kinesis_inflight_shmem_startup();
	kinesis_worker_shmem_startup();
}

/*
 * kinesis_require_preload
 *		Refuse data-plane calls when the library was not preloaded: without
 *		the shared in-flight table a reader could skip records.
 */
void
kinesis_require_preload(void)
{
	if (!kinesis_preloaded)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("kinesis must be loaded via shared_preload_libraries"),
				 errhint("Add kinesis to shared_preload_libraries in postgresql.conf and restart the server.")));
}

/*
 * kinesis_now
 *		The clock of puts, retention and maintenance: the current time plus
 *		kinesis.test_clock_offset (0 outside tests).
 */
TimestampTz
kinesis_now(void)
{
	return GetCurrentTimestamp() + (int64) kinesis_test_clock_offset * USECS_PER_SEC;
}

/*
 * kinesis._now()
 *		kinesis_now() for the SQL control plane.
 */
Datum
kinesis_now_sql(PG_FUNCTION_ARGS)
{
	PG_RETURN_TIMESTAMPTZ(kinesis_now());
}
