// Package dynamotest runs DynamoDB Local for the tests of a package.
//
// Call Main from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(dynamotest.Main(m)) }
//
// Main starts the official DynamoDB Local (DynamoDBLocal.jar, in memory, on
// a free port) from the directory named by AURUM_DYNAMODB_LOCAL_DIR, by
// default .cache/dynamodb-local under the repository root, where
// scripts/dynamodb-local.sh puts it; runs the tests; and stops it. Tests
// get a client with Client (each with a database of its own) and a fresh
// table with NewTable, so they can run in parallel.
//
// When the jar or java is missing, or with -short, tests that ask for a
// client are skipped with a message saying to run
// scripts/dynamodb-local.sh; with AURUM_REQUIRE_DYNAMODB=1 (set by CI and
// make test) Main fails instead.
package dynamotest

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/aurum-cdp/aurum/shared/adapter/dynamo"
)

// Environment variables read by Main.
const (
	// EnvDir names the directory holding DynamoDBLocal.jar.
	EnvDir = "AURUM_DYNAMODB_LOCAL_DIR"
	// EnvRequire, set to 1, turns a missing DynamoDB Local into a failure.
	EnvRequire = "AURUM_REQUIRE_DYNAMODB"
)

// Region and credentials of the test clients. DynamoDB Local accepts any
// access key of letters and digits; Client numbers them from AccessKey.
const (
	Region    = "us-east-1"
	AccessKey = "aurumtest"
	SecretKey = "aurumtest"
)

// startTimeout bounds the wait for DynamoDB Local to answer.
const startTimeout = 90 * time.Second

var (
	mu       sync.Mutex
	started  bool   // Main ran
	endpoint string // set when DynamoDB Local runs
	skipWhy  string // set when it does not
	tables   atomic.Int64
	keys     atomic.Int64
)

// Main starts DynamoDB Local, runs the tests and stops it. It returns the
// exit code for os.Exit.
func Main(m *testing.M) int {
	if !flag.Parsed() {
		flag.Parse()
	}
	required := os.Getenv(EnvRequire) == "1"
	mu.Lock()
	started = true
	mu.Unlock()
	if testing.Short() && !required {
		setSkip("DynamoDB Local is not started in -short mode")
		return m.Run()
	}
	srv, err := start()
	if err != nil {
		if required {
			fmt.Fprintf(os.Stderr, "dynamotest: %v (%s=1: DynamoDB tests must run; run scripts/dynamodb-local.sh)\n", err, EnvRequire)
			return 1
		}
		setSkip(fmt.Sprintf("%v; run scripts/dynamodb-local.sh to fetch DynamoDB Local", err))
		return m.Run()
	}
	mu.Lock()
	endpoint = srv.endpoint
	mu.Unlock()
	code := m.Run()
	srv.stop()
	return code
}

func setSkip(why string) {
	mu.Lock()
	defer mu.Unlock()
	skipWhy = why
}

// Endpoint returns the URL of the running DynamoDB Local, or skips the test
// when it is not running.
func Endpoint(t testing.TB) string {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	switch {
	case !started:
		t.Fatal("dynamotest: call dynamotest.Main from TestMain")
	case endpoint == "":
		t.Skip("dynamotest: " + skipWhy)
	}
	return endpoint
}

// Client returns a DynamoDB client for the running DynamoDB Local with an
// access key of its own, built with aws-sdk-go-v2's config, static
// credentials and BaseEndpoint. It skips the test when DynamoDB Local is
// not running.
//
// DynamoDB Local keeps a separate database per access key and region, and
// slows down as a database accumulates tables (even deleted ones): a key
// per client keeps every test's database small and the suite fast. Clients
// that must see the same tables share a key: see ClientFor.
func Client(t testing.TB) *dynamodb.Client {
	t.Helper()
	return ClientFor(t, NewAccessKey())
}

// NewAccessKey returns an access key that no other client of this test
// binary uses (DynamoDB Local accepts letters and digits only).
func NewAccessKey() string {
	return fmt.Sprintf("%s%d", AccessKey, keys.Add(1))
}

