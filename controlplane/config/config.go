// Package config resolves the control plane's settings: flags, then AETHER_*
// environment variables, then an optional config file (YAML or JSON), then
// defaults. The setting names are the ones the Helm chart's values use.
package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/aetherengine/aether/controlplane/admission"
)

// Config is the control plane's configuration.
type Config struct {
	// Addr is the listen address (host:port).
	Addr string `json:"addr"`
	// Database is sqlite:///path/aether.db or postgres://…
	Database string `json:"database"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `json:"log_level"`
	// LogFormat is text or json.
	LogFormat string `json:"log_format"`
	// MaxBodyBytes bounds request bodies.
	MaxBodyBytes int64 `json:"max_body_bytes"`
	// ShutdownTimeout is how long in-flight requests get on SIGTERM.
	ShutdownTimeout Duration `json:"shutdown_timeout"`
	// DefaultNamespace is a new app's namespace when none is given.
	DefaultNamespace string `json:"default_namespace"`
	// BootstrapAdminKey becomes the first admin key of an empty store
	// (environment or file only: never a flag, which ps would show).
	BootstrapAdminKey string `json:"bootstrap_admin_key"`

	// Registries is the allow-list of registries admission reads from:
	// comma-separated host[:port], *.domain[:port] or *, "http://" for
	// plain HTTP. Empty allows none.
	Registries string `json:"registries"`
	// RegistryConfig is a Docker config.json with registry credentials
	// (empty: $DOCKER_CONFIG/config.json or ~/.docker/config.json).
	RegistryConfig string `json:"registry_config"`
	// RegistryTimeout bounds one admission's registry traffic.
	RegistryTimeout Duration `json:"registry_timeout"`
	// MaxReferrers is the most referrers read per artifact.
	MaxReferrers int `json:"max_referrers"`
	// VerificationCacheTTL is how long a verification is reused; 0
	// disables the cache.
	VerificationCacheTTL Duration `json:"verification_cache_ttl"`

	// Runtime runs verified deployments: none, local or kubernetes.
	Runtime string `json:"runtime"`
	// StateDir is where the local runtime keeps apps, logs and state.
	StateDir string `json:"state_dir"`
	// Node is the Node.js binary of the local runtime (empty: node on PATH).
	Node string `json:"node"`

	// Kubeconfig is the kubeconfig of the Kubernetes runtime (empty: the
	// in-cluster config of the pod's ServiceAccount).
	Kubeconfig string `json:"kubeconfig"`
	// FetchImage is the aether-fetch init container image.
	FetchImage string `json:"fetch_image"`
	// NodeImage overrides the app container image (empty: the stock
	// Node.js image matching the artifact's Node version).
	NodeImage string `json:"node_image"`
	// RegistrySecret names the kubernetes.io/dockerconfigjson Secret, in
	// each app's namespace, the init container pulls with.
	RegistrySecret string `json:"registry_secret"`
	// Reverify makes the init container re-verify the artifact's signature
	// against the app's keys before extracting it.
	Reverify bool `json:"reverify"`
	// RolloutTimeout bounds how long a Kubernetes rollout is watched.
	RolloutTimeout Duration `json:"rollout_timeout"`
	// ProgressDeadline is the Deployments' progressDeadlineSeconds: how long
	// a rollout may make no progress before Kubernetes marks it failed.
	ProgressDeadline Duration `json:"progress_deadline"`
}

// Duration is a time.Duration written as "30s" in files.
type Duration time.Duration

// UnmarshalJSON reads "30s" or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if v, err := time.ParseDuration(s); err == nil {
		*d = Duration(v)
		return nil
	}
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		*d = Duration(time.Duration(n * float64(time.Second)))
		return nil
	}
	return fmt.Errorf("%q is not a duration (e.g. 30s)", s)
}

// MarshalJSON writes "30s".
func (d Duration) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Duration(d).String() + `"`), nil
}

