package h1

import (
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// statusLines holds "HTTP/1.1 200 OK\r\n" (and the HTTP/1.0 form) for every
// code, with net/http's reason phrases ("status code N" for unknown ones).
var statusLines = func() (t [2][600][]byte) {
	for code := 100; code < 600; code++ {
		for minor := 0; minor < 2; minor++ {
			t[minor][code] = []byte("HTTP/1." + strconv.Itoa(minor) + " " + strconv.Itoa(code) + " " + statusText(code) + "\r\n")
		}
	}
	return t
}()

func statusText(code int) string {
	if t := http.StatusText(code); t != "" {
		return t
	}
	return "status code " + strconv.Itoa(code)
}

// appendStatusLine appends the status line for an HTTP/1.minor client.
func appendStatusLine(b []byte, minor, code int) []byte {
	if minor > 1 {
		minor = 1
	}
	if code >= 100 && code < 600 {
		return append(b, statusLines[minor][code]...)
	}
	b = append(b, "HTTP/1."...)
	b = strconv.AppendInt(b, int64(minor), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(code), 10)
	return append(b, " status code\r\n"...)
}

func appendContentLength(b []byte, n int64) []byte {
	b = append(b, "Content-Length: "...)
	b = strconv.AppendInt(b, n, 10)
	return append(b, "\r\n"...)
}

func appendField(b []byte, name, value string) []byte {
	b = append(b, name...)
	b = append(b, ": "...)
	b = append(b, value...)
	return append(b, "\r\n"...)
}

// dateLine caches "Date: <IMF-fixdate>\r\n" for the current second.
type dateLine struct {
	unix int64
	line []byte
}

var dateCache atomic.Pointer[dateLine]

func appendDate(b []byte) []byte {
	now := time.Now()
	d := dateCache.Load()
	if d == nil || d.unix != now.Unix() {
		line := now.UTC().AppendFormat([]byte("Date: "), http.TimeFormat)
		d = &dateLine{unix: now.Unix(), line: append(line, "\r\n"...)}
		dateCache.Store(d)
	}
	return append(b, d.line...)
}

// appendChunkHeader appends the chunk-size line of an n-byte chunk.
func appendChunkHeader(b []byte, n int) []byte {
	b = strconv.AppendInt(b, int64(n), 16)
	return append(b, "\r\n"...)
}
