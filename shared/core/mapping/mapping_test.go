package mapping

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/model/profile"
)

// testConfig declares three sources: crm (CSV), web (Segment-like JSON
// with attributes_from) and shop (JSON lines with an event).
func testConfig() *config.Config {
	return &config.Config{
		Version: 1,
		Identifiers: []config.IdentifierType{
			{Name: "customer_id", Normalizer: "id"},
			{Name: "email", Normalizer: "email", GmailDots: true, Blocked: []string{"Test@Test.com", "/^noreply@/"}},
			{Name: "phone", Normalizer: "phone", Blocked: []string{"+447911000000"}},
		},
		Sources: []config.Source{
			{
				Name: "crm", Kind: config.KindFile, Format: "csv", Region: "GB",
				DateFormats: []string{"dmy", "iso"},
				Mapping: config.Mapping{
					RecordID:   &config.Field{Field: "Id"},
					ObservedAt: &config.Field{Field: "Updated"},
					Identifiers: []config.IdentifierField{
						// Mapping order differs from priority order on purpose.
						{Type: "phone", Field: config.Field{Field: "Mobile"}},
						{Type: "email", Field: config.Field{Field: "E-mail"}},
						{Type: "customer_id", Field: config.Field{Field: "Id", Transforms: []string{"strip_leading_zeros"}}},
						{Type: "email", Field: config.Field{Field: "alt.email"}},
					},
					Attributes: map[string]config.Field{
						"first_name":    {Field: "First Name", Type: "name"},
						"country":       {Field: "Country", Type: "country"},
						"birth_date":    {Field: "DOB", Type: "date"},
						"vip":           {Field: "VIP", Type: "bool"},
						"ltv":           {Field: "LTV", Type: "number"},
						"orders":        {Field: "Orders", Type: "integer"},
						"plan":          {Field: "Plan", Transforms: []string{"trim", "lower"}},
						"source_system": {Const: "crm-v2"},
					},
				},
			},
			{
				Name: "web", Kind: config.KindAPI,
				Mapping: config.Mapping{
					RecordID:   &config.Field{Field: "messageId"},
					ObservedAt: &config.Field{Field: "timestamp"},
					Identifiers: []config.IdentifierField{
						{Type: "customer_id", Field: config.Field{Field: "userId"}},
						{Type: "email", Field: config.Field{Field: "traits.email"}},
						{Type: "email", Field: config.Field{Field: "context.traits.email"}},
						{Type: "phone", Field: config.Field{Field: "traits.phone"}},
					},
					Attributes: map[string]config.Field{
						"first_name": {Field: "traits.firstName", Type: "name"},
						"age":        {Field: "traits.age", Type: "integer"},
						"opt_in":     {Field: "traits.optIn", Type: "bool"},
					},
					AttributesFrom: "traits",
				},
			},
			{
				Name: "shop", Kind: config.KindFile, Format: "jsonl", Region: "FR",
				Mapping: config.Mapping{
					RecordID:   &config.Field{Field: "order_id"},
					ObservedAt: &config.Field{Field: "created_at", Formats: []string{"unix"}},
					Identifiers: []config.IdentifierField{
						{Type: "email", Field: config.Field{Field: "customer.email", Required: true}},
						{Type: "phone", Field: config.Field{Field: "customer.phone"}},
					},
					Event: &config.EventMapping{
						Name: config.Field{Const: "Order Completed"},
						Properties: map[string]config.Field{
							"total":    {Field: "total", Type: "number"},
							"items":    {Field: "items", Type: "integer"},
							"currency": {Field: "currency", Transforms: []string{"upper"}},
							"paid_on":  {Field: "paid_on", Type: "date"},
						},
					},
				},
			},
			{
				Name: "tickets", Kind: config.KindWebhook,
				Mapping: config.Mapping{
					Identifiers: []config.IdentifierField{
						{Type: "email", Field: config.Field{Field: "requester"}},
					},
					Event: &config.EventMapping{
						Name:      config.Field{Field: "event"},
						ID:        &config.Field{Field: "ticket.id"},
						Timestamp: &config.Field{Field: "ticket.at"},
					},
				},
			},
		},
	}
}

// newFor builds the mapper of c's source named source (New of a nil
// source when c declares none).
func newFor(c *config.Config, source string) (*Mapper, error) {
	src, _ := c.Source(source)
	return New(src, c.Identifiers)
}

