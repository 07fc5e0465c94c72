package tracefs

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// EventFormat is a parsed events/GROUP/NAME/format file.
type EventFormat struct {
	ID     int
	Fields []FormatField // in file order, the common_* fields first
}

// FormatField is one "field:" line of a format file.
type FormatField struct {
	Name   string // "fd", "comm"
	Type   string // C type, array suffix included: "unsigned long", "char[16]", "__data_loc char[]"
	Offset int
	Size   int
	Signed bool
}

// Field returns the field called name.
func (f *EventFormat) Field(name string) (FormatField, bool) {
	for _, fld := range f.Fields {
		if fld.Name == name {
			return fld, true
		}
	}
	return FormatField{}, false
}

// parseFormat parses the text of a format file:
//
//	name: sys_enter_writev
//	ID: 736
//	format:
//		field:unsigned short common_type;	offset:0;	size:2;	signed:0;
//		...
//	print fmt: "..."
func parseFormat(data []byte) (*EventFormat, error) {
	f := &EventFormat{ID: -1}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20) // print fmt lines can be long
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "ID:"):
			id, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "ID:")))
			if err != nil {
				return nil, fmt.Errorf("bad ID line %q: %w", line, err)
			}
			f.ID = id
		case strings.HasPrefix(line, "field:"):
			fld, err := parseField(line)
			if err != nil {
				return nil, err
			}
			f.Fields = append(f.Fields, fld)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if f.ID < 0 {
		return nil, errors.New("no ID line")
	}
	return f, nil
}

// parseField parses "field:DECL;	offset:N;	size:N;	signed:N;". Kernels before 2.6.32 have no
// signed: part; then Signed stays false.
func parseField(line string) (FormatField, error) {
	var fld FormatField
	var haveOffset, haveSize bool
	for part := range strings.SplitSeq(line, ";") {
		key, val, ok := strings.Cut(strings.TrimSpace(part), ":")
		if !ok {
			continue
		}
		var err error
		switch key {
		case "field":
			fld.Name, fld.Type, err = parseDecl(val)
		case "offset":
			fld.Offset, err = strconv.Atoi(val)
			haveOffset = true
		case "size":
			fld.Size, err = strconv.Atoi(val)
			haveSize = true
		case "signed":
			var n int
			n, err = strconv.Atoi(val)
			fld.Signed = n != 0
		}
		if err != nil {
			return FormatField{}, fmt.Errorf("bad field line %q: %w", line, err)
		}
	}
	if !haveOffset || !haveSize {
		return FormatField{}, fmt.Errorf("bad field line %q: no offset or size", line)
	}
	return fld, nil
}

// parseDecl splits a C declaration such as "const struct iovec * vec" or "char comm[16]" into the
// name and the type, moving an array suffix from the name to the type.
func parseDecl(decl string) (name, typ string, err error) {
	decl = strings.TrimSpace(decl)
	var suffix string
	if strings.HasSuffix(decl, "]") {
		if i := strings.LastIndexByte(decl, '['); i > 0 {
			decl, suffix = strings.TrimSpace(decl[:i]), decl[i:]
		}
	}
	i := strings.LastIndexAny(decl, " *")
	if i < 0 || i == len(decl)-1 {
		return "", "", fmt.Errorf("no type in declaration %q", decl)
	}
	return decl[i+1:], strings.TrimSpace(decl[:i+1]) + suffix, nil
}
