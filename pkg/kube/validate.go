package kube

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Bounds on what an app spec may carry. The values come from API bodies;
// they end up in one Deployment object, which etcd caps at ~1.5 MB.
const (
	maxEnvVars       = 256
	maxEnvBytes      = 128 << 10
	maxCommandArgs   = 64
	maxArgBytes      = 4096
	maxTrustKeys     = 16
	maxKeyPEMBytes   = 16 << 10
	maxIDBytes       = 253
	maxProbePathLen  = 1024
	maxPullSecrets   = 8
	maxProbeSeconds  = 3600
	maxDeadlineSecs  = 24 * 3600
	maxReplicas      = 1000
	maxHistoryLimits = 100
)

// reservedEnv are set by the renderer; an app that sets them would break
// the contract with the artifact (PORT) or the pod (PATH).
var reservedEnv = map[string]string{
	"PORT": "it is the artifact's port",
	"PATH": "it puts node_modules/.bin first",
}

// resolved is an AppSpec with defaults applied and every field checked.
type resolved struct {
	AppSpec
	ref, digest   string
	fetchImage    string
	nodeImage     string
	replicas      int32
	historyLimit  int32
	deadline      int32
	servicePort   int32
	env           []corev1.EnvVar
	appResources  corev1.ResourceRequirements
	fetchResource corev1.ResourceRequirements
	workspace     resource.Quantity
	tmp           resource.Quantity
	keys          []keyFile
	keysHash      string
	versionLabel  string
	nodeSelector  map[string]string
	probe         Probe
}

// keyFile is one trust key as a file in the keys ConfigMap.
type keyFile struct {
	file string
	pem  string
}

// problems collects everything wrong with a spec, so one error lists all
// of it rather than one fix per round trip.
type problems []string

func (p *problems) addf(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }

func resolve(s AppSpec) (*resolved, error) {
	var p problems
	r := &resolved{AppSpec: s}

	if errs := validation.IsDNS1035Label(s.Name); len(errs) > 0 {
		p.addf("app name %q is not a DNS-1035 label (lower-case letters, digits and '-', starting with a letter, at most 63): %s", s.Name, strings.Join(errs, ", "))
	}
	if s.Namespace == "" {
		p.addf("namespace is empty")
	} else if errs := validation.IsDNS1123Label(s.Namespace); len(errs) > 0 {
		p.addf("namespace %q is not a DNS-1123 label: %s", s.Namespace, strings.Join(errs, ", "))
	}
	if s.DeploymentID == "" || len(s.DeploymentID) > maxIDBytes || !printable(s.DeploymentID) {
		p.addf("deployment id %q must be 1..%d printable characters", s.DeploymentID, maxIDBytes)
	}
	var err error
	if r.ref, r.digest, err = parsePinned(s.Artifact); err != nil {
		p.addf("%v", err)
	}

	resolveRuntime(r, &p)
	resolveImages(r, &p)
	resolveEnv(r, &p)
	resolveKeys(r, &p)
	resolveSizes(r, &p)
	resolveProbe(r, &p)

	for i, n := range s.ImagePullSecrets {
		if errs := validation.IsDNS1123Subdomain(n); len(errs) > 0 {
			p.addf("image pull secret %d %q is not a valid Secret name", i, n)
		}
	}
	if len(s.ImagePullSecrets) > maxPullSecrets {
		p.addf("%d image pull secrets, at most %d", len(s.ImagePullSecrets), maxPullSecrets)
	}
	if s.RegistrySecret != "" {
		if errs := validation.IsDNS1123Subdomain(s.RegistrySecret); len(errs) > 0 {
			p.addf("registry secret %q is not a valid Secret name", s.RegistrySecret)
		}
	}

	if len(p) > 0 {
		return nil, fmt.Errorf("cannot render app %q: %s", s.Name, strings.Join(p, "; "))
	}
	return r, nil
}

func resolveRuntime(r *resolved, p *problems) {
	rt := r.Runtime
	if rt.Port < 1 || rt.Port > 65535 {
		p.addf("port %d is not a TCP port (1..65535): the artifact's config must name the port the app listens on", rt.Port)
	}
	if len(rt.Command) == 0 {
		p.addf("the artifact's start command is empty")
	}
	if len(rt.Command) > maxCommandArgs {
		p.addf("start command has %d arguments, at most %d", len(rt.Command), maxCommandArgs)
	}
	for i, a := range rt.Command {
		if len(a) > maxArgBytes || strings.ContainsRune(a, 0) {
			p.addf("start command argument %d is longer than %d bytes or contains NUL", i, maxArgBytes)
		}
	}
	if len(rt.Command) > 0 && rt.Command[0] == "" {
		p.addf("start command's program (argument 0) is empty")
	}
	r.versionLabel = versionLabel(rt.AppVersion, r.digest)
	if rt.Platform != "" {
		goos, arch, ok := strings.Cut(rt.Platform, "/")
		// A variant (linux/arm64/v8) has no node label to select on.
		if variant := strings.Index(arch, "/"); variant >= 0 {
			arch = arch[:variant]
		}
		if !ok || !labelValue(goos) || !labelValue(arch) || goos == "" || arch == "" {
			p.addf("platform %q is not OS/ARCH (e.g. linux/amd64)", rt.Platform)
		} else {
			r.nodeSelector = map[string]string{corev1.LabelOSStable: goos, corev1.LabelArchStable: arch}
		}
	}
}