func mustNew(t testing.TB, source string) *Mapper {
	t.Helper()
	m, err := newFor(testConfig(), source)
	if err != nil {
		t.Fatalf("New(%s) error: %v", source, err)
	}
	return m
}

func ids(pairs ...string) []profile.Identifier {
	var out []profile.Identifier
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, profile.Identifier{Type: pairs[i], Value: pairs[i+1]})
	}
	return out
}

// csvRow is a complete, valid crm row; cases override columns.
func csvRow(over map[string]any) map[string]any {
	row := map[string]any{
		"Id":         "00123",
		"Updated":    "04/03/2024 10:15",
		"Mobile":     "07911 123456",
		"E-mail":     "A.Nn@GoogleMail.com",
		"alt.email":  "",
		"First Name": "ZOË",
		"Country":    "United Kingdom",
		"DOB":        "03/04/1990",
		"VIP":        "Yes",
		"LTV":        "1,234.50",
		"Orders":     "7",
		"Plan":       "  Gold ",
	}
	for k, v := range over {
		if v == nil {
			delete(row, k)
			continue
		}
		row[k] = v
	}
	return row
}

func sortErrs(errs []FieldError) []FieldError {
	out := slices.Clone(errs)
	slices.SortFunc(out, func(a, b FieldError) int {
		return strings.Compare(a.Field+"\x00"+a.Reason, b.Field+"\x00"+b.Reason)
	})
	return out
}

