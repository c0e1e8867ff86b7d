package segment

import (
	"fmt"
	"reflect"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"

	"github.com/aurum-cdp/aurum/shared/model/profile"
)

// CEL type names of the profile variable and its rfm field.
const (
	profileTypeName = "aurum.Profile"
	rfmTypeName     = "aurum.RFM"
)

var (
	profileType = types.NewObjectType(profileTypeName)
	rfmType     = types.NewObjectType(rfmTypeName)
	eventsType  = cel.OpaqueType("aurum.Events")
)

// celProfile is the golden record as segment expressions see it: the
// variable profile, an object of type aurum.Profile. It is built by hand
// rather than through reflection (ext.NativeTypes): every field holds a
// CEL value already, and the maps hold CEL values keyed by string, so a
// field access is a map lookup that allocates nothing.
type celProfile struct {
	id ref.Val
	// attributes and aggregates hold values; RFC 3339 timestamp strings
	// are exposed as timestamps.
	attributes map[string]any
	aggregates map[string]any
	// identifiers maps an identifier type to a list of its values.
	identifiers map[string]any
	// segments maps the ids of the segments the profile is in to the
	// time it entered them.
	segments map[string]any
	sources  map[string]any
	rfm      celRFM
	counts   [2]ref.Val // event_count, record_count
	times    [2]ref.Val // created_at, updated_at

	// CEL map values over the maps above, built once: they stay valid
	// when the maps are cleared and refilled.
	attributesVal, aggregatesVal, identifiersVal, segmentsVal, sourcesVal ref.Val
}

func newCELProfile() *celProfile {
	p := &celProfile{
		attributes:  map[string]any{},
		aggregates:  map[string]any{},
		identifiers: map[string]any{},
		segments:    map[string]any{},
		sources:     map[string]any{},
	}
	a := types.DefaultTypeAdapter
	p.attributesVal = types.NewStringInterfaceMap(a, p.attributes)
	p.aggregatesVal = types.NewStringInterfaceMap(a, p.aggregates)
	p.identifiersVal = types.NewStringInterfaceMap(a, p.identifiers)
	p.segmentsVal = types.NewStringInterfaceMap(a, p.segments)
	p.sourcesVal = types.NewStringInterfaceMap(a, p.sources)
	return p
}

// ConvertToNative implements ref.Val.
func (p *celProfile) ConvertToNative(t reflect.Type) (any, error) {
	return nil, fmt.Errorf("%s: no conversion to %v", profileTypeName, t)
}

// ConvertToType implements ref.Val.
func (p *celProfile) ConvertToType(t ref.Type) ref.Val {
	if t == types.TypeType {
		return profileType
	}
	return types.NewErr("%s: no conversion to %s", profileTypeName, t.TypeName())
}

// Equal implements ref.Val: a profile equals only itself.
func (p *celProfile) Equal(o ref.Val) ref.Val { return types.Bool(p == o) }

// Type implements ref.Val.
func (p *celProfile) Type() ref.Type { return profileType }

// Value implements ref.Val; field access reads the struct itself.
func (p *celProfile) Value() any { return p }

// celRFM is profile.rfm: scores 1–5, all zero when the profile has no
// score (RFM not configured, or no recency value).
type celRFM struct {
	r, f, m, label ref.Val
}

var unscored = celRFM{r: types.IntZero, f: types.IntZero, m: types.IntZero, label: types.String("")}

func (r *celRFM) set(s *profile.RFM) {
	if s == nil {
		*r = unscored
		return
	}
	label, ok := labels[s.Label]
	if !ok {
		label = types.String(s.Label)
	}
	*r = celRFM{r: types.Int(s.R), f: types.Int(s.F), m: types.Int(s.M), label: label}
}

// labels holds the RFM labels as CEL values, so that setting a score
// allocates nothing.
var labels = func() map[string]ref.Val {
	m := map[string]ref.Val{}
	for r := 1; r <= 5; r++ {
		for f := 1; f <= 5; f++ {
			l := Label(r, f)
			m[l] = types.String(l)
		}
	}
	return m
}()

// ConvertToNative implements ref.Val.
func (r *celRFM) ConvertToNative(t reflect.Type) (any, error) {
	return nil, fmt.Errorf("%s: no conversion to %v", rfmTypeName, t)
}

// ConvertToType implements ref.Val.
func (r *celRFM) ConvertToType(t ref.Type) ref.Val {
	if t == types.TypeType {
		return rfmType
	}
	return types.NewErr("%s: no conversion to %s", rfmTypeName, t.TypeName())
}

// Equal implements ref.Val.
func (r *celRFM) Equal(o ref.Val) ref.Val {
	x, ok := o.(*celRFM)
	if !ok {
		return types.False
	}
	return types.Bool(r.r == x.r && r.f == x.f && r.m == x.m && r.label == x.label)
}