func resolveImages(r *resolved, p *problems) {
	r.fetchImage = r.FetchImage
	if r.fetchImage == "" {
		r.fetchImage = DefaultFetchImage()
	}
	r.nodeImage = r.NodeImage
	if r.nodeImage == "" {
		img, err := NodeImage(r.Runtime.NodeVersion)
		if err != nil {
			p.addf("%v", err)
		}
		r.nodeImage = img
	}
	for _, img := range []struct{ what, ref string }{{"fetch image", r.fetchImage}, {"node image", r.nodeImage}} {
		if img.ref == "" {
			continue
		}
		if len(img.ref) > maxRefLen || strings.ContainsAny(img.ref, " \t\r\n\x00") {
			p.addf("%s %q is not an image reference", img.what, img.ref)
		}
	}
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func resolveEnv(r *resolved, p *problems) {
	if len(r.Env) > maxEnvVars {
		p.addf("%d environment variables, at most %d", len(r.Env), maxEnvVars)
		return
	}
	defaults := map[string]string{"HOME": TmpDir, "NODE_ENV": "production"}
	merged := map[string]string{}
	for k, v := range defaults {
		merged[k] = v
	}
	size := 0
	for k, v := range r.Env {
		size += len(k) + len(v)
		if why, ok := reservedEnv[k]; ok {
			p.addf("environment variable %s is set by aether (%s); remove it from the app's env", k, why)
			continue
		}
		// Stricter than Kubernetes (which allows '.', '-'): these names
		// reach a shell-free Node.js process, and POSIX names are what
		// process.env users expect.
		if !envName.MatchString(k) || len(k) > 256 {
			p.addf("environment variable name %q is not [A-Za-z_][A-Za-z0-9_]*", k)
			continue
		}
		if strings.ContainsRune(v, 0) {
			p.addf("environment variable %s contains NUL", k)
			continue
		}
		merged[k] = v
	}
	if size > maxEnvBytes {
		p.addf("environment is %d bytes, at most %d", size, maxEnvBytes)
	}
	names := make([]string, 0, len(merged))
	for k := range merged {
		names = append(names, k)
	}
	sort.Strings(names)
	r.env = []corev1.EnvVar{
		{Name: "PORT", Value: fmt.Sprint(r.Runtime.Port)},
		{Name: "PATH", Value: AppDir + "/node_modules/.bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
	}
	for _, k := range names {
		r.env = append(r.env, corev1.EnvVar{Name: k, Value: merged[k]})
	}
}

var keyFileChars = regexp.MustCompile(`[^a-zA-Z0-9._-]+`)

func resolveKeys(r *resolved, p *problems) {
	if len(r.TrustKeys) > maxTrustKeys {
		p.addf("%d trust keys, at most %d", len(r.TrustKeys), maxTrustKeys)
		return
	}
	seen := map[string]bool{}
	h := sha256.New()
	for i, k := range r.TrustKeys {
		if len(k.PEM) > maxKeyPEMBytes || !strings.Contains(k.PEM, "-----BEGIN ") {
			p.addf("trust key %d (%q) is not a PEM public key of at most %d bytes", i, k.Name, maxKeyPEMBytes)
			continue
		}
		base := strings.Trim(keyFileChars.ReplaceAllString(strings.TrimSuffix(k.Name, ".pub"), "-"), ".-")
		if len(base) > 200 {
			base = base[:200]
		}
		if base == "" {
			base = fmt.Sprintf("key-%d", i+1)
		}
		file := base + ".pub"
		for n := 2; seen[file]; n++ {
			file = fmt.Sprintf("%s-%d.pub", base, n)
		}
		seen[file] = true
		r.keys = append(r.keys, keyFile{file: file, pem: k.PEM})
		fmt.Fprintf(h, "%s\x00%s\x00", file, k.PEM)
	}
	if len(r.keys) > 0 {
		r.keysHash = hex.EncodeToString(h.Sum(nil))
	}
}

func resolveSizes(r *resolved, p *problems) {
	r.replicas = 1
	if r.Replicas != nil {
		r.replicas = *r.Replicas
	}
	if r.replicas < 0 || r.replicas > maxReplicas {
		p.addf("replicas %d is not in 0..%d", r.replicas, maxReplicas)
	}
	r.historyLimit = DefaultRevisionHistoryLimit
	if r.RevisionHistoryLimit != nil {
		r.historyLimit = *r.RevisionHistoryLimit
	}
	if r.historyLimit < 0 || r.historyLimit > maxHistoryLimits {
		p.addf("revision history limit %d is not in 0..%d", r.historyLimit, maxHistoryLimits)
	}
	r.deadline = r.ProgressDeadlineSeconds
	if r.deadline == 0 {
		r.deadline = DefaultProgressDeadlineSeconds
	}
	if r.deadline < 1 || r.deadline > maxDeadlineSecs {
		p.addf("progress deadline %ds is not in 1..%d", r.deadline, maxDeadlineSecs)
	}
	r.servicePort = r.ServicePort
	if r.servicePort == 0 {
		r.servicePort = DefaultServicePort
	}
	if r.servicePort < 1 || r.servicePort > 65535 {
		p.addf("service port %d is not a TCP port", r.servicePort)
	}
	var err error
	if r.appResources, err = requirements(r.Resources, DefaultAppResources); err != nil {
		p.addf("app resources: %v", err)
	}
	if r.fetchResource, err = requirements(r.FetchResources, DefaultFetchResources); err != nil {
		p.addf("fetch resources: %v", err)
	}
	ws := r.WorkspaceSize
	if ws == "" {
		ws = DefaultWorkspaceSize
	}
	if r.workspace, err = resource.ParseQuantity(ws); err != nil || r.workspace.Sign() <= 0 {
		p.addf("workspace size %q is not a positive quantity (e.g. 1Gi)", ws)
	}
	r.tmp = resource.MustParse(DefaultTmpSize)
}

// requirements turns Resources into ResourceRequirements, taking each
// empty field from def, and checks that no request exceeds its limit.
func requirements(res, def Resources) (corev1.ResourceRequirements, error) {
	pick := func(v, d string) string {
		if v != "" {
			return v
		}
		return d
	}
	var errs []error
	parse := func(what, v string) resource.Quantity {
		q, err := resource.ParseQuantity(v)
		if err != nil || q.Sign() <= 0 {
			errs = append(errs, fmt.Errorf("%s %q is not a positive quantity (e.g. 100m, 256Mi)", what, v))
		}
		return q
	}
	cpuReq := parse("CPU request", pick(res.CPURequest, def.CPURequest))
	cpuLim := parse("CPU limit", pick(res.CPULimit, def.CPULimit))
	memReq := parse("memory request", pick(res.MemoryRequest, def.MemoryRequest))
	memLim := parse("memory limit", pick(res.MemoryLimit, def.MemoryLimit))
	if len(errs) == 0 {
		if cpuReq.Cmp(cpuLim) > 0 {
			errs = append(errs, fmt.Errorf("CPU request %s is above the limit %s", cpuReq.String(), cpuLim.String()))
		}
		if memReq.Cmp(memLim) > 0 {
			errs = append(errs, fmt.Errorf("memory request %s is above the limit %s", memReq.String(), memLim.String()))
		}
	}
	if len(errs) > 0 {
		return corev1.ResourceRequirements{}, errors.Join(errs...)
	}
	return corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: cpuReq, corev1.ResourceMemory: memReq},
		Limits:   corev1.ResourceList{corev1.ResourceCPU: cpuLim, corev1.ResourceMemory: memLim},
	}, nil
}