func TestMapCSV(t *testing.T) {
	m := mustNew(t, "crm")
	fullAttrs := map[string]any{
		"first_name": "Zoë", "first_name_key": "zoe", "country": "GB", "birth_date": "1990-04-03",
		"vip": true, "ltv": 1234.5, "orders": float64(7), "plan": "gold", "source_system": "crm-v2",
	}
	withAttrs := func(over map[string]any) map[string]any {
		out := map[string]any{}
		for k, v := range fullAttrs {
			out[k] = v
		}
		for k, v := range over {
			if v == nil {
				delete(out, k)
				continue
			}
			out[k] = v
		}
		return out
	}
	tests := []struct {
		name      string
		row       map[string]any
		wantID    string
		wantIDs   []profile.Identifier
		wantAttrs map[string]any
		wantErrs  []FieldError
	}{
		{
			name:      "full row, identifiers in priority order",
			row:       csvRow(nil),
			wantID:    "00123",
			wantIDs:   ids("customer_id", "123", "email", "ann@gmail.com", "phone", "+447911123456"),
			wantAttrs: fullAttrs,
		},
		{
			name:      "column name with a dot, duplicate email de-duplicated",
			row:       csvRow(map[string]any{"alt.email": "ann@gmail.com", "E-mail": "bob@example.com"}),
			wantID:    "00123",
			wantIDs:   ids("customer_id", "123", "email", "bob@example.com", "email", "ann@gmail.com", "phone", "+447911123456"),
			wantAttrs: fullAttrs,
		},
		{
			name:      "same email twice after normalization",
			row:       csvRow(map[string]any{"alt.email": "ann@gmail.com"}),
			wantID:    "00123",
			wantIDs:   ids("customer_id", "123", "email", "ann@gmail.com", "phone", "+447911123456"),
			wantAttrs: fullAttrs,
		},
		{
			name:      "placeholders are missing, not errors",
			row:       csvRow(map[string]any{"Mobile": "N/A", "E-mail": "null", "Country": "unknown", "DOB": "-", "Updated": ""}),
			wantID:    "00123",
			wantIDs:   ids("customer_id", "123"),
			wantAttrs: withAttrs(map[string]any{"country": nil, "birth_date": nil}),
		},
		{
			name:      "absent columns are missing",
			row:       csvRow(map[string]any{"Mobile": nil, "VIP": nil, "Plan": nil}),
			wantID:    "00123",
			wantIDs:   ids("customer_id", "123", "email", "ann@gmail.com"),
			wantAttrs: withAttrs(map[string]any{"vip": nil, "plan": nil}),
		},
		{
			name:      "invalid optional values are dropped",
			row:       csvRow(map[string]any{"E-mail": "ann at example", "Mobile": "12", "DOB": "31/02/1990", "VIP": "maybe", "LTV": "1,5", "Orders": "2.5", "Country": "Atlantis", "First Name": "1234", "Updated": "soon"}),
			wantID:    "00123",
			wantIDs:   ids("customer_id", "123"),
			wantAttrs: map[string]any{"plan": "gold", "source_system": "crm-v2"},
			wantErrs: []FieldError{
				{Field: "Country", Reason: "invalid country: unknown country"},
				{Field: "DOB", Reason: "invalid date: does not match the configured date formats"},
				{Field: "E-mail", Reason: "invalid email: not an address"},
				{Field: "First Name", Reason: "invalid name: no letters"},
				{Field: "LTV", Reason: "invalid number: ambiguous or misplaced thousands separators"},
				{Field: "Mobile", Reason: "invalid phone: not a valid number for its country"},
				{Field: "Orders", Reason: "invalid integer: has a fraction"},
				{Field: "Updated", Reason: "invalid timestamp: does not match the configured date formats"},
				{Field: "VIP", Reason: "invalid bool: want yes/no, y/n, true/false, t/f, 1/0 or on/off"},
			},
		},
		{
			name:      "blocked values dropped",
			row:       csvRow(map[string]any{"E-mail": "TEST@test.com", "alt.email": "noreply@example.com", "Mobile": "07911 000000"}),
			wantID:    "00123",
			wantIDs:   ids("customer_id", "123"),
			wantAttrs: fullAttrs,
			wantErrs: []FieldError{
				{Field: "E-mail", Reason: ReasonBlocked},
				{Field: "Mobile", Reason: ReasonBlocked},
				{Field: "alt.email", Reason: ReasonBlocked},
			},
		},
		{
			name:      "no valid identifier is fatal",
			row:       csvRow(map[string]any{"Id": nil, "E-mail": "bad", "Mobile": ""}),
			wantIDs:   nil,
			wantAttrs: fullAttrs,
			wantErrs: []FieldError{
				{Field: "E-mail", Reason: "invalid email: not an address"},
				{Field: FieldIdentifiers, Reason: ReasonNoIdentifier, Fatal: true},
			},
		},
		{
			name:      "mixed-case name kept",
			row:       csvRow(map[string]any{"First Name": "  Jean-Luc  "}),
			wantID:    "00123",
			wantIDs:   ids("customer_id", "123", "email", "ann@gmail.com", "phone", "+447911123456"),
			wantAttrs: withAttrs(map[string]any{"first_name": "Jean-Luc", "first_name_key": "jean luc"}),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, errs := m.Map(tt.row)
			if rec.Source != "crm" {
				t.Errorf("Map().Source = %q; want crm", rec.Source)
			}
			if rec.ID != tt.wantID {
				t.Errorf("Map().ID = %q; want %q", rec.ID, tt.wantID)
			}
			if !reflect.DeepEqual(rec.Identifiers, tt.wantIDs) {
				t.Errorf("Map().Identifiers = %v; want %v", rec.Identifiers, tt.wantIDs)
			}
			if !reflect.DeepEqual(rec.Attributes, tt.wantAttrs) {
				t.Errorf("Map().Attributes = %v; want %v", rec.Attributes, tt.wantAttrs)
			}
			if got, want := sortErrs(errs), sortErrs(tt.wantErrs); !reflect.DeepEqual(got, want) {
				t.Errorf("Map() errors = %v; want %v", got, want)
			}
			if got, want := HasFatal(errs), HasFatal(tt.wantErrs); got != want {
				t.Errorf("HasFatal(Map() errors) = %v; want %v", got, want)
			}
		})
	}
}

func TestMapObservedAt(t *testing.T) {
	m := mustNew(t, "crm")
	rec, errs := m.Map(csvRow(map[string]any{"Updated": "2024-03-04T10:15:00+01:00"}))
	if want := time.Date(2024, 3, 4, 9, 15, 0, 0, time.UTC); !rec.ObservedAt.Equal(want) || rec.ObservedAt.Location() != time.UTC {
		t.Errorf("Map().ObservedAt = %v; want %v UTC", rec.ObservedAt, want)
	}
	if len(errs) != 0 {
		t.Errorf("Map() errors = %v; want none", errs)
	}
	rec, _ = m.Map(csvRow(nil)) // dmy first: 04/03/2024 is 4 March
	if want := time.Date(2024, 3, 4, 10, 15, 0, 0, time.UTC); !rec.ObservedAt.Equal(want) {
		t.Errorf("Map().ObservedAt = %v; want %v", rec.ObservedAt, want)
	}
}

