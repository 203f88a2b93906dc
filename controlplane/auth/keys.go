// Package auth authenticates API requests and decides what a principal may
// do. Keys are random, shown once, and stored only as a SHA-256 hash: a key
// has 256 bits of entropy, so a fast hash is enough and a lookup by hash
// needs no constant-time comparison.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"strings"
)

// KeyPrefix starts every key, so secret scanners can recognise a leaked one.
const KeyPrefix = "aek_"

// MinKeyLength is the shortest key accepted from an operator (the bootstrap
// key): shorter ones are guessable.
const MinKeyLength = 32

// prefixLen is how much of a key is kept in clear to tell keys apart.
const prefixLen = len(KeyPrefix) + 8

var enc = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewSecret returns a fresh random key.
func NewSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate key: %w", err)
	}
	return KeyPrefix + strings.ToLower(enc.EncodeToString(b)), nil
}

// NewID returns a random identifier with the given prefix (key_…, dep_…).
func NewID(prefix string) (string, error) {
	b := make([]byte, 10)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate id: %w", err)
	}
	return prefix + "_" + strings.ToLower(enc.EncodeToString(b)), nil
}

// Hash is the stored form of a key.
func Hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Prefix is the part of a key shown in listings.
func Prefix(secret string) string {
	if len(secret) <= prefixLen {
		return secret[:len(secret)/2]
	}
	return secret[:prefixLen]
}
