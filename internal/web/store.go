package web

import (
	"context"
	"time"

	"roster/internal/roster"
)

// Store is what the web layer needs from storage. *postgres.DB implements
// it; web never imports the postgres package.
type Store interface {
	Ready(ctx context.Context) error

	CreateUserWithAccount(ctx context.Context, nu roster.NewUser, accountName string, verifyMail roster.TokenMailFunc) (*roster.User, *roster.Account, error)
	UserByEmail(ctx context.Context, email string) (*roster.User, string, error)
	ResendVerification(ctx context.Context, userID int64, render roster.TokenMailFunc) error
	VerifyEmail(ctx context.Context, token string) (*roster.User, error)
	RequestPasswordReset(ctx context.Context, email string, render roster.TokenMailFunc) error
	CheckPasswordResetToken(ctx context.Context, token string) error
	ResetPassword(ctx context.Context, token, passwordHash string) (*roster.User, error)

	CreateLogin(ctx context.Context, userID int64, ip, userAgent string) (string, error)
	LoginUser(ctx context.Context, loginID string, idle, absolute time.Duration) (*roster.User, error)
	RevokeLogin(ctx context.Context, loginID string) error
	RevokeAllLogins(ctx context.Context, userID int64) error
	CountLogins(ctx context.Context, userID int64) (int, error)
	LoginFailures(ctx context.Context, email, ip string, since time.Time) (byEmail, byIP int, err error)
	RecordLoginFailure(ctx context.Context, email, ip string) error
	ClearLoginFailures(ctx context.Context, email string) error

	CreateAccount(ctx context.Context, userID int64, name string) (*roster.Account, error)
	Membership(ctx context.Context, accountSID string, userID int64) (*roster.Membership, error)
	TouchMembership(ctx context.Context, accountID, userID int64) error
	UserAccounts(ctx context.Context, userID int64, limit int) ([]roster.Membership, error)
	SearchUserAccounts(ctx context.Context, userID int64, query, after string, limit int) (*roster.AccountPage, error)
	UpdateAccountSettings(ctx context.Context, actor *roster.Membership, name string, ttl time.Duration) error
}
