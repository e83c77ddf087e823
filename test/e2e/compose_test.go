package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v4"

	"github.com/etalase/etalase/test/testproc"
)

// TestComposeFile checks docker-compose.yml parses and keeps the promises
// the README makes about it, since Docker does not run in CI.
func TestComposeFile(t *testing.T) {
	t.Parallel()
	root, err := testproc.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Services map[string]struct {
			Image       string            `yaml:"image"`
			Build       any               `yaml:"build"`
			Command     []string          `yaml:"command"`
			Environment map[string]string `yaml:"environment"`
			DependsOn   map[string]struct {
				Condition string `yaml:"condition"`
			} `yaml:"depends_on"`
			Healthcheck struct {
				Test    []string `yaml:"test"`
				Disable bool     `yaml:"disable"`
			} `yaml:"healthcheck"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatalf("docker-compose.yml is not valid YAML: %v", err)
	}
	svc := f.Services
	for _, name := range []string{"postgres", "redis", "migrate", "api", "worker"} {
		if _, ok := svc[name]; !ok {
			t.Fatalf("service %s missing", name)
		}
	}
	if !strings.HasPrefix(svc["postgres"].Image, "postgres:15") || !strings.HasPrefix(svc["redis"].Image, "redis:7") {
		t.Errorf("images %q and %q, want postgres 15 and redis 7", svc["postgres"].Image, svc["redis"].Image)
	}
	redis := svc["redis"].Command
	if !slices.Contains(redis, "--requirepass") || !slices.Contains(redis, "noeviction") {
		t.Errorf("redis command %v lacks --requirepass or noeviction", redis)
	}
	cache, ok := svc["redis-cache"]
	if !ok || !slices.Contains(cache.Command, "allkeys-lru") || !slices.Contains(cache.Command, "--maxmemory") {
		t.Errorf("no redis-cache service with a maxmemory and allkeys-lru: %v", cache.Command)
	}
	if got := strings.Join(svc["migrate"].Command, " "); got != "migrate up" {
		t.Errorf("migrate command %q", got)
	}
	api := svc["api"]
	if api.Command[0] != "api" {
		t.Errorf("api command %v", api.Command)
	}
	for _, v := range []string{"DATABASE_URL", "REDIS_URL", "API_KEYS", "HTTP_ADDR"} {
		if api.Environment[v] == "" {
			t.Errorf("api environment lacks %s: %v", v, api.Environment)
		}
	}
	if !strings.Contains(api.Environment["REDIS_URL"], "${REDIS_PASSWORD") {
		t.Errorf("api REDIS_URL %q does not carry the Redis password", api.Environment["REDIS_URL"])
	}
	if !strings.Contains(api.Environment["CACHE_REDIS_URL"], "@redis-cache:") {
		t.Errorf("api CACHE_REDIS_URL %q is not the cache's own Redis", api.Environment["CACHE_REDIS_URL"])
	}
	if api.DependsOn["migrate"].Condition != "service_completed_successfully" {
		t.Errorf("api does not wait for the migrations: %v", api.DependsOn)
	}
	worker := svc["worker"]
	if len(worker.Command) == 0 || worker.Command[0] != "worker" {
		t.Errorf("worker command %v", worker.Command)
	}
	for _, v := range []string{"DATABASE_URL", "REDIS_URL"} {
		if worker.Environment[v] == "" {
			t.Errorf("worker environment lacks %s: %v", v, worker.Environment)
		}
	}

	// The image's binary probes itself: the path is the Dockerfile's.
	bin := dockerBinary(t, root)
	want := []string{"CMD", bin, "healthcheck"}
	for _, name := range []string{"api", "worker"} {
		if got := svc[name].Healthcheck.Test; !slices.Equal(got, want) {
			t.Errorf("%s healthcheck test %q, want %q", name, got, want)
		}
		if svc[name].Environment["OPS_ADDR"] == "" {
			t.Errorf("%s environment lacks OPS_ADDR: %v", name, svc[name].Environment)
		}
	}
	if !svc["migrate"].Healthcheck.Disable {
		t.Errorf("the one-shot migrate inherits the image's health check: %+v", svc["migrate"].Healthcheck)
	}
}

// dockerBinary returns the ENTRYPOINT of the Dockerfile, the path of the
// binary in the image, and checks that its HEALTHCHECK runs that binary's
// healthcheck.
func dockerBinary(t *testing.T, root string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(b), "\\\n", " ")
	entry := regexp.MustCompile(`(?m)^ENTRYPOINT \["([^"]+)"\]`).FindStringSubmatch(text)
	if entry == nil {
		t.Fatal("the Dockerfile has no ENTRYPOINT [\"/path\"]")
	}
	if !regexp.MustCompile(`(?m)^HEALTHCHECK .*CMD \["` + regexp.QuoteMeta(entry[1]) + `", "healthcheck"\]`).MatchString(text) {
		t.Errorf("the Dockerfile has no HEALTHCHECK CMD [%q, \"healthcheck\"]", entry[1])
	}
	return entry[1]
}
