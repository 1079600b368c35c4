package main

import (
	"flag"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode"
)

// bindOptions registers one flag per exported field of the sdk options
// struct that opts points to, so the command line mirrors the struct: the
// flag is the field name in kebab case (PartitionsNumber ->
// --partitions-number, like memphis-py's partitions_number), its default is
// the field's current value (the sdk's Default...Options()), and the value
// is stored into the field unchecked (the sdk checks it). A field added to
// the sdk gets its flag without a change here. Fields named in skip, fields
// of types a flag cannot carry, and names already taken are left out.
// help gives the usage text per field name. It returns the flag names.
func bindOptions(fs *flag.FlagSet, opts any, help map[string]string, skip ...string) []string {
	v := reflect.ValueOf(opts).Elem()
	t := v.Type()
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		name := kebab(f.Name)
		if !f.IsExported() || slices.Contains(skip, f.Name) || fs.Lookup(name) != nil {
			continue
		}
		usage := help[f.Name]
		if usage == "" {
			usage = t.Name() + "." + f.Name
		}
		if bindField(fs, v.Field(i).Addr(), name, usage) {
			names = append(names, name)
		}
	}
	return names
}

// bindField registers a flag of the standard kind matching the field's
// underlying type (so help shows "string", "int", "duration"...); a
// named type such as sdk.RetentionType is converted to a pointer to its
// underlying type. It reports false for a type no flag kind carries.
func bindField(fs *flag.FlagSet, ptr reflect.Value, name, usage string) bool {
	as := func(t reflect.Type) any { return ptr.Convert(t).Interface() }
	if ptr.Type().Elem() == reflect.TypeFor[time.Duration]() {
		p := as(reflect.TypeFor[*time.Duration]()).(*time.Duration)
		fs.DurationVar(p, name, *p, usage)
		return true
	}
	switch ptr.Type().Elem().Kind() {
	case reflect.String:
		p := as(reflect.TypeFor[*string]()).(*string)
		fs.StringVar(p, name, *p, usage)
	case reflect.Bool:
		p := as(reflect.TypeFor[*bool]()).(*bool)
		fs.BoolVar(p, name, *p, usage)
	case reflect.Int:
		p := as(reflect.TypeFor[*int]()).(*int)
		fs.IntVar(p, name, *p, usage)
	case reflect.Int64:
		p := as(reflect.TypeFor[*int64]()).(*int64)
		fs.Int64Var(p, name, *p, usage)
	case reflect.Uint64:
		p := as(reflect.TypeFor[*uint64]()).(*uint64)
		fs.Uint64Var(p, name, *p, usage)
	case reflect.Float64:
		p := as(reflect.TypeFor[*float64]()).(*float64)
		fs.Float64Var(p, name, *p, usage)
	default:
		return false
	}
	return true
}

// kebab turns a Go field name into a flag name: SendPoisonMsgToDls ->
// send-poison-msg-to-dls, TLSCertFile -> tls-cert-file.
func kebab(name string) string {
	r := []rune(name)
	var b strings.Builder
	for i, c := range r {
		if unicode.IsUpper(c) && i > 0 {
			prevLower := unicode.IsLower(r[i-1]) || unicode.IsDigit(r[i-1])
			acronymEnd := unicode.IsUpper(r[i-1]) && i+1 < len(r) && unicode.IsLower(r[i+1])
			if prevLower || acronymEnd {
				b.WriteByte('-')
			}
		}
		b.WriteRune(unicode.ToLower(c))
	}
	return b.String()
}
