package api

// Role is what an API key may do.
type Role string

// Roles. An admin does everything; a deployer creates deployments and reads,
// a viewer only reads, both only for the apps their key is scoped to.
const (
	RoleAdmin    Role = "admin"
	RoleDeployer Role = "deployer"
	RoleViewer   Role = "viewer"
)

// AllApps is the scope entry that covers every app.
const AllApps = "*"

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleAdmin || r == RoleDeployer || r == RoleViewer }

// Covers reports whether a key scoped to apps may act on app.
func Covers(apps []string, app string) bool {
	for _, a := range apps {
		if a == AllApps || a == app {
			return true
		}
	}
	return false
}