// Type implements ref.Val.
func (r *celRFM) Type() ref.Type { return rfmType }

// Value implements ref.Val.
func (r *celRFM) Value() any { return r }

// field is one field of a hand-built object type.
type field[T any] struct {
	typ   *types.Type
	get   func(T) any
	isSet func(T) bool
}

func mapSet(m map[string]any) bool { return len(m) > 0 }

func valSet(v ref.Val) bool {
	switch x := v.(type) {
	case types.Int:
		return x != 0
	case types.String:
		return x != ""
	case types.Timestamp:
		return !x.IsZero()
	}
	return v != nil
}

var (
	profileFields = map[string]field[*celProfile]{
		"id":           {types.StringType, func(p *celProfile) any { return p.id }, func(p *celProfile) bool { return valSet(p.id) }},
		"attributes":   {types.NewMapType(types.StringType, types.DynType), func(p *celProfile) any { return p.attributesVal }, func(p *celProfile) bool { return mapSet(p.attributes) }},
		"aggregates":   {types.NewMapType(types.StringType, types.DynType), func(p *celProfile) any { return p.aggregatesVal }, func(p *celProfile) bool { return mapSet(p.aggregates) }},
		"identifiers":  {types.NewMapType(types.StringType, types.NewListType(types.StringType)), func(p *celProfile) any { return p.identifiersVal }, func(p *celProfile) bool { return mapSet(p.identifiers) }},
		"segments":     {types.NewMapType(types.StringType, types.TimestampType), func(p *celProfile) any { return p.segmentsVal }, func(p *celProfile) bool { return mapSet(p.segments) }},
		"sources":      {types.NewMapType(types.StringType, types.IntType), func(p *celProfile) any { return p.sourcesVal }, func(p *celProfile) bool { return mapSet(p.sources) }},
		"rfm":          {rfmType, func(p *celProfile) any { return &p.rfm }, func(p *celProfile) bool { return valSet(p.rfm.r) }},
		"event_count":  {types.IntType, func(p *celProfile) any { return p.counts[0] }, func(p *celProfile) bool { return valSet(p.counts[0]) }},
		"record_count": {types.IntType, func(p *celProfile) any { return p.counts[1] }, func(p *celProfile) bool { return valSet(p.counts[1]) }},
		"created_at":   {types.TimestampType, func(p *celProfile) any { return p.times[0] }, func(p *celProfile) bool { return valSet(p.times[0]) }},
		"updated_at":   {types.TimestampType, func(p *celProfile) any { return p.times[1] }, func(p *celProfile) bool { return valSet(p.times[1]) }},
	}
	rfmFields = map[string]field[*celRFM]{
		"r":     {types.IntType, func(r *celRFM) any { return r.r }, func(r *celRFM) bool { return valSet(r.r) }},
		"f":     {types.IntType, func(r *celRFM) any { return r.f }, func(r *celRFM) bool { return valSet(r.f) }},
		"m":     {types.IntType, func(r *celRFM) any { return r.m }, func(r *celRFM) bool { return valSet(r.m) }},
		"label": {types.StringType, func(r *celRFM) any { return r.label }, func(r *celRFM) bool { return valSet(r.label) }},
	}
)

// fieldTypes turns hand-built fields into CEL field types: the
// interpreter calls GetFrom directly for a selection on a checked object.
func fieldTypes[T any](typeName string, fs map[string]field[T]) (map[string]*types.FieldType, []string) {
	out := make(map[string]*types.FieldType, len(fs))
	names := make([]string, 0, len(fs))
	for name, f := range fs {
		get, isSet := f.get, f.isSet
		out[name] = &types.FieldType{
			Type: f.typ,
			IsSet: func(obj any) bool {
				x, ok := obj.(T)
				return ok && isSet(x)
			},
			GetFrom: func(obj any) (any, error) {
				x, ok := obj.(T)
				if !ok {
					return nil, fmt.Errorf("%s.%s: no such field on %T", typeName, name, obj)
				}
				return get(x), nil
			},
		}
		names = append(names, name)
	}
	return out, names
}

// provider adds the types aurum.Profile and aurum.RFM to a CEL type
// provider.
type provider struct {
	types.Provider
	fields map[string]map[string]*types.FieldType
	names  map[string][]string
}

func newProvider(base types.Provider) *provider {
	p := &provider{Provider: base, fields: map[string]map[string]*types.FieldType{}, names: map[string][]string{}}
	p.fields[profileTypeName], p.names[profileTypeName] = fieldTypes(profileTypeName, profileFields)
	p.fields[rfmTypeName], p.names[rfmTypeName] = fieldTypes(rfmTypeName, rfmFields)
	return p
}

