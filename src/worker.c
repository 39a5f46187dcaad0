/*-------------------------------------------------------------------------
 *
 * worker.c
 *		The maintenance background workers: a launcher, and one worker per
 *		database that has the extension.
 *
 * Every asynchronous part of a stream's life (CREATING -> ACTIVE, DELETING
 * -> gone, UPDATING -> ACTIVE with the new shards, starting new time
 * buckets and dropping expired ones) is a task that SQL function
 * kinesis._run_task() carries out in one short transaction, and
 * kinesis._due_tasks() lists what is due.  A per-database worker runs the
 * due tasks, one transaction each, then sleeps until woken or until
 * kinesis.worker_naptime has passed.  kinesis.run_maintenance() runs the
 * same tasks from SQL, for deployments that schedule it instead.
 *
 * The launcher (a static worker connected to no database) starts the
 * per-database workers.  It cannot see which databases have the extension
 * without connecting to them, so it gives every connectable database one
 * worker when it first sees the database (at start, or once created), which
 * exits at once where the extension is missing and is not started there
 * again until CREATE EXTENSION asks for it.  A
 * per-database worker that dies for any other reason (an error, a signal)
 * is started again by the launcher after a second.  DROP DATABASE stops the
 * database's worker first (see utility.c), so the drop is not blocked by it.
 *
 * A control-plane call that creates work calls kinesis._wake_worker(); the
 * worker's latch is set when that transaction commits, so the change is
 * visible when the worker looks.
 *
 * Shared state is one slot per database that has (or is asked to have) a
 * worker: the worker's pid and latch, a "wanted" flag that a commit sets to
 * ask for a worker, and why the last worker left.  A worker claims its slot
 * when it starts (a second worker for the same database exits at once, so a
 * restarted launcher cannot double them) and frees it when it leaves a
 * database without the extension, unless a request arrived meanwhile, in
 * which case it looks again.  The launcher starts a worker where none is
 * alive and either the database was never looked at, or a request is
 * pending, or the last worker died.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_database.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "kinesis.h"

PGDLLEXPORT void kinesis_launcher_main(Datum main_arg);
PGDLLEXPORT void kinesis_db_worker_main(Datum main_arg);

PG_FUNCTION_INFO_V1(kinesis_wake_worker);
PG_FUNCTION_INFO_V1(kinesis_worker_pid);

bool		kinesis_worker_enabled = true;
int			kinesis_worker_naptime = 1000;

/* why a per-database worker last left */
typedef enum DbWorkerExit
{
	DBW_RUNNING = 0,			/* running, or died without saying why */
	DBW_NO_EXTENSION,			/* the database has no kinesis extension */
	DBW_DROPPING,				/* the database is being dropped */
	DBW_DISABLED				/* kinesis.worker was turned off */
} DbWorkerExit;

typedef struct DbWorkerSlot
{
	Oid			dboid;			/* InvalidOid when the slot is free */
	pid_t		pid;			/* 0 when no worker runs */
	Latch	   *latch;
	DbWorkerExit exit_reason;
	bool		wanted;			/* CREATE EXTENSION asked for a worker */
} DbWorkerSlot;

typedef struct WorkerShared
{
	slock_t		mutex;
	Latch	   *launcher_latch;
	int			nslots;
	DbWorkerSlot slots[FLEXIBLE_ARRAY_MEMBER];
} WorkerShared;

static WorkerShared *worker_shared = NULL;
static bool wake_at_commit = false;
static bool wake_callback_registered = false;

static int
worker_slots(void)
{
	return max_worker_processes;
}

static Size
worker_shmem_size(void)
{
	return add_size(offsetof(WorkerShared, slots),
					mul_size(sizeof(DbWorkerSlot), worker_slots()));
}

/*
 * kinesis_worker_shmem_request / kinesis_worker_shmem_startup
 *		The launcher's latch and one slot per possible database worker.
 */
