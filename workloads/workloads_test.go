package workloads

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// probe is a workload whose variants report where and as whom they ran.
func probe(ran *[]string) *Workload {
	variant := func(name string) Variant {
		return Variant{Name: name, Desc: name, Run: func(env *Env) error {
			*ran = append(*ran, name)
			st, err := os.Stat(env.Dir)
			if err != nil {
				return err
			}
			if !st.IsDir() || st.Mode().Perm() != 0o700 {
				return fmt.Errorf("variant dir %s: mode %v", env.Dir, st.Mode())
			}
			parent, err := os.Stat(filepath.Dir(env.Dir))
			if err != nil {
				return err
			}
			env.Printf("uid %d gid %d dir mode %v size %d", os.Getuid(), os.Getgid(), parent.Mode().Perm(), env.Size(7))
			return os.WriteFile(env.Path("f"), []byte("x"), 0o644)
		}}
	}
	return &Workload{Name: "probe", Desc: "d", Guide: "g", Variants: []Variant{variant("one"), variant("two")}}
}

func TestRun(t *testing.T) {
	tests := []struct {
		variant string
		wantRan []string
		wantErr string
	}{
		{"", []string{"one", "two"}, ""},
		{"two", []string{"two"}, ""},
		{"three", nil, `unknown variant "three" of workload "probe" (valid: one, two)`},
	}
	for _, tt := range tests {
		t.Run(tt.variant, func(t *testing.T) {
			tmp := t.TempDir()
			t.Setenv("TMPDIR", tmp)
			t.Setenv("SUDO_UID", "") // never drop privileges in this process
			var ran []string
			var out bytes.Buffer
			err := Run(probe(&ran), tt.variant, Options{Size: 42, Stdout: &out})
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("Run error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(ran) != fmt.Sprint(tt.wantRan) {
				t.Errorf("ran %v, want %v", ran, tt.wantRan)
			}
			for _, v := range tt.wantRan {
				if want := "probe/" + v + ": uid"; !strings.Contains(out.String(), want) {
					t.Errorf("narration lacks %q:\n%s", want, out.String())
				}
			}
			if !strings.Contains(out.String(), "dir mode -rwx------ size 42") {
				t.Errorf("private dir not 0700 or Size not passed:\n%s", out.String())
			}
			if left, _ := filepath.Glob(filepath.Join(tmp, "*")); len(left) != 0 {
				t.Errorf("left behind: %v", left)
			}
		})
	}
}

// TestDropPrivileges runs the probe in a child test process that looks as
// if sudo started it, and checks it ran as the sudo user.
func TestDropPrivileges(t *testing.T) {
	if os.Getenv("IOTRACE_DROP_HELPER") == "1" {
		var ran []string
		if err := Run(probe(&ran), "one", Options{}); err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to drop privileges")
	}
	// The dropped child must reach its private dir, so TMPDIR is a sticky,
	// world-writable dir like /tmp, directly under os.TempDir() (t.TempDir's
	// parent is root-only).
	tmp, err := os.MkdirTemp("", "iotrace-drop-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(tmp) })
	if err := os.Chmod(tmp, 0o1777); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestDropPrivileges$")
	cmd.Env = append(os.Environ(), "IOTRACE_DROP_HELPER=1", "SUDO_UID=65534", "SUDO_GID=65534", "TMPDIR="+tmp)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	for _, want := range []string{"probe: running as uid 65534 gid 65534", "probe/one: uid 65534 gid 65534"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("child output lacks %q:\n%s", want, out)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "*")); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}

func TestEnvDefaults(t *testing.T) {
	tests := []struct {
		opts  Options
		size  int64
		count int
	}{
		{Options{}, 100, 3},
		{Options{Size: 5, Count: 9}, 5, 9},
	}
	for _, tt := range tests {
		env := &Env{Opts: tt.opts}
		if got := env.Size(100); got != tt.size {
			t.Errorf("Size(100) with %+v = %d, want %d", tt.opts, got, tt.size)
		}
		if got := env.Count(3); got != tt.count {
			t.Errorf("Count(3) with %+v = %d, want %d", tt.opts, got, tt.count)
		}
	}
}

func TestPrintf(t *testing.T) {
	var out bytes.Buffer
	env := &Env{Opts: Options{Stdout: &out}, prefix: "w/v"}
	env.Printf("wrote %d bytes", 38)
	env.Printf("done\n")
	if want := "w/v: wrote 38 bytes\nw/v: done\n"; out.String() != want {
		t.Errorf("narration %q, want %q", out.String(), want)
	}
}

// A failing variant does not stop the ones after it; every failure is returned.
func TestRunGoesOnAfterAFailure(t *testing.T) {
	var ran []string
	fail := func(name string) Variant {
		return Variant{Name: name, Desc: name, Run: func(*Env) error {
			ran = append(ran, name)
			return errors.New("refused here")
		}}
	}
	ok := Variant{Name: "ok", Desc: "ok", Run: func(*Env) error { ran = append(ran, "ok"); return nil }}
	w := &Workload{Name: "w", Desc: "d", Guide: "g", Variants: []Variant{fail("a"), ok, fail("b")}}
	err := Run(w, "", Options{Stdout: &bytes.Buffer{}})
	if strings.Join(ran, ",") != "a,ok,b" {
		t.Errorf("ran %v, want every variant: a, ok, b", ran)
	}
	if err == nil || !strings.Contains(err.Error(), "w/a: refused here") || !strings.Contains(err.Error(), "w/b: refused here") {
		t.Errorf("error %v, want both failures", err)
	}
}
