package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	netmail "net/mail"
	"strings"

	gomail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"
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

// Deliverer opens delivery sessions; *Sender is the SMTP one.
type Deliverer interface {
	Open(ctx context.Context) (Session, error)
}

// Session sends messages one after the other over one connection, which it
// opens on the first Send and opens again after it broke. Close ends it.
type Session interface {
	Send(ctx context.Context, m Message) error
	Close() error
}

// Sender sends mail over SMTP with go-mail. It is safe for concurrent use;
// each of its sessions is used by one goroutine.
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

// Send delivers one message on a connection of its own. Its error is a
// *DeliveryError that says whether trying again later may help (see
// IsTemporary).
func (s *Sender) Send(ctx context.Context, m Message) error {
	sess, _ := s.Open(ctx)
	defer sess.Close()
	return sess.Send(ctx, m)
}

// Open starts a session: many messages over one connection, which saves a
// TCP (and TLS, and AUTH) handshake per message. It connects lazily, so it
// does not fail.
func (s *Sender) Open(ctx context.Context) (Session, error) {
	return &smtpSession{s: s}, nil
}

// smtpSession is a Session over go-mail.
type smtpSession struct {
	s      *Sender
	client *gomail.Client
	conn   *smtp.Client
}

// Send delivers m, connecting first if the session has no live connection.
// Once the server has accepted a message, nothing that happens on the
// connection afterwards is reported for it: that would send it twice.
func (ss *smtpSession) Send(ctx context.Context, m Message) error {
	msg, err := ss.s.build(m)
	if err != nil {
		return &DeliveryError{Err: err}
	}
	if ss.conn == nil {
		client, err := gomail.NewClient(ss.s.cfg.Host, ss.s.options()...)
		if err != nil {
			return &DeliveryError{Err: fmt.Errorf("SMTP client: %w", err)}
		}
		conn, err := client.DialToSMTPClientWithContext(ctx)
		if err != nil {
			// Connecting, the greeting, STARTTLS and AUTH concern the
			// server and our settings, not this message: worth retrying
			// whatever the reply code, so that a fixed setting still
			// delivers the backlog.
			return &DeliveryError{Temporary: true, Unreachable: true, Err: fmt.Errorf("connecting to %s: %w", ss.s.cfg.Addr(), err)}
		}
		ss.client, ss.conn = client, conn
	}
	if err := ss.client.SendWithSMTPClient(ss.conn, msg); err != nil {
		if replyCode(err) == 0 && classify(err) {
			// No reply: the connection broke or timed out, and the
			// server is in trouble; the rest of the batch had better
			// wait than time out one by one. The next message gets a
			// new connection.
			ss.Close()
			return &DeliveryError{Temporary: true, Unreachable: true, Err: err}
		}
		return &DeliveryError{Temporary: classify(err), Err: err}
	}
	return nil
}

// Close ends the session politely; a failure to do so is of no interest,
// since every message was accepted or refused already.
func (ss *smtpSession) Close() error {
	if ss.conn != nil {
		ss.client.CloseWithSMTPClient(ss.conn)
		ss.client, ss.conn = nil, nil
	}
	return nil
}

// replyCode is the SMTP server's reply code in err, 0 when it gave none.
func replyCode(err error) int {
	var se *gomail.SendError
	if errors.As(err, &se) {
		return se.ErrorCode()
	}
	return 0
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
