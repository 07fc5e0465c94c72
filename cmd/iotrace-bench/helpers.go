package main

import (
	"embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// The storm, the pacer, the start stamp and bpftrace's capture script, copied from the shared
// anchors (testdata/README.md says from where) so that the repository stands alone.
//
//go:embed testdata/sysload.c testdata/paced.c testdata/stamp.c testdata/capture.bt testdata/storm.c
var sources embed.FS

// helpers are the built programs, in the run's work directory.
type helpers struct {
	sysload, paced, stamp string
	storm                 string // N writev calls over T threads, each carrying its index
	captureBT             string // bpftrace script
}

// buildHelpers compiles the C helpers into dir, as shared/bench/anchors.sh does.
func buildHelpers(dir string) (*helpers, error) {
	if _, err := exec.LookPath("gcc"); err != nil {
		return nil, fmt.Errorf("gcc is needed to build the storm: %w", err)
	}
	h := &helpers{
		sysload:   filepath.Join(dir, "sysload"),
		paced:     filepath.Join(dir, "paced"),
		stamp:     filepath.Join(dir, "stamp"),
		storm:     filepath.Join(dir, "storm"),
		captureBT: filepath.Join(dir, "capture.bt"),
	}
	builds := []struct {
		src, out string
		flags    []string
	}{
		{"sysload.c", h.sysload, nil},
		{"paced.c", h.paced, []string{"-pthread"}},
		{"stamp.c", h.stamp, nil},
		{"storm.c", h.storm, []string{"-pthread"}},
	}
	if err := extract(dir, "capture.bt"); err != nil {
		return nil, err
	}
	for _, b := range builds {
		if err := extract(dir, b.src); err != nil {
			return nil, err
		}
		args := append([]string{"-O2", "-Wall"}, b.flags...)
		args = append(args, "-o", b.out, filepath.Join(dir, b.src))
		if out, err := exec.Command("gcc", args...).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("gcc %s: %w\n%s", b.src, err, out)
		}
	}
	return h, nil
}

func extract(dir, name string) error {
	data, err := sources.ReadFile("testdata/" + name)
	if err != nil {
		return fmt.Errorf("read embedded %s: %w", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}