// Defaults is the configuration before anything overrides it.
func Defaults() Config {
	return Config{
		Addr:             "127.0.0.1:8080",
		Database:         "sqlite://" + filepath.Join(DataDir(), "aether.db"),
		LogLevel:         "info",
		LogFormat:        "text",
		MaxBodyBytes:     1 << 20,
		ShutdownTimeout:  Duration(30 * time.Second),
		DefaultNamespace: "default",

		RegistryTimeout:      Duration(30 * time.Second),
		MaxReferrers:         256,
		VerificationCacheTTL: Duration(time.Hour),

		Runtime:  RuntimeNone,
		StateDir: DataDir(),

		Reverify:         true,
		RolloutTimeout:   Duration(10 * time.Minute),
		ProgressDeadline: Duration(2 * time.Minute),
	}
}

// DataDir is where the embedded SQLite database lives by default:
// $XDG_DATA_HOME/aether, else ~/.local/share/aether.
func DataDir() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "aether")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "aether")
	}
	return filepath.Join(home, ".local", "share", "aether")
}

// Setting is one configurable value, named alike as flag (--name), file key
// (name with '_') and environment variable (Env).
type Setting struct {
	Name  string
	Env   string
	Usage string
	// Secret settings are never flags.
	Secret bool
	set    func(c *Config, v string) error
}

