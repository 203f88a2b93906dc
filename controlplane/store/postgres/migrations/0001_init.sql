-- Initial schema. seq gives every list a stable order for cursors.
CREATE TABLE apps (
	seq           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name          TEXT        NOT NULL UNIQUE,
	namespace     TEXT        NOT NULL,
	env           JSONB       NOT NULL,
	trust         JSONB       NOT NULL,
	trust_version BIGINT      NOT NULL DEFAULT 0,
	created_by    TEXT        NOT NULL,
	created_at    TIMESTAMPTZ NOT NULL,
	updated_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE deployments (
	seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id           TEXT        NOT NULL UNIQUE,
	app          TEXT        NOT NULL REFERENCES apps (name) ON DELETE CASCADE,
	artifact_ref TEXT        NOT NULL,
	digest       TEXT        NOT NULL DEFAULT '',
	status       TEXT        NOT NULL CHECK (status IN ('pending', 'verifying', 'verified', 'rolling_out', 'ready', 'failed')),
	reason       TEXT        NOT NULL DEFAULT '',
	message      TEXT        NOT NULL DEFAULT '',
	env          JSONB       NOT NULL,
	created_by   TEXT        NOT NULL,
	created_at   TIMESTAMPTZ NOT NULL,
	updated_at   TIMESTAMPTZ NOT NULL,
	started_at   TIMESTAMPTZ,
	finished_at  TIMESTAMPTZ
);
CREATE INDEX deployments_app_seq ON deployments (app, seq);

CREATE TABLE events (
	seq           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	deployment_id TEXT        NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
	type          TEXT        NOT NULL,
	status        TEXT        NOT NULL DEFAULT '',
	reason        TEXT        NOT NULL DEFAULT '',
	message       TEXT        NOT NULL DEFAULT '',
	at            TIMESTAMPTZ NOT NULL
);
CREATE INDEX events_deployment_seq ON events (deployment_id, seq);

CREATE TABLE artifacts (
	seq                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	digest             TEXT        NOT NULL UNIQUE,
	size               BIGINT      NOT NULL,
	media_type         TEXT        NOT NULL DEFAULT '',
	key_id             TEXT        NOT NULL DEFAULT '',
	policy_version     BIGINT      NOT NULL DEFAULT 0,
	sbom_format        TEXT        NOT NULL DEFAULT '',
	sbom_components    INTEGER     NOT NULL DEFAULT 0,
	provenance_builder TEXT        NOT NULL DEFAULT '',
	provenance_source  TEXT        NOT NULL DEFAULT '',
	verified_at        TIMESTAMPTZ,
	created_at         TIMESTAMPTZ NOT NULL
);

CREATE TABLE api_keys (
	seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id         TEXT        NOT NULL UNIQUE,
	name       TEXT        NOT NULL,
	prefix     TEXT        NOT NULL,
	hash       TEXT        NOT NULL UNIQUE,
	role       TEXT        NOT NULL CHECK (role IN ('admin', 'deployer', 'viewer')),
	apps       JSONB       NOT NULL,
	created_by TEXT        NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	revoked_at TIMESTAMPTZ
);

CREATE TABLE bootstrap (
	id     INTEGER PRIMARY KEY CHECK (id = 1),
	key_id TEXT        NOT NULL,
	at     TIMESTAMPTZ NOT NULL
);

CREATE TABLE audit_log (
	seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at         TIMESTAMPTZ NOT NULL,
	actor      TEXT        NOT NULL,
	actor_name TEXT        NOT NULL DEFAULT '',
	action     TEXT        NOT NULL,
	target     TEXT        NOT NULL DEFAULT '',
	status     INTEGER     NOT NULL,
	outcome    TEXT        NOT NULL,
	request_id TEXT        NOT NULL DEFAULT ''
);
