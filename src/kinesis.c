/*-------------------------------------------------------------------------
 *
 * kinesis.c
 *		Module set-up for the kinesis extension: PG_MODULE_MAGIC, the GUCs,
 *		and the shared-memory hooks.
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
#include "utils/guc.h"

#include "kinesis.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/* GUC variables */
char	   *kinesis_region = NULL;
char	   *kinesis_account_id = NULL;
int			kinesis_shard_limit = 500;
int			kinesis_max_tracked_shards = 1024;

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

	MarkGUCPrefixReserved("kinesis");

	if (!process_shared_preload_libraries_in_progress)
		return;

	kinesis_preloaded = true;
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
