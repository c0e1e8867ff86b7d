package config

import (
	"errors"
	"fmt"
	"os"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// Load reads and parses the configuration file at path. See Parse.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(path, data)
}

// Parse parses and validates a configuration. file names the source in
// error messages and is stored in Config.File.
//
// Parsing is strict. Problems are reported in two rounds, each complete: first
// every structural problem (YAML syntax, unknown keys, values of the wrong
// kind); when the structure is right, every semantic problem (see Validate).
// The error is then an Errors, and each entry names file:line:column, the
// path of the key and what was expected.
func Parse(file string, data []byte) (*Config, error) {
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, Errors{yamlError(file, err)}
	}
	body, err := documentBody(file, f)
	if err != nil {
		return nil, err
	}
	s := newShape(file, body)
	if s.expandedSize(body, make(map[ast.Node]int)) > maxExpandedNodes {
		if s.cycle != nil {
			line, col := nodePos(s.cycle)
			return nil, Errors{{File: file, Line: line, Column: col, Msg: "alias refers to the anchor that contains it"}}
		}
		return nil, Errors{{File: file, Line: 1, Column: 1,
			Msg: fmt.Sprintf("document expands to more than %d nodes through aliases", maxExpandedNodes)}}
	}
	s.walk(body, configType, "")
	if len(s.errs) > 0 {
		return nil, sortErrors(s.errs)
	}

	// The shape check above should leave nothing for the strict decoder to
	// reject; its error, if any, is still reported.
	var cfg Config
	if err := decode(body, &cfg); err != nil {
		e := yamlError(file, err)
		e.Path = s.pathAt(e.Line, e.Column)
		return nil, Errors{e}
	}
	cfg.File = file
	if errs := validate(&cfg, s); len(errs) > 0 {
		return nil, errs
	}
	return &cfg, nil
}

// decode decodes body strictly into cfg. Duplicate keys were rejected by
// the parser; allowing them here lets a key override one brought in by a
// merge key (<<: *base). The decoder has panicked on malformed input that
// the parser accepted (found by FuzzParse); such a panic becomes an error.
func decode(body ast.Node, cfg *Config) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("YAML decoder failed on this document: %v", r)
		}
	}()
	return yaml.NodeToValue(body, cfg, yaml.Strict(), yaml.AllowDuplicateMapKey())
}

// documentBody returns the body of the single document in f.
func documentBody(file string, f *ast.File) (ast.Node, error) {
	var docs []*ast.DocumentNode
	for _, d := range f.Docs {
		if d != nil && d.Body != nil && d.Body.Type() != ast.CommentType {
			docs = append(docs, d)
		}
	}
	switch len(docs) {
	case 0:
		return nil, Errors{{File: file, Line: 1, Column: 1, Msg: "empty configuration; expected a mapping starting with version: 1"}}
	case 1:
		return docs[0].Body, nil
	default:
		line, col := nodePos(docs[1].Body)
		return nil, Errors{{File: file, Line: line, Column: col, Msg: "a second YAML document; the configuration must be a single document"}}
	}
}

// yamlError converts an error of the YAML parser or decoder.
func yamlError(file string, err error) *Error {
	e := &Error{File: file, Msg: err.Error()}
	var ye yaml.Error
	if errors.As(err, &ye) {
		e.Msg = ye.GetMessage()
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			e.Line, e.Column = tk.Position.Line, tk.Position.Column
		}
	}
	return e
}

// pathAt returns the path of the node at line:col, or "".
func (s *shape) pathAt(line, col int) string {
	best := ""
	for p, n := range s.values {
		if l, c := nodePos(n); l == line && c == col && (len(p) > len(best) || len(p) == len(best) && p < best) {
			best = p
		}
	}
	return best
}
