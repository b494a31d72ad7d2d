package roster

// How long an account keeps its audit log, in months. The default is 13
// months, so a whole year can always be compared with the one before.
const (
	DefaultAuditRetentionMonths = 13
	MinAuditRetentionMonths     = 1
	MaxAuditRetentionMonths     = 120
)

// CheckAuditRetention applies the bounds on an account's audit retention.
func CheckAuditRetention(months int) error {
	if months < MinAuditRetentionMonths || months > MaxAuditRetentionMonths {
		return FieldErrorf("retention_months", "Choose between %d and %d months.", MinAuditRetentionMonths, MaxAuditRetentionMonths)
	}
	return nil
}

// ViaCommandLine is the audit origin's path for changes made with the
// roster command rather than the console.
const ViaCommandLine = "Command line"

// CommandLineOrigin is the origin of a change made with the roster command:
// Via says so, and who ran it where when known ("root@host"); it is an
// Operator's change.
func CommandLineOrigin(who string) Origin {
	if who == "" {
		return Origin{Via: ViaCommandLine, Operator: true}
	}
	return Origin{Via: ViaCommandLine + " (" + who + ")", Operator: true}
}