// Settings lists every setting.
var Settings = []Setting{
	{Name: "addr", Env: "AETHER_ADDR", Usage: "listen address host:port", set: func(c *Config, v string) error { c.Addr = v; return nil }},
	{Name: "database", Env: "AETHER_DATABASE", Usage: "sqlite:///path/aether.db or postgres://user@host/db", set: func(c *Config, v string) error { c.Database = v; return nil }},
	{Name: "log-level", Env: "AETHER_LOG_LEVEL", Usage: "debug, info, warn or error", set: func(c *Config, v string) error { c.LogLevel = v; return nil }},
	{Name: "log-format", Env: "AETHER_LOG_FORMAT", Usage: "text or json", set: func(c *Config, v string) error { c.LogFormat = v; return nil }},
	{Name: "max-body-bytes", Env: "AETHER_MAX_BODY_BYTES", Usage: "largest request body accepted", set: func(c *Config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not a number of bytes", v)
		}
		c.MaxBodyBytes = n
		return nil
	}},
	{Name: "shutdown-timeout", Env: "AETHER_SHUTDOWN_TIMEOUT", Usage: "time in-flight requests get on SIGTERM", set: func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("%q is not a duration (e.g. 30s)", v)
		}
		c.ShutdownTimeout = Duration(d)
		return nil
	}},
	{Name: "default-namespace", Env: "AETHER_DEFAULT_NAMESPACE", Usage: "namespace of new apps that name none", set: func(c *Config, v string) error { c.DefaultNamespace = v; return nil }},
	{Name: "bootstrap-admin-key", Env: "AETHER_BOOTSTRAP_ADMIN_KEY", Secret: true, set: func(c *Config, v string) error { c.BootstrapAdminKey = v; return nil }},
	{Name: "registries", Env: "AETHER_REGISTRIES", Usage: "registries deployments may come from: comma-separated host[:port], *.domain or *; http://host:port for plain HTTP; loopback and private addresses only when listed without a wildcard", set: func(c *Config, v string) error { c.Registries = v; return nil }},
	{Name: "registry-config", Env: "AETHER_REGISTRY_CONFIG", Usage: "Docker config.json with the registries' pull credentials", set: func(c *Config, v string) error { c.RegistryConfig = v; return nil }},
	{Name: "registry-timeout", Env: "AETHER_REGISTRY_TIMEOUT", Usage: "time one admission may spend talking to registries", set: durationSetting(func(c *Config) *Duration { return &c.RegistryTimeout })},
	{Name: "max-referrers", Env: "AETHER_MAX_REFERRERS", Usage: "most referrers (signatures, attestations) read per artifact", set: func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("%q is not a number", v)
		}
		c.MaxReferrers = n
		return nil
	}},
	{Name: "runtime", Env: "AETHER_RUNTIME", Usage: "what runs verified deployments: none, local (supervised node processes) or kubernetes", set: func(c *Config, v string) error { c.Runtime = v; return nil }},
	{Name: "state-dir", Env: "AETHER_STATE_DIR", Usage: "directory of the local runtime's apps, logs and state", set: func(c *Config, v string) error { c.StateDir = v; return nil }},
	{Name: "node", Env: "AETHER_NODE", Usage: "Node.js binary the local runtime runs apps with (default: node on PATH)", set: func(c *Config, v string) error { c.Node = v; return nil }},
	{Name: "kubeconfig", Env: "AETHER_KUBECONFIG", Usage: "kubeconfig of the kubernetes runtime (default: the pod's in-cluster ServiceAccount)", set: func(c *Config, v string) error { c.Kubeconfig = v; return nil }},
	{Name: "namespace", Env: "AETHER_NAMESPACE", Usage: "same as --default-namespace: where apps that name no namespace run", set: func(c *Config, v string) error { c.DefaultNamespace = v; return nil }},
	{Name: "fetch-image", Env: "AETHER_FETCH_IMAGE", Usage: "aether-fetch init container image of the kubernetes runtime", set: func(c *Config, v string) error { c.FetchImage = v; return nil }},
	{Name: "node-image", Env: "AETHER_NODE_IMAGE", Usage: "app container image (default: the stock Node.js image of the artifact's Node version)", set: func(c *Config, v string) error { c.NodeImage = v; return nil }},
	{Name: "registry-secret", Env: "AETHER_REGISTRY_SECRET", Usage: "kubernetes.io/dockerconfigjson Secret in each app namespace the init container pulls with", set: func(c *Config, v string) error { c.RegistrySecret = v; return nil }},
	{Name: "reverify", Env: "AETHER_REVERIFY", Usage: "the init container re-verifies the signature against the app's keys (true/false)", set: func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("%q is not true or false", v)
		}
		c.Reverify = b
		return nil
	}},
	{Name: "rollout-timeout", Env: "AETHER_ROLLOUT_TIMEOUT", Usage: "how long a kubernetes rollout is watched before it is reported failed (timeout)", set: durationSetting(func(c *Config) *Duration { return &c.RolloutTimeout })},
	{Name: "progress-deadline", Env: "AETHER_PROGRESS_DEADLINE", Usage: "how long a kubernetes rollout may make no progress before it fails (progressDeadlineSeconds)", set: durationSetting(func(c *Config) *Duration { return &c.ProgressDeadline })},
	{Name: "verification-cache-ttl", Env: "AETHER_VERIFICATION_CACHE_TTL", Usage: "how long a verification is reused for a redeploy (0 disables)", set: durationSetting(func(c *Config) *Duration { return &c.VerificationCacheTTL })},
}

func durationSetting(field func(c *Config) *Duration) func(c *Config, v string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("%q is not a duration (e.g. 30s)", v)
		}
		*field(c) = Duration(d)
		return nil
	}
}

// ConfigEnv names the config file when --config is not given.
const ConfigEnv = "AETHER_CONFIG"

// Resolve builds the configuration: defaults, then the file (if path is not
// empty), then environment variables, then the flags that were set (by
// setting name).
func Resolve(path string, getenv func(string) string, flags map[string]string) (Config, error) {
	c := Defaults()
	if path != "" {
		if err := loadFile(path, &c); err != nil {
			return c, err
		}
	}
	for _, s := range Settings {
		if v := getenv(s.Env); v != "" {
			if err := s.set(&c, v); err != nil {
				return c, fmt.Errorf("%s: %w", s.Env, err)
			}
		}
	}
	for _, s := range Settings {
		if v, ok := flags[s.Name]; ok && !s.Secret {
			if err := s.set(&c, v); err != nil {
				return c, fmt.Errorf("--%s: %w", s.Name, err)
			}
		}
	}
	return c, c.Validate()
}

