package kube

import (
	"encoding/json"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestApplyDocument(t *testing.T) {
	objs, err := Render(baseSpec())
	if err != nil {
		t.Fatal(err)
	}
	for _, obj := range objs.List() {
		doc, err := applyDocument(obj)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(doc, &m); err != nil {
			t.Fatal(err)
		}
		if _, ok := m["status"]; ok {
			t.Errorf("%s: apply document carries a status", m["kind"])
		}
		if m["apiVersion"] == nil || m["kind"] == nil {
			t.Errorf("apply document lacks apiVersion/kind: %s", doc)
		}
		if strings.Contains(string(doc), "null") {
			t.Errorf("%s: apply document has a null, which would delete a field: %s", m["kind"], doc)
		}
	}
	if _, err := applyDocument(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x"}}); err == nil {
		t.Errorf("an object without apiVersion/kind was accepted")
	}
}

func TestDropNulls(t *testing.T) {
	in := map[string]any{"a": nil, "b": map[string]any{"c": nil, "d": 1.0}, "e": []any{map[string]any{"f": nil}}}
	out, _ := json.Marshal(dropNulls(in))
	if got, want := string(out), `{"b":{"d":1},"e":[{}]}`; got != want {
		t.Errorf("dropNulls = %s, want %s", got, want)
	}
}
