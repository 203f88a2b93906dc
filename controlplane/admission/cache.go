package admission

import (
	"container/list"
	"sync"
	"time"

	"github.com/aetherengine/aether/pkg/api"
)

// cacheKey identifies one verification: the artifact (repository and
// digest) and the policy it was checked against. The policy is named by
// app, version and a hash of its content: the version lets an admin force
// re-verification by saving the policy again, and the hash keeps an app
// that was deleted and re-created (its versions start over) from reusing
// the old policy's results.
type cacheKey struct {
	Repository    string
	Digest        string
	App           string
	PolicyVersion int64
	PolicyHash    string
}

type cacheEntry struct {
	key      cacheKey
	artifact api.Artifact
	summary  string
	expires  time.Time
}

// Cache keeps successful verifications, bounded in entries (least recently
// used first out) and in time: an entry expires after its TTL, and never
// outlives the retirement of a key of the policy it was checked against.
// Refusals are never cached: a fix (an added signature) must count at once.
type Cache struct {
	mu  sync.Mutex
	max int
	ll  *list.List
	m   map[cacheKey]*list.Element
}

// NewCache returns a cache of at most max entries.
func NewCache(max int) *Cache {
	if max <= 0 {
		max = 1
	}
	return &Cache{max: max, ll: list.New(), m: map[cacheKey]*list.Element{}}
}

// Get returns the verification stored under k if it has not expired at now.
func (c *Cache) Get(k cacheKey, now time.Time) (api.Artifact, string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.m[k]
	if !ok {
		return api.Artifact{}, "", false
	}
	e := el.Value.(*cacheEntry)
	if !now.Before(e.expires) {
		c.ll.Remove(el)
		delete(c.m, k)
		return api.Artifact{}, "", false
	}
	c.ll.MoveToFront(el)
	return e.artifact, e.summary, true
}

// Put stores a verification until expires.
func (c *Cache) Put(k cacheKey, a api.Artifact, summary string, expires time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.m[k]; ok {
		el.Value = &cacheEntry{key: k, artifact: a, summary: summary, expires: expires}
		c.ll.MoveToFront(el)
		return
	}
	c.m[k] = c.ll.PushFront(&cacheEntry{key: k, artifact: a, summary: summary, expires: expires})
	for c.ll.Len() > c.max {
		last := c.ll.Back()
		c.ll.Remove(last)
		delete(c.m, last.Value.(*cacheEntry).key)
	}
}

// Len returns the number of entries.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}