func decodeJSON(t testing.TB, s string) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var row map[string]any
	if err := dec.Decode(&row); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return row
}

func TestMapJSON(t *testing.T) {
	m := mustNew(t, "web")
	tests := []struct {
		name      string
		json      string
		wantIDs   []profile.Identifier
		wantAttrs map[string]any
		wantErrs  []FieldError
	}{
		{
			name: "identify with traits copied",
			json: `{"messageId":"m-1","timestamp":"2024-03-04T10:00:00Z","userId":"U-9",
				"traits":{"email":"Ann@Example.com","phone":"+33 6 12 34 56 78","firstName":"ann","age":41,
					"plan":"  pro ","nickname":"n/a","score":12.5,"optIn":true,"vip":false,"empty":null,
					"address":{"city":" Paris","zip":75001},"tags":["a"," b"]},
				"context":{"traits":{"email":"ann@example.com"}}}`,
			wantIDs: ids("customer_id", "U-9", "email", "ann@example.com", "phone", "+33612345678"),
			wantAttrs: map[string]any{
				"first_name": "Ann", "first_name_key": "ann", "age": float64(41), "opt_in": true,
				"plan": "pro", "score": 12.5, "vip": false,
				"address": map[string]any{"city": "Paris", "zip": float64(75001)},
				"tags":    []any{"a", "b"},
			},
		},
		{
			name:      "numbers as float64 and strings",
			json:      `{"userId":1001,"traits":{"age":"42","optIn":"no"}}`,
			wantIDs:   ids("customer_id", "1001"),
			wantAttrs: map[string]any{"age": float64(42), "opt_in": false},
		},
		{
			name:      "invalid explicit attribute is not copied raw",
			json:      `{"userId":"U-1","traits":{"age":"forty","firstName":"!!"}}`,
			wantIDs:   ids("customer_id", "U-1"),
			wantAttrs: nil,
			wantErrs: []FieldError{
				{Field: "traits.age", Reason: "invalid integer: not a number"},
				{Field: "traits.firstName", Reason: "invalid name: no letters"},
			},
		},
		{
			name:      "fractional JSON number for integer",
			json:      `{"userId":"U-1","traits":{"age":41.5}}`,
			wantIDs:   ids("customer_id", "U-1"),
			wantAttrs: nil,
			wantErrs:  []FieldError{{Field: "traits.age", Reason: "invalid integer: has a fraction"}},
		},
		{
			name:      "object where a value is expected",
			json:      `{"userId":{"id":1},"traits":{"email":"ann@example.com"}}`,
			wantIDs:   ids("email", "ann@example.com"),
			wantAttrs: nil,
			wantErrs:  []FieldError{{Field: "userId", Reason: ReasonNotScalar}},
		},
		{
			name:      "traits not an object",
			json:      `{"userId":"U-1","traits":"oops"}`,
			wantIDs:   ids("customer_id", "U-1"),
			wantAttrs: nil,
			wantErrs:  []FieldError{{Field: "traits", Reason: ReasonNotObject}},
		},
		{
			name:      "anonymous call without identifiers",
			json:      `{"messageId":"m-2","traits":{"plan":"pro"}}`,
			wantAttrs: map[string]any{"plan": "pro"},
			wantErrs:  []FieldError{{Field: FieldIdentifiers, Reason: ReasonNoIdentifier, Fatal: true}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, errs := m.Map(decodeJSON(t, tt.json))
			if !reflect.DeepEqual(rec.Identifiers, tt.wantIDs) {
				t.Errorf("Map().Identifiers = %v; want %v", rec.Identifiers, tt.wantIDs)
			}
			if !reflect.DeepEqual(rec.Attributes, tt.wantAttrs) {
				t.Errorf("Map().Attributes = %#v; want %#v", rec.Attributes, tt.wantAttrs)
			}
			if got, want := sortErrs(errs), sortErrs(tt.wantErrs); !reflect.DeepEqual(got, want) {
				t.Errorf("Map() errors = %v; want %v", got, want)
			}
		})
	}
	rec, _ := m.Map(decodeJSON(t, `{"messageId":" m-1 ","timestamp":"2024-03-04T10:00:00.250+01:00","userId":"x"}`))
	if rec.ID != "m-1" {
		t.Errorf("Map().ID = %q; want m-1", rec.ID)
	}
	if want := time.Date(2024, 3, 4, 9, 0, 0, 250e6, time.UTC); !rec.ObservedAt.Equal(want) {
		t.Errorf("Map().ObservedAt = %v; want %v", rec.ObservedAt, want)
	}
}

