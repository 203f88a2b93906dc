package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/aetherengine/aether/pkg/registry"
	"github.com/aetherengine/aether/pkg/signing"
)

// errUsage marks a verification set-up error that is the caller's fault.
var errUsage = errors.New("usage")

// verifySignature checks the artifact's cosign signature against the keys
// before anything is pulled: the third verification point, after the CLI
// and the control plane. It returns REPO@DIGEST, so the fetch that follows
// pulls exactly the digest that was verified.
func verifySignature(ctx context.Context, ref string, o options, log *slog.Logger) (string, error) {
	r, err := registry.ParseReference(ref)
	if err != nil {
		return "", fmt.Errorf("%w: %v", errUsage, err)
	}
	if err := r.ValidateReferenceAsDigest(); err != nil && !o.allowTag {
		return "", fmt.Errorf("%w: %s is not pinned by digest; pass REPO@sha256:DIGEST (or --allow-tag)", errUsage, ref)
	}
	var keys []signing.PublicKey
	for _, path := range o.keys {
		k, err := signing.LoadPublicKeyFiles(path)
		if err != nil {
			return "", fmt.Errorf("%w: --key %s: %v", errUsage, path, err)
		}
		keys = append(keys, k...)
	}
	repo, err := registry.NewRepository(ctx, ref, registry.Options{PlainHTTP: o.plainHTTP, DockerConfig: o.dockerConfig})
	if err != nil {
		return "", fmt.Errorf("%w: %v", errUsage, err)
	}
	desc, err := repo.Resolve(ctx, r.Reference)
	if err != nil {
		return "", registry.Explain(err, r.Registry)
	}
	v := signing.Verifier{Log: log}
	res, err := v.Verify(ctx, repo, desc, signing.Policy{Keys: keys, RequireSBOM: o.requireSBOM})
	if err != nil {
		return "", err
	}
	log.Info("signature verified", "digest", desc.Digest, "key", res.Signatures[0].Key)
	return r.Registry + "/" + r.Repository + "@" + desc.Digest.String(), nil
}

// exitCodeVerify maps a verification failure to the exit codes.
func exitCodeVerify(ctx context.Context, err error) int {
	switch {
	case ctx.Err() != nil:
		return exitInternal
	case errors.Is(err, errUsage):
		return exitUsage
	case signing.ReasonOf(err) == signing.ReasonRegistryUnreachable || errors.Is(err, registry.ErrUnreachable) ||
		errors.Is(err, registry.ErrNotFound) || errors.Is(err, registry.ErrUnauthorized):
		return exitRegistry
	}
	return exitVerify
}