void
kinesis_worker_shmem_request(void)
{
	RequestAddinShmemSpace(worker_shmem_size());
}

void
kinesis_worker_shmem_startup(void)
{
	bool		found;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	worker_shared = ShmemInitStruct("kinesis workers", worker_shmem_size(), &found);
	if (!found)
	{
		memset(worker_shared, 0, worker_shmem_size());
		SpinLockInit(&worker_shared->mutex);
		worker_shared->nslots = worker_slots();
	}
	LWLockRelease(AddinShmemInitLock);
}

/*
 * find_slot
 *		The slot of a database, creating it if create is set; NULL if there
 *		is none (or no room).  Caller holds the mutex.
 */
static DbWorkerSlot *
find_slot(Oid dboid, bool create)
{
	DbWorkerSlot *free_slot = NULL;
	int			i;

	for (i = 0; i < worker_shared->nslots; i++)
	{
		DbWorkerSlot *s = &worker_shared->slots[i];

		if (s->dboid == dboid)
			return s;
		if (s->dboid == InvalidOid && free_slot == NULL)
			free_slot = s;
	}
	if (create && free_slot != NULL)
	{
		memset(free_slot, 0, sizeof(*free_slot));
		free_slot->dboid = dboid;
	}
	return create ? free_slot : NULL;
}

/*
 * wake_xact_callback
 *		At commit of a transaction that asked for it, flag the database as
 *		wanting a worker and set the worker's latch, or the launcher's if
 *		none runs.  Only a spinlock and SetLatch: nothing here can fail.
 */
static void
wake_xact_callback(XactEvent event, void *arg)
{
	DbWorkerSlot *s;
	Latch	   *worker_latch = NULL;
	Latch	   *launcher_latch;

	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		wake_at_commit = false;
	if ((event != XACT_EVENT_COMMIT && event != XACT_EVENT_PARALLEL_COMMIT) || !wake_at_commit)
		return;
	wake_at_commit = false;
	if (worker_shared == NULL)
		return;
	SpinLockAcquire(&worker_shared->mutex);
	s = find_slot(MyDatabaseId, true);
	if (s != NULL)
	{
		/* the worker (or the next one) looks again, whatever it last saw */
		s->wanted = true;
		worker_latch = s->latch;
	}
	launcher_latch = worker_shared->launcher_latch;
	SpinLockRelease(&worker_shared->mutex);
	if (worker_latch != NULL)
		SetLatch(worker_latch);
	else if (launcher_latch != NULL)
		SetLatch(launcher_latch);
}

/*
 * kinesis._wake_worker()
 *		Wake this database's maintenance worker when the calling transaction
 *		commits (starting one if the database has none yet).
 */
Datum
kinesis_wake_worker(PG_FUNCTION_ARGS)
{
	if (!wake_callback_registered)
	{
		RegisterXactCallback(wake_xact_callback, NULL);
		wake_callback_registered = true;
	}
	wake_at_commit = true;
	PG_RETURN_VOID();
}

/*
 * kinesis.maintenance_worker_pid()
 *		The process id of this database's maintenance worker, or NULL.
 */
Datum
kinesis_worker_pid(PG_FUNCTION_ARGS)
{
	pid_t		pid = 0;

	if (worker_shared != NULL)
	{
		DbWorkerSlot *s;

		SpinLockAcquire(&worker_shared->mutex);
		s = find_slot(MyDatabaseId, false);
		if (s != NULL)
			pid = s->pid;
		SpinLockRelease(&worker_shared->mutex);
	}
	if (pid == 0)
		PG_RETURN_NULL();
	PG_RETURN_INT32(pid);
}

/*
 * kinesis_worker_stop_for_drop
 *		Before DROP DATABASE: stop that database's worker (and keep the
 *		launcher from starting it again), or the drop would fail because the
 *		database is in use.  Waits up to 5 s for the worker to exit.
 */