func TestMapEvent(t *testing.T) {
	m := mustNew(t, "shop")
	at := time.Unix(1709546400, 0).UTC()
	tests := []struct {
		name      string
		json      string
		wantIDs   []profile.Identifier
		wantEvent *profile.Event
		wantErrs  []FieldError
	}{
		{
			name:    "order",
			json:    `{"order_id":"O-1","created_at":1709546400,"customer":{"email":"ann@example.com","phone":"06 12 34 56 78"},"total":99.9,"items":"3","currency":"eur","paid_on":"2024-03-04"}`,
			wantIDs: ids("email", "ann@example.com", "phone", "+33612345678"),
			wantEvent: &profile.Event{ID: "O-1", Source: "shop", Type: EventType, Name: "Order Completed", Timestamp: at,
				Properties: map[string]any{"total": 99.9, "items": float64(3), "currency": "EUR", "paid_on": "2024-03-04"}},
		},
		{
			name:    "invalid property dropped",
			json:    `{"order_id":"O-2","created_at":"1709546400","customer":{"email":"ann@example.com"},"total":"lots","items":2}`,
			wantIDs: ids("email", "ann@example.com"),
			wantEvent: &profile.Event{ID: "O-2", Source: "shop", Type: EventType, Name: "Order Completed", Timestamp: at,
				Properties: map[string]any{"items": float64(2)}},
			wantErrs: []FieldError{{Field: "total", Reason: "invalid number: not a number"}},
		},
		{
			name:      "no properties, no record id",
			json:      `{"customer":{"email":"ann@example.com"}}`,
			wantIDs:   ids("email", "ann@example.com"),
			wantEvent: &profile.Event{Source: "shop", Type: EventType, Name: "Order Completed"},
		},
		{
			name:      "required identifier missing",
			json:      `{"order_id":"O-3","customer":{"phone":"06 12 34 56 78"}}`,
			wantIDs:   ids("phone", "+33612345678"),
			wantEvent: &profile.Event{ID: "O-3", Source: "shop", Type: EventType, Name: "Order Completed"},
			wantErrs:  []FieldError{{Field: "customer.email", Reason: ReasonRequired, Fatal: true}},
		},
		{
			name:      "required identifier invalid",
			json:      `{"order_id":"O-4","customer":{"email":"Ann <ann@example.com>"}}`,
			wantEvent: &profile.Event{ID: "O-4", Source: "shop", Type: EventType, Name: "Order Completed"},
			wantErrs: []FieldError{
				{Field: "customer.email", Reason: "invalid email: display names, comments, quotes and angle brackets are not allowed", Fatal: true},
				{Field: FieldIdentifiers, Reason: ReasonNoIdentifier, Fatal: true},
			},
		},
		{
			name:      "required identifier blocked",
			json:      `{"order_id":"O-5","customer":{"email":"test@test.com","phone":"06 12 34 56 78"}}`,
			wantIDs:   ids("phone", "+33612345678"),
			wantEvent: &profile.Event{ID: "O-5", Source: "shop", Type: EventType, Name: "Order Completed"},
			wantErrs:  []FieldError{{Field: "customer.email", Reason: ReasonBlocked, Fatal: true}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, errs := m.Map(decodeJSON(t, tt.json))
			if !reflect.DeepEqual(rec.Identifiers, tt.wantIDs) {
				t.Errorf("Map().Identifiers = %v; want %v", rec.Identifiers, tt.wantIDs)
			}
			var got *profile.Event
			if len(rec.Events) == 1 {
				got = &rec.Events[0]
			} else if len(rec.Events) > 1 {
				t.Fatalf("Map() gave %d events; want at most 1", len(rec.Events))
			}
			if !reflect.DeepEqual(got, tt.wantEvent) {
				t.Errorf("Map() event = %+v; want %+v", got, tt.wantEvent)
			}
			if gotE, want := sortErrs(errs), sortErrs(tt.wantErrs); !reflect.DeepEqual(gotE, want) {
				t.Errorf("Map() errors = %v; want %v", gotE, want)
			}
		})
	}
}

