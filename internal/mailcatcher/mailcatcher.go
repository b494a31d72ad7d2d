// Package mailcatcher is an SMTP server for development and tests: it
// listens on a loopback address, accepts every mail and keeps it in memory
// for reading, through Messages and WaitFor or through a small web page
// (Handler). It can be told to refuse mail, for now (451) or for good (550),
// to test how senders cope.
//
// It is not a mail server: it delivers nothing and never listens beyond the
// loopback interface.
package mailcatcher

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Message is one caught mail.
type Message struct {
	ID       int       `json:"id"`
	MailFrom string    `json:"mail_from"` // envelope sender
	To       []string  `json:"to"`        // envelope recipients
	From     string    `json:"from"`      // From header, decoded
	Subject  string    `json:"subject"`   // decoded
	Date     time.Time `json:"date"`      // Date header; zero if missing
	Received time.Time `json:"received"`
	Text     string    `json:"text"` // text/plain part, decoded, LF line ends
	HTML     string    `json:"html"` // text/html part, decoded
	Raw      []byte    `json:"-"`    // the message as received
}

// Failure makes the server refuse mail, as a failing server would.
type Failure int

const (
	Accept        Failure = iota // accept every mail (the default)
	FailTemporary                // answer RCPT with 451: try again later
	FailPermanent                // answer RCPT with 550: mailbox unavailable
)

// TLSMode is how the server offers TLS.
type TLSMode int

const (
	NoTLS       TLSMode = iota // plain SMTP (the default)
	StartTLS                   // offer STARTTLS with a self-signed certificate
	ImplicitTLS                // TLS from the first byte (smtps)
)

// Options configure StartWith.
type Options struct {
	TLS TLSMode
	// Username and Password, when set, require AUTH PLAIN before mail is
	// accepted.
	Username, Password string
	// Keep is how many messages are kept, newest; 1000 if 0.
	Keep int
}

// Server is a running mail catcher. Its methods are safe for concurrent use.
type Server struct {
	smtp     *smtp.Server
	listener net.Listener
	done     chan struct{}
	opts     Options
	roots    *x509.CertPool

	mu       sync.Mutex
	messages []Message
	nextID   int
	failure  Failure
	changed  chan struct{} // closed and replaced when a message arrives
	sessions int           // SMTP connections accepted
}

// Start listens for SMTP on addr, which must be a loopback address such as
// "127.0.0.1:1025" or "127.0.0.1:0" (any free port; see Addr), with no TLS
// and no authentication.
func Start(addr string) (*Server, error) { return StartWith(addr, Options{}) }

// StartWith is Start with options.
func StartWith(addr string, opts Options) (*Server, error) {
	if err := checkLoopback(addr); err != nil {
		return nil, err
	}
	if opts.Keep <= 0 {
		opts.Keep = 1000
	}
	s := &Server{opts: opts, done: make(chan struct{}), changed: make(chan struct{})}
	srv := smtp.NewServer(backend{s})
	srv.Domain = "mailcatcher.localhost"
	srv.MaxMessageBytes = 10 << 20
	srv.MaxRecipients = 100
	srv.ReadTimeout = time.Minute
	srv.WriteTimeout = time.Minute
	srv.AllowInsecureAuth = true
	srv.ErrorLog = log.New(io.Discard, "", 0)

	var l net.Listener
	var err error
	if opts.TLS != NoTLS {
		cert, roots, cerr := selfSigned()
		if cerr != nil {
			return nil, cerr
		}
		s.roots = roots
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	if opts.TLS == ImplicitTLS {
		l, err = tls.Listen("tcp", addr, srv.TLSConfig)
	} else {
		l, err = net.Listen("tcp", addr)
	}
	if err != nil {
		return nil, fmt.Errorf("mailcatcher: %w", err)
	}
	s.smtp, s.listener = srv, l
	go func() {
		defer close(s.done)
		srv.Serve(l)
	}()
	return s, nil
}

func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("mailcatcher: address %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("mailcatcher: listens on a loopback address only (such as 127.0.0.1:1025), not %q", addr)
}

// Addr is the address the server listens on, with the actual port.
func (s *Server) Addr() string { return s.listener.Addr().String() }

// Port is the port the server listens on.
func (s *Server) Port() int { return s.listener.Addr().(*net.TCPAddr).Port }

// RootCAs trusts the server's self-signed certificate (nil without TLS).
func (s *Server) RootCAs() *x509.CertPool { return s.roots }

// Close stops listening and drops open connections; caught messages stay
// readable.
func (s *Server) Close() error {
	err := s.smtp.Close()
	// Serve may not have registered the listener with the server yet.
	s.listener.Close()
	<-s.done
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	return err
}

// SetFailure makes the server accept mail again (Accept) or refuse it.
func (s *Server) SetFailure(f Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failure = f
}

// Messages returns the caught messages, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Reset forgets every caught message.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.messages = nil
}

