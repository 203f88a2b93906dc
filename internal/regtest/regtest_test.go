package regtest

import (
	"net/http"
	"testing"
)

func TestRegistriesServeV2(t *testing.T) {
	for _, r := range All(t) {
		t.Run(r.Kind, func(t *testing.T) {
			resp, err := http.Get("http://" + r.Host + "/v2/")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET /v2/ = %d, want 200", resp.StatusCode)
			}
			reqs := r.Requests()
			if len(reqs) != 1 || reqs[0].Path != "/v2/" || reqs[0].Status != 200 {
				t.Fatalf("recorded %+v, want one GET /v2/ 200", reqs)
			}
		})
	}
}