// withProfileTypes is the environment option that declares the types.
func withProfileTypes() cel.EnvOption {
	return func(env *cel.Env) (*cel.Env, error) {
		return cel.CustomTypeProvider(newProvider(env.CELTypeProvider()))(env)
	}
}

// FindStructType implements types.Provider.
func (p *provider) FindStructType(name string) (*types.Type, bool) {
	switch name {
	case profileTypeName:
		return types.NewTypeTypeWithParam(profileType), true
	case rfmTypeName:
		return types.NewTypeTypeWithParam(rfmType), true
	}
	return p.Provider.FindStructType(name)
}

// FindStructFieldNames implements types.Provider.
func (p *provider) FindStructFieldNames(name string) ([]string, bool) {
	if ns, ok := p.names[name]; ok {
		return ns, true
	}
	return p.Provider.FindStructFieldNames(name)
}

// FindStructFieldType implements types.Provider.
func (p *provider) FindStructFieldType(name, fieldName string) (*types.FieldType, bool) {
	if fs, ok := p.fields[name]; ok {
		f, ok := fs[fieldName]
		return f, ok
	}
	return p.Provider.FindStructFieldType(name, fieldName)
}

// NewValue implements types.Provider: profiles cannot be built in an
// expression.
func (p *provider) NewValue(name string, fields map[string]ref.Val) ref.Val {
	if _, ok := p.fields[name]; ok {
		return types.NewErr("%s values cannot be constructed", name)
	}
	return p.Provider.NewValue(name, fields)
}

// fill converts p into c, reusing c's maps; profile.segments stays empty
// unless segments is set. It returns the timestamps of
// the attributes and aggregates appended to ts.
func (c *celProfile) fill(p *profile.Profile, ts []time.Time, segments bool) []time.Time {
	clear(c.attributes)
	clear(c.aggregates)
	clear(c.identifiers)
	clear(c.segments)
	clear(c.sources)
	c.id = types.String(p.ID)
	for k, a := range p.Attributes {
		var v ref.Val
		v, ts = celValue(a.Value, ts)
		c.attributes[k] = v
	}
	for k, a := range p.Aggregates {
		var v ref.Val
		v, ts = celValue(a, ts)
		c.aggregates[k] = v
	}
	if len(p.Identifiers) > 0 {
		byType := make(map[string][]string, 4)
		for _, id := range p.Identifiers {
			byType[id.Type] = append(byType[id.Type], id.Value)
		}
		for k, vs := range byType {
			c.identifiers[k] = types.NewStringList(types.DefaultTypeAdapter, vs)
		}
	}
	if segments {
		for id, since := range p.Segments {
			c.segments[id] = types.Timestamp{Time: since}
		}
	}
	for k, n := range p.Sources {
		c.sources[k] = types.Int(n)
	}
	c.counts = [2]ref.Val{types.Int(p.EventCount), types.Int(p.RecordCount)}
	c.times = [2]ref.Val{types.Timestamp{Time: p.CreatedAt}, types.Timestamp{Time: p.UpdatedAt}}
	c.rfm = unscored
	return ts
}

// The range of CEL timestamps in Unix seconds (years 1 to 9999).
const (
	minUnixSeconds = -62135596800
	maxUnixSeconds = 253402300799
)

// epochs appends to ts the int values of the attributes and aggregates
// as instants in Unix seconds, as timestamp(n) reads them.
func (c *celProfile) epochs(ts []time.Time) []time.Time {
	for _, m := range [2]map[string]any{c.attributes, c.aggregates} {
		for _, v := range m {
			if n, ok := v.(types.Int); ok && n >= minUnixSeconds && n <= maxUnixSeconds {
				ts = append(ts, time.Unix(int64(n), 0).UTC())
			}
		}
	}
	return ts
}

// celValue converts an attribute or aggregate value to CEL, exposing an
// RFC 3339 timestamp string as a timestamp (appended to ts).
func celValue(x any, ts []time.Time) (ref.Val, []time.Time) {
	switch v := x.(type) {
	case string:
		if looksLikeTimestamp(v) {
			if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
				return types.Timestamp{Time: t}, append(ts, t)
			}
		}
		return types.String(v), ts
	case time.Time:
		return types.Timestamp{Time: v}, append(ts, v)
	case float64:
		return types.Double(v), ts
	case bool:
		return types.Bool(v), ts
	}
	return types.DefaultTypeAdapter.NativeToValue(x), ts
}

// looksLikeTimestamp is a cheap pre-check for RFC 3339: 2006-01-02T15:04:05…
func looksLikeTimestamp(s string) bool {
	return len(s) >= 20 && s[4] == '-' && s[7] == '-' && (s[10] == 'T' || s[10] == 't') && s[13] == ':'
}