void
kinesis_worker_stop_for_drop(Oid dboid)
{
	pid_t		pid = 0;
	int			waited;

	if (worker_shared == NULL)
		return;
	SpinLockAcquire(&worker_shared->mutex);
	{
		DbWorkerSlot *s = find_slot(dboid, false);

		if (s != NULL)
		{
			s->exit_reason = DBW_DROPPING;
			s->wanted = false;
			pid = s->pid;
		}
	}
	SpinLockRelease(&worker_shared->mutex);
	if (pid != 0)
		kill(pid, SIGTERM);
	for (waited = 0; pid != 0 && waited < 500; waited++)
	{
		DbWorkerSlot *s;

		pg_usleep(10 * 1000L);
		CHECK_FOR_INTERRUPTS();
		SpinLockAcquire(&worker_shared->mutex);
		s = find_slot(dboid, false);
		pid = s != NULL ? s->pid : 0;
		SpinLockRelease(&worker_shared->mutex);
	}
}

/*
 * kinesis_worker_after_drop
 *		After DROP DATABASE: free the slot if the drop succeeded; if it
 *		failed, ask the launcher for the worker again.
 */
void
kinesis_worker_after_drop(Oid dboid, bool dropped)
{
	DbWorkerSlot *s;
	Latch	   *launcher = NULL;

	if (worker_shared == NULL)
		return;
	SpinLockAcquire(&worker_shared->mutex);
	s = find_slot(dboid, false);
	if (s != NULL && s->pid == 0)
	{
		if (dropped)
			s->dboid = InvalidOid;
		else
		{
			s->exit_reason = DBW_RUNNING;
			s->wanted = true;
			launcher = worker_shared->launcher_latch;
		}
	}
	SpinLockRelease(&worker_shared->mutex);
	if (launcher != NULL)
		SetLatch(launcher);
}

/*
 * kinesis_worker_register
 *		From _PG_init while preloading: register the launcher.
 */
void
kinesis_worker_register(void)
{
	BackgroundWorker worker;

	if (IsBinaryUpgrade)
		return;
	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = 5;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "kinesis");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "kinesis_launcher_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "kinesis launcher");
	snprintf(worker.bgw_type, BGW_MAXLEN, "kinesis launcher");
	RegisterBackgroundWorker(&worker);
}

/* ------------------------------------------------------------------------
 * The launcher
 * ------------------------------------------------------------------------
 */

typedef struct LauncherDb
{
	Oid			dboid;
	BackgroundWorkerHandle *handle; /* of the worker this launcher started */
	TimestampTz retry_at;		/* earliest restart after a death */
	bool		seen;			/* still in pg_database at the last scan */
	bool		absent;			/* no extension there: leave it alone */
} LauncherDb;

static LauncherDb *ldbs = NULL;
static int	nldbs = 0;
static int	ldbs_capacity = 0;

/*
 * launcher_db
 *		The launcher's entry for a database, added if new.
 */
static LauncherDb *
launcher_db(Oid dboid)
{
	int			i;

	for (i = 0; i < nldbs; i++)
		if (ldbs[i].dboid == dboid)
			return &ldbs[i];
	if (nldbs >= ldbs_capacity)
	{
		ldbs_capacity = Max(64, ldbs_capacity * 2);
		ldbs = ldbs == NULL ?
			MemoryContextAlloc(TopMemoryContext, sizeof(LauncherDb) * ldbs_capacity) :
			repalloc(ldbs, sizeof(LauncherDb) * ldbs_capacity);
	}
	/* a database not seen before is looked into once (it may have been
	 * created from a template that has the extension) */
	memset(&ldbs[nldbs], 0, sizeof(LauncherDb));
	ldbs[nldbs].dboid = dboid;
	return &ldbs[nldbs++];
}

/*
 * forget_dropped
 *		Remove the entries of databases that are gone from pg_database.
 */
