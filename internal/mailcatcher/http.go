package mailcatcher

import (
	"bytes"
	"encoding/json"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Handler serves the caught mail, for development only:
//
//	GET /                     a page listing messages, newest first, with
//	                          their text and clickable links
//	GET /messages/{id}/html   a message's HTML part, sandboxed
//	GET /api/messages         the messages as JSON, newest first, with links
//
// It has no authentication: serve it on a loopback address.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.servePage)
	mux.HandleFunc("GET /messages/{id}/html", s.serveHTML)
	mux.HandleFunc("GET /api/messages", s.serveJSON)
	return mux
}

// newestFirst returns the messages, newest first.
func (s *Server) newestFirst() []Message {
	msgs := s.Messages()
	slices.Reverse(msgs)
	return msgs
}

// jsonMessage is a Message with its links, as /api/messages serves it.
type jsonMessage struct {
	Message
	Links []string `json:"links"`
}

func (s *Server) serveJSON(w http.ResponseWriter, r *http.Request) {
	msgs := s.newestFirst()
	out := make([]jsonMessage, len(msgs))
	for i, m := range msgs {
		out[i] = jsonMessage{Message: m, Links: Links(m)}
		if out[i].Links == nil {
			out[i].Links = []string{}
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(out)
}

func (s *Server) serveHTML(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.Atoi(r.PathValue("id"))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	for _, m := range s.Messages() {
		if m.ID == id && m.HTML != "" {
			// The mail's HTML runs in a sandbox: no scripts, nothing loaded
			// from elsewhere, but its links can be followed.
			w.Header().Set("Content-Security-Policy", "sandbox allow-popups allow-popups-to-escape-sandbox allow-top-navigation-by-user-activation; default-src 'none'; style-src 'unsafe-inline'; img-src data:")
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			w.Write([]byte(m.HTML))
			return
		}
	}
	http.NotFound(w, r)
}

// segment is a piece of a text part: plain text, or a link.
type segment struct {
	Text string
	Link bool
}

func segments(text string) []segment {
	var out []segment
	last := 0
	for _, loc := range linkPattern.FindAllStringIndex(text, -1) {
		end := loc[0] + len(strings.TrimRight(text[loc[0]:loc[1]], linkTrailing))
		if loc[0] > last {
			out = append(out, segment{Text: text[last:loc[0]]})
		}
		out = append(out, segment{Text: text[loc[0]:end], Link: true})
		last = end
	}
	if last < len(text) {
		out = append(out, segment{Text: text[last:]})
	}
	return out
}

type pageMessage struct {
	Message
	Links    []string
	Segments []segment
}

func (s *Server) servePage(w http.ResponseWriter, r *http.Request) {
	msgs := s.newestFirst()
	data := struct {
		Addr     string
		Messages []pageMessage
	}{Addr: s.Addr()}
	for _, m := range msgs {
		data.Messages = append(data.Messages, pageMessage{Message: m, Links: Links(m), Segments: segments(m.Text)})
	}
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, data); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	w.Write(buf.Bytes())
}

var pageTemplate = template.Must(template.New("page").Funcs(template.FuncMap{
	"when": func(t time.Time) string { return t.Format("Mon 2 Jan 15:04:05") },
	"iso":  func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Mail catcher ({{len .Messages}})</title>
<style>
  :root { color-scheme: light; }
  body { margin: 0; font: 15px/1.5 -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color: #111827; background: #f3f4f6; }
  header { background: #fff; border-bottom: 1px solid #e5e7eb; padding: 16px 24px; display: flex; gap: 16px; align-items: baseline; flex-wrap: wrap; }
  header h1 { font-size: 18px; margin: 0; }
  header p { margin: 0; color: #6b7280; font-size: 14px; }
  header a { margin-left: auto; color: #4338ca; }
  main { max-width: 860px; margin: 0 auto; padding: 24px 16px; }
  article { background: #fff; border: 1px solid #e5e7eb; border-radius: 8px; margin: 0 0 16px; }
  article h2 { font-size: 17px; margin: 0; padding: 16px 20px 4px; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0; padding: 4px 20px 12px; font-size: 14px; color: #374151; }
  dt { color: #6b7280; }
  dd { margin: 0; overflow-wrap: anywhere; }
  .links { margin: 0; padding: 12px 20px; border-top: 1px solid #f3f4f6; list-style: none; }
  .links li { overflow-wrap: anywhere; }
  a { color: #4338ca; }
  pre { margin: 0; padding: 16px 20px; border-top: 1px solid #f3f4f6; white-space: pre-wrap; overflow-wrap: anywhere; font: 14px/1.5 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
  .empty { text-align: center; color: #6b7280; padding: 48px 16px; }
  footer { padding: 8px 20px 14px; font-size: 14px; }
</style>
</head>
<body>
<header>
  <h1>Mail catcher</h1>
  <p>Development only. Mail sent to SMTP {{.Addr}} is kept here, in memory, and delivered nowhere.</p>
  <a href="/">Refresh</a>
</header>
<main>
{{range .Messages}}
  <article id="m{{.ID}}">
    <h2>{{if .Subject}}{{.Subject}}{{else}}(no subject){{end}}</h2>
    <dl>
      <dt>To</dt><dd>{{range $i, $to := .To}}{{if $i}}, {{end}}{{$to}}{{end}}</dd>
      <dt>From</dt><dd>{{.From}}</dd>
      <dt>Received</dt><dd><time datetime="{{iso .Received}}">{{when .Received}}</time></dd>
    </dl>
    {{if .Links}}<ul class="links">{{range .Links}}<li><a href="{{.}}">{{.}}</a></li>{{end}}</ul>{{end}}
    <pre>{{range .Segments}}{{if .Link}}<a href="{{.Text}}">{{.Text}}</a>{{else}}{{.Text}}{{end}}{{end}}</pre>
    {{if .HTML}}<footer><a href="/messages/{{.ID}}/html" target="_blank" rel="noopener">View the HTML version</a></footer>{{end}}
  </article>
{{else}}
  <p class="empty">No mail yet. Mail sent to {{.Addr}} shows up here; refresh the page to see it.</p>
{{end}}
</main>
</body>
</html>
`))
