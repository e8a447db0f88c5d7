package shardcache

import (
	"fmt"
	"reflect"
)

// A snapshot restores a key from its encoding, so it can only restore keys
// that are compared by value. A pointer, a channel or an unsafe.Pointer is
// compared by identity: the loaded key would be a new one, equal to no key
// the program holds, and its entry unreachable. Saving refuses such keys
// (ErrUnsupportedKey) before writing anything. The key type decides it once,
// in New, except where it holds an interface: then each key's dynamic value
// is checked, before the save writes its header and again as it encodes
// each key (a key may be set in between).

// keyIdentity is what a key type says about its keys' identity.
type keyIdentity uint8

const (
	keysByValue    keyIdentity = iota // no key holds an identity
	keysByIdentity                    // every key holds one (a non-empty pointer, channel, ...)
	keysDynamic                       // it depends on the dynamic values of interfaces in the key
)

// classifyKey returns what keys of type t hold, and for keysByIdentity the
// identity-only type inside t that decides it. Blank struct fields and
// zero-length arrays take no part in ==, so they are skipped.
func classifyKey(t reflect.Type) (keyIdentity, reflect.Type) {
	switch t.Kind() {
	case reflect.Pointer, reflect.Chan, reflect.UnsafePointer:
		return keysByIdentity, t
	case reflect.Interface:
		return keysDynamic, nil
	case reflect.Array:
		if t.Len() == 0 {
			return keysByValue, nil
		}
		return classifyKey(t.Elem())
	case reflect.Struct:
		class := keysByValue
		for i := range t.NumField() {
			f := t.Field(i)
			if f.Name == "_" {
				continue
			}
			switch c, culprit := classifyKey(f.Type); c {
			case keysByIdentity:
				return c, culprit
			case keysDynamic:
				class = keysDynamic
			}
		}
		return class, nil
	}
	return keysByValue, nil
}

// identityIn returns the identity-only type that v, a key or part of one,
// holds, or nil if it holds none.
func identityIn(v reflect.Value) reflect.Type {
	switch c, culprit := classifyKey(v.Type()); c {
	case keysByValue:
		return nil
	case keysByIdentity:
		return culprit
	}
	switch v.Kind() {
	case reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return identityIn(v.Elem())
	case reflect.Array:
		for i := range v.Len() {
			if t := identityIn(v.Index(i)); t != nil {
				return t
			}
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).Name == "_" {
				continue
			}
			if t := identityIn(v.Field(i)); t != nil {
				return t
			}
		}
	}
	return nil
}

// unsupportedKey is the error for keys of type keyType that hold culprit.
func unsupportedKey(keyType, culprit reflect.Type) error {
	what := "a pointer"
	switch culprit.Kind() {
	case reflect.Chan:
		what = "a channel"
	case reflect.UnsafePointer:
		what = "an unsafe.Pointer"
	}
	holds := keyType.String()
	switch {
	case keyType.Kind() == reflect.Interface:
		holds = "a key of type " + holds + " holds " + culprit.String() + ", " + what
	case keyType != culprit:
		holds += " holds " + culprit.String() + ", " + what
	default:
		holds += " is " + what
	}
	return fmt.Errorf("%w: %s, compared by identity: a loaded key would equal no key of the program", ErrUnsupportedKey, holds)
}

// keyRule is a cache's decision about its keys, made once in New.
type keyRule[K comparable] struct {
	err     error // keysByIdentity: every save fails with it
	dynamic bool  // keysDynamic: check each key (check)
}

func newKeyRule[K comparable]() keyRule[K] {
	t := reflect.TypeFor[K]()
	switch c, culprit := classifyKey(t); c {
	case keysByIdentity:
		return keyRule[K]{err: unsupportedKey(t, culprit)}
	case keysDynamic:
		return keyRule[K]{dynamic: true}
	}
	return keyRule[K]{}
}

// check returns the error for a key that cannot be saved, or nil. It costs
// nothing unless the key type holds an interface.
func (r *keyRule[K]) check(k K) error {
	if !r.dynamic {
		return nil
	}
	v := reflect.ValueOf(&k).Elem()
	if t := identityIn(v); t != nil {
		return unsupportedKey(v.Type(), t)
	}
	return nil
}

// checkKeys returns the error that keeps the cache from being saved, if
// any, before a save writes anything: the key type's, or that of the first
// live key whose dynamic value holds an identity.
func (c *Cache[K, V]) checkKeys() error {
	r := &c.snap.keyRule
	if r.err != nil || !r.dynamic {
		return r.err
	}
	var err error
	for i := range c.shards {
		c.shards[i].readSlots(func(slots []slot[K, V], _ int) {
			for _, sl := range slots {
				if sl.e != nil {
					if err = r.check(sl.e.key); err != nil {
						return
					}
				}
			}
		})
		if err != nil {
			return err
		}
	}
	return nil
}
