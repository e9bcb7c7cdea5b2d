package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// fluentBit serves the health endpoint the log-shipper template probes and copies the lines of
// the files matching --prop=path= to stdout, as Fluent Bit's stdout output would.
func fluentBit(args []string) {
	listen, port, glob, db := "0.0.0.0", "2020", "", ""
	for _, a := range args {
		switch {
		case strings.HasPrefix(a, "--http_listen="):
			listen = strings.TrimPrefix(a, "--http_listen=")
		case strings.HasPrefix(a, "--http_port="):
			port = strings.TrimPrefix(a, "--http_port=")
		case strings.HasPrefix(a, "--prop=path="):
			glob = strings.TrimPrefix(a, "--prop=path=")
		case strings.HasPrefix(a, "--prop=db="):
			db = strings.TrimPrefix(a, "--prop=db=")
		}
	}
	if glob == "" {
		fail("fluent-bit stand-in: no --prop=path=")
	}
	if db != "" {
		// The real tail input keeps its offsets there: the directory must be writable.
		if err := os.WriteFile(db, []byte("stand-in offsets\n"), 0o600); err != nil {
			fail("fluent-bit stand-in: %v", err)
		}
	}
	http.HandleFunc("/api/v2/health", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	go func() {
		if err := http.ListenAndServe(listen+":"+port, nil); err != nil {
			fail("fluent-bit stand-in: %v", err)
		}
	}()
	say("started", "program", "fluent-bit stand-in", "path", glob, "uid", os.Getuid())
	offsets := map[string]int{}
	stop := terminated()
	for {
		select {
		case sig := <-stop:
			say("signal", "name", sig)
			os.Exit(0)
		case <-time.After(500 * time.Millisecond):
		}
		files, _ := filepath.Glob(glob)
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil || len(data) <= offsets[file] {
				continue
			}
			for _, line := range strings.Split(strings.TrimRight(string(data[offsets[file]:]), "\n"), "\n") {
				say("record", "file", file, "log", line)
			}
			offsets[file] = len(data)
		}
	}
}

// vault writes what `vault agent -config=F` would write once logged in: every template's
// destination (a JSON document naming the stand-in and the template's contents, or its source
// file's) and every file sink (a token). With exit_after_auth it then exits 0, as the agent does
// after rendering once; otherwise it runs until SIGTERM.
func vault(args []string) {
	if len(args) < 2 || args[0] != "agent" || !strings.HasPrefix(args[1], "-config=") {
		fail("vault stand-in: only `vault agent -config=FILE`")
	}
	data, err := os.ReadFile(strings.TrimPrefix(args[1], "-config="))
	if err != nil {
		fail("vault stand-in: %v", err)
	}
	var config struct {
		ExitAfterAuth bool `json:"exit_after_auth"`
		AutoAuth      struct {
			Method []struct {
				Type   string         `json:"type"`
				Config map[string]any `json:"config"`
			} `json:"method"`
			Sink []struct {
				Config struct {
					Path string `json:"path"`
				} `json:"config"`
			} `json:"sink"`
		} `json:"auto_auth"`
		Template []struct {
			Destination string `json:"destination"`
			Contents    string `json:"contents"`
			Source      string `json:"source"`
		} `json:"template"`
	}
	if err := json.Unmarshal(data, &config); err != nil {
		fail("vault stand-in: the configuration is not JSON: %v", err)
	}
	if len(config.AutoAuth.Method) == 0 {
		fail("vault stand-in: no auto_auth method")
	}
	say("started", "program", "vault agent stand-in", "addr", os.Getenv("VAULT_ADDR"),
		"method", config.AutoAuth.Method[0].Type, "role", config.AutoAuth.Method[0].Config["role"], "uid", os.Getuid())
	// The real agent logs in first; a second passes here.
	time.Sleep(time.Second)
	for _, t := range config.Template {
		contents := t.Contents
		if t.Source != "" {
			data, err := os.ReadFile(t.Source)
			if err != nil {
				fail("vault stand-in: template source: %v", err)
			}
			contents = string(data)
		}
		body, _ := json.Marshal(map[string]string{"stand-in": "vault-agent", "template": contents})
		if err := os.WriteFile(t.Destination, body, 0o644); err != nil {
			fail("vault stand-in: %v", err)
		}
		say("rendered", "destination", t.Destination)
	}
	for _, s := range config.AutoAuth.Sink {
		if err := os.WriteFile(s.Config.Path, []byte("stand-in-token"), 0o444); err != nil {
			fail("vault stand-in: %v", err)
		}
		say("token", "sink", s.Config.Path)
	}
	if config.ExitAfterAuth {
		say("exiting", "reason", "exit_after_auth")
		os.Exit(0)
	}
	sig := <-terminated()
	say("signal", "name", sig)
	os.Exit(0)
}
