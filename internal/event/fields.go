package event

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// Field is one key of a decoded object. Val is one of: string, int64, uint64, bool, Fields,
// []any (of the same kinds). Decoders produce only these kinds, and a recording reads back into
// exactly them, so a renderer sees the same values live and from a file.
type Field struct {
	Key string
	Val any
}

// Fields is an ordered JSON object.
type Fields []Field

// Get returns the value of key.
func (f Fields) Get(key string) (any, bool) {
	for _, kv := range f {
		if kv.Key == key {
			return kv.Val, true
		}
	}
	return nil, false
}

// Int returns key as an int64 when it holds an integer.
func (f Fields) Int(key string) (int64, bool) {
	v, ok := f.Get(key)
	if !ok {
		return 0, false
	}
	return AsInt(v)
}

// Str returns key as a string when it holds one.
func (f Fields) Str(key string) (string, bool) {
	v, ok := f.Get(key)
	s, isStr := v.(string)
	return s, ok && isStr
}

// AsInt converts an integer value of either signedness.
func AsInt(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case uint64:
		return int64(n), true
	case int:
		return int64(n), true
	}
	return 0, false
}

func (f Fields) MarshalJSON() ([]byte, error) {
	return appendFields(nil, f), nil
}

func (f *Fields) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	v, err := decodeValue(dec)
	if err != nil {
		return err
	}
	obj, ok := v.(Fields)
	if !ok {
		return fmt.Errorf("want an object, got %T", v)
	}
	*f = obj
	return nil
}

func appendFields(b []byte, f Fields) []byte {
	b = append(b, '{')
	for i, kv := range f {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, kv.Key)
		b = append(b, ':')
		b = appendValue(b, kv.Val)
	}
	return append(b, '}')
}

func appendValue(b []byte, v any) []byte {
	switch x := v.(type) {
	case string:
		return appendString(b, x)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case uint64:
		return strconv.AppendUint(b, x, 10)
	case int:
		return strconv.AppendInt(b, int64(x), 10)
	case bool:
		return strconv.AppendBool(b, x)
	case Fields:
		return appendFields(b, x)
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendValue(b, e)
		}
		return append(b, ']')
	case nil:
		return append(b, "null"...)
	}
	// Unknown kinds are a decoder bug; keep the output valid JSON and visible.
	return appendString(b, fmt.Sprintf("%v", v))
}

// appendString writes a JSON string. Decoders escape binary data before it gets here, so only
// JSON's own escapes are needed; invalid UTF-8 is escaped byte by byte rather than replaced.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\t':
			b = append(b, '\\', 't')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c < 0x20 || c >= 0x7f:
			if c >= 0x80 {
				// pass valid multi-byte UTF-8 through unchanged
				r, size := decodeRune(s[i:])
				if r >= 0 {
					b = append(b, s[i:i+size]...)
					i += size - 1
					continue
				}
			}
			b = append(b, `\u00`...)
			b = append(b, hexdigit[c>>4], hexdigit[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

const hexdigit = "0123456789abcdef"

// decodeRune returns the rune at the start of s and its size, or -1 if it is not valid UTF-8.
func decodeRune(s string) (rune, int) {
	r, size := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError && size <= 1 {
		return -1, 1
	}
	return r, size
}

func decodeValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			obj := Fields{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				key, ok := kt.(string)
				if !ok {
					return nil, fmt.Errorf("object key is %T", kt)
				}
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				obj = append(obj, Field{key, v})
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return obj, nil
		case '[':
			arr := []any{}
			for dec.More() {
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				arr = append(arr, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return arr, nil
		}
		return nil, fmt.Errorf("unexpected %v", t)
	case json.Number:
		if i, err := strconv.ParseInt(string(t), 10, 64); err == nil {
			return i, nil
		}
		if u, err := strconv.ParseUint(string(t), 10, 64); err == nil {
			return u, nil
		}
		return nil, fmt.Errorf("number %s is not an integer", t)
	case string, bool, nil:
		return t, nil
	}
	return nil, fmt.Errorf("unexpected token %v", tok)
}