// WaitFor returns the first caught message, oldest first, for which match
// is true (any message if match is nil), waiting for one to arrive until
// ctx is done.
func (s *Server) WaitFor(ctx context.Context, match func(Message) bool) (Message, error) {
	for {
		s.mu.Lock()
		for _, m := range s.messages {
			if match == nil || match(m) {
				s.mu.Unlock()
				return m, nil
			}
		}
		changed := s.changed
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return Message{}, fmt.Errorf("mailcatcher: no matching message: %w", ctx.Err())
		case <-changed:
		}
	}
}

// To matches messages sent to addr (case-insensitive), for WaitFor.
func To(addr string) func(Message) bool {
	return func(m Message) bool {
		for _, to := range m.To {
			if strings.EqualFold(to, addr) {
				return true
			}
		}
		return false
	}
}

func (s *Server) add(m Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	m.ID = s.nextID
	s.messages = append(s.messages, m)
	if extra := len(s.messages) - s.opts.Keep; extra > 0 {
		s.messages = append([]Message(nil), s.messages[extra:]...)
	}
	close(s.changed)
	s.changed = make(chan struct{})
}

var linkPattern = regexp.MustCompile(`https?://[^\s<>"'\x60]+`)

// linkTrailing is punctuation that ends a sentence rather than a link.
const linkTrailing = ".,;:!?)]}"

// Links returns the http(s) links in the message's text part, in order,
// each once.
func Links(m Message) []string { return findLinks(m.Text) }

func findLinks(text string) []string {
	var out []string
	seen := map[string]bool{}
	for _, l := range linkPattern.FindAllString(text, -1) {
		l = strings.TrimRight(l, linkTrailing)
		if !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	return out
}

// backend and session implement go-smtp's server side.
type backend struct{ s *Server }

func (b backend) NewSession(*smtp.Conn) (smtp.Session, error) {
	b.s.mu.Lock()
	b.s.sessions++
	b.s.mu.Unlock()
	return &session{s: b.s}, nil
}

// Sessions counts the SMTP connections the server accepted, so that tests
// can tell whether a sender reuses its connection.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions
}

type session struct {
	s      *Server
	authed bool
	from   string
	to     []string
}

func (ss *session) AuthMechanisms() []string {
	if ss.s.opts.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	if ss.s.opts.Username == "" || mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != ss.s.opts.Username || password != ss.s.opts.Password {
			return smtp.ErrAuthFailed
		}
		ss.authed = true
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.s.opts.Username != "" && !ss.authed {
		return smtp.ErrAuthRequired
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.s.mu.Lock()
	f := ss.s.failure
	ss.s.mu.Unlock()
	switch f {
	case FailTemporary:
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Temporary failure, try again later (mailcatcher)"}
	case FailPermanent:
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "Mailbox unavailable (mailcatcher)"}
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m := parse(raw)
	m.MailFrom = ss.from
	m.To = append([]string(nil), ss.to...)
	m.Received = time.Now()
	ss.s.add(m)
	return nil
}

func (ss *session) Reset() {
	ss.from = ""
	ss.to = nil
}

func (ss *session) Logout() error { return nil }

// parse reads what a mail client would show. A message it cannot parse is
// kept with its raw text as the text part.
func parse(raw []byte) Message {
	m := Message{Raw: raw}
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		m.Text = string(raw)
		return m
	}
	dec := new(mime.WordDecoder)
	decode := func(s string) string {
		if d, err := dec.DecodeHeader(s); err == nil {
			return d
		}
		return s
	}
	m.From = decode(msg.Header.Get("From"))
	m.Subject = decode(msg.Header.Get("Subject"))
	if d, err := msg.Header.Date(); err == nil {
		m.Date = d
	}
	if err := parsePart(&m, msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body, 0); err != nil && m.Text == "" {
		m.Text = string(raw)
	}
	return m
}

// parsePart takes the first text/plain and text/html parts, looking inside
// nested multiparts.
func parsePart(m *Message, contentType, encoding string, body io.Reader, depth int) error {
	if contentType == "" {
		contentType = "text/plain; charset=utf-8"
	}
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return err
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		if depth > 10 {
			return errors.New("multipart nested too deep")
		}
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			// NextPart already decodes quoted-printable.
			err = parsePart(m, p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p, depth+1)
			if err != nil {
				return err
			}
		}
	}
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	data, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	switch mediaType {
	case "text/plain":
		if m.Text == "" {
			m.Text = text
		}
	case "text/html":
		if m.HTML == "" {
			m.HTML = text
		}
	}
	return nil
}
