package synth

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// output holds one generated data set in memory.
type output struct {
	files map[string]*bytes.Buffer // by source, and TruthFile
	sum   Summary
}

func generate(t testing.TB, opts Options) output {
	t.Helper()
	o := output{files: make(map[string]*bytes.Buffer)}
	for _, name := range append(slices.Clone(Sources), TruthFile) {
		o.files[name] = new(bytes.Buffer)
	}
	w := Writers{
		CRM: o.files[SourceCRM], Shop: o.files[SourceShop], POS: o.files[SourcePOS],
		Newsletter: o.files[SourceNewsletter], Web: o.files[SourceWeb], Truth: o.files[TruthFile],
	}
	sum, err := Generate(w, opts)
	if err != nil {
		t.Fatalf("Generate(%+v): %v", opts, err)
	}
	o.sum = sum
	return o
}

func TestDeterministic(t *testing.T) {
	a := generate(t, Options{Seed: 7, People: 400})
	b := generate(t, Options{Seed: 7, People: 400})
	c := generate(t, Options{Seed: 8, People: 400})
	for name, buf := range a.files {
		t.Run(name, func(t *testing.T) {
			if buf.Len() == 0 {
				t.Fatalf("seed 7: %s is empty", name)
			}
			if !bytes.Equal(buf.Bytes(), b.files[name].Bytes()) {
				t.Errorf("seed 7 twice: %s differs", name)
			}
			if bytes.Equal(buf.Bytes(), c.files[name].Bytes()) {
				t.Errorf("seeds 7 and 8: %s is the same", name)
			}
		})
	}
}

// row is one parsed record: its id and the raw identifying values.
type row struct {
	source, id    string
	emails        []string
	phones        []string // raw
	region        string
	customerID    string
	card          string
	anonymousID   string
	line          int
	fieldsPerLine int
}

// readRows parses a source file the way a strict reader would. Lines that
// are not records (malformed JSON, arrays, blank lines, short CSV rows) are
// counted in bad; short CSV rows still yield their first field as id.
func readRows(source string, r io.Reader) (rows []row, bad int, err error) {
	switch source {
	case SourceCRM, SourcePOS, SourceNewsletter:
		cr := csv.NewReader(r)
		cr.FieldsPerRecord = -1
		if source == SourcePOS {
			cr.Comma = ';'
		}
		header, err := cr.Read()
		if err != nil {
			return nil, 0, fmt.Errorf("%s header: %w", source, err)
		}
		header[0] = strings.TrimPrefix(header[0], "\ufeff")
		want := map[string][]string{SourceCRM: crmHeader, SourcePOS: posHeader, SourceNewsletter: newsletterHeader}[source]
		if !slices.Equal(header, want) {
			return nil, 0, fmt.Errorf("%s header = %q; want %q", source, header, want)
		}
		for {
			rec, err := cr.Read()
			if errors.Is(err, io.EOF) {
				return rows, bad, nil
			}
			if err != nil {
				return nil, 0, fmt.Errorf("%s: %w", source, err)
			}
			line, _ := cr.FieldPos(0)
			if len(rec) != len(want) {
				bad++
				rows = append(rows, row{source: source, id: rec[0], line: line, fieldsPerLine: len(rec)})
				continue
			}
			x := row{source: source, id: rec[0], line: line, fieldsPerLine: len(rec)}
			switch source {
			case SourceCRM:
				x.customerID, x.emails, x.phones, x.region = rec[0], []string{rec[3]}, []string{rec[4]}, regionCRM
			case SourcePOS:
				x.card, x.phones, x.region = rec[1], []string{rec[2]}, regionPOS
			default:
				x.emails = []string{rec[1]}
			}
			rows = append(rows, x)
		}
	case SourceShop, SourceWeb:
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 1<<16), 1<<20)
		for n := 1; sc.Scan(); n++ {
			var m struct {
				OrderID     string `json:"order_id"`
				MessageID   string `json:"messageId"`
				UserID      string `json:"userId"`
				AnonymousID string `json:"anonymousId"`
				Customer    struct {
					Email *string `json:"email"`
					Phone *string `json:"phone"`
				} `json:"customer"`
				Traits  webTraits `json:"traits"`
				Context struct {
					Traits webTraits `json:"traits"`
				} `json:"context"`
			}
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				bad++
				continue
			}
			x := row{source: source, line: n}
			if source == SourceShop {
				x.id, x.region = m.OrderID, regionShop
				if m.Customer.Email != nil {
					x.emails = []string{*m.Customer.Email}
				}
				if m.Customer.Phone != nil {
					x.phones = []string{*m.Customer.Phone}
				}
			} else {
				x.id, x.region = m.MessageID, regionWeb
				x.customerID, x.anonymousID = m.UserID, m.AnonymousID
				x.emails = []string{m.Traits.Email, m.Context.Traits.Email}
				x.phones = []string{m.Traits.Phone}
			}
			if x.id == "" {
				bad++
				continue
			}
			rows = append(rows, x)
		}
		return rows, bad, sc.Err()
	}
	return nil, 0, fmt.Errorf("unknown source %q", source)
}

