package local_test

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/kit/synth"
	"github.com/aurum-cdp/aurum/shared/source/file"
)

// crashPeople is the size of the crash test's input: about 6.5 records
// a person over nine files, a few seconds of loading on 2 cores.
const crashPeople = 1500

var crashKills = flag.Int("local.crash-kills", 3, "how many times TestCrashRecovery kills aurum local (at least 3)")

// TestCrashRecovery builds aurum, runs aurum local as a child process on a
// drop folder full of generated files, kills it with SIGKILL at random
// moments while it loads (three times, or -local.crash-kills), starts it again on the same data
// folder until everything is loaded, and compares the store with that of
// an uninterrupted run on the same input: no file stranded, the same
// profiles, records, identifiers and segment counts.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("builds aurum and runs it as a child process")
	}
	bin := buildAurum(t)
	cfgPath, err := filepath.Abs("../../../aurum.yaml")
	if err != nil {
		t.Fatal(err)
	}
	input := crashInput(t)

	cleanData := t.TempDir()
	dropAll(t, cleanData, input)
	clean := startAurum(t, bin, cfgPath, cleanData)
	clean.waitFor(t, "every file's report", func() bool { return len(unreported(t, cleanData, input)) == 0 })
	clean.stop(t)

	seed := uint64(time.Now().UnixNano())
	t.Logf("kill moments from seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	crashData := t.TempDir()
	dropAll(t, crashData, input)
	kills, midLoad := 0, 0
	for kills < *crashKills {
		p := startAurum(t, bin, cfgPath, crashData)
		// Let it load 0 or 1 more file, then kill it while a load runs
		// (an object in the bucket has no report), or a little later.
		target := len(input) - len(unreported(t, crashData, input)) + rng.IntN(2)
		p.waitFor(t, "a load to run", func() bool {
			left := unreported(t, crashData, input)
			return len(left) == 0 || len(input)-len(left) >= target && len(strandedObjects(t, crashData)) > 0
		})
		time.Sleep(time.Duration(rng.Int64N(int64(300 * time.Millisecond))))
		p.kill(t)
		left := unreported(t, crashData, input)
		if len(left) == 0 {
			break // everything was loaded before this kill
		}
		kills++
		if s := strandedObjects(t, crashData); len(s) > 0 {
			midLoad++
			t.Logf("kill %d: %d files not loaded, %v in the bucket without report", kills, len(left), s)
		} else {
			t.Logf("kill %d: %d files not loaded, none cut short", kills, len(left))
		}
	}
	if kills < min(3, *crashKills) {
		t.Fatalf("everything was loaded after %d kills; want at least 3: make the input larger", kills)
	}
	final := startAurum(t, bin, cfgPath, crashData)
	final.waitFor(t, "every file's report", func() bool { return len(unreported(t, crashData, input)) == 0 })
	final.stop(t)
	if midLoad == 0 {
		t.Errorf("no kill landed during a load; the test proved nothing")
	}

	if s := strandedObjects(t, crashData); len(s) > 0 {
		t.Errorf("objects without a load report after recovery: %v", s)
	}
	left, err := filesUnder(filepath.Join(crashData, "drop"))
	if err != nil || len(left) > 0 {
		t.Errorf("files left in the drop folder: %v (%v)", left, err)
	}
	cfg := loadConfig(t)
	compareStates(t, fmt.Sprintf("after %d kills", kills), readState(t, cfg, crashData), readState(t, cfg, cleanData))
}

// buildAurum builds the aurum command into a temporary folder.
func buildAurum(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "aurum")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/aurum")
	cmd.Dir = "../../.."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/aurum: %v\n%s", err, out)
	}
	return bin
}

// crashInput generates the input files, by drop folder path
// (<source>/<name>): the five sources, the JSON Lines ones split in
// parts so that there are more files than kills.
func crashInput(t *testing.T) map[string][]byte {
	t.Helper()
	bufs := map[string]*bytes.Buffer{}
	for _, s := range synth.Sources {
		bufs[s] = &bytes.Buffer{}
	}
	w := synth.Writers{CRM: bufs[synth.SourceCRM], Shop: bufs[synth.SourceShop], POS: bufs[synth.SourcePOS],
		Newsletter: bufs[synth.SourceNewsletter], Web: bufs[synth.SourceWeb]}
	if _, err := synth.Generate(w, synth.Options{Seed: 11, People: crashPeople}); err != nil {
		t.Fatal(err)
	}
	input := map[string][]byte{}
	for _, s := range synth.Sources {
		name := synth.Files[s]
		if !strings.HasSuffix(name, ".jsonl") {
			input[name] = bufs[s].Bytes()
			continue
		}
		for i, part := range splitLines(bufs[s].Bytes(), 3) {
			input[fmt.Sprintf("%s-%d.jsonl", strings.TrimSuffix(name, ".jsonl"), i+1)] = part
		}
	}
	return input
}

