package epoll

import (
	"bytes"
	"strings"
	"testing"

	"github.com/iotrace/iotrace/workloads"
)

func newEnv(t *testing.T, opts workloads.Options) (*workloads.Env, *bytes.Buffer) {
	t.Helper()
	var out bytes.Buffer
	opts.Stdout = &out
	return &workloads.Env{Dir: t.TempDir(), Opts: opts}, &out
}

func TestEcho(t *testing.T) {
	env, out := newEnv(t, workloads.Options{})
	if err := runEcho(env); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"server running on 127.0.0.1:", "new client connected", "client disconnected"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("narration lacks %q:\n%s", want, out)
		}
	}
	if got := strings.Count(out.String(), "client got its"); got != len(echoMessages) {
		t.Errorf("client saw %d echoes, want %d:\n%s", got, len(echoMessages), out)
	}
}

func TestTriggers(t *testing.T) {
	const total = chunks * chunkSize
	tests := []struct {
		name        string
		edge, drain bool
		want        triggerResult
	}{
		{"et-stranded", true, false, triggerResult{waits: 2, events: 1, reads: 1, read: readSize, stranded: total - readSize, found: total - readSize}},
		{"et-drain", true, true, triggerResult{waits: 2, events: 1, reads: total / readSize, read: total}},
		{"level", false, false, triggerResult{waits: total/readSize + 1, events: total / readSize, reads: total / readSize, read: total}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, _ := newEnv(t, workloads.Options{})
			got, err := trigger(env, tt.edge, tt.drain)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestPollVsEpoll(t *testing.T) {
	env, _ := newEnv(t, workloads.Options{Count: 200})
	got, err := pollVsEpoll(env)
	if err != nil {
		t.Fatal(err)
	}
	if got.pipes != 200 || got.pollReady != 1 || got.epollReady != 1 {
		t.Errorf("got %d pipes, poll ready %d, epoll ready %d; want 200, 1, 1", got.pipes, got.pollReady, got.epollReady)
	}
}

func TestNetpoller(t *testing.T) {
	env, out := newEnv(t, workloads.Options{})
	if err := runNetpoller(env); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `echoed 17 bytes "hello, netpoller\n"`) {
		t.Errorf("narration: %s", out)
	}
}