// readTruth parses truth.csv into source/record_id → person_id.
func readTruth(t *testing.T, r io.Reader) map[string]string {
	t.Helper()
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = 3
	header, err := cr.Read()
	if err != nil {
		t.Fatalf("truth header: %v", err)
	}
	if got := strings.Join(header, ","); got != TruthHeader {
		t.Fatalf("truth header = %q; want %q", got, TruthHeader)
	}
	truth := make(map[string]string)
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return truth
		}
		if err != nil {
			t.Fatalf("truth: %v", err)
		}
		key := rec[0] + "/" + rec[1]
		if _, dup := truth[key]; dup {
			t.Errorf("truth: %s listed twice", key)
		}
		if rec[2] == "" {
			t.Errorf("truth: %s has no person", key)
		}
		truth[key] = rec[2]
	}
}

// checkTruthCovers checks that the record ids of the files and the truth
// are the same set.
func checkTruthCovers(t *testing.T, files map[string]io.Reader, truth map[string]string) map[string][]row {
	t.Helper()
	seen := make(map[string]bool)
	all := make(map[string][]row)
	for _, src := range Sources {
		rows, _, err := readRows(src, files[src])
		if err != nil {
			t.Fatalf("read %s: %v", src, err)
		}
		all[src] = rows
		for _, x := range rows {
			key := src + "/" + x.id
			seen[key] = true
			if _, ok := truth[key]; !ok {
				t.Errorf("%s line %d: record %s has no truth row", src, x.line, x.id)
			}
		}
	}
	for key := range truth {
		if !seen[key] {
			t.Errorf("truth row %s has no record", key)
		}
	}
	return all
}

func TestTruthCoversEveryRecord(t *testing.T) {
	o := generate(t, Options{Seed: 3, People: 1500})
	files := make(map[string]io.Reader)
	for _, src := range Sources {
		files[src] = bytes.NewReader(o.files[src].Bytes())
	}
	truth := readTruth(t, bytes.NewReader(o.files[TruthFile].Bytes()))
	all := checkTruthCovers(t, files, truth)

	people := make(map[string]bool)
	for _, p := range truth {
		people[p] = true
	}
	if len(people) != o.sum.People {
		t.Errorf("truth names %d people; Summary.People = %d", len(people), o.sum.People)
	}
	if len(truth) != o.sum.Records() {
		t.Errorf("truth has %d rows; Summary.Records() = %d", len(truth), o.sum.Records())
	}
	for _, s := range o.sum.Sources {
		rows := all[s.Source]
		if len(rows) != s.Rows {
			t.Errorf("%s: read %d rows; Summary says %d", s.Source, len(rows), s.Rows)
		}
		if got := int64(o.files[s.Source].Len()); got != s.Bytes {
			t.Errorf("%s: %d bytes written; Summary says %d", s.Source, got, s.Bytes)
		}
		for _, x := range rows {
			if x.fieldsPerLine != 0 && x.fieldsPerLine != map[string]int{SourceCRM: 9, SourcePOS: 6, SourceNewsletter: 5}[s.Source] {
				t.Errorf("%s line %d: %d fields", s.Source, x.line, x.fieldsPerLine)
			}
		}
	}
}

// TestCRMParsesWithEncodingCSV reads the CRM export with encoding/csv in
// its strictest setting.
func TestCRMParsesWithEncodingCSV(t *testing.T) {
	o := generate(t, Options{Seed: 11, CRMOnly: true, People: 3000})
	data := o.files[SourceCRM].Bytes()
	if !bytes.HasPrefix(data, []byte("\ufeffCustomer ID,")) {
		t.Fatalf("CRM export starts %q; want a BOM and the header", data[:min(len(data), 20)])
	}
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\ufeff"))))
	r.FieldsPerRecord = len(crmHeader)
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("encoding/csv: %v", err)
	}
	if got, want := len(recs)-1, o.sum.Sources[0].Rows; got != want {
		t.Errorf("read %d CRM rows; Summary says %d", got, want)
	}
	if got := o.sum.People; got != 3000 {
		t.Errorf("Summary.People = %d; want 3000", got)
	}
	if len(o.sum.Sources) != 1 || o.sum.Sources[0].Source != SourceCRM {
		t.Errorf("Summary.Sources = %+v; want only crm", o.sum.Sources)
	}
	for _, src := range Sources[1:] {
		if n := o.files[src].Len(); n != 0 {
			t.Errorf("CRM-only run wrote %d bytes of %s", n, src)
		}
	}
}

