package perfettotest

import (
	"strings"
	"testing"
)

const names = `{"ph":"M","name":"thread_name","pid":1,"tid":1,"args":{"name":"a"}},
{"ph":"M","name":"thread_name","pid":1,"tid":2,"args":{"name":"b"}},`

func TestValidate(t *testing.T) {
	tests := []struct {
		name, events string
		want         string // a substring of the error; "" for a valid trace
	}{
		{"valid", `
{"ph":"X","name":"read","cat":"c","ts":1.000,"dur":5,"pid":1,"tid":1},
{"ph":"i","name":"fault","cat":"c","ts":2.000,"pid":1,"tid":1,"s":"t"},
{"ph":"B","name":"outer","ts":10,"pid":1,"tid":1},{"ph":"E","ts":12,"pid":1,"tid":1},
{"ph":"b","name":"rq","cat":"k","id":1,"ts":3,"pid":1,"tid":2},{"ph":"e","name":"rq","cat":"k","id":1,"ts":9,"pid":1,"tid":2},
{"ph":"s","name":"caused","cat":"c","id":1,"ts":1,"pid":1,"tid":1},{"ph":"f","name":"caused","cat":"c","id":1,"ts":2,"pid":1,"tid":1,"bp":"e"},
{"ph":"C","name":"pages","ts":4,"pid":1,"tid":1,"args":{"pages":3}},
{"ph":"i","name":"lost","ts":0.5,"s":"g"}`, ""},
		{"flow DevTools cannot bind", `{"ph":"X","name":"read","cat":"syscall","ts":1,"dur":5,"pid":1,"tid":1},{"ph":"i","name":"fault","cat":"kernel","ts":2,"pid":1,"tid":1,"s":"t"},
{"ph":"s","name":"caused","cat":"cause","id":1,"ts":1,"pid":1,"tid":1},{"ph":"f","name":"caused","cat":"cause","id":1,"ts":2,"pid":1,"tid":1,"bp":"e"}`,
			`flow cause/caused/1 does not bind in DevTools: no slice of category "cause" starts at 1.000`},
		{"back in time", `{"ph":"X","name":"a","ts":5,"dur":1,"pid":1,"tid":1},{"ph":"X","name":"b","ts":4,"dur":1,"pid":1,"tid":1}`,
			`"b" at 4.000 goes back in time on thread 1/1`},
		{"partial overlap", `{"ph":"X","name":"a","ts":1,"dur":5,"pid":1,"tid":1},{"ph":"X","name":"b","ts":3,"dur":5,"pid":1,"tid":1}`,
			`slice "b" [3.000, 8.000] overlaps the enclosing slice ending 6.000`},
		{"no dur", `{"ph":"X","name":"a","ts":1,"pid":1,"tid":1}`, `complete slice "a" has no valid dur`},
		{"no ts", `{"ph":"X","name":"a","dur":1,"pid":1,"tid":1}`, `"a" (ph "X") has no ts`},
		{"E without B", `{"ph":"E","name":"a","ts":1,"pid":1,"tid":1}`, `E "a" without a B`},
		{"B never ends", `{"ph":"B","name":"a","ts":1,"pid":1,"tid":1}`, `B "a" never ends`},
		{"E closes another", `{"ph":"B","name":"a","ts":1,"pid":1,"tid":1},{"ph":"E","name":"b","ts":2,"pid":1,"tid":1}`, `E "b" closes B "a"`},
		{"async end alone", `{"ph":"e","name":"a","cat":"k","id":3,"ts":1,"pid":1,"tid":1}`, `async end "a" id 3 without a begin`},
		{"async never ends", `{"ph":"b","name":"a","cat":"k","id":3,"ts":1,"pid":1,"tid":1}`, `async k/3 never ends`},
		{"async backwards", `{"ph":"b","name":"a","cat":"k","id":3,"ts":5,"pid":1,"tid":1},{"ph":"e","name":"a","cat":"k","id":3,"ts":1,"pid":1,"tid":1}`,
			`ends before it begins`},
		{"flow never ends", `{"ph":"X","name":"a","ts":1,"dur":5,"pid":1,"tid":1},{"ph":"s","name":"c","cat":"c","id":1,"ts":1,"pid":1,"tid":1}`,
			`flow c/c/1 starts but never ends`},
		{"flow never starts", `{"ph":"X","name":"a","ts":1,"dur":5,"pid":1,"tid":1},{"ph":"f","name":"c","cat":"c","id":1,"ts":1,"pid":1,"tid":1,"bp":"e"}`,
			`flow c/c/1 ends but never starts`},
		{"flow binds to the next slice", `{"ph":"X","name":"a","ts":1,"dur":5,"pid":1,"tid":1},{"ph":"s","name":"c","cat":"c","id":1,"ts":1,"pid":1,"tid":1},{"ph":"f","name":"c","cat":"c","id":1,"ts":2,"pid":1,"tid":1}`,
			`binds to the next slice`},
		{"flow from nowhere", `{"ph":"X","name":"a","ts":1,"dur":5,"pid":1,"tid":1},{"ph":"s","name":"c","cat":"c","id":1,"ts":7,"pid":1,"tid":1},{"ph":"f","name":"c","cat":"c","id":1,"ts":8,"pid":1,"tid":2,"bp":"e"}`,
			`flow c/c/1 starts where thread 1/1 has no slice`},
		{"flow to nowhere", `{"ph":"X","name":"a","ts":1,"dur":5,"pid":1,"tid":1},{"ph":"s","name":"c","cat":"c","id":1,"ts":2,"pid":1,"tid":1},{"ph":"f","name":"c","cat":"c","id":1,"ts":3,"pid":1,"tid":2,"bp":"e"}`,
			`flow c/c/1 ends where thread 1/2 has no slice`},
		{"counter text", `{"ph":"C","name":"pages","ts":4,"pid":1,"tid":1,"args":{"pages":"x"}}`, `counter "pages" value pages is not a number`},
		{"counter backwards", `{"ph":"C","name":"p","ts":4,"pid":1,"tid":1,"args":{"n":1}},{"ph":"C","name":"p","ts":3,"pid":1,"tid":1,"args":{"n":1}}`,
			`counter "p" goes back in time`},
		{"unknown phase", `{"ph":"Q","name":"a","ts":1,"pid":1,"tid":1}`, `unknown ph "Q"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Validate([]byte(`{"traceEvents":[` + names + tt.events + `]}`))
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("valid trace rejected: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("error = %v\nwant one containing %q", err, tt.want)
			}
		})
	}
}

func TestValidateCounts(t *testing.T) {
	tr, err := Validate([]byte(`[` + names + `
{"ph":"X","name":"read","cat":"c","ts":1,"dur":5,"pid":1,"tid":1},
{"ph":"i","name":"fault","cat":"c","ts":2,"pid":1,"tid":1,"s":"t"},
{"ph":"b","name":"rq","cat":"k","id":"0x1","ts":3,"pid":1,"tid":2},{"ph":"e","name":"rq","cat":"k","id":"0x1","ts":9,"pid":1,"tid":2},
{"ph":"s","name":"c","cat":"c","id":1,"ts":1,"pid":1,"tid":1},{"ph":"f","name":"c","cat":"c","id":1,"ts":2,"pid":1,"tid":1,"bp":"e"},
{"ph":"C","name":"pages","ts":4,"pid":1,"tid":1,"args":{"pages":3}}]`))
	if err != nil {
		t.Fatal(err)
	}
	if tr.Slices != 1 || tr.Instants != 1 || tr.Async != 1 || tr.Flows != 1 || tr.Counters != 1 || tr.Threads != 2 {
		t.Errorf("counts = %+v", *tr)
	}
}

func TestValidateUnnamed(t *testing.T) {
	_, err := Validate([]byte(`[{"ph":"X","name":"a","ts":1,"dur":1,"pid":4,"tid":5}]`))
	if err == nil || !strings.Contains(err.Error(), "thread 4/5 has no thread_name") {
		t.Errorf("error = %v", err)
	}
	if _, err := Validate([]byte(`{"traceEvents":`)); err == nil || !strings.Contains(err.Error(), "not trace-event JSON") {
		t.Errorf("truncated JSON: %v", err)
	}
}
