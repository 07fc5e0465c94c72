package testutil

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"testing"
	"time"
)

// RequireChromium returns the path of a Chromium that can run headless (IOTRACE_CHROMIUM, else
// chromium, chromium-browser or google-chrome on PATH). Without one it skips the test with the
// reason — except in CI, where the browser tests are required and a skip would hide them: there
// it fails. Debian's package is "chromium".
func RequireChromium(t testing.TB) string {
	t.Helper()
	candidates := []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}
	if p := os.Getenv("IOTRACE_CHROMIUM"); p != "" {
		candidates = []string{p}
	}
	for _, c := range candidates {
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	if InCI() {
		t.Fatalf("Chromium is required in CI but none was found (tried %v): install Debian's chromium package", candidates)
	}
	t.Skipf("needs Chromium for the browser test (tried %v; apt-get install chromium); in CI this fails instead", candidates)
	return ""
}

// Headless runs chromium headless, offline and with a throwaway profile, adding args (such as
// --dump-dom URL or --screenshot=PATH URL), and returns its standard output.
func Headless(t testing.TB, chromium string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	base := []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--no-default-browser-check",
		"--user-data-dir=" + t.TempDir(),
	}
	cmd := exec.CommandContext(ctx, chromium, append(base, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %v: %v\n%s", chromium, args, err, stderr.Bytes())
	}
	return stdout.Bytes()
}
