package segment

import (
	"encoding/json"
	"fmt"
	"os"

	"cel.dev/cel-go/cel"
	"google.golang.org/protobuf/proto"

	"github.com/aurum-cdp/aurum/shared/config"

	exprpb "google.golang.org/genproto/googleapis/api/expr/v1alpha1"
)

// PrecompiledVersion is the format version of Precompiled; a file of
// another version is refused and everything compiles from source.
const PrecompiledVersion = 1

// Precompiled holds segment expressions compiled ahead of time: checked,
// cost-bounded and optimised at build time (`aurum compile`), so that a
// Lambda cold start only plans their programs (a few milliseconds for a
// hundred segments instead of tens). It is keyed by segment id and holds
// each expression's text: an entry whose text differs from the
// configuration's is ignored, so a stale file never changes a result, it
// only costs the compilation it was meant to save.
type Precompiled struct {
	Version  int                        `json:"version"`
	Segments map[string]PrecompiledExpr `json:"segments"`
}

// PrecompiledExpr is one compiled expression: its source text and its
// checked, optimised AST as a CEL CheckedExpr protobuf.
type PrecompiledExpr struct {
	Expr string `json:"expr"`
	AST  []byte `json:"ast"`
}

// Precompile returns the evaluator's compiled segments, for
// Options.Precompiled of a later cold start.
func (e *Evaluator) Precompile() (*Precompiled, error) {
	out := &Precompiled{Version: PrecompiledVersion, Segments: map[string]PrecompiledExpr{}}
	for _, s := range e.segments {
		ce, err := cel.AstToCheckedExpr(s.prg.ast)
		if err != nil {
			return nil, fmt.Errorf("segment %q: precompile: %w", s.ID, err)
		}
		b, err := proto.Marshal(ce)
		if err != nil {
			return nil, fmt.Errorf("segment %q: precompile: %w", s.ID, err)
		}
		out.Segments[s.ID] = PrecompiledExpr{Expr: s.Expr, AST: b}
	}
	return out, nil
}

// ReadPrecompiled reads a file written from Precompile as JSON. A missing
// file is (nil, nil): everything compiles from source.
func ReadPrecompiled(path string) (*Precompiled, error) {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("segment: read precompiled segments: %w", err)
	}
	var p Precompiled
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("segment: read precompiled segments %s: %w", path, err)
	}
	if p.Version != PrecompiledVersion {
		return nil, fmt.Errorf("segment: precompiled segments %s: version %d; this build reads %d (run aurum compile again)", path, p.Version, PrecompiledVersion)
	}
	return &p, nil
}

// program is segment s's program: loaded from p when p holds s's
// expression unchanged and it loads, compiled from source otherwise.
func (p *Precompiled) program(lang *language, s config.Segment) (*program, error) {
	if p != nil {
		if pe, ok := p.Segments[s.ID]; ok && pe.Expr == s.Expr {
			var ce exprpb.CheckedExpr
			if proto.Unmarshal(pe.AST, &ce) == nil {
				if prg, err := plan(lang, s.ID, cel.CheckedExprToAst(&ce), 0); err == nil {
					return prg, nil
				}
			}
		}
	}
	return compile(lang, s.ID, s.Expr, false)
}
