package segment

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"cel.dev/cel-go/cel"
	celops "cel.dev/cel-go/common/operators"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/model/profile"
)

// timingProfile is created 10 days before now0 and updated a day before,
// with 5 events: orders 2 and 20 days before now0 (totals 30 and 80), a
// page view 25 hours before, and a renewal due 5 days after now0. Its
// trial ends 3 days after now0 (also as a date, trial_day), and its
// signup_epoch, in Unix seconds, is 4 days after now0.
func timingProfile() *profile.Profile {
	return &profile.Profile{
		ID: "p1", CreatedAt: now0.Add(-day(10)), UpdatedAt: now0.Add(-day(1)), EventCount: 5,
		Attributes: map[string]profile.Attribute{
			"trial_end":    {Value: now0.Add(day(3)).Format(time.RFC3339)},
			"trial_day":    {Value: now0.Add(day(3)).Format(time.DateOnly)},
			"signup_epoch": {Value: now0.Add(day(4)).Unix()},
			"tier":         {Value: "gold"},
			"wait":         {Value: "2h"},
			"ev":           {Value: "Page Viewed"},
		},
		RecentEvents: []profile.Event{
			{ID: "r1", Name: "Renewal Due", Timestamp: now0.Add(day(5)), Properties: map[string]any{"amount": 10.0}},
			{ID: "o2", Name: "Order Completed", Timestamp: now0.Add(-day(2)), Properties: map[string]any{"total": 30.0}},
			{ID: "v1", Name: "Page Viewed", Timestamp: now0.Add(-day(1) - time.Hour)},
			{ID: "o1", Name: "Order Completed", Timestamp: now0.Add(-day(20)), Properties: map[string]any{"total": 80.0}},
		},
	}
}

// timingCase is an expression using operator op, and the due time of
// timingProfile at now0 under it (zero: never).
type timingCase struct {
	op, name, expr string
	next           time.Time
}

// recheck is the due time of a periodic expression.
var recheck = now0.Add(DefaultRecheck)