static void
forget_dropped(void)
{
	int			i = 0;

	while (i < nldbs)
	{
		if (ldbs[i].seen)
		{
			i++;
			continue;
		}
		if (ldbs[i].handle != NULL)
			pfree(ldbs[i].handle);
		ldbs[i] = ldbs[--nldbs];
	}
}

/*
 * start_db_worker
 *		Register a dynamic worker for one database.
 */
static void
start_db_worker(LauncherDb *d)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "kinesis");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "kinesis_db_worker_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "kinesis maintenance %u", d->dboid);
	snprintf(worker.bgw_type, BGW_MAXLEN, "kinesis maintenance");
	worker.bgw_main_arg = ObjectIdGetDatum(d->dboid);
	worker.bgw_notify_pid = MyProcPid;
	if (d->handle != NULL)
		pfree(d->handle);
	d->handle = NULL;
	if (!RegisterDynamicBackgroundWorker(&worker, &d->handle))
	{
		/* no free worker slot: try again later */
		d->handle = NULL;
		d->retry_at = GetCurrentTimestamp() + 10 * USECS_PER_SEC;
		ereport(LOG,
				(errmsg("kinesis launcher could not start a maintenance worker for database %u", d->dboid),
				 errhint("Raise max_worker_processes.")));
	}
}

/*
 * launcher_scan
 *		One pass: read pg_database, then start the workers that should run.
 *		A worker is alive while its slot holds its pid (whoever started it:
 *		a launcher that restarted adopts the workers of its predecessor).
 */
static void
launcher_scan(void)
{
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;
	int			i;
	TimestampTz now = GetCurrentTimestamp();

	for (i = 0; i < nldbs; i++)
		ldbs[i].seen = false;

	StartTransactionCommand();
	(void) GetTransactionSnapshot();
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		Form_pg_database db = (Form_pg_database) GETSTRUCT(tup);

		if (!db->datallowconn || db->datistemplate || db->datconnlimit == -2)
			continue;
		launcher_db(db->oid)->seen = true;
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	CommitTransactionCommand();
	forget_dropped();

	for (i = 0; i < nldbs; i++)
	{
		LauncherDb *d = &ldbs[i];
		DbWorkerSlot *s;
		bool		alive = false;
		bool		wanted = false;
		bool		has_slot = false;
		DbWorkerExit reason = DBW_RUNNING;
		pid_t		pid;

		SpinLockAcquire(&worker_shared->mutex);
		s = find_slot(d->dboid, false);
		if (s != NULL)
		{
			has_slot = true;
			alive = s->pid != 0;
			wanted = s->wanted;
			reason = s->exit_reason;
		}
		SpinLockRelease(&worker_shared->mutex);

		if (alive)
		{
			d->absent = false;
			continue;
		}
		if (reason == DBW_DROPPING)
			continue;			/* being dropped: see utility.c */
		if (d->handle != NULL &&
			GetBackgroundWorkerPid(d->handle, &pid) != BGWH_STOPPED)
			continue;			/* starting */
		if (d->handle != NULL)
		{
			/* it stopped: a freed slot means no extension there */
			pfree(d->handle);
			d->handle = NULL;
			if (!has_slot || reason == DBW_DROPPING)
				d->absent = true;
			else if (reason == DBW_RUNNING)
				d->retry_at = now + USECS_PER_SEC;	/* it died: restart soon */
		}
		if (wanted)
			d->absent = false;
		if (d->absent || !kinesis_worker_enabled || now < d->retry_at)
			continue;
		start_db_worker(d);
	}
}

/*
 * kinesis_launcher_main
 *		The launcher's loop: scan when woken (a worker started or stopped,
 *		an extension was created) and every few seconds.
 */
