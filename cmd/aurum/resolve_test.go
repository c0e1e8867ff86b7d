package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// resolveTruthCSV has a person column (the ground truth), a rejected row
// (4) and a row without a record id (named after its file and line).
const resolveTruthCSV = `id,email,phone,first_name,person
1,ann@example.com,07400123401,Ann,A
2,bob@example.com,07400123402,Bob,B
3,ann@example.com,07400123403,Ann,A
4,not-an-email,,,C
,bob@example.com,,Bob,B
6,cy@example.com,07400123401,Cy,D
`

func TestResolveStreamingMatchesBatch(t *testing.T) {
	dir, cfgPath, _ := writeFiles(t)
	csvPath := filepath.Join(dir, "people.csv")
	if err := os.WriteFile(csvPath, []byte(resolveTruthCSV), 0o600); err != nil {
		t.Fatal(err)
	}
	assignments := map[string]map[string]string{}
	for _, mode := range []string{"batch", "streaming"} {
		t.Run(mode, func(t *testing.T) {
			out := filepath.Join(dir, mode+".csv")
			args := []string{"--config", cfgPath, "--out", out, "--truth-column", "person", "--label", "people"}
			if mode == "streaming" {
				args = append(args, "--streaming")
			}
			var stdout, stderr bytes.Buffer
			if err := runResolve(context.Background(), append(args, "crm="+csvPath), &stdout, &stderr); err != nil {
				t.Fatalf("resolve %s: %v (%s)", mode, err, stderr.String())
			}
			f, err := os.Open(out)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			rows, err := csv.NewReader(f).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != 7 {
				t.Fatalf("%s assignments have %d lines; want a header and 6 rows", mode, len(rows))
			}
			ids := map[string]string{}
			for _, r := range rows[1:] {
				ids[r[1]] = r[2]
			}
			assignments[mode] = ids
			// Ann's rows share an e-mail, Bob's too; 6 shares 1's phone.
			if ids["1"] == "" || ids["1"] != ids["3"] || ids["1"] != ids["6"] || ids["2"] == ids["1"] {
				t.Errorf("%s assignments %v; want 1, 3 and 6 together, 2 apart", mode, ids)
			}
			noID := ""
			for id := range ids {
				if strings.Contains(id, "#") {
					noID = id
				}
			}
			if noID == "" || ids[noID] != ids["2"] {
				t.Errorf("%s assignments %v; want the row without an id (named <file>#<line>) with Bob's row 2", mode, ids)
			}
			if ids["4"] != "" {
				t.Errorf("%s assignment of the rejected row 4 = %q; want empty", mode, ids["4"])
			}
			line := stdout.String()
			if !strings.Contains(line, "people     "+mode) || !strings.Contains(line, "F1 0.") {
				t.Errorf("%s printed %q; want the evaluation line of mode %s", mode, line, mode)
			}
		})
	}
	// Same partition: record i and j together in one mode iff in the other.
	b, s := assignments["batch"], assignments["streaming"]
	for i := range b {
		for j := range b {
			if (b[i] != "" && b[i] == b[j]) != (s[i] != "" && s[i] == s[j]) {
				t.Errorf("records %s and %s: together in batch %v, in streaming %v", i, j, b[i] == b[j], s[i] == s[j])
			}
		}
	}
}