func TestMapEventFields(t *testing.T) {
	m := mustNew(t, "tickets")
	tests := []struct {
		name      string
		json      string
		wantEvent *profile.Event
		wantErrs  []FieldError
	}{
		{
			name: "name, id and timestamp from fields",
			json: `{"requester":"ann@example.com","event":"Ticket Opened","ticket":{"id":77,"at":"2024-03-04T10:00:00Z"}}`,
			wantEvent: &profile.Event{ID: "77", Source: "tickets", Type: EventType, Name: "Ticket Opened",
				Timestamp: time.Date(2024, 3, 4, 10, 0, 0, 0, time.UTC)},
		},
		{
			name:     "missing name means no event",
			json:     `{"requester":"ann@example.com","ticket":{"id":"T-1"}}`,
			wantErrs: []FieldError{{Field: "event", Reason: "event name missing; no event recorded"}},
		},
		{
			name:      "invalid timestamp dropped",
			json:      `{"requester":"ann@example.com","event":"Ticket Opened","ticket":{"id":"T-2","at":"later"}}`,
			wantEvent: &profile.Event{ID: "T-2", Source: "tickets", Type: EventType, Name: "Ticket Opened"},
			wantErrs:  []FieldError{{Field: "ticket.at", Reason: "invalid timestamp: does not match the configured date formats"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, errs := m.Map(decodeJSON(t, tt.json))
			var got *profile.Event
			if len(rec.Events) > 0 {
				got = &rec.Events[0]
			}
			if !reflect.DeepEqual(got, tt.wantEvent) {
				t.Errorf("Map() event = %+v; want %+v", got, tt.wantEvent)
			}
			if gotE, want := sortErrs(errs), sortErrs(tt.wantErrs); !reflect.DeepEqual(gotE, want) {
				t.Errorf("Map() errors = %v; want %v", gotE, want)
			}
		})
	}
}

func TestFillEventDefaults(t *testing.T) {
	m := mustNew(t, "shop")
	rec, errs := m.Map(decodeJSON(t, `{"customer":{"email":"ann@example.com"}}`))
	if len(errs) != 0 {
		t.Fatalf("Map() errors = %v; want none", errs)
	}
	rec.ID = "orders.jsonl#7"
	rec.ObservedAt = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	FillEventDefaults(&rec)
	if ev := rec.Events[0]; ev.ID != rec.ID || !ev.Timestamp.Equal(rec.ObservedAt) {
		t.Errorf("after FillEventDefaults event = %+v; want ID %q and timestamp %v", ev, rec.ID, rec.ObservedAt)
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name   string
		change func(c *config.Config)
		source string
		kind   error
	}{
		{"no source", func(c *config.Config) {}, "nope", fault.ErrInvalid},
		{"unknown identifier type", func(c *config.Config) {
			c.Sources[0].Mapping.Identifiers[0].Type = "fax"
		}, "crm", fault.ErrInvalid},
		{"unknown normalizer", func(c *config.Config) { c.Identifiers[0].Normalizer = "soundex" }, "crm", fault.ErrInvalid},
		{"unknown type", func(c *config.Config) {
			c.Sources[0].Mapping.Attributes["x"] = config.Field{Field: "X", Type: "money"}
		}, "crm", fault.ErrInvalid},
		{"unknown transform", func(c *config.Config) {
			c.Sources[0].Mapping.Attributes["x"] = config.Field{Field: "X", Transforms: []string{"reverse"}}
		}, "crm", fault.ErrInvalid},
		{"bad field formats", func(c *config.Config) {
			c.Sources[0].Mapping.Attributes["x"] = config.Field{Field: "X", Type: "date", Formats: []string{"dd/mm/yyyy"}}
		}, "crm", fault.ErrInvalid},
		{"bad source formats", func(c *config.Config) { c.Sources[0].DateFormats = []string{"european"} }, "crm", fault.ErrInvalid},
		{"bad region", func(c *config.Config) { c.Sources[0].Region = "QQ" }, "crm", fault.ErrInvalid},
		{"bad blocked regexp", func(c *config.Config) { c.Identifiers[1].Blocked = []string{"/(/"} }, "crm", fault.ErrInvalid},
		{"field and const", func(c *config.Config) {
			c.Sources[0].Mapping.Attributes["x"] = config.Field{Field: "X", Const: "y"}
		}, "crm", fault.ErrInvalid},
		{"neither field nor const", func(c *config.Config) {
			c.Sources[0].Mapping.Attributes["x"] = config.Field{Type: "bool"}
		}, "crm", fault.ErrInvalid},
		{"name key collides", func(c *config.Config) {
			c.Sources[0].Mapping.Attributes["first_name_key"] = config.Field{Field: "K"}
		}, "crm", fault.ErrInvalid},
		{"event without name", func(c *config.Config) { c.Sources[2].Mapping.Event.Name = config.Field{} }, "shop", fault.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := testConfig()
			tt.change(c)
			m, err := newFor(c, tt.source)
			if err == nil {
				t.Fatalf("New(%s) = %v, nil; want an error", tt.source, m)
			}
			if !errors.Is(err, tt.kind) {
				t.Errorf("New(%s) error = %v; want kind %v", tt.source, err, tt.kind)
			}
		})
	}
	for _, s := range []string{"crm", "web", "shop", "tickets"} {
		if _, err := newFor(testConfig(), s); err != nil {
			t.Errorf("New(%s) error = %v; want nil", s, err)
		}
	}
}