func timingCases() []timingCase {
	trialEnd := now0.Add(day(3))
	cases := []timingCase{
		{"days", "constant", `now - profile.created_at > days(12)`, now0.Add(day(2) + time.Nanosecond)},
		{"days", "from data is periodic", `now - profile.created_at > days(profile.event_count)`, recheck},
		{"hours", "constant", `now - profile.updated_at > hours(36)`, now0.Add(12*time.Hour + time.Nanosecond)},
		{"hours", "from data is periodic", `now - profile.updated_at > hours(profile.event_count)`, recheck},
		{"duration", "constant", `now - profile.updated_at >= duration("30h")`, now0.Add(6 * time.Hour)},
		{"duration", "from data is periodic", `now - profile.updated_at > duration(profile.attributes.wait)`, recheck},
		{"timestamp", "constant", `now >= timestamp("2025-04-01T00:00:00Z")`, time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)},
		{"timestamp", "of an attribute", `now < timestamp(profile.attributes.trial_end)`, trialEnd},
		{"timestamp", "of Unix seconds in an attribute", `now < timestamp(profile.attributes.signup_epoch)`, now0.Add(day(4))},
		{"timestamp", "of Unix seconds computed is periodic", `now < timestamp(profile.attributes.signup_epoch + 3600)`, recheck},
		{"timestamp", "of a string computed is periodic", `now < timestamp(profile.attributes.trial_day + "T00:00:00Z")`, recheck},
		{"timestamp", "of an instant is the instant", `timestamp(now) < profile.attributes.trial_end`, trialEnd},
		{"count", "window closes", `events.count("Order Completed", days(30)) >= 2`, now0.Add(day(10))},
		{"count", "name from data", `events.count(profile.attributes.ev, days(3)) >= 1`, now0.Add(day(2) - time.Hour)},
		{"count", "future event starts counting", `events.count("Renewal Due") >= 1`, now0.Add(day(5))},
		{"last", "ages", `now - events.last("Order Completed") > days(6)`, now0.Add(day(4) + time.Nanosecond)},
		{"sum", "window closes", `events.sum("Order Completed", "total", days(30)) > 100.0`, now0.Add(day(10))},
		{"sum", "future event", `events.sum("Renewal Due", "amount") > 0.0`, now0.Add(day(5))},
		{celops.Add, "instant plus duration", `now + days(2) > profile.attributes.trial_end`, now0.Add(day(1) + time.Nanosecond)},
		// Chained shifts: the result changes 12h (5h + 7h) before the
		// trial ends, an instant no single duration reaches.
		{celops.Add, "chained shifts", `now + hours(5) + hours(7) > profile.attributes.trial_end`, trialEnd.Add(-12*time.Hour + time.Nanosecond)},
		{celops.Add, "chained through a conditional", `(profile.event_count > 1 ? now + hours(5) : now) + hours(7) > profile.attributes.trial_end`, trialEnd.Add(-12*time.Hour + time.Nanosecond)},
		{celops.Add, "chained into a list", `now + hours(5) + hours(7) in [profile.attributes.trial_end]`, trialEnd.Add(-12 * time.Hour)},
		{celops.Add, "chained with a comprehension variable is periodic", `[hours(5)].exists(d, now + d + hours(7) > profile.attributes.trial_end)`, recheck},
		{celops.Add, "chained too long is periodic", `now + duration("1m") + duration("3m") + duration("9m") + duration("27m") + duration("81m") > profile.attributes.trial_end`, recheck},
		{celops.Subtract, "instant minus instant", `profile.attributes.trial_end - now < hours(48)`, now0.Add(day(1) + time.Nanosecond)},
		{celops.Subtract, "chained shifts", `profile.attributes.trial_end - now - hours(5) < hours(7)`, trialEnd.Add(-12*time.Hour + time.Nanosecond)},
		{celops.Less, "before", `now < profile.attributes.trial_end`, trialEnd},
		{celops.Less, "shifts on both sides", `profile.attributes.trial_end - hours(7) < now + hours(5)`, trialEnd.Add(-12*time.Hour + time.Nanosecond)},
		{celops.LessEquals, "at or before", `now <= profile.attributes.trial_end`, trialEnd.Add(time.Nanosecond)},
		{celops.Greater, "after", `now > profile.attributes.trial_end`, trialEnd.Add(time.Nanosecond)},
		{celops.Greater, "shifts on both sides", `now + hours(5) > profile.attributes.trial_end - hours(7)`, trialEnd.Add(-12*time.Hour + time.Nanosecond)},
		{celops.GreaterEquals, "at or after", `now >= profile.attributes.trial_end`, trialEnd},
		{celops.Equals, "shifts on both sides", `now - hours(5) == profile.attributes.trial_end + hours(7)`, trialEnd.Add(12 * time.Hour)},
		{"int", "of now is periodic", `int(now) > 0`, recheck},
		{"int", "of a number is not", `int(profile.event_count) > 1 && now < profile.attributes.trial_end`, trialEnd},
		{"string", "of now is periodic", `string(now) != ""`, recheck},
		{"string", "of a number is not", `string(profile.event_count) == "5" && now < profile.attributes.trial_end`, trialEnd},
		// ext.Strings format takes list(dyn): the coverage check sees no
		// instant in its signature. The string of now changes at 13:00.
		{"format", "of now is periodic", `"%s".format([now]) < "2025-03-01T13"`, recheck},
		{"format", "of a duration is periodic", `"%s".format([now - profile.created_at]) != ""`, recheck},
		{"format", "of attributes is not", `"%s".format([profile.attributes.tier]) == "gold" && now < profile.attributes.trial_end`, trialEnd},
	}
	for _, acc := range []string{"getFullYear", "getMonth", "getDate", "getDayOfMonth", "getDayOfWeek",
		"getDayOfYear", "getHours", "getMinutes", "getSeconds", "getMilliseconds"} {
		cases = append(cases, timingCase{acc, "of now is periodic", fmt.Sprintf(`now.%s() >= 0`, acc), recheck})
	}
	return cases
}

// dueTime evaluates expr in lang against timingProfile at now0.
func dueTime(t *testing.T, lang *language, expr string) (Membership, time.Time) {
	t.Helper()
	e, err := newEvaluator(lang, []config.Segment{{ID: "s", Expr: expr}}, nil, Options{})
	if err != nil {
		t.Fatalf("New(%s): %v", expr, err)
	}
	return e.Evaluate(timingProfile(), now0)
}

func TestOperatorTimeAnalysis(t *testing.T) {
	lang, err := baseLanguage()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range timingCases() {
		t.Run(tt.op+"/"+tt.name, func(t *testing.T) {
			m, next := dueTime(t, lang, tt.expr)
			if len(m.Errors) > 0 {
				t.Fatalf("Evaluate(%s) errors = %v; want none", tt.expr, m.Errors)
			}
			if !next.Equal(tt.next) {
				t.Errorf("Evaluate(%s) next = %v; want %v", tt.expr, next, tt.next)
			}
			if tt.next.IsZero() || tt.next.Equal(recheck) {
				return
			}
			// The result holds until next and changes at next.
			_, member := m.Segments["s"]
			e, _ := newEvaluator(lang, []config.Segment{{ID: "s", Expr: tt.expr}}, nil, Options{})
			before, _ := e.Evaluate(timingProfile(), tt.next.Add(-time.Nanosecond))
			at, _ := e.Evaluate(timingProfile(), tt.next)
			if _, got := before.Segments["s"]; got != member {
				t.Errorf("member just before next = %v; want %v", got, member)
			}
			if _, got := at.Segments["s"]; got == member {
				t.Errorf("member at next = %v; want it to have changed", got)
			}
		})
	}
}

