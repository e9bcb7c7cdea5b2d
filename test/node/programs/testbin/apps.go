package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

// One span, as an OTLP/HTTP JSON export request.
const otlpTrace = `{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"node-app"}}]},` +
	`"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",` +
	`"name":"node-span","kind":1,"startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000001000000000"}]}]}]}`

// check reports whether target is there: tcp:HOST:PORT (connects and closes, sends nothing),
// http://… (a 2xx to GET), otlp:URL (a 2xx to one span POSTed as OTLP/HTTP JSON), file:PATH (a
// non-empty file), write:DIR (a file can be created in it).
func check(target string) (bool, string) {
	switch {
	case strings.HasPrefix(target, "otlp:"):
		client := http.Client{Timeout: 5 * time.Second}
		resp, err := client.Post(strings.TrimPrefix(target, "otlp:"), "application/json", strings.NewReader(otlpTrace))
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode/100 == 2, resp.Status
	case strings.HasPrefix(target, "tcp:"):
		conn, err := net.DialTimeout("tcp", strings.TrimPrefix(target, "tcp:"), 2*time.Second)
		if err != nil {
			return false, err.Error()
		}
		conn.Close()
		return true, "connected"
	case strings.HasPrefix(target, "http://"):
		client := http.Client{Timeout: 2 * time.Second}
		resp, err := client.Get(target)
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode/100 == 2, resp.Status
	case strings.HasPrefix(target, "file:"):
		data, err := os.ReadFile(strings.TrimPrefix(target, "file:"))
		if err != nil {
			return false, err.Error()
		}
		return len(data) > 0, strings.TrimSpace(string(data))
	case strings.HasPrefix(target, "write:"):
		path := strings.TrimPrefix(target, "write:") + "/app.log"
		if err := os.WriteFile(path, []byte("app line written at start\n"), 0o644); err != nil {
			return false, err.Error()
		}
		return true, path
	}
	return false, "unknown check"
}

func app(args []string) {
	fs := flag.NewFlagSet("app", flag.ExitOnError)
	var checks list
	fs.Var(&checks, "check", "tcp:HOST:PORT, http://URL, file:PATH or write:DIR (repeatable)")
	exitAfter := fs.Duration("exit-after", -1, "exit 0 this long after the checks (default: wait for SIGTERM)")
	stopDelay := fs.Duration("stop-delay", 0, "on SIGTERM, take this long to stop")
	fs.Parse(args)
	stop := terminated()
	say("started", "uid", os.Getuid())
	for _, target := range checks {
		ok, detail := check(target)
		say("check", "target", target, "ok", ok, "detail", detail)
	}
	if *exitAfter >= 0 {
		time.Sleep(*exitAfter)
		say("exiting", "code", 0)
		os.Exit(0)
	}
	sig := <-stop
	say("signal", "name", sig)
	time.Sleep(*stopDelay)
	say("stopped")
	os.Exit(0)
}

func readConfig(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "unreadable: " + err.Error()
	}
	return strings.TrimSpace(string(data))
}

func hupApp(args []string) {
	fs := flag.NewFlagSet("hup-app", flag.ExitOnError)
	config := fs.String("config", "", "the file to print on start and on every SIGHUP")
	fs.Parse(args)
	ch := terminated(syscall.SIGHUP)
	say("started", "uid", os.Getuid(), "pid", os.Getpid(), "config", readConfig(*config))
	count := 0
	for sig := range ch {
		if sig != syscall.SIGHUP {
			say("signal", "name", sig)
			os.Exit(0)
		}
		count++
		say("SIGHUP", "count", count, "config", readConfig(*config))
	}
}

// otlpSink stands where an OTLP/HTTP backend would: it answers every request 200 and prints its
// method, path and the value of one header, to show what the collector sent.
func otlpSink(args []string) {
	fs := flag.NewFlagSet("otlp-sink", flag.ExitOnError)
	listen := fs.String("listen", "127.0.0.1:14318", "where to serve")
	header := fs.String("header", "", "the request header to print")
	fs.Parse(args)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		say("request", "method", r.Method, "path", r.URL.Path, "header", r.Header.Get(*header),
			"content-type", r.Header.Get("Content-Type"), "bytes", len(body))
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.WriteHeader(http.StatusOK)
	})
	listener, err := net.Listen("tcp", *listen)
	if err != nil {
		fail("listen %s: %v", *listen, err)
	}
	go http.Serve(listener, handler)
	say("started", "uid", os.Getuid(), "listen", *listen)
	sig := <-terminated()
	say("signal", "name", sig)
	os.Exit(0)
}

func reloadApp(args []string) {
	fs := flag.NewFlagSet("reload-app", flag.ExitOnError)
	config := fs.String("config", "", "the file to print on start and on every reload")
	listen := fs.String("listen", "127.0.0.1:8080", "where POST /-/reload is served")
	fs.Parse(args)
	var count atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("/-/reload", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		say("reload", "count", count.Add(1), "from", r.RemoteAddr, "config", readConfig(*config))
		fmt.Fprintln(w, "reloaded")
	})
	listener, err := net.Listen("tcp", *listen)
	if err != nil {
		fail("listen %s: %v", *listen, err)
	}
	go http.Serve(listener, mux)
	say("started", "uid", os.Getuid(), "listen", *listen, "config", readConfig(*config))
	sig := <-terminated()
	say("signal", "name", sig)
	os.Exit(0)
}
