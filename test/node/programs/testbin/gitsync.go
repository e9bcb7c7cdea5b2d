package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"
)

// gitSync is a STAND-IN for kubernetes/git-sync v4, whose Go module the module proxy refuses
// (see docs/templates.md#git-sync). It takes the flags the git-sync template passes and does
// what git-sync does with them, with the real git of the image: ask the remote for the ref's
// commit, fetch it into the repository under --root, check it out into .worktrees/<commit>,
// rename a new relative symlink over --link, remove the previous worktree, and answer 503 on
// --http-bind's / until the first sync has published the link and 200 after.
func gitSync(args []string) {
	fs := flag.NewFlagSet("git-sync", flag.ExitOnError)
	repo := fs.String("repo", "", "the repository")
	ref := fs.String("ref", "HEAD", "the ref to check out")
	period := fs.Duration("period", 10*time.Second, "the time between syncs")
	root := fs.String("root", "", "the root directory")
	link := fs.String("link", "", "the symlink to publish, relative to --root")
	bind := fs.String("http-bind", "", "the health endpoint's address")
	maxFailures := fs.Int("max-failures", 0, "failed syncs in a row before exiting")
	gitConfig := fs.String("git-config", "", "key:value,… for git config --global")
	fs.String("ssh-key-file", "", "accepted; this stand-in is tested over https")
	fs.String("ssh-known-hosts-file", "", "accepted; this stand-in is tested over https")
	fs.Parse(args)
	standIn := func(event string, kv ...any) { say(event, append([]any{"stand-in", "git-sync"}, kv...)...) }
	if *repo == "" || *root == "" {
		fail("git-sync stand-in: --repo and --root are required")
	}
	if *link == "" {
		*link = strings.TrimSuffix(filepath.Base(*repo), ".git")
	}
	s := &syncer{repo: *repo, ref: *ref, root: *root, link: filepath.Join(*root, *link), log: standIn}
	// As git-sync does: the emptyDir --root is root's, the repository in it this user's, which
	// git calls "dubious ownership" unless told the directory is safe; and never a prompt.
	for _, kv := range [][2]string{{"safe.directory", "*"}, {"core.askPass", "true"}} {
		if _, err := s.git("", "config", "--global", kv[0], kv[1]); err != nil {
			fail("git-sync stand-in: %v", err)
		}
	}
	for _, kv := range strings.Split(*gitConfig, ",") {
		if key, value, ok := strings.Cut(kv, ":"); ok {
			if _, err := s.git("", "config", "--global", key, value); err != nil {
				fail("git-sync stand-in: %v", err)
			}
		}
	}
	var ready atomic.Bool
	if *bind != "" {
		listener, err := net.Listen("tcp", *bind)
		if err != nil {
			fail("git-sync stand-in: listen %s: %v", *bind, err)
		}
		go http.Serve(listener, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			if !ready.Load() {
				http.Error(w, "repo is not ready", http.StatusServiceUnavailable)
			}
		}))
	}
	standIn("started", "uid", os.Getuid(), "repo", *repo, "ref", *ref, "period", *period, "link", s.link)
	stop := terminated()
	failures := 0
	for {
		started := time.Now()
		hash, changed, err := s.sync()
		if err != nil {
			failures++
			standIn("sync-failed", "error", err, "failures", failures)
			if *maxFailures >= 0 && failures > *maxFailures {
				os.Exit(1)
			}
		} else {
			failures = 0
			ready.Store(true)
			if changed {
				standIn("synced", "hash", hash, "ms", time.Since(started).Milliseconds())
			}
		}
		select {
		case sig := <-stop:
			standIn("signal", "name", sig)
			os.Exit(0)
		case <-time.After(*period):
		}
	}
}

type syncer struct {
	repo, ref, root, link string
	log                   func(event string, kv ...any)
}

func (s *syncer) git(dir string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

// remoteHash is the commit the ref names on the remote now (a commit hash names itself).
func (s *syncer) remoteHash() (string, error) {
	if len(s.ref) == 40 && strings.Trim(s.ref, "0123456789abcdef") == "" {
		return s.ref, nil
	}
	out, err := s.git(s.root, "ls-remote", "--", s.repo, s.ref)
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(out, "\n") {
		hash, name, _ := strings.Cut(line, "\t")
		if name == s.ref || name == "refs/heads/"+s.ref || name == "refs/tags/"+s.ref+"^{}" || name == "refs/tags/"+s.ref {
			return hash, nil
		}
	}
	return "", fmt.Errorf("the remote has no ref %s", s.ref)
}

// sync publishes the ref's current commit, if it is not the one the link names already.
func (s *syncer) sync() (string, bool, error) {
	if _, err := os.Stat(filepath.Join(s.root, ".git")); err != nil {
		if err := os.MkdirAll(s.root, 0o755); err != nil {
			return "", false, err
		}
		if _, err := s.git(s.root, "init", "-q", "-b", "git-sync"); err != nil {
			return "", false, err
		}
	}
	hash, err := s.remoteHash()
	if err != nil {
		return "", false, err
	}
	previous, _ := os.Readlink(s.link)
	if filepath.Base(previous) == hash {
		return hash, false, nil
	}
	if _, err := s.git(s.root, "fetch", "-q", "--no-auto-gc", s.repo, hash); err != nil {
		// Servers that refuse fetching a commit by hash give the ref instead.
		if _, err := s.git(s.root, "fetch", "-q", "--no-auto-gc", s.repo, s.ref); err != nil {
			return "", false, err
		}
	}
	worktree := filepath.Join(s.root, ".worktrees", hash)
	os.RemoveAll(worktree)
	s.git(s.root, "worktree", "prune")
	if _, err := s.git(s.root, "worktree", "add", "-q", "--force", "--detach", worktree, hash); err != nil {
		return "", false, err
	}
	target, err := filepath.Rel(filepath.Dir(s.link), worktree)
	if err != nil {
		return "", false, err
	}
	tmp := filepath.Join(filepath.Dir(s.link), "tmp-link")
	os.Remove(tmp)
	if err := os.Symlink(target, tmp); err != nil {
		return "", false, err
	}
	if err := os.Rename(tmp, s.link); err != nil {
		return "", false, err
	}
	if previous != "" {
		os.RemoveAll(filepath.Join(filepath.Dir(s.link), previous))
		s.git(s.root, "worktree", "prune")
	}
	return hash, true, nil
}
