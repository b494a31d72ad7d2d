package roster

// Permission is something a role allows. The table below is the only place
// that says which role may do what; pages, middleware and the store ask it.
type Permission string

const (
	ManageUsers       Permission = "manage_users"
	ViewAuditLog      Permission = "view_audit_log"
	EditSettings      Permission = "edit_settings"
	TransferOwnership Permission = "transfer_ownership"
	UseDeveloperTools Permission = "use_developer_tools"
	ManageBilling     Permission = "manage_billing"
	HandleSupport     Permission = "handle_support"
)

// PermissionInfo describes a permission for the console home.
type PermissionInfo struct {
	Permission  Permission
	Label       string
	Description string
}

// Permissions lists every permission in display order.
var Permissions = []PermissionInfo{
	{ManageUsers, "Manage users", "Invite people, resend and revoke invitations, change roles and remove users."},
	{ViewAuditLog, "View the audit log", "See who invited, changed or removed whom, and when."},
	{EditSettings, "Edit account settings", "Change the account's name and how long invitations stay valid."},
	{TransferOwnership, "Transfer ownership", "Make another member the Owner of this account."},
	{UseDeveloperTools, "Developer tools", "Build with the account's APIs, keys and configuration."},
	{ManageBilling, "Billing", "See invoices and usage, and manage payment details."},
	{HandleSupport, "Support", "Open and follow support tickets for the account."},
}

// rolePermissions is the permission table. Administrator holds every
// permission of Developer, Billing Manager and Support, and may manage users.
var rolePermissions = map[Role][]Permission{
	Owner:          {ManageUsers, ViewAuditLog, EditSettings, TransferOwnership, UseDeveloperTools, ManageBilling, HandleSupport},
	Administrator:  {ManageUsers, ViewAuditLog, EditSettings, UseDeveloperTools, ManageBilling, HandleSupport},
	Developer:      {UseDeveloperTools},
	BillingManager: {ManageBilling},
	Support:        {HandleSupport},
}

// Can reports whether any role in the set grants p.
func (s RoleSet) Can(p Permission) bool {
	for _, r := range s {
		for _, q := range rolePermissions[r] {
			if q == p {
				return true
			}
		}
	}
	return false
}

// Allowed lists, in display order, the permissions the set grants.
func (s RoleSet) Allowed() []PermissionInfo {
	var out []PermissionInfo
	for _, p := range Permissions {
		if s.Can(p.Permission) {
			out = append(out, p)
		}
	}
	return out
}
