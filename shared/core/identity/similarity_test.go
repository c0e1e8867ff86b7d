package identity

import (
	"math"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 0.005 }

func TestSimilarities(t *testing.T) {
	tests := []struct {
		name string
		f    func(a, b string) float64
		a, b string
		want float64
	}{
		// Reference values from Winkler (1990) and common test suites.
		{"jaro-winkler martha", JaroWinkler, "martha", "marhta", 0.961},
		{"jaro-winkler dwayne", JaroWinkler, "dwayne", "duane", 0.84},
		{"jaro-winkler dixon", JaroWinkler, "dixon", "dicksonx", 0.813},
		{"jaro-winkler equal", JaroWinkler, "ann", "ann", 1},
		{"jaro-winkler disjoint", JaroWinkler, "abc", "xyz", 0},
		{"levenshtein kitten", Levenshtein, "kitten", "sitting", 1 - 3.0/7},
		{"damerau transposition", Damerau, "smith", "smtih", 0.8},
		{"levenshtein transposition costs two", Levenshtein, "smith", "smtih", 0.6},
		{"token order", Token, "anne marie", "marie anne", 1},
		{"name nickname", Name, "bob", "robert", NicknameScore},
		{"name nickname both ways", Name, "robert", "rob", NicknameScore},
		{"name swapped words", Name, "mary ann", "ann mary", 1},
		{"name initial", Name, "j", "john", 0.8},
		{"name unrelated", Name, "alice", "zoe", 0},
		{"date equal", Date, "1971-06-24", "1971-06-24", 1},
		{"date day month swap", Date, "1971-06-04", "1971-04-06", 0.9},
		{"date one digit", Date, "19710624", "19710625", 0.8},
		{"date two digits", Date, "19710624", "19720625", 0.6},
		{"date far", Date, "19710624", "19881203", 0},
		{"exact", Exact, "a", "b", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.f(tt.a, tt.b); !near(got, tt.want) {
				t.Errorf("%s(%q, %q) = %.4f; want %.4f", tt.name, tt.a, tt.b, got, tt.want)
			}
			if got := tt.f(tt.b, tt.a); !near(got, tt.want) {
				t.Errorf("%s(%q, %q) = %.4f; want %.4f (symmetric)", tt.name, tt.b, tt.a, got, tt.want)
			}
		})
	}
}

func TestNumber(t *testing.T) {
	tests := []struct {
		a, b string
		tol  float64
		want float64
	}{
		{"10", "10", 0, 1},
		{"10", "11", 0, 0},
		{"10", "11", 4, 0.75},
		{"10", "20", 4, 0},
		{"x", "x", 4, 1},
	}
	for _, tt := range tests {
		if got := Number(tt.a, tt.b, tt.tol); !near(got, tt.want) {
			t.Errorf("Number(%q, %q, %g) = %.3f; want %.3f", tt.a, tt.b, tt.tol, got, tt.want)
		}
	}
}

func TestSoundex(t *testing.T) {
	tests := map[string]string{
		"robert": "R163", "rupert": "R163", "rubin": "R150", "ashcraft": "A261",
		"ashcroft": "A261", "tymczak": "T522", "pfister": "P236", "honeyman": "H555",
		"lee": "L000", "o'brien": "O165", "": "", "123": "",
	}
	for in, want := range tests {
		if got := Soundex(in); got != want {
			t.Errorf("Soundex(%q) = %q; want %q", in, got, want)
		}
	}
}

func TestSameNickname(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"bob", "robert", true},
		{"bobby", "bob", true},
		{"bill", "william", true},
		{"al", "albert", true},
		{"al", "alan", true},
		{"albert", "alan", false},
		{"peggy", "margaret", true},
		{"robert", "william", false},
		{"zzz", "zzz", false},
	}
	for _, tt := range tests {
		if got := SameNickname(tt.a, tt.b); got != tt.want {
			t.Errorf("SameNickname(%q, %q) = %v; want %v", tt.a, tt.b, got, tt.want)
		}
	}
}