func resolveProbe(r *resolved, p *problems) {
	pr := r.Probe
	if pr.Path != "" && (!strings.HasPrefix(pr.Path, "/") || len(pr.Path) > maxProbePathLen || strings.ContainsAny(pr.Path, " \t\r\n\x00")) {
		p.addf("probe path %q must start with / and hold no spaces (at most %d bytes)", pr.Path, maxProbePathLen)
	}
	def := func(v *int32, d int32, what string) {
		if *v == 0 {
			*v = d
		}
		if *v < 1 || *v > maxProbeSeconds {
			p.addf("probe %s %d is not in 1..%d", what, *v, maxProbeSeconds)
		}
	}
	def(&pr.PeriodSeconds, 2, "period")
	def(&pr.TimeoutSeconds, 2, "timeout")
	def(&pr.FailureThreshold, 3, "failure threshold")
	def(&pr.LivenessInitialDelaySeconds, 10, "liveness initial delay")
	r.probe = pr
}

// versionLabel makes the app.kubernetes.io/version label: the app's
// version when it is a valid label value (after replacing what labels
// cannot hold, like '+'), the digest's first 12 hex digits otherwise.
func versionLabel(appVersion, digest string) string {
	v := strings.Map(func(c rune) rune {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_' {
			return c
		}
		return '_'
	}, appVersion)
	if len(v) > 63 {
		v = v[:63]
	}
	v = strings.Trim(v, "._-")
	if v != "" && labelValue(v) {
		return v
	}
	hexd := strings.TrimPrefix(digest, "sha256:")
	if len(hexd) > 12 {
		hexd = hexd[:12]
	}
	return hexd
}

func labelValue(v string) bool { return len(validation.IsValidLabelValue(v)) == 0 }

func printable(s string) bool {
	for _, c := range s {
		if c < 0x20 || c == 0x7f {
			return false
		}
	}
	return true
}