func TestCRMOnlyTargetSize(t *testing.T) {
	for _, target := range []int64{1, 50_000, 400_000} {
		t.Run(fmt.Sprint(target), func(t *testing.T) {
			o := generate(t, Options{Seed: 5, CRMOnly: true, TargetBytes: target})
			got := int64(o.files[SourceCRM].Len())
			// The run stops after the person whose rows crossed the target:
			// at most two rows, well under 1 kB, beyond it.
			if got < target || got >= target+1000 {
				t.Errorf("CRM size = %d; want in [%d, %d)", got, target, target+1000)
			}
			if o.sum.Sources[0].Bytes != got {
				t.Errorf("Summary bytes = %d; written %d", o.sum.Sources[0].Bytes, got)
			}
		})
	}
}

func TestGenerateOptionErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"nothing to do", Options{}},
		{"negative people", Options{People: -1}},
		{"too many people", Options{People: MaxPeople + 1}},
		{"size without crm-only", Options{People: 10, TargetBytes: 100}},
		{"negative size", Options{CRMOnly: true, TargetBytes: -1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Generate(Writers{}, tc.opts); err == nil {
				t.Errorf("Generate(%+v) = nil error; want an error", tc.opts)
			}
		})
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestGenerateWriteError(t *testing.T) {
	_, err := Generate(Writers{Web: failWriter{}}, Options{Seed: 1, People: 2000})
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Generate with a failing web writer: err = %v; want the write error", err)
	}
}

var (
	placeholderEmail = regexp.MustCompile(`^(test@test\.com|none@none\.com|a@a\.com|no-?reply@.*)$`)
	placeholderPhone = regexp.MustCompile(`^\+[0-9]{1,3}(0{6,}|9{6,}|1234567890?)$`)
)

// normEmail is a reference normalizer: lower case, gmail dots and +tags
// removed; "" for what is not an address.
func normEmail(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || strings.Contains(domain, "@") || !strings.Contains(domain, ".") || domain[0] == '@' {
		return ""
	}
	if domain == "gmail.com" {
		local, _, _ = strings.Cut(local, "+")
		local = strings.ReplaceAll(local, ".", "")
	}
	return local + "@" + domain
}

// normPhone is a reference normalizer: E.164 of a valid number, or "".
func normPhone(s, region string) string {
	if strings.TrimSpace(s) == "" {
		return ""
	}
	n, err := phonenumbers.Parse(s, region)
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return ""
	}
	return phonenumbers.Format(n, phonenumbers.E164)
}

// TestIdentifiersBelongToOnePerson checks the ground truth's promise: an
// identifier value shared by two people is a placeholder or the landline of
// a household, never an accident of generation. It also checks that the
// phone numbers are realistic: most normalize with the source's region.
func TestIdentifiersBelongToOnePerson(t *testing.T) {
	o := generate(t, Options{Seed: 21, People: 3000})
	files := make(map[string]io.Reader)
	for _, src := range Sources {
		files[src] = bytes.NewReader(o.files[src].Bytes())
	}
	truth := readTruth(t, bytes.NewReader(o.files[TruthFile].Bytes()))
	all := checkTruthCovers(t, files, truth)

	owners := make(map[string]map[string]bool) // identifier → people
	add := func(id, person string) {
		if owners[id] == nil {
			owners[id] = make(map[string]bool)
		}
		owners[id][person] = true
	}
	var phones, valid int
	for _, src := range Sources {
		for _, x := range all[src] {
			p := truth[src+"/"+x.id]
			for _, e := range x.emails {
				if n := normEmail(e); n != "" {
					add("email:"+n, p)
				}
			}
			for _, ph := range x.phones {
				if strings.TrimSpace(ph) == "" {
					continue
				}
				phones++
				if n := normPhone(ph, x.region); n != "" {
					valid++
					add("phone:"+n, p)
				}
			}
			if x.customerID != "" {
				add("customer_id:"+x.customerID, p)
			}
			if d := strings.Map(func(r rune) rune {
				if r >= '0' && r <= '9' {
					return r
				}
				return -1
			}, x.card); d != "" {
				add("card:"+d, p)
			}
			if x.anonymousID != "" {
				add("anon:"+x.anonymousID, p)
			}
		}
	}
	// A web userId is the customer id of one of the person's CRM rows.
	crmIDs := make(map[string]bool)
	for _, x := range all[SourceCRM] {
		crmIDs[x.customerID] = true
	}
	var userIDs int
	for _, x := range all[SourceWeb] {
		if x.customerID != "" {
			userIDs++
			if !crmIDs[x.customerID] {
				t.Errorf("web message %s: userId %s is no CRM customer id", x.id, x.customerID)
			}
		}
	}
	if userIDs == 0 {
		t.Errorf("no web message carries a userId")
	}

	households := 0
	for id, ps := range owners {
		if len(ps) < 2 {
			continue
		}
		typ, value, _ := strings.Cut(id, ":")
		switch {
		case typ == "email" && placeholderEmail.MatchString(value):
		case typ == "phone" && placeholderPhone.MatchString(value):
		case typ == "phone" && len(ps) == 2 && isHousehold(ps):
			households++
		default:
			t.Errorf("identifier %s is shared by %d people: %v", id, len(ps), ps)
		}
	}
	if households == 0 {
		t.Errorf("no household shares a landline; want some in 3000 people")
	}
	if phones == 0 || float64(valid)/float64(phones) < 0.9 {
		t.Errorf("%d of %d phone values normalize; want at least 90%%", valid, phones)
	}
}