void
kinesis_launcher_main(Datum main_arg)
{

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);
	pgstat_report_appname("kinesis launcher");

	SpinLockAcquire(&worker_shared->mutex);
	worker_shared->launcher_latch = MyLatch;
	SpinLockRelease(&worker_shared->mutex);

	for (;;)
	{
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		launcher_scan();
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 1000L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

/* ------------------------------------------------------------------------
 * The per-database worker
 * ------------------------------------------------------------------------
 */

static DbWorkerSlot *my_slot = NULL;

/*
 * db_worker_exit
 *		before_shmem_exit callback: give up the slot's latch and pid (a
 *		worker that dies keeps the slot, so the launcher restarts it), and
 *		tell the launcher.
 */
static void
db_worker_exit(int code, Datum arg)
{
	Latch	   *launcher = NULL;

	if (my_slot == NULL)
		return;
	SpinLockAcquire(&worker_shared->mutex);
	if (my_slot->pid == MyProcPid)
	{
		my_slot->pid = 0;
		my_slot->latch = NULL;
	}
	launcher = worker_shared->launcher_latch;
	SpinLockRelease(&worker_shared->mutex);
	if (launcher != NULL)
		SetLatch(launcher);
}

/*
 * claim_slot
 *		Take the database's slot.  False if another worker holds it (this
 *		one is a duplicate) or there is no room.
 */
static bool
claim_slot(Oid dboid)
{
	DbWorkerSlot *s;
	bool		ok = false;

	SpinLockAcquire(&worker_shared->mutex);
	s = find_slot(dboid, true);
	if (s != NULL && s->pid == 0)
	{
		s->pid = MyProcPid;
		s->latch = MyLatch;
		s->exit_reason = DBW_RUNNING;
		my_slot = s;
		ok = true;
	}
	SpinLockRelease(&worker_shared->mutex);
	return ok;
}

/*
 * take_request
 *		Clear the slot's "wanted" flag before looking at the database: a
 *		request made after this is seen by leave().
 */
static void
take_request(void)
{
	SpinLockAcquire(&worker_shared->mutex);
	my_slot->wanted = false;
	SpinLockRelease(&worker_shared->mutex);
}

/*
 * leave
 *		Exit cleanly, telling the launcher why.  A worker leaving a database
 *		without the extension frees the slot, unless a request arrived since
 *		it looked (CREATE EXTENSION committed meanwhile): then it returns and
 *		the caller looks again.
 */
static void
leave(DbWorkerExit reason)
{
	SpinLockAcquire(&worker_shared->mutex);
	if (reason == DBW_NO_EXTENSION && my_slot->wanted)
	{
		SpinLockRelease(&worker_shared->mutex);
		return;
	}
	my_slot->exit_reason = reason;
	my_slot->pid = 0;
	my_slot->latch = NULL;
	if (reason == DBW_NO_EXTENSION)
		my_slot->dboid = InvalidOid;
	SpinLockRelease(&worker_shared->mutex);
	proc_exit(0);
}

/*
 * extension_present
 *		Whether the kinesis extension exists in this database, in a version
 *		with maintenance (kinesis._due_tasks()), checked in its own
 *		transaction.
 */
static bool
extension_present(void)
{
	bool		present = false;

	StartTransactionCommand();
	if (OidIsValid(get_extension_oid("kinesis", true)))
	{
		SPI_connect();
		PushActiveSnapshot(GetTransactionSnapshot());
		if (SPI_execute("SELECT pg_catalog.to_regprocedure('kinesis._due_tasks()') IS NOT NULL",
						true, 1) == SPI_OK_SELECT && SPI_processed == 1)
		{
			bool		isnull;

			present = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0],
												 SPI_tuptable->tupdesc, 1, &isnull));
		}
		SPI_finish();
		PopActiveSnapshot();
	}
	CommitTransactionCommand();
	return present;
}

/* one task that _due_tasks() listed */
typedef struct DueTask
{
	int32		stream_id;
	char		task[32];
} DueTask;

/*
 * due_tasks
 *		What is due now, read in its own transaction.  *n receives the
 *		count; the array lives in TopMemoryContext's child passed in.
 */
