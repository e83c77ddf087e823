// Package worker is the job side of etalase: an asynq server that runs the
// generate-report handler, the outbox relay loop (woken by the outbox's
// domain.OutboxWakeups, with a slow poll as a fallback), the sweeper loop that
// re-enqueues reports whose job was lost, and the job metrics.
//
// It imports domain, application, asynq, zap and the Prometheus client;
// no other adapter.
package worker
