package backoffhttp

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"syscall"
)

// Which requests may be sent again, and which outcomes are worth it.

// Idempotent reports whether req may be sent again as it is: its method is
// GET, HEAD, OPTIONS, TRACE, PUT or DELETE (RFC 9110's idempotent
// methods; an empty method is GET), or it has an Idempotency-Key or
// X-Idempotency-Key header (even with a nil value, which net/http does not
// send). It is the default of [Transport.Eligible], and the rule net/http
// itself follows before resending a request on a new connection, with PUT
// and DELETE added.
func Idempotent(req *http.Request) bool {
	switch req.Method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
		return true
	}
	if _, ok := req.Header["Idempotency-Key"]; ok {
		return true
	}
	_, ok := req.Header["X-Idempotency-Key"]
	return ok
}

// Transient is the default classifier of [Transport.Classify]. It reports
// whether an attempt's outcome is worth retrying:
//
//   - a response with status 408 Request Timeout, 429 Too Many Requests,
//     502 Bad Gateway, 503 Service Unavailable or 504 Gateway Timeout;
//   - a connection that failed before a response: refused, reset, aborted
//     or a broken pipe (matched with errors.Is on the syscall errors), EOF
//     or an unexpected EOF before the response, any other failure to dial
//     (a *net.OpError whose Op is "dial") except a host that does not
//     exist, and a DNS lookup that timed out or failed temporarily;
//   - a connection that net/http closed under the request after a failure
//     it saw on it (net.ErrClosed: an upload cut off by a reset, whose
//     write then finds the connection closed, fails with it or with the
//     reset, whichever net/http sees first);
//   - a keep-alive connection that the server closed as the request was
//     sent on it ("http: server closed idle connection"): net/http resends
//     such a request itself when it can rewind its body, and returns the
//     error for the others;
//   - a response cut off partway through its status line or a header
//     line: net/http reports it as malformed, and Transient reads the
//     line it quotes. A line that is the start of a well-formed one (such
//     as "HTTP/1.", status code "50", a header "Content-Ty" without its
//     colon, or a line whose CRLF lost its LF) can only have been cut short
//     by the connection's end, and is retried like an EOF; any other
//     malformed response (a server speaking another protocol, say) is
//     not. net/http cannot tell more: it reports a line that ended without
//     its CRLF as it reports a whole one;
//   - any error that reports Timeout() == true, such as net/http's timeout
//     awaiting response headers.
//
// Any other error (a TLS certificate that does not verify, response
// headers over net/http's limit) and any other status (500 included: a
// server that fails the same way every time should not be asked again by
// default) is not.
func Transient(resp *http.Response, err error) bool {
	if err == nil {
		if resp == nil {
			return false
		}
		switch resp.StatusCode {
		case http.StatusRequestTimeout, http.StatusTooManyRequests,
			http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return true
		}
		return false
	}
	for _, target := range [...]error{
		syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.ECONNABORTED, syscall.EPIPE,
		io.EOF, io.ErrUnexpectedEOF, net.ErrClosed,
	} {
		if errors.Is(err, target) {
			return true
		}
	}
	if dns, ok := errors.AsType[*net.DNSError](err); ok {
		return dns.IsTimeout || dns.IsTemporary
	}
	if op, ok := errors.AsType[*net.OpError](err); ok && op.Op == "dial" {
		return true
	}
	if t, ok := errors.AsType[interface {
		error
		Timeout() bool
	}](err); ok && t.Timeout() {
		return true
	}
	return cutShort(err)
}

// unsent reports whether err proves that nothing of the request was sent:
// the connection was never made. net/http returns such errors only from
// setting the connection up, before it writes a byte of the request: a
// *net.OpError whose Op is "dial" (a refused or unreachable address, a
// failed DNS lookup) or "proxyconnect" (the proxy, or the tunnel through
// it, could not be set up), and a *net.DNSError. (The errors net/http
// knows to be "nothing written" once it has a connection it resends
// itself, when it can, and returns to the caller unmarked; a TLS handshake
// failure is not marked either, and is not counted here.)
func unsent(err error) bool {
	for err != nil {
		switch e := err.(type) {
		case *net.OpError:
			if e.Op == "dial" || e.Op == "proxyconnect" {
				return true
			}
		case *net.DNSError:
			return true
		}
		err = errors.Unwrap(err)
	}
	return false
}

// cutShort reports whether err is net/http's report of a keep-alive
// connection closed under the request, or of a response whose status line
// or a header line is the start of a well-formed one: a response cut off
// by the end of the connection (see [Transient]). net/http's errors for
// them have no type of their own, but their text has long been stable:
// "http: server closed idle connection"; "malformed HTTP response %q" and
// "malformed HTTP status code %q" for the status line; and a
// textproto.ProtocolError "malformed MIME header: missing colon: %q" or
// "malformed MIME header line: %q" for a header line. A test cuts a
// response off at every byte to keep this honest.
func cutShort(err error) bool {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			break
		}
		err = next
	}
	msg := err.Error()
	if msg == "http: server closed idle connection" {
		return true
	}
	if pe, ok := err.(textproto.ProtocolError); ok {
		msg = string(pe)
	}
	for _, f := range [...]struct {
		prefix string
		cut    func(line string) bool
	}{
		{"malformed HTTP response ", versionPrefix},
		{"malformed HTTP status code ", func(code string) bool { return len(code) < 3 && digits(code) }},
		{"malformed MIME header: missing colon: ", func(line string) bool { return line == "\r" || token(line) }},
		{"malformed MIME header line: ", func(line string) bool {
			// A whole header line whose CRLF lost its LF.
			name, value, ok := strings.Cut(strings.TrimSuffix(line, "\r"), ":")
			return ok && strings.HasSuffix(line, "\r") && token(name) && !strings.ContainsAny(value, "\r\n")
		}},
	} {
		if q, ok := strings.CutPrefix(msg, f.prefix); ok {
			line, err := strconv.Unquote(q)
			return err == nil && f.cut(line)
		}
	}
	return false
}

// versionPrefix reports whether s is the start of an HTTP-version, such as
// "HTTP/1.1" (the whole of it included: the status line was cut before
// the space that follows).
func versionPrefix(s string) bool {
	const shape = "HTTP/0.0" // 0: any digit
	if s == "" || len(s) > len(shape) {
		return false
	}
	for i := range len(s) {
		if shape[i] == '0' && (s[i] < '0' || s[i] > '9') || shape[i] != '0' && s[i] != shape[i] {
			return false
		}
	}
	return true
}

// digits reports whether s is all ASCII digits (the empty string too).
func digits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// token reports whether s is a non-empty RFC 9110 token, as a header
// field's name is.
func token(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}