static DueTask *
due_tasks(MemoryContext cxt, int *n)
{
	DueTask    *tasks = NULL;
	uint64		i;

	*n = 0;
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "kinesis: looking for due tasks");
	if (SPI_execute("SELECT stream_id, task FROM kinesis._due_tasks()", true, 0) != SPI_OK_SELECT)
		elog(ERROR, "kinesis._due_tasks() failed");
	tasks = MemoryContextAllocZero(cxt, sizeof(DueTask) * Max(SPI_processed, 1));
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;

		tasks[i].stream_id = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[i],
														 SPI_tuptable->tupdesc, 1, &isnull));
		strlcpy(tasks[i].task, SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2),
				sizeof(tasks[i].task));
	}
	*n = (int) SPI_processed;
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	return tasks;
}

/*
 * run_task
 *		One task in one transaction.  kinesis._run_task() records its own
 *		outcome (and catches lock timeouts and errors itself); an error that
 *		still escapes is logged, and the worker goes on with the next task.
 *		Returns true if the task did something.
 */
static bool
run_task(DueTask *t)
{
	MemoryContext cxt = CurrentMemoryContext;
	volatile bool did = false;

	PG_TRY();
	{
		Datum		args[2];
		Oid			argtypes[2] = {INT4OID, TEXTOID};
		char		activity[96];

		StartTransactionCommand();
		SPI_connect();
		PushActiveSnapshot(GetTransactionSnapshot());
		snprintf(activity, sizeof(activity), "kinesis: %s stream %d", t->task, t->stream_id);
		pgstat_report_activity(STATE_RUNNING, activity);
		args[0] = Int32GetDatum(t->stream_id);
		args[1] = CStringGetTextDatum(t->task);
		if (SPI_execute_with_args("SELECT kinesis._run_task($1, $2) = 'done'", 2, argtypes,
								  args, NULL, false, 1) == SPI_OK_SELECT && SPI_processed == 1)
		{
			bool		isnull;

			did = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
											 1, &isnull));
		}
		SPI_finish();
		PopActiveSnapshot();
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		EmitErrorReport();
		FlushErrorState();
		AbortCurrentTransaction();
	}
	PG_END_TRY();
	return did;
}

/*
 * kinesis_db_worker_main
 *		A database's maintenance loop.
 */
void
kinesis_db_worker_main(Datum main_arg)
{
	Oid			dboid = DatumGetObjectId(main_arg);
	MemoryContext roundcxt;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	if (!claim_slot(dboid))
		proc_exit(0);
	before_shmem_exit(db_worker_exit, (Datum) 0);

	BackgroundWorkerInitializeConnectionByOid(dboid, InvalidOid, 0);
	pgstat_report_appname("kinesis maintenance");

	/*
	 * The worker runs as the bootstrap superuser, so a search_path that a
	 * database owner set (ALTER DATABASE ... SET search_path) must not
	 * decide which operators its queries call.
	 */
	SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_SUSET, PGC_S_OVERRIDE);
	for (;;)
	{
		take_request();
		if (extension_present())
			break;
		leave(DBW_NO_EXTENSION);
	}

	roundcxt = AllocSetContextCreate(TopMemoryContext, "kinesis maintenance round",
									 ALLOCSET_DEFAULT_SIZES);
	for (;;)
	{
		bool		busy = false;
		DueTask    *tasks;
		int			ntasks;
		int			i;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		if (!kinesis_worker_enabled)
			leave(DBW_DISABLED);
		take_request();
		while (!extension_present())
		{
			leave(DBW_NO_EXTENSION);
			take_request();
		}

		MemoryContextReset(roundcxt);
		tasks = due_tasks(roundcxt, &ntasks);
		for (i = 0; i < ntasks; i++)
		{
			CHECK_FOR_INTERRUPTS();
			if (run_task(&tasks[i]))
				busy = true;
		}
		pgstat_report_activity(STATE_IDLE, NULL);
		pgstat_report_stat(true);

		/* something was done: look again at once (one bucket per task) */
		if (busy)
			continue;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 kinesis_worker_naptime, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}