// ClientFor returns a client for the running DynamoDB Local using
// accessKey: clients with the same key see the same tables.
//
// The client does not validate response CRC32 checksums: DynamoDB Local
// sends no x-amz-crc32 header on error responses, and the SDK then logs a
// spurious warning for every failed condition (aws/aws-sdk-go-v2#3545).
func ClientFor(t testing.TB, accessKey string) *dynamodb.Client {
	t.Helper()
	ep := Endpoint(t)
	return dynamodb.NewFromConfig(awsConfig(t, accessKey), func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(ep)
		o.DisableValidateResponseChecksum = true
	})
}

// awsConfig is the SDK configuration of test clients using accessKey.
func awsConfig(t testing.TB, accessKey string) aws.Config {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion(Region),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(accessKey, SecretKey, "")),
	)
	if err != nil {
		t.Fatalf("dynamotest: load AWS config: %v", err)
	}
	return cfg
}

var unsafeName = regexp.MustCompile(`[^a-zA-Z0-9_.-]+`)

// TableName returns a table name unique in this test binary, derived from
// the test's name.
func TableName(t testing.TB) string {
	n := unsafeName.ReplaceAllString(t.Name(), "-")
	if len(n) > 180 {
		n = n[:180]
	}
	return fmt.Sprintf("aurum-%s-%d", n, tables.Add(1))
}

// NewTable creates a fresh table with dynamo.CreateTable and deletes it
// when the test ends. It returns the table's name.
func NewTable(t testing.TB, c *dynamodb.Client) string {
	t.Helper()
	name := TableName(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := dynamo.CreateTable(ctx, c, name); err != nil {
		t.Fatalf("dynamotest: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := c.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)}); err != nil {
			t.Logf("dynamotest: delete table %s: %v", name, err)
		}
	})
	return name
}

// Dir returns the directory expected to hold DynamoDBLocal.jar.
func Dir() (string, error) {
	if d := os.Getenv(EnvDir); d != "" {
		return d, nil
	}
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, ".cache", "dynamodb-local"), nil
}

// repoRoot walks up from the working directory to the directory holding
// go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find repository root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("find repository root: no go.mod above the working directory")
		}
		dir = parent
	}
}

type server struct {
	cmd      *exec.Cmd
	done     chan struct{}
	endpoint string
	out      *syncBuffer
}

// start launches DynamoDB Local on a free port and waits until it answers.
func start() (*server, error) {
	dir, err := Dir()
	if err != nil {
		return nil, err
	}
	jar := filepath.Join(dir, "DynamoDBLocal.jar")
	if _, err := os.Stat(jar); err != nil {
		return nil, fmt.Errorf("DynamoDB Local not found at %s", jar)
	}
	java, err := exec.LookPath("java")
	if err != nil {
		return nil, errors.New("java not found on PATH (DynamoDB Local needs Java 17)")
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	// The JIT's first tier and the serial collector halve the CPU the JVM
	// spends on a short test run (two cores are shared with the tests).
	cmd := exec.Command(java, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
		"-Djava.library.path=./DynamoDBLocal_lib", "-jar", "DynamoDBLocal.jar",
		"-inMemory", "-port", strconv.Itoa(port))
	cmd.Dir = dir
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start DynamoDB Local: %w", err)
	}
	s := &server{cmd: cmd, done: make(chan struct{}), endpoint: "http://127.0.0.1:" + strconv.Itoa(port), out: out}
	go func() { _ = cmd.Wait(); close(s.done) }()
	if err := s.wait(); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// wait polls ListTables until DynamoDB Local answers.
func (s *server) wait() error {
	c := dynamodb.New(dynamodb.Options{
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKey, SecretKey, ""),
		BaseEndpoint: aws.String(s.endpoint),
	})
	deadline := time.Now().Add(startTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := c.ListTables(ctx, &dynamodb.ListTablesInput{}, func(o *dynamodb.Options) { o.RetryMaxAttempts = 1 })
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-s.done:
			return fmt.Errorf("DynamoDB Local exited at start: %s", s.out.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("DynamoDB Local did not answer within %v: %v", startTimeout, err)
		}
	}
}

// stop kills DynamoDB Local and waits for it to exit.
func (s *server) stop() {
	_ = s.cmd.Process.Kill()
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// syncBuffer collects the server's output for error messages.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.b.Len() > 64<<10 {
		return len(p), nil
	}
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
