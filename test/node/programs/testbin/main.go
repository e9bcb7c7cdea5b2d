// One static binary for the node suite's test images, chosen by the name it is run as:
//
//	pause       the Pod sandbox: reaps children until SIGTERM or SIGINT
//	app         an app stand-in: runs checks, then exits or waits for SIGTERM
//	hup-app     an app that counts SIGHUPs and prints its config file on each
//	reload-app  an app that counts POSTs to /-/reload on 127.0.0.1 and prints its config file on each
//	otlp-sink   an OTLP/HTTP backend stand-in: answers 200 and prints each request's path and a header
//	fluent-bit  STAND-IN for Fluent Bit (which cannot be built here): the template's health
//	            endpoint, and the tailed files copied to stdout
//	vault       STAND-IN for Vault Agent (too large to build for the suite): `vault agent -config=F`
//	            writes each template destination and token sink of F, as the real agent does
//	            after logging in
//	git-sync    STAND-IN for kubernetes/git-sync v4 (its Go module is refused by the module proxy):
//	            the template's flags, real git, the same worktrees, link swap and health endpoint
//
// Every line it prints is one event, `<event> key=value…`, with its own time; the suite reads
// them through the API's container logs.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

func say(event string, kv ...any) {
	var b strings.Builder
	b.WriteString(event)
	for i := 0; i+1 < len(kv); i += 2 {
		fmt.Fprintf(&b, " %v=%q", kv[i], fmt.Sprint(kv[i+1]))
	}
	fmt.Fprintf(&b, " time=%q\n", time.Now().UTC().Format(time.RFC3339Nano))
	os.Stdout.WriteString(b.String())
}

func fail(format string, args ...any) {
	say("error", "message", fmt.Sprintf(format, args...))
	os.Exit(2)
}

// terminated waits for SIGTERM or SIGINT, says so, and exits 0.
func terminated(extra ...os.Signal) chan os.Signal {
	ch := make(chan os.Signal, 8)
	signal.Notify(ch, append([]os.Signal{syscall.SIGTERM, syscall.SIGINT}, extra...)...)
	return ch
}

func main() {
	name := filepath.Base(os.Args[0])
	args := os.Args[1:]
	if name == "testbin" && len(args) > 0 {
		name, args = args[0], args[1:]
	}
	switch name {
	case "pause":
		pause()
	case "app":
		app(args)
	case "hup-app":
		hupApp(args)
	case "otlp-sink":
		otlpSink(args)
	case "reload-app":
		reloadApp(args)
	case "fluent-bit":
		fluentBit(args)
	case "vault":
		vault(args)
	case "git-sync":
		gitSync(args)
	default:
		fail("unknown program %s", name)
	}
}

func pause() {
	ch := terminated(syscall.SIGCHLD)
	for sig := range ch {
		if sig != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			var status syscall.WaitStatus
			if pid, _ := syscall.Wait4(-1, &status, syscall.WNOHANG, nil); pid <= 0 {
				break
			}
		}
	}
}