// splitLines cuts b into n parts at line ends.
func splitLines(b []byte, n int) [][]byte {
	var parts [][]byte
	for i := n; i > 1; i-- {
		cut := len(b) / i
		nl := bytes.IndexByte(b[cut:], '\n')
		if nl < 0 {
			break
		}
		parts = append(parts, b[:cut+nl+1])
		b = b[cut+nl+1:]
	}
	return append(parts, b)
}

// dropAll drops the input into the data folder's drop folder before aurum
// local starts, each file written under a temporary name first and
// given the same modification time in every data folder.
func dropAll(t *testing.T, data string, input map[string][]byte) {
	t.Helper()
	for name, b := range input {
		path := filepath.Join(data, "drop", filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path+".tmp", b, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path+".tmp", inputMod, inputMod); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(path+".tmp", path); err != nil {
			t.Fatal(err)
		}
	}
}

// unreported returns the input files that have no load report yet.
func unreported(t *testing.T, data string, input map[string][]byte) []string {
	t.Helper()
	var left []string
	for name := range input {
		if !exists(filepath.Join(data, "bucket", filepath.FromSlash(file.ReportKey(file.SourcesPrefix+name)))) {
			left = append(left, name)
		}
	}
	return left
}

// strandedObjects returns the keys of the objects under sources/ of the
// bucket that have no load report.
func strandedObjects(t *testing.T, data string) []string {
	t.Helper()
	bucket := filepath.Join(data, "bucket")
	files, err := filesUnder(filepath.Join(bucket, "sources"))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, f := range files {
		key := file.SourcesPrefix + f
		if !exists(filepath.Join(bucket, filepath.FromSlash(file.ReportKey(key)))) {
			keys = append(keys, key)
		}
	}
	return keys
}

// filesUnder returns the slash-separated paths of the files under dir
// that are not hidden (temporary files start with a dot).
func filesUnder(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			return nil
		}
		rel, err := filepath.Rel(dir, path)
		out = append(out, filepath.ToSlash(rel))
		return err
	})
	return out, err
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// child is aurum local running as a child process.
type child struct {
	cmd    *exec.Cmd
	out    *lines // stdout: the address and progress lines
	errs   *lines // stderr: the logs
	addr   string
	exited chan struct{} // closed once the child ended
	err    error         // its exit, set before exited is closed
}

// startAurum runs aurum local on the data folder and waits for the line
// that gives its address.
func startAurum(t *testing.T, bin, cfgPath, data string) *child {
	t.Helper()
	c := &child{out: &lines{}, errs: &lines{}, exited: make(chan struct{})}
	c.cmd = exec.Command(bin, "local", "--config", cfgPath, "--data", data, "--addr", "127.0.0.1:0", "--poll", "20ms")
	c.cmd.Stderr = c.errs
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("start aurum local: %v", err)
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(c.out, line)
			if rest, ok := strings.CutPrefix(line, "aurum local: http://"); ok {
				a, _, _ := strings.Cut(rest, " ")
				addr <- a
			}
		}
		c.err = c.cmd.Wait()
		close(c.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-c.exited:
		default:
			c.cmd.Process.Kill()
			<-c.exited
		}
	})
	select {
	case c.addr = <-addr:
	case <-c.exited:
		t.Fatalf("aurum local ended before serving: %v\nstdout:\n%s\nstderr:\n%s", c.err, c.out, c.errs)
	case <-time.After(time.Minute):
		t.Fatalf("aurum local did not serve within a minute\nstdout:\n%s\nstderr:\n%s", c.out, c.errs)
	}
	return c
}

// waitFor polls cond until it holds, failing t if the child ends first
// or after a minute.
func (c *child) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		select {
		case <-c.exited:
			t.Fatalf("aurum local ended while waiting for %s: %v\nstdout:\n%s\nstderr:\n%s", what, c.err, c.out, c.errs)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s\nstdout:\n%s\nstderr:\n%s", what, c.out, c.errs)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// kill ends the child with SIGKILL and waits for it to be gone.
func (c *child) kill(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Kill(); err != nil {
		t.Fatalf("kill aurum local: %v", err)
	}
	<-c.exited
}

// stop interrupts the child, as Ctrl-C does, and checks that it ends
// cleanly.
func (c *child) stop(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatalf("interrupt aurum local: %v", err)
	}
	select {
	case <-c.exited:
	case <-time.After(time.Minute):
		t.Fatalf("aurum local did not stop within a minute of an interrupt\nstderr:\n%s", c.errs)
	}
	if c.err != nil {
		t.Errorf("aurum local ended with %v after an interrupt\nstderr:\n%s", c.err, c.errs)
	}
}
