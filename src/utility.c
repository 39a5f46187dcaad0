/*-------------------------------------------------------------------------
 *
 * utility.c
 *		The extension's ProcessUtility hook: what DROP DATABASE and DROP
 *		EXTENSION need done first.
 *
 * DROP DATABASE fails while anyone is connected to the database, and the
 * maintenance worker always is; so the worker is stopped first, kept from
 * being started again while the drop runs, and started again if the drop
 * fails (worker.c).
 *
 * A stream's records live in bucket tables created at run time, which
 * inherit from the extension's kinesis.records but are not part of the
 * extension (so that pg_dump dumps them with their data).  Without help,
 * DROP EXTENSION kinesis would then need CASCADE; the bucket tables are the
 * extension's own data, so they are dropped first, in the same transaction.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/dbcommands.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"
#include "utils/snapmgr.h"

#include "kinesis.h"

static ProcessUtility_hook_type prev_process_utility = NULL;

/*
 * drops_kinesis
 *		Whether a DROP EXTENSION statement names the installed kinesis.
 */
static bool
drops_kinesis(DropStmt *stmt)
{
	ListCell   *lc;

	if (stmt->removeType != OBJECT_EXTENSION)
		return false;
	foreach(lc, stmt->objects)
	{
		if (strcmp(strVal(lfirst(lc)), "kinesis") == 0)
			return OidIsValid(get_extension_oid("kinesis", true));
	}
	return false;
}

/*
 * drop_bucket_tables
 *		Drop every stream's bucket tables.
 */
static void
drop_bucket_tables(void)
{
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (SPI_execute("SELECT kinesis._drop_bucket_tables()", false, 0) != SPI_OK_SELECT)
		elog(ERROR, "dropping the bucket tables failed");
	PopActiveSnapshot();
	SPI_finish();
}

/*
 * kinesis_process_utility
 *		Do what the two statements need first, then run them as usual.
 */
static void
kinesis_process_utility(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
						ProcessUtilityContext context, ParamListInfo params,
						QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *parsetree = pstmt->utilityStmt;
	volatile Oid dropped_db = InvalidOid;

	if (IsA(parsetree, DropdbStmt))
	{
		dropped_db = get_database_oid(((DropdbStmt *) parsetree)->dbname, true);
		if (OidIsValid(dropped_db))
			kinesis_worker_stop_for_drop(dropped_db);
	}
	else if (IsA(parsetree, DropStmt) && drops_kinesis((DropStmt *) parsetree))
		drop_bucket_tables();

	PG_TRY();
	{
		if (prev_process_utility)
			prev_process_utility(pstmt, queryString, readOnlyTree, context, params,
								 queryEnv, dest, qc);
		else
			standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params,
									queryEnv, dest, qc);
	}
	PG_CATCH();
	{
		/* the database is still there: it gets its worker back */
		if (OidIsValid(dropped_db))
			kinesis_worker_after_drop(dropped_db, false);
		PG_RE_THROW();
	}
	PG_END_TRY();
	if (OidIsValid(dropped_db))
		kinesis_worker_after_drop(dropped_db, true);
}

/*
 * kinesis_utility_register
 *		From _PG_init while preloading: install the hook.
 */
void
kinesis_utility_register(void)
{
	prev_process_utility = ProcessUtility_hook;
	ProcessUtility_hook = kinesis_process_utility;
}