// isHousehold reports whether the two people are a household pair: P2m
// and P2m+1.
func isHousehold(ps map[string]bool) bool {
	var ns []int
	for p := range ps {
		var n int
		if _, err := fmt.Sscanf(p, "P%d", &n); err != nil {
			return false
		}
		ns = append(ns, n)
	}
	slices.Sort(ns)
	return ns[0]%2 == 0 && ns[1] == ns[0]+1
}

// TestSampleTruth checks the hand-written sample in testdata/sample: every
// record id there has a truth row and every truth row a record.
func TestSampleTruth(t *testing.T) {
	files := make(map[string]io.Reader)
	for _, src := range Sources {
		f, err := os.Open("../../../testdata/sample/" + Files[src])
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		files[src] = f
	}
	tf, err := os.Open("../../../testdata/sample/" + TruthFile)
	if err != nil {
		t.Fatal(err)
	}
	defer tf.Close()
	checkTruthCovers(t, files, readTruth(t, tf))
}

func TestAffineIsBijective(t *testing.T) {
	for seed := range uint64(20) {
		f := newAffine(seed, 9, 1000)
		seen := make(map[uint64]bool)
		for x := range uint64(1000) {
			y := f.at(x)
			if y >= 1000 || seen[y] {
				t.Fatalf("seed %d: at(%d) = %d repeats or leaves [0, 1000)", seed, x, y)
			}
			seen[y] = true
		}
	}
}

func TestPhoneNumbers(t *testing.T) {
	regions := []string{"GB", "FR", "DE", "US", "ES"}
	for _, cc := range regions {
		t.Run(cc, func(t *testing.T) {
			for _, u := range []uint64{0, 1, 110_000, 4_999_999, 5_000_000, 9_999_999, 1_234_567, 8_911_000} {
				for _, p := range []phone{mobileNumber(cc, u), landlineNumber(cc, u)} {
					n, err := phonenumbers.Parse(p.e164(), "")
					if err != nil || !phonenumbers.IsValidNumber(n) {
						t.Errorf("number %s (u=%d) is not valid: %v", p.e164(), u, err)
						continue
					}
					g := newGenerator(Writers{}, Options{Seed: u, People: 1})
					for i := range 20 {
						g.reseed(i, streamCore)
						nat := p.national(g.r)
						if got := normPhone(nat, cc); got != p.e164() {
							t.Errorf("national %q in %s = %q; want %s", nat, cc, got, p.e164())
						}
						for _, region := range regions {
							intl := p.international(g.r, region)
							if got := normPhone(intl, region); got != p.e164() {
								t.Errorf("international %q in %s = %q; want %s", intl, region, got, p.e164())
							}
						}
					}
				}
			}
		})
	}
}

func BenchmarkGenerateCRM(b *testing.B) {
	var total int64
	for b.Loop() {
		sum, err := Generate(Writers{CRM: io.Discard}, Options{Seed: 1, CRMOnly: true, People: 20_000})
		if err != nil {
			b.Fatal(err)
		}
		total += sum.Sources[0].Bytes
	}
	b.SetBytes(total / int64(b.N))
}

func BenchmarkGenerateAll(b *testing.B) {
	for b.Loop() {
		if _, err := Generate(Writers{}, Options{Seed: 1, People: 5_000}); err != nil {
			b.Fatal(err)
		}
	}
}
