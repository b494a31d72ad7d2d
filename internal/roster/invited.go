package roster

// InvitationPage is one page of an account's Invited Users.
type InvitationPage struct {
	Invitations []Invitation
	Next        string // cursor of the following page, "" on the last
}

// InvitedCountCap bounds the count of open invitations that Manage users
// shows: past it, the count says "100+" instead of counting every row.
const InvitedCountCap = 100