// TestOperatorCasesCatchAWrongAnalysis replaces the time analysis of one
// operator at a time — by no analysis at all (timeNeutral), or, for an
// operator whose analysis is timeNeutral, by one that always rechecks —
// and checks that one of the operator's cases then gets a wrong due time.
// Every operator of operatorTable needs such a case.
func TestOperatorCasesCatchAWrongAnalysis(t *testing.T) {
	cases := timingCases()
	alwaysPeriodic := func(_ call, t *timing) { t.periodic = true }
	for i, op := range operatorTable {
		t.Run(op.name, func(t *testing.T) {
			var mine []timingCase
			for _, c := range cases {
				if c.op == op.name {
					mine = append(mine, c)
				}
			}
			if len(mine) == 0 {
				t.Fatalf("operator %s has no case in timingCases", op.name)
			}
			mutant := timeAnalysis(timeNeutral)
			if sameFunc(op.time, timeNeutral) {
				mutant = alwaysPeriodic
			}
			ops := slices.Clone(operatorTable)
			ops[i].time = mutant
			lang, err := newLanguage(ops)
			if err != nil {
				t.Fatalf("newLanguage with a mutant: %v", err)
			}
			for _, c := range mine {
				if _, next := dueTime(t, lang, c.expr); !next.Equal(c.next) {
					return
				}
			}
			t.Errorf("with a wrong analysis of %s, every case still gets its due time; add a case that depends on it", op.name)
		})
	}
}

func sameFunc(a, b timeAnalysis) bool {
	return reflect.ValueOf(a).Pointer() == reflect.ValueOf(b).Pointer()
}

func TestOperatorTable(t *testing.T) {
	for _, op := range operatorTable {
		if op.time == nil {
			t.Errorf("operator %s has no time analysis", op.name)
		}
	}
	if _, err := newLanguage(operatorTable); err != nil {
		t.Errorf("newLanguage(operatorTable) = %v; want nil", err)
	}
}

func TestNewLanguageRefuses(t *testing.T) {
	without := func(name string) []operator {
		return slices.DeleteFunc(slices.Clone(operatorTable), func(op operator) bool { return op.name == name })
	}
	tests := []struct {
		name string
		ops  []operator
		want string
	}{
		{"operator without a time analysis",
			append(slices.Clone(operatorTable), operator{name: "weeks", overloads: unitOverloads("weeks_int", 7*24*time.Hour)}),
			`operator "weeks" declares no time analysis`},
		{"operator declared twice",
			append(slices.Clone(operatorTable), operator{name: "days", time: timeNeutral}),
			`operator "days" is declared twice`},
		{"standard function that does not exist",
			append(slices.Clone(operatorTable), operator{name: "getDayofWeek", time: periodicOverTime}),
			`operator "getDayofWeek" has no overloads and is not in the CEL standard library`},
		{"standard function over timestamps left out", without("getDayOfWeek"),
			"function getDayOfWeek (overload timestamp_to_day_of_week) reads or yields a time-dependent value"},
		{"comparison of instants left out", without(celops.Less),
			"function _<_ (overload less_timestamp) reads or yields a time-dependent value"},
		{"function over dyn left out", without("format"),
			"function format (overload string_format) reads or yields a time-dependent value (or dyn"},
		{"overload on events named without events_",
			append(slices.Clone(operatorTable), operator{name: "first", time: eventsByName, overloads: []cel.FunctionOpt{
				cel.MemberOverload("first_string", []*cel.Type{eventsType, cel.StringType}, cel.TimestampType)}}),
			"overload first_string on events: its id must start with events_"},
		{"function over events without a time analysis",
			append(slices.Clone(operatorTable), operator{name: "first", overloads: []cel.FunctionOpt{
				cel.MemberOverload("events_first_string", []*cel.Type{eventsType, cel.StringType}, cel.TimestampType)}}),
			`operator "first" declares no time analysis`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newLanguage(tt.ops)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("newLanguage = %v; want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestTimeDependent(t *testing.T) {
	tests := []struct {
		typ  *cel.Type
		want bool
	}{
		{cel.TimestampType, true},
		{cel.DurationType, true},
		{eventsType, true},
		{cel.ObjectType(profileTypeName), true},
		{cel.ListType(cel.TimestampType), true},
		{cel.MapType(cel.StringType, cel.DurationType), true},
		{cel.IntType, false},
		{cel.StringType, false},
		{cel.MapType(cel.StringType, cel.DynType), false},
	}
	for _, tt := range tests {
		t.Run(tt.typ.String(), func(t *testing.T) {
			if got := timeDependent(tt.typ); got != tt.want {
				t.Errorf("timeDependent(%s) = %v; want %v", tt.typ, got, tt.want)
			}
		})
	}
}
