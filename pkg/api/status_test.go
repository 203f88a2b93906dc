package api

import "testing"

func TestStatusMachine(t *testing.T) {
	allowed := map[[2]DeploymentStatus]bool{
		{StatusPending, StatusVerifying}:   true,
		{StatusVerifying, StatusVerified}:  true,
		{StatusVerified, StatusRollingOut}: true,
		{StatusRollingOut, StatusReady}:    true,
		{StatusPending, StatusFailed}:      true,
		{StatusVerifying, StatusFailed}:    true,
		{StatusVerified, StatusFailed}:     true,
		{StatusRollingOut, StatusFailed}:   true,
	}
	for _, from := range Statuses {
		for _, to := range Statuses {
			if got := CanTransition(from, to); got != allowed[[2]DeploymentStatus{from, to}] {
				t.Errorf("CanTransition(%s, %s) = %v", from, to, got)
			}
		}
		if from.Terminal() != (from == StatusReady || from == StatusFailed) {
			t.Errorf("%s.Terminal() = %v", from, from.Terminal())
		}
		if !from.Valid() {
			t.Errorf("%s not valid", from)
		}
	}
	if DeploymentStatus("running").Valid() || CanTransition("running", StatusFailed) {
		t.Error("unknown status accepted")
	}
}

func TestCoversAndRoles(t *testing.T) {
	if !Covers([]string{"*"}, "x") || !Covers([]string{"a", "x"}, "x") || Covers([]string{"a"}, "x") || Covers(nil, "x") {
		t.Error("Covers wrong")
	}
	if !RoleAdmin.Valid() || Role("root").Valid() {
		t.Error("Role.Valid wrong")
	}
}