// TestNewKeepsNoReference changes the source and identifier types after
// New: the mapper must map as before.
func TestNewKeepsNoReference(t *testing.T) {
	c := testConfig()
	m, err := newFor(c, "crm")
	if err != nil {
		t.Fatal(err)
	}
	row := csvRow(nil)
	want, wantErrs := m.Map(row)
	src := &c.Sources[0]
	src.Name = "other"
	src.DateFormats[0] = "mdy"
	src.Mapping.Identifiers[1].Field.Field = "Mobile"
	src.Mapping.Attributes["plan"] = config.Field{Field: "Country"}
	c.Identifiers[1].Name, c.Identifiers[1].Blocked[0] = "mail", "a.nn@googlemail.com"
	c.Identifiers[2].Normalizer = "id"
	got, gotErrs := m.Map(row)
	if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(gotErrs, wantErrs) {
		t.Errorf("Map(row) after changing the configuration = %+v, %v; want %+v, %v", got, gotErrs, want, wantErrs)
	}
}

func TestMapWithoutIdentifierFields(t *testing.T) {
	c := testConfig()
	c.Sources[1].Mapping.Identifiers = nil
	m, err := newFor(c, "web")
	if err != nil {
		t.Fatal(err)
	}
	rec, errs := m.Map(decodeJSON(t, `{"messageId":"m","traits":{"plan":"pro"}}`))
	if len(errs) != 0 || rec.Identifiers != nil {
		t.Errorf("Map() = %v, %v; want no identifiers and no errors (the caller supplies identifiers)", rec.Identifiers, errs)
	}
}

