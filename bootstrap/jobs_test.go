package bootstrap

import (
	"testing"
	"time"
)

func TestLoadJobsConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		vars    map[string]string
		want    JobsConfig
		wantVar string
	}{
		{"defaults", nil, JobsConfig{SweepAfter: DefaultSweepAfter, SweepInterval: DefaultSweepInterval,
			RelayPoll: DefaultRelayPoll, RetryBase: DefaultJobRetryBase}, ""},
		{"set", map[string]string{"REPORT_SWEEP_AFTER": "30s", "REPORT_SWEEP_INTERVAL": "1s",
			"OUTBOX_POLL_INTERVAL": "250ms", "JOB_RETRY_BASE": "100ms"},
			JobsConfig{SweepAfter: 30 * time.Second, SweepInterval: time.Second,
				RelayPoll: 250 * time.Millisecond, RetryBase: 100 * time.Millisecond}, ""},
		{"not a duration", map[string]string{"REPORT_SWEEP_AFTER": "soon"}, JobsConfig{}, "REPORT_SWEEP_AFTER"},
		{"sweep before the job can finish", map[string]string{"REPORT_DELAY": "10s", "REPORT_SWEEP_AFTER": "5s"},
			JobsConfig{}, "REPORT_SWEEP_AFTER"},
		{"poll too fast", map[string]string{"OUTBOX_POLL_INTERVAL": "1ms"}, JobsConfig{}, "OUTBOX_POLL_INTERVAL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			vars := map[string]string{"API_KEYS": "a:b"}
			for k, v := range tc.vars {
				vars[k] = v
			}
			c, err := LoadConfig("worker", env(vars))
			if err != nil {
				t.Fatal(err)
			}
			got, err := LoadJobsConfig(c, env(vars))
			if tc.wantVar != "" {
				ce, ok := err.(*ConfigError)
				if !ok || ce.Variable != tc.wantVar {
					t.Fatalf("err = %v, want a config error naming %s", err, tc.wantVar)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("LoadJobsConfig = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}
