// Package api holds the JSON types of the AetherEngine control-plane API
// (/v1), shared by the server and the Go client so both agree on the wire.
package api

import "time"

// List is one page of a list endpoint. NextCursor is empty on the last page;
// pass it back as ?cursor= to get the next one.
type List[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

// App is a deployable service and its settings.
type App struct {
	Name      string            `json:"name"`
	Namespace string            `json:"namespace"`
	Env       map[string]string `json:"env"`
	Trust     TrustPolicy       `json:"trust"`
	CreatedAt time.Time         `json:"created_at"`
	UpdatedAt time.Time         `json:"updated_at"`
	CreatedBy string            `json:"created_by"`
}

// AppCreate is the body of POST /v1/apps; only Name is required.
type AppCreate struct {
	Name      string            `json:"name"`
	Namespace string            `json:"namespace,omitempty"`
	Env       map[string]string `json:"env,omitempty"`
}

// AppUpdate is the body of PATCH /v1/apps/{name}; absent fields are kept.
type AppUpdate struct {
	Namespace *string            `json:"namespace,omitempty"`
	Env       *map[string]string `json:"env,omitempty"`
}

// TrustPolicy says which signatures and attestations an app's artifacts need
// before they may run. Version increases on every change so that cached
// verification results of an older policy are never reused.
type TrustPolicy struct {
	Keys                 []TrustedKey `json:"keys"`
	RequiredAttestations []string     `json:"required_attestations"`
	BuilderID            string       `json:"builder_id,omitempty"`
	SourceRepo           string       `json:"source_repo,omitempty"`
	Version              int64        `json:"version"`
}

// TrustPolicyUpdate is the body of PUT /v1/apps/{name}/trust.
// RequiredAttestations absent means the default (["sbom"]); an empty list
// requires none.
type TrustPolicyUpdate struct {
	Keys                 []TrustedKey `json:"keys"`
	RequiredAttestations *[]string    `json:"required_attestations,omitempty"`
	BuilderID            string       `json:"builder_id,omitempty"`
	SourceRepo           string       `json:"source_repo,omitempty"`
}

// TrustedKey is a cosign public key. A key past RetiresAt no longer verifies
// new deployments, which is how keys rotate without a flag day.
type TrustedKey struct {
	Name      string     `json:"name,omitempty"`
	PEM       string     `json:"pem"`
	RetiresAt *time.Time `json:"retires_at,omitempty"`
}

// Attestation kinds a trust policy can require.
const (
	AttestationSBOM       = "sbom"
	AttestationProvenance = "provenance"
)

// Deployment is one request to run an artifact for an app.
type Deployment struct {
	ID          string            `json:"id"`
	App         string            `json:"app"`
	ArtifactRef string            `json:"artifact_ref"`
	Digest      string            `json:"digest"`
	Status      DeploymentStatus  `json:"status"`
	Reason      string            `json:"reason,omitempty"`
	Message     string            `json:"message,omitempty"`
	Env         map[string]string `json:"env"`
	CreatedBy   string            `json:"created_by"`
	CreatedAt   time.Time         `json:"created_at"`
	UpdatedAt   time.Time         `json:"updated_at"`
	// StartedAt is when the client said it began (CLI start), if it did.
	StartedAt  *time.Time `json:"started_at,omitempty"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
}

// DeploymentCreate is the body of POST /v1/deployments.
type DeploymentCreate struct {
	App      string            `json:"app"`
	Artifact string            `json:"artifact"`
	Env      map[string]string `json:"env,omitempty"`
	// StartedAt is when the client began (CLI start), so the deploy-duration
	// metric can measure what a developer waits for.
	StartedAt *time.Time `json:"started_at,omitempty"`
}

// Artifact is an artifact the control plane has seen, with what its
// verification found.
type Artifact struct {
	Digest       string        `json:"digest"`
	Size         int64         `json:"size"`
	MediaType    string        `json:"media_type,omitempty"`
	Verification *Verification `json:"verification,omitempty"`
	CreatedAt    time.Time     `json:"created_at"`
}

// Verification records how an artifact was verified against a trust policy.
type Verification struct {
	KeyID             string    `json:"key_id"`
	PolicyVersion     int64     `json:"policy_version"`
	SBOMFormat        string    `json:"sbom_format,omitempty"`
	SBOMComponents    int       `json:"sbom_components"`
	ProvenanceBuilder string    `json:"provenance_builder,omitempty"`
	ProvenanceSource  string    `json:"provenance_source,omitempty"`
	VerifiedAt        time.Time `json:"verified_at"`
}

// Event is one append-only entry in a deployment's history.
type Event struct {
	ID           int64            `json:"id"`
	DeploymentID string           `json:"deployment_id"`
	Type         string           `json:"type"`
	Status       DeploymentStatus `json:"status,omitempty"`
	Reason       string           `json:"reason,omitempty"`
	Message      string           `json:"message,omitempty"`
	At           time.Time        `json:"at"`
}

// Event types.
const (
	EventCreated    = "created"
	EventTransition = "status"
	EventNote       = "note"
)

// APIKey describes an API key; the secret itself is never returned after
// creation.
type APIKey struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Prefix    string     `json:"prefix"`
	Role      Role       `json:"role"`
	Apps      []string   `json:"apps"`
	CreatedBy string     `json:"created_by"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// APIKeyCreate is the body of POST /v1/keys. Apps scopes a deployer or
// viewer key; ["*"] means every app. Admin keys are never scoped.
type APIKeyCreate struct {
	Name string   `json:"name"`
	Role Role     `json:"role"`
	Apps []string `json:"apps,omitempty"`
}

// APIKeyCreated is the answer to POST /v1/keys: the only time the secret is
// shown.
type APIKeyCreated struct {
	APIKey
	Key string `json:"key"`
}

// Principal is who an API key authenticates as (GET /v1/whoami).
type Principal struct {
	KeyID string   `json:"key_id"`
	Name  string   `json:"name"`
	Role  Role     `json:"role"`
	Apps  []string `json:"apps"`
}

// AuditEntry records one mutating call: who, what, when, outcome.
type AuditEntry struct {
	ID        int64     `json:"id"`
	At        time.Time `json:"at"`
	Actor     string    `json:"actor"`
	ActorName string    `json:"actor_name,omitempty"`
	Action    string    `json:"action"`
	Target    string    `json:"target,omitempty"`
	Status    int       `json:"status"`
	Outcome   string    `json:"outcome"`
	RequestID string    `json:"request_id"`
}

// Health is the body of /healthz and /readyz.
type Health struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks,omitempty"`
}
