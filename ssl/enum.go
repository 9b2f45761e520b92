package ssl

import (
	"fmt"
	"sort"
	"strings"
)

// enumTable maps the values of one Qt enumeration to Qt's enumerator names.
// Every exported enum type of the package keeps one, so that String, the
// Parse* functions and text (JSON) encoding agree on the same spelling.
type enumTable[T ~int] struct {
	typeName string
	names    map[T]string
	values   map[string]T
}

func newEnumTable[T ~int](typeName string, names map[T]string) *enumTable[T] {
	t := &enumTable[T]{typeName: typeName, names: names, values: make(map[string]T, len(names))}
	for v, n := range names {
		t.values[n] = v
	}
	return t
}

// name returns Qt's enumerator name, or "TypeName(N)" for a value Qt does not define.
func (t *enumTable[T]) name(v T) string {
	if n, ok := t.names[v]; ok {
		return n
	}
	return fmt.Sprintf("%s(%d)", t.typeName, int(v))
}

// parse accepts Qt's enumerator name (case-sensitive, as Qt's meta-enums are)
// and, as a convenience for command lines, the decimal value.
func (t *enumTable[T]) parse(s string) (T, error) {
	if v, ok := t.values[s]; ok {
		return v, nil
	}
	var n int
	if _, err := fmt.Sscanf(s, "%d", &n); err == nil && fmt.Sprint(n) == s {
		if _, ok := t.names[T(n)]; ok {
			return T(n), nil
		}
	}
	return 0, fmt.Errorf("ssl: unknown %s %q", t.typeName, s)
}

// flagName renders a combination of flag bits as "A|B"; zero renders as zeroName.
func (t *enumTable[T]) flagName(v T, zeroName string) string {
	if v == 0 {
		return zeroName
	}
	if n, ok := t.names[v]; ok {
		return n
	}
	var parts []string
	bits := make([]int, 0, len(t.names))
	for b := range t.names {
		if b != 0 {
			bits = append(bits, int(b))
		}
	}
	sort.Ints(bits)
	rest := v
	for _, b := range bits {
		if v&T(b) == T(b) {
			parts = append(parts, t.names[T(b)])
			rest &^= T(b)
		}
	}
	if rest != 0 {
		parts = append(parts, fmt.Sprintf("0x%x", int(rest)))
	}
	return strings.Join(parts, "|")
}

// parseFlags accepts "A|B|C" (spaces allowed around names), or a single name.
func (t *enumTable[T]) parseFlags(s string) (T, error) {
	var v T
	for _, part := range strings.Split(s, "|") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		b, err := t.parse(part)
		if err != nil {
			return 0, err
		}
		v |= b
	}
	return v, nil
}

//go:generate go run ../internal/gen/enums