// maxConfigFile bounds the config file read.
const maxConfigFile = 1 << 20

func loadFile(path string, c *Config) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	if fi.Size() > maxConfigFile {
		return fmt.Errorf("config file %s is %d bytes; at most %d are read", path, fi.Size(), maxConfigFile)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	if err := yaml.UnmarshalStrict(b, c); err != nil {
		return fmt.Errorf("config file %s: %w (keys: addr, database, log_level, log_format, max_body_bytes, shutdown_timeout, default_namespace, bootstrap_admin_key, registries, registry_config, registry_timeout, max_referrers, verification_cache_ttl, runtime, state_dir, node, kubeconfig, fetch_image, node_image, registry_secret, reverify, rollout_timeout, progress_deadline)", path, err)
	}
	return nil
}

// Validate checks the settings' values.
func (c Config) Validate() error {
	var errs []error
	if c.Addr == "" {
		errs = append(errs, errors.New("addr is empty; use host:port such as 127.0.0.1:8080"))
	}
	if _, _, err := ParseDatabase(c.Database); err != nil {
		errs = append(errs, err)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log level %q is not debug, info, warn or error", c.LogLevel))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("log format %q is not text or json", c.LogFormat))
	}
	if c.MaxBodyBytes < 1024 {
		errs = append(errs, fmt.Errorf("max body bytes %d is below 1024", c.MaxBodyBytes))
	}
	if c.RegistryTimeout < Duration(time.Second) || c.RegistryTimeout > Duration(MaxRegistryTimeout) {
		errs = append(errs, fmt.Errorf("registry timeout %s is not between 1s and %s (admission answers within the HTTP server's 60s write time-out)", time.Duration(c.RegistryTimeout), MaxRegistryTimeout))
	}
	if _, err := admission.ParseAllowList(c.Registries); err != nil {
		errs = append(errs, err)
	}
	if c.MaxReferrers < 1 || c.MaxReferrers > 10000 {
		errs = append(errs, fmt.Errorf("max referrers %d is not between 1 and 10000", c.MaxReferrers))
	}
	if c.VerificationCacheTTL < 0 {
		errs = append(errs, errors.New("verification cache TTL is negative; use 0 to disable the cache"))
	}
	switch c.Runtime {
	case RuntimeNone, RuntimeKubernetes:
	case RuntimeLocal:
		if c.StateDir == "" {
			errs = append(errs, errors.New("the local runtime needs a state directory; set --state-dir"))
		}
	default:
		errs = append(errs, fmt.Errorf("runtime %q is not none, local or kubernetes", truncate(c.Runtime)))
	}
	return errors.Join(errs...)
}

// MaxRegistryTimeout is the longest registry time-out: an admission
// answers within the HTTP server's write time-out (60s).
const MaxRegistryTimeout = 50 * time.Second

// Runtimes.
const (
	RuntimeNone       = "none"
	RuntimeLocal      = "local"
	RuntimeKubernetes = "kubernetes"
)

// Database kinds.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// ParseDatabase splits a database URL into its kind and what the driver
// takes (a file path for SQLite, the URL itself for PostgreSQL).
func ParseDatabase(u string) (kind, target string, err error) {
	switch {
	case strings.HasPrefix(u, "sqlite://"):
		p := strings.TrimPrefix(u, "sqlite://")
		if p == "" {
			return "", "", errors.New("database sqlite:// has no path; use sqlite:///absolute/path/aether.db")
		}
		return SQLite, p, nil
	case strings.HasPrefix(u, "postgres://"), strings.HasPrefix(u, "postgresql://"):
		return Postgres, u, nil
	case u == "":
		return "", "", errors.New("database is empty; use sqlite:///path/aether.db or postgres://user@host/db")
	}
	scheme, _, _ := strings.Cut(u, ":")
	return "", "", fmt.Errorf("database scheme %q is not supported; use sqlite:///path/aether.db or postgres://user@host/db", truncate(scheme))
}

func truncate(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}
