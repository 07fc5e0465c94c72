package catalog

import (
	"bytes"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/iotrace/iotrace/workloads"
)

func TestAll(t *testing.T) {
	want := []string{"vectored", "epoll", "mmap", "fadvise", "aio", "dup"}
	all := All()
	if len(all) != len(want) {
		t.Fatalf("All() has %d workloads, want %d", len(all), len(want))
	}
	kebab := regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	for i, w := range all {
		if w.Name != want[i] {
			t.Errorf("All()[%d] = %q, want %q", i, w.Name, want[i])
		}
		if w.Desc == "" || w.Guide == "" || len(w.Syscalls) == 0 || len(w.Variants) == 0 {
			t.Errorf("%s: empty Desc, Guide, Syscalls or Variants", w.Name)
		}
		seen := map[string]bool{}
		for _, v := range w.Variants {
			if !kebab.MatchString(v.Name) || seen[v.Name] {
				t.Errorf("%s: variant name %q is not unique kebab-case", w.Name, v.Name)
			}
			seen[v.Name] = true
			if v.Desc == "" || strings.Contains(v.Desc, "\n") || v.Run == nil {
				t.Errorf("%s/%s: Desc must be one non-empty line and Run set", w.Name, v.Name)
			}
		}
	}
}

func TestLookup(t *testing.T) {
	tests := []struct {
		name    string
		wantErr string
	}{
		{"dup", ""},
		{"aio", ""},
		{"nope", "valid: vectored, epoll, mmap, fadvise, aio, dup"},
	}
	for _, tt := range tests {
		w, err := Lookup(tt.name)
		if tt.wantErr == "" {
			if err != nil || w.Name != tt.name {
				t.Errorf("Lookup(%q) = %v, %v", tt.name, w, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("Lookup(%q) error = %v, want it to contain %q", tt.name, err, tt.wantErr)
		}
	}
}

// TestRunEveryVariant runs each workload untraced through workloads.Run,
// as the tracer's child does, and checks that each variant narrated and
// that the private directory is gone afterwards.
func TestRunEveryVariant(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	for _, w := range All() {
		t.Run(w.Name, func(t *testing.T) {
			var out bytes.Buffer
			if err := workloads.Run(w, "", workloads.Options{Stdout: &out}); err != nil {
				t.Fatalf("%v\n%s", err, out.String())
			}
			for _, v := range w.Variants {
				if !strings.Contains(out.String(), w.Name+"/"+v.Name+": ") {
					t.Errorf("variant %s narrated nothing", v.Name)
				}
			}
			t.Log("\n" + out.String())
			left, err := filepath.Glob(filepath.Join(tmp, "iotrace-*"))
			if err != nil || len(left) != 0 {
				t.Errorf("private dirs left behind: %v (%v)", left, err)
			}
		})
	}
}
