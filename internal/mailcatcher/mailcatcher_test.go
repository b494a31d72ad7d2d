package mailcatcher_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"roster/internal/mailcatcher"
)

func mustStart(t *testing.T) *mailcatcher.Server {
	t.Helper()
	s, err := mailcatcher.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// send speaks plain SMTP to s (go-smtp's SendMail insists on STARTTLS).
func send(t *testing.T, s *mailcatcher.Server, to []string, raw string) error {
	t.Helper()
	c, err := smtp.Dial(s.Addr())
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello("localhost"); err != nil {
		return err
	}
	if err := c.Mail("sender@example.com", nil); err != nil {
		return err
	}
	for _, addr := range to {
		if err := c.Rcpt(addr, nil); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := io.WriteString(w, strings.ReplaceAll(raw, "\n", "\r\n")); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

func mustSend(t *testing.T, s *mailcatcher.Server, to []string, raw string) {
	t.Helper()
	if err := send(t, s, to, raw); err != nil {
		t.Fatalf("SendMail: %v", err)
	}
}

func waitCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// A multipart/mixed with a nested alternative, quoted-printable text, a
// base64 HTML part and an encoded subject: the catcher reads what a mail
// client would show.
const nested = `From: =?utf-8?q?Zo=C3=AB?= <zoe@example.com>
To: ada@example.com
Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?= from Roster
Date: Thu, 26 Nov 2026 10:00:00 +0000
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: multipart/alternative; boundary="inner"

--inner
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Hello Ada, open https://roster.example.com/invite/abc_123. Or (https://roster.e=
xample.com/accounts), or https://roster.example.com/invite/abc_123 again.
--inner
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: base64

PHA+SGVsbG8gPGI+QWRhPC9iPjwvcD4=
--inner--
--outer
Content-Type: application/octet-stream
Content-Disposition: attachment; filename="x.bin"

AAAA
--outer--
`

func TestCatchesAndParses(t *testing.T) {
	s := mustStart(t)
	mustSend(t, s, []string{"ada@example.com", "bob@example.com"}, nested)

	m, err := s.WaitFor(waitCtx(t), mailcatcher.To("BOB@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	if m.ID != 1 || m.MailFrom != "sender@example.com" || len(m.To) != 2 {
		t.Errorf("envelope: id %d, from %q, to %q", m.ID, m.MailFrom, m.To)
	}
	if m.Subject != "Grüße from Roster" {
		t.Errorf("subject = %q", m.Subject)
	}
	if m.From != "Zoë <zoe@example.com>" {
		t.Errorf("from = %q", m.From)
	}
	if want := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC); !m.Date.Equal(want) {
		t.Errorf("date = %v, want %v", m.Date, want)
	}
	if !strings.HasPrefix(m.Text, "Hello Ada, open https://roster.example.com/invite/abc_123.") || strings.Contains(m.Text, "\r") {
		t.Errorf("text = %q", m.Text)
	}
	if m.HTML != "<p>Hello <b>Ada</b></p>" {
		t.Errorf("html = %q", m.HTML)
	}
	links := mailcatcher.Links(m)
	want := []string{"https://roster.example.com/invite/abc_123", "https://roster.example.com/accounts"}
	if strings.Join(links, " ") != strings.Join(want, " ") {
		t.Errorf("links = %q, want %q", links, want)
	}
}

func TestPlainMessage(t *testing.T) {
	s := mustStart(t)
	mustSend(t, s, []string{"ada@example.com"}, "Subject: Hi\n\nJust text, see http://localhost:8080/x?y=1&z=2!\n")
	m, err := s.WaitFor(waitCtx(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "Hi" || m.Text != "Just text, see http://localhost:8080/x?y=1&z=2!\n" || m.HTML != "" {
		t.Errorf("got %+v", m)
	}
	if l := mailcatcher.Links(m); len(l) != 1 || l[0] != "http://localhost:8080/x?y=1&z=2" {
		t.Errorf("links = %q", l)
	}
}

func TestFailures(t *testing.T) {
	s := mustStart(t)
	for _, tc := range []struct {
		failure mailcatcher.Failure
		code    int
	}{
		{mailcatcher.FailTemporary, 451},
		{mailcatcher.FailPermanent, 550},
	} {
		s.SetFailure(tc.failure)
		err := send(t, s, []string{"ada@example.com"}, "Subject: x\n\nx\n")
		var se *smtp.SMTPError
		if !errors.As(err, &se) || se.Code != tc.code {
			t.Errorf("failure %d: SendMail = %v, want SMTP %d", tc.failure, err, tc.code)
		}
	}
	s.SetFailure(mailcatcher.Accept)
	mustSend(t, s, []string{"ada@example.com"}, "Subject: ok\n\nok\n")
	if msgs := s.Messages(); len(msgs) != 1 || msgs[0].Subject != "ok" {
		t.Fatalf("messages = %+v", msgs)
	}
}

func TestWaitFor(t *testing.T) {
	s := mustStart(t)

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := s.WaitFor(ctx, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitFor on an empty catcher = %v, want a deadline error", err)
	}

	got := make(chan mailcatcher.Message, 1)
	go func() {
		m, err := s.WaitFor(waitCtx(t), func(m mailcatcher.Message) bool { return m.Subject == "second" })
		if err != nil {
			t.Error(err)
		}
		got <- m
	}()
	mustSend(t, s, []string{"ada@example.com"}, "Subject: first\n\n1\n")
	mustSend(t, s, []string{"ada@example.com"}, "Subject: second\n\n2\n")
	if m := <-got; m.Subject != "second" || m.ID != 2 {
		t.Fatalf("WaitFor = %+v", m)
	}

	s.Reset()
	if n := len(s.Messages()); n != 0 {
		t.Fatalf("%d messages after Reset", n)
	}
}

func TestKeepsNewest(t *testing.T) {
	s, err := mailcatcher.StartWith("127.0.0.1:0", mailcatcher.Options{Keep: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, subj := range []string{"a", "b", "c"} {
		mustSend(t, s, []string{"ada@example.com"}, "Subject: "+subj+"\n\nx\n")
	}
	msgs := s.Messages()
	if len(msgs) != 2 || msgs[0].Subject != "b" || msgs[1].Subject != "c" {
		t.Fatalf("messages = %+v", msgs)
	}
}

func TestLoopbackOnly(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:25", "example.com:25"} {
		if s, err := mailcatcher.Start(addr); err == nil {
			s.Close()
			t.Errorf("Start(%q) listened beyond loopback", addr)
		}
	}
	for _, addr := range []string{"127.0.0.1:0", "localhost:0", "[::1]:0"} {
		s, err := mailcatcher.Start(addr)
		if err != nil {
			if addr == "[::1]:0" && strings.Contains(err.Error(), "cannot assign") {
				continue // no IPv6 on this machine
			}
			t.Errorf("Start(%q): %v", addr, err)
			continue
		}
		s.Close()
	}
}

func TestCloseKeepsMessages(t *testing.T) {
	s := mustStart(t)
	mustSend(t, s, []string{"ada@example.com"}, "Subject: kept\n\nx\n")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := send(t, s, []string{"ada@example.com"}, "Subject: late\n\nx\n"); err == nil {
		t.Fatal("a closed catcher accepted mail")
	}
	if msgs := s.Messages(); len(msgs) != 1 || msgs[0].Subject != "kept" {
		t.Fatalf("messages = %+v", msgs)
	}
}

func TestHandler(t *testing.T) {
	s := mustStart(t)
	h := s.Handler()
	get := func(path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		return rec
	}

	if rec := get("/"); rec.Code != 200 || !strings.Contains(rec.Body.String(), "No mail yet") {
		t.Fatalf("empty page: %d\n%s", rec.Code, rec.Body)
	}

	mustSend(t, s, []string{"ada@example.com"}, nested)
	mustSend(t, s, []string{"eve@example.com"}, "Subject: <script>alert(1)</script>\n\nhttps://evil.example.com/\"><script>\n")

	rec := get("/")
	body := rec.Body.String()
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("page: %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	if strings.Contains(body, "<script>") {
		t.Error("the page shows a mail's markup unescaped")
	}
	if !strings.Contains(body, `<a href="https://roster.example.com/invite/abc_123">https://roster.example.com/invite/abc_123</a>`) {
		t.Errorf("the page has no clickable link:\n%s", body)
	}
	if i, j := strings.Index(body, "&lt;script&gt;alert(1)"), strings.Index(body, "Grüße from Roster"); i < 0 || j < 0 || i > j {
		t.Errorf("not newest first (positions %d, %d)", i, j)
	}
	if !strings.Contains(body, `href="/messages/1/html"`) {
		t.Error("no link to the HTML version")
	}

	rec = get("/api/messages")
	var list []struct {
		ID      int      `json:"id"`
		To      []string `json:"to"`
		Subject string   `json:"subject"`
		Text    string   `json:"text"`
		HTML    string   `json:"html"`
		Links   []string `json:"links"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil {
		t.Fatalf("/api/messages: %v\n%s", err, rec.Body)
	}
	if len(list) != 2 || list[0].ID != 2 || list[1].ID != 1 || list[1].Subject != "Grüße from Roster" ||
		list[1].HTML != "<p>Hello <b>Ada</b></p>" || len(list[1].Links) != 2 || list[1].To[0] != "ada@example.com" {
		t.Errorf("/api/messages = %+v", list)
	}

	rec = get("/messages/1/html")
	if rec.Code != 200 || rec.Body.String() != "<p>Hello <b>Ada</b></p>" || !strings.Contains(rec.Header().Get("Content-Security-Policy"), "sandbox") {
		t.Errorf("HTML version: %d %q %q", rec.Code, rec.Body, rec.Header().Get("Content-Security-Policy"))
	}
	for _, path := range []string{"/messages/2/html", "/messages/99/html", "/messages/x/html", "/nope"} {
		if rec := get(path); rec.Code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", path, rec.Code)
		}
	}
}

// The page is served over a real listener, as `roster mailcatcher` does.
func TestHandlerOverHTTP(t *testing.T) {
	s := mustStart(t)
	mustSend(t, s, []string{"ada@example.com"}, "Subject: over http\n\nhello\n")
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(b), "over http") {
		t.Fatalf("%d\n%s", resp.StatusCode, b)
	}
}
