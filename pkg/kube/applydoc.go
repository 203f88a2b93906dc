package kube

import (
	"encoding/json"
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
)

// applyDocument is the body of a server-side apply of obj: its JSON with
// the status dropped (a Deployment's status belongs to its controller; an
// empty "status: {}" in an apply would claim it) and null values removed
// (in an apply, null means "delete this field").
func applyDocument(obj runtime.Object) ([]byte, error) {
	raw, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	if m["apiVersion"] == nil || m["kind"] == nil {
		return nil, fmt.Errorf("object %T has no apiVersion/kind: server-side apply needs both", obj)
	}
	delete(m, "status")
	return json.Marshal(dropNulls(m))
}

func dropNulls(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			if e == nil {
				delete(t, k)
				continue
			}
			t[k] = dropNulls(e)
		}
	case []any:
		for i, e := range t {
			t[i] = dropNulls(e)
		}
	}
	return v
}
