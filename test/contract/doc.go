// Package contract is the behavioural specification of etalase's driven
// ports, written once as test suites and run against every adapter that
// implements them, the memory twins that dev falls back to included:
// RunStore (domain.Store: memory, PostgreSQL and the caching decorator
// around it), RunCache (domain.Cache: memory and Redis), RunCacheEpoch
// (domain.CacheEpoch: memory and PostgreSQL) and RunQueue (domain.JobQueue
// with application.QueueInspector: memory and asynq). An adapter's own
// tests call them with a constructor of fresh subjects. It imports domain,
// application and the standard library.
package contract
