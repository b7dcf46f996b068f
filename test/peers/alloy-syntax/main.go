// alloy-syntax: parses Alloy configuration files with Alloy's own parser (github.com/grafana/alloy/syntax) and
// prints their blocks as JSON (name, label, attribute names, nested blocks), or the parse errors and exit code 1.
// The deploy tests use it to keep deploy/alloy/config.alloy valid Alloy syntax.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/grafana/alloy/syntax/ast"
	"github.com/grafana/alloy/syntax/parser"
)

type block struct {
	Name       string   `json:"name"`
	Label      string   `json:"label,omitempty"`
	Attributes []string `json:"attributes"`
	Blocks     []block  `json:"blocks"`
}

func blocksOf(body ast.Body) []block {
	out := []block{}
	for _, stmt := range body {
		b, ok := stmt.(*ast.BlockStmt)
		if !ok {
			continue
		}
		entry := block{Name: b.GetBlockName(), Label: b.Label, Attributes: []string{}, Blocks: blocksOf(b.Body)}
		for _, inner := range b.Body {
			if attr, ok := inner.(*ast.AttributeStmt); ok {
				entry.Attributes = append(entry.Attributes, attr.Name.Name)
			}
		}
		out = append(out, entry)
	}
	return out
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: alloy-syntax FILE")
		os.Exit(2)
	}
	source, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	file, err := parser.ParseFile(os.Args[1], source)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := json.NewEncoder(os.Stdout).Encode(blocksOf(file.Body)); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
}
