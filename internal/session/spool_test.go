package session

import (
	"io"
	"os"
	"testing"
)

// The fallback spool for filesystems without O_TMPFILE: gone from the directory at once, yet
// written by one handle and read back by the other, each at its own offset.
func TestNamedSpool(t *testing.T) {
	dir := t.TempDir()
	w, r, err := namedSpool(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	defer r.Close()
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("the spool is still named in %s: %v", dir, ents)
	}
	if _, err := w.Write([]byte("records")); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	if err != nil || string(got) != "records" {
		t.Errorf("read back %q, %v; want %q", got, err, "records")
	}
}