func TestMapConcurrent(t *testing.T) {
	m := mustNew(t, "crm")
	want, _ := m.Map(csvRow(nil))
	var wg sync.WaitGroup
	errc := make(chan string, 4)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				got, _ := m.Map(csvRow(map[string]any{"Id": fmt.Sprintf("%05d", 123)}))
				if !reflect.DeepEqual(got, want) {
					errc <- fmt.Sprintf("concurrent Map() = %+v; want %+v", got, want)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for e := range errc {
		t.Error(e)
	}
}

// FuzzMap feeds arbitrary values to every kind of field of a CSV and a
// JSON source and checks the invariants callers rely on.
func FuzzMap(f *testing.F) {
	f.Add("00123", "ann@example.com", "07911 123456", "ZOË", "03/04/2024", "1,234.50", "yes", "GB")
	f.Add("", "n/a", "+999", "\x00", "31/02/2024", "1e400", "maybe", "")
	f.Add(" ", "Ann <ann@example.com>", "0044", "o'brien-mcdonald", "1709546400", "-", "1", "U.S.A.")
	crm := mustNew(f, "crm")
	web := mustNew(f, "web")
	shop := mustNew(f, "shop")
	f.Fuzz(func(t *testing.T, id, email, phone, name, date, num, vip, country string) {
		csv := map[string]any{
			"Id": id, "E-mail": email, "Mobile": phone, "First Name": name, "DOB": date,
			"Updated": date, "LTV": num, "Orders": num, "VIP": vip, "Country": country, "alt.email": phone,
		}
		jrow := map[string]any{
			"messageId": id, "timestamp": date, "userId": id,
			"traits": map[string]any{"email": email, "phone": phone, "firstName": name, "age": num,
				"optIn": vip, country: name, "nested": map[string]any{"x": []any{email, json.Number("1")}}},
			"context": map[string]any{"traits": email},
		}
		order := map[string]any{
			"order_id": id, "created_at": date, "customer": map[string]any{"email": email, "phone": phone},
			"total": num, "items": num, "currency": country, "paid_on": date,
		}
		values := []string{id, email, phone, name, date, num, vip, country}
		for _, c := range []struct {
			m   *Mapper
			row map[string]any
		}{{crm, csv}, {web, jrow}, {shop, order}} {
			rec, errs := c.m.Map(c.row)
			checkInvariants(t, rec, errs, values)
		}
	})
}

func checkInvariants(t *testing.T, rec profile.Record, errs []FieldError, values []string) {
	t.Helper()
	for _, id := range rec.Identifiers {
		if id.Type == "" || id.Value == "" {
			t.Fatalf("Map() identifier %+v has an empty type or value", id)
		}
	}
	if !HasFatal(errs) && len(rec.Identifiers) == 0 {
		t.Fatalf("Map() gave no identifier and no fatal error: %v", errs)
	}
	for _, e := range errs {
		if e.Field == "" || e.Reason == "" {
			t.Fatalf("Map() error %+v lacks field or reason", e)
		}
		for _, v := range values {
			if len(v) >= 12 && strings.Contains(e.Reason, v) {
				t.Fatalf("Map() error reason %q echoes an input value", e.Reason)
			}
		}
	}
	if _, err := json.Marshal(rec); err != nil {
		t.Fatalf("Map() record does not marshal to JSON: %v", err)
	}
}

func BenchmarkMapCSVRow(b *testing.B) {
	m := mustNew(b, "crm")
	row := csvRow(nil)
	b.ReportAllocs()
	for b.Loop() {
		rec, errs := m.Map(row)
		if len(errs) != 0 || len(rec.Identifiers) != 3 {
			b.Fatalf("Map() = %v, %v", rec.Identifiers, errs)
		}
	}
}

func BenchmarkMapJSONRow(b *testing.B) {
	m := mustNew(b, "web")
	row := decodeJSON(b, `{"messageId":"m-1","timestamp":"2024-03-04T10:00:00Z","userId":"U-9",
		"traits":{"email":"Ann@Example.com","firstName":"ann","age":41,"plan":"pro","score":12.5}}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, errs := m.Map(row); len(errs) != 0 {
			b.Fatal(errs)
		}
	}
}

func TestMapFallback(t *testing.T) {
	cfg := &config.Config{
		Version:     1,
		Identifiers: []config.IdentifierType{{Name: "anonymous_id", Normalizer: "id"}},
		Sources: []config.Source{{
			Name: "web", Kind: config.KindFile, Format: "jsonl",
			Mapping: config.Mapping{
				Identifiers: []config.IdentifierField{{Type: "anonymous_id", Field: config.Field{Field: "anonymousId"}}},
				Event: &config.EventMapping{
					Name: config.Field{Field: "event", Fallback: []string{"name", "type"}},
					ID:   &config.Field{Field: "messageId"},
				},
			},
		}},
	}
	m, err := newFor(cfg, "web")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		row  map[string]any
		want string
	}{
		{"field present", map[string]any{"event": "Order Completed", "name": "Home", "type": "track"}, "Order Completed"},
		{"first fallback", map[string]any{"name": "Home", "type": "page"}, "Home"},
		{"empty value falls back", map[string]any{"event": "", "name": nil, "type": "identify"}, "identify"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.row["anonymousId"] = "a1"
			tt.row["messageId"] = "m1"
			rec, errs := m.Map(tt.row)
			if len(rec.Events) != 1 || rec.Events[0].Name != tt.want {
				t.Fatalf("Map(%v) events = %+v, errors %v; want one event named %q", tt.row, rec.Events, errs, tt.want)
			}
		})
	}
}
