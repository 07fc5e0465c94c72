package tracefs

import (
	"reflect"
	"strings"
	"testing"
)

const writevFormat = `name: sys_enter_writev
ID: 736
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:int __syscall_nr;	offset:8;	size:4;	signed:1;
	field:unsigned long fd;	offset:16;	size:8;	signed:0;
	field:const struct iovec * vec;	offset:24;	size:8;	signed:0;
	field:unsigned long vlen;	offset:32;	size:8;	signed:0;

print fmt: "fd: 0x%08lx, vec: 0x%08lx, vlen: 0x%08lx", ((unsigned long)(REC->fd)), ((unsigned long)(REC->vec)), ((unsigned long)(REC->vlen))
`

func TestParseFormat(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantID  int
		want    []FormatField // checked against the fields after the common_* ones
		wantErr string
	}{
		{
			name:   "syscall",
			in:     writevFormat,
			wantID: 736,
			want: []FormatField{
				{Name: "__syscall_nr", Type: "int", Offset: 8, Size: 4, Signed: true},
				{Name: "fd", Type: "unsigned long", Offset: 16, Size: 8},
				{Name: "vec", Type: "const struct iovec *", Offset: 24, Size: 8},
				{Name: "vlen", Type: "unsigned long", Offset: 32, Size: 8},
			},
		},
		{
			name: "arrays, data_loc, pointer without space, no signed",
			in: "name: x\nID: 5\nformat:\n" +
				"\tfield:char comm[16];\toffset:8;\tsize:16;\tsigned:1;\n" +
				"\tfield:__data_loc char[] filename;\toffset:24;\tsize:4;\tsigned:0;\n" +
				"\tfield:char *buf;\toffset:32;\tsize:8;\n" +
				"\tfield:u64 ips[FTRACE_STACK_ENTRIES];\toffset:40;\tsize:64;\tsigned:0;\n",
			wantID: 5,
			want: []FormatField{
				{Name: "comm", Type: "char[16]", Offset: 8, Size: 16, Signed: true},
				{Name: "filename", Type: "__data_loc char[]", Offset: 24, Size: 4},
				{Name: "buf", Type: "char *", Offset: 32, Size: 8},
				{Name: "ips", Type: "u64[FTRACE_STACK_ENTRIES]", Offset: 40, Size: 64},
			},
		},
		{name: "no ID", in: "name: x\nformat:\n", wantErr: "no ID line"},
		{name: "bad ID", in: "ID: x\n", wantErr: `bad ID line "ID: x"`},
		{name: "bad offset", in: "ID: 1\n\tfield:int a;\toffset:z;\tsize:4;\n", wantErr: "bad field line"},
		{name: "no size", in: "ID: 1\n\tfield:int a;\toffset:0;\n", wantErr: "no offset or size"},
		{name: "no type", in: "ID: 1\n\tfield:a;\toffset:0;\tsize:4;\n", wantErr: `no type in declaration "a"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := parseFormat([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseFormat: %v", err)
			}
			if f.ID != tt.wantID {
				t.Errorf("ID = %d, want %d", f.ID, tt.wantID)
			}
			var got []FormatField
			for _, fld := range f.Fields {
				if !strings.HasPrefix(fld.Name, "common_") {
					got = append(got, fld)
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("fields =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestField(t *testing.T) {
	f, err := parseFormat([]byte(writevFormat))
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := f.Field("common_pid"); !ok || got.Offset != 4 || !got.Signed {
		t.Errorf(`Field("common_pid") = %+v, %v`, got, ok)
	}
	if got, ok := f.Field("nope"); ok {
		t.Errorf(`Field("nope") = %+v, true; want false`, got)
	}
}
