package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	netmail "net/mail"
	"strings"

	gomail "github.com/wneessen/go-mail"
)

// Message is one mail to send: a plain-text part and an HTML part, sent as
// multipart/alternative.
type Message struct {
	To      string
	Subject string
	Text    string
	HTML    string
	// ID, when set, is the left part of the Message-ID; the sender adds
	// "@" and the domain of its From address. The outbox gives each row one
	// ID for all its attempts. Empty: go-mail makes a random one.
	ID string
}

// Deliverer sends one message; *Sender is the SMTP one.
type Deliverer interface {
	Send(ctx context.Context, m Message) error
}

// Sender sends mail over SMTP with go-mail, one connection per message. It
// is safe for concurrent use.
type Sender struct {
	cfg Config
}

// NewSender checks cfg and returns a Sender for it.
func NewSender(cfg Config) (*Sender, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	return &Sender{cfg: cfg}, nil
}

// Send delivers m to the SMTP server. Its error is a *DeliveryError that
// says whether trying again later may help (see IsTemporary).
//
// Once the server has accepted the message, a failure to close the
// connection politely is ignored: reporting it would send the mail twice.
func (s *Sender) Send(ctx context.Context, m Message) error {
	msg, err := s.build(m)
	if err != nil {
		return &DeliveryError{Err: err}
	}
	client, err := gomail.NewClient(s.cfg.Host, s.options()...)
	if err != nil {
		return &DeliveryError{Err: fmt.Errorf("SMTP client: %w", err)}
	}
	conn, err := client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		// Connecting, the greeting, STARTTLS and AUTH concern the server
		// and our settings, not this message: worth retrying whatever the
		// reply code, so that a fixed setting still delivers the backlog.
		return &DeliveryError{Temporary: true, Unreachable: true, Err: fmt.Errorf("connecting to %s: %w", s.cfg.Addr(), err)}
	}
	defer client.CloseWithSMTPClient(conn)
	if err := client.SendWithSMTPClient(conn, msg); err != nil {
		return &DeliveryError{Temporary: classify(err), Err: err}
	}
	return nil
}

func (s *Sender) build(m Message) (*gomail.Msg, error) {
	msg := gomail.NewMsg()
	if err := msg.From(s.cfg.From); err != nil {
		return nil, fmt.Errorf("sender %q: %w", s.cfg.From, err)
	}
	if err := msg.To(m.To); err != nil {
		return nil, fmt.Errorf("recipient %q: %w", m.To, err)
	}
	msg.Subject(m.Subject)
	if m.ID != "" {
		msg.SetMessageIDWithValue(m.ID + "@" + domainOf(s.cfg.From))
	} else {
		msg.SetMessageID()
	}
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	return msg, nil
}

// options maps the Config onto go-mail, whose own default (mandatory
// STARTTLS on port 25) suits none of our modes as is.
func (s *Sender) options() []gomail.Option {
	tlsConfig := &tls.Config{ServerName: s.cfg.Host, MinVersion: tls.VersionTLS12}
	if s.cfg.TLSConfig != nil {
		tlsConfig = s.cfg.TLSConfig.Clone()
		if tlsConfig.ServerName == "" {
			tlsConfig.ServerName = s.cfg.Host
		}
	}
	opts := []gomail.Option{
		gomail.WithPort(s.cfg.Port),
		gomail.WithTimeout(s.cfg.Timeout),
		gomail.WithTLSConfig(tlsConfig),
	}
	switch s.cfg.TLS {
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL(), gomail.WithTLSPolicy(gomail.NoTLS))
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	case TLSOpportunistic:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if s.cfg.Username != "" {
		// PLAIN or LOGIN when offered, else the strongest the server has.
		// go-mail refuses to send a password in the clear except to
		// localhost.
		opts = append(opts,
			gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthPlain, gomail.SMTPAuthLogin),
			gomail.WithUsername(s.cfg.Username),
			gomail.WithPassword(s.cfg.Password))
	}
	return opts
}

// DeliveryError is a failed delivery, classified for the outbox.
type DeliveryError struct {
	// Temporary: trying again later may succeed (the server was down, timed
	// out, or answered 4xx). Otherwise the mail will never be accepted (5xx,
	// or an address that cannot be written).
	Temporary bool
	// Unreachable: the failure happened before this message was offered
	// (connection, greeting, TLS, authentication), so other mails would
	// fail the same way right now.
	Unreachable bool
	Err         error
}

func (e *DeliveryError) Error() string { return e.Err.Error() }
func (e *DeliveryError) Unwrap() error { return e.Err }

// IsTemporary reports whether a failed send is worth retrying: connection
// failures, timeouts and SMTP 4xx replies are; SMTP 5xx replies (such as 550
// mailbox unavailable) and unusable addresses are not. An error it does not
// recognise counts as temporary, so that a mail is never dropped by mistake.
func IsTemporary(err error) bool {
	if err == nil {
		return false
	}
	var de *DeliveryError
	if errors.As(err, &de) {
		return de.Temporary
	}
	return classify(err)
}

// isUnreachable reports whether err says the server could not be reached.
func isUnreachable(err error) bool {
	var de *DeliveryError
	return errors.As(err, &de) && de.Unreachable
}

// classify decides go-mail's send errors by the server's reply code. go-mail
// joins one SendError per message; we send one message at a time.
func classify(err error) bool {
	var se *gomail.SendError
	if !errors.As(err, &se) {
		return true
	}
	switch code := se.ErrorCode(); {
	case code >= 500:
		return false
	case code >= 400:
		return true
	}
	switch se.Reason {
	case gomail.ErrGetSender, gomail.ErrGetRcpts, gomail.ErrNoUnencoded:
		return false
	}
	// No reply code: the connection broke or timed out mid-conversation.
	return true
}

// domainOf returns the domain of a From address ("Roster <a@b.example>"),
// for Message-IDs; "localhost" if it has none.
func domainOf(from string) string {
	addr := from
	if a, err := netmail.ParseAddress(from); err == nil {
		addr = a.Address
	}
	if i := strings.LastIndex(addr, "@"); i >= 0 && i < len(addr)-1 {
		return addr[i+1:]
	}
	return "localhost"
}
