package flight

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"github.com/timebound/backoff/sim"
)

// ServeHTTP serves the calls the Recorder keeps, under the path it is
// mounted at (strip the mount's prefix, as http.StripPrefix does):
//
//	/          the list of calls, most recent first: when each began,
//	           whether it failed, its reason, attempts and elapsed time,
//	           and links to the rest (HTML)
//	/ID.jsonl  the trace of call ID, for backoffsim replay
//	/ID.txt    its timeline, as `backoffsim run` prints it
//	/ID.svg    its picture
//
// The timeline and the picture come from simulating the scenario in the
// trace's header: they show the simulator's stand-in errors
// ("sim: retryable error"), not the texts the call saw. A call whose
// trace cannot be replayed (see Call.Err) has a trace but no timeline or
// picture. Only GET and HEAD are served.
func (r *Recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "flight: only GET and HEAD", http.StatusMethodNotAllowed)
		return
	}
	name := strings.TrimPrefix(req.URL.Path, "/")
	if name == "" {
		r.serveList(w)
		return
	}
	base, ext, _ := strings.Cut(name, ".")
	id, err := strconv.ParseUint(base, 10, 64)
	if err != nil || !strings.Contains(name, ".") {
		http.Error(w, fmt.Sprintf("flight: no such page %q: want /, /ID.jsonl, /ID.txt or /ID.svg", name), http.StatusNotFound)
		return
	}
	c := r.Call(id)
	if c == nil {
		http.Error(w, fmt.Sprintf("flight: call %d is not kept (any more)", id), http.StatusNotFound)
		return
	}
	var b bytes.Buffer
	switch ext {
	case "jsonl":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if _, err := c.WriteTo(&b); err != nil {
			http.Error(w, "flight: "+err.Error(), http.StatusInternalServerError)
			return
		}
	case "txt", "svg":
		if c.Err != nil {
			http.Error(w, fmt.Sprintf("flight: call %d: %v", id, c.Err), http.StatusUnprocessableEntity)
			return
		}
		res, err := sim.Run(c.Trace.Scenario)
		if err == nil {
			if ext == "txt" {
				w.Header().Set("Content-Type", "text/plain; charset=utf-8")
				err = sim.Timeline(&b, c.Trace.Scenario, res)
			} else {
				w.Header().Set("Content-Type", "image/svg+xml")
				err = sim.SVG(&b, c.Trace.Scenario, res)
			}
		}
		if err != nil {
			http.Error(w, fmt.Sprintf("flight: call %d: %v", id, err), http.StatusInternalServerError)
			return
		}
	default:
		http.Error(w, fmt.Sprintf("flight: no such page %q: want ID.jsonl, ID.txt or ID.svg", name), http.StatusNotFound)
		return
	}
	w.Write(b.Bytes())
}

var listPage = template.Must(template.New("list").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>backoff: recent calls</title>
<style>body{font-family:sans-serif}td,th{padding:2px 8px;text-align:left}td.n{text-align:right}</style></head>
<body><h1>backoff: recent calls</h1>
<p>The last {{.Cap}} calls kept ({{.Kept}} so far): those that failed{{if .Slow}}, and those that took {{.Slow}} or more{{end}}. Save a trace and run <code>backoffsim replay</code> on it.</p>
{{if .Calls}}<table>
<tr><th>call</th><th>began</th><th></th><th>reason</th><th>attempts</th><th>elapsed</th><th></th></tr>
{{range .Calls}}<tr><td class="n">{{.ID}}</td><td>{{.When.Format "2006-01-02 15:04:05.000"}}</td><td>{{if .Failed}}failed{{else}}slow{{end}}</td><td>{{.Reason}}</td><td class="n">{{.Attempts}}</td><td class="n">{{.Elapsed}}</td>
<td><a href="{{.ID}}.jsonl">trace</a>{{if not .Err}} <a href="{{.ID}}.txt">timeline</a> <a href="{{.ID}}.svg">picture</a>{{else}} (not replayable: {{.Err}}){{end}}</td></tr>
{{end}}</table>{{else}}<p>No call kept yet.</p>{{end}}
</body></html>
`))

func (r *Recorder) serveList(w http.ResponseWriter) {
	r.mu.Lock()
	kept := r.count
	r.mu.Unlock()
	var b bytes.Buffer
	err := listPage.Execute(&b, struct {
		Cap, Kept int
		Slow      any
		Calls     []*Call
	}{r.o.Calls, kept, slowText(r.o), r.Calls()})
	if err != nil {
		http.Error(w, "flight: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(b.Bytes())
}

func slowText(o Options) any {
	if o.Slow <= 0 {
		return nil
	}
	return o.Slow
}
