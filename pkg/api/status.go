package api

// DeploymentStatus is where a deployment is in its life.
type DeploymentStatus string

// The deployment status machine:
//
//	pending → verifying → verified → rolling_out → ready
//	any non-terminal state → failed
const (
	StatusPending    DeploymentStatus = "pending"
	StatusVerifying  DeploymentStatus = "verifying"
	StatusVerified   DeploymentStatus = "verified"
	StatusRollingOut DeploymentStatus = "rolling_out"
	StatusReady      DeploymentStatus = "ready"
	StatusFailed     DeploymentStatus = "failed"
)

// Statuses lists every status in machine order.
var Statuses = []DeploymentStatus{StatusPending, StatusVerifying, StatusVerified, StatusRollingOut, StatusReady, StatusFailed}

var transitions = map[DeploymentStatus][]DeploymentStatus{
	StatusPending:    {StatusVerifying, StatusFailed},
	StatusVerifying:  {StatusVerified, StatusFailed},
	StatusVerified:   {StatusRollingOut, StatusFailed},
	StatusRollingOut: {StatusReady, StatusFailed},
}

// Valid reports whether s is a known status.
func (s DeploymentStatus) Valid() bool {
	for _, v := range Statuses {
		if v == s {
			return true
		}
	}
	return false
}

// Terminal reports whether no transition leaves s.
func (s DeploymentStatus) Terminal() bool { return s == StatusReady || s == StatusFailed }

// CanTransition reports whether the machine allows from → to.
func CanTransition(from, to DeploymentStatus) bool {
	for _, next := range transitions[from] {
		if next == to {
			return true
		}
	}
	return false
}
