package pages

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"text/template/parse"
)

// placeholder is a {name} in a text.
var placeholder = regexp.MustCompile(`\{[a-z_]+\}`)

func placeholders(s string) []string {
	p := placeholder.FindAllString(s, -1)
	slices.Sort(p)
	return slices.Compact(p)
}

// Every key has a text in every language, and its languages name the same placeholders.
func TestCatalogComplete(t *testing.T) {
	if len(catalog) == 0 {
		t.Fatal("catalog.json has no keys")
	}
	for key, texts := range catalog {
		if !regexp.MustCompile(`^[a-z]+\.[a-z0-9_ ]+$`).MatchString(key) {
			t.Errorf("key %q is not area.name", key)
		}
		for lang := range texts {
			if !slices.Contains(Langs, lang) {
				t.Errorf("%s: language %q is not one of %v", key, lang, Langs)
			}
		}
		want := placeholders(texts["en"])
		for _, lang := range Langs {
			s := texts[lang]
			if strings.TrimSpace(s) == "" {
				t.Errorf("%s: no %s text", key, lang)
				continue
			}
			if got := placeholders(s); !slices.Equal(got, want) {
				t.Errorf("%s: %s has placeholders %v, en %v", key, lang, got, want)
			}
			if strings.Contains(s, "%") && !strings.Contains(s, " %") {
				t.Errorf("%s: %s text %q has a printf verb: write placeholders as {name}", key, lang, s)
			}
		}
	}
}

func TestTextSubstitutes(t *testing.T) {
	for _, tc := range []struct {
		lang, key string
		params    []any
		want      string
	}{
		{"en", "reports.bulk_done", []any{"done", 3, "of", 5}, "Changed 3 of 5 reports."},
		{"kk", "reports.bulk_done", []any{"of", 5, "done", 3}, "3 / 5 өтініш өзгертілді."},
		{"ru", "dispatch.listed", []any{"listed", 300, "total", 1200}, "Показаны последние 300 из 1200 отметок."},
		{"en", "page.sign_in", nil, "Sign in"},
		{"en", "no.such_key", nil, "no.such_key"},
	} {
		if got := Text(tc.lang, tc.key, tc.params...); got != tc.want {
			t.Errorf("Text(%s, %s, %v) = %q, want %q", tc.lang, tc.key, tc.params, got, tc.want)
		}
	}
}

// use is a text named in a template or in the Go code: a key, or the start of keys made at run
// time (printf "reports.st_%s"), and the placeholder names given.
type use struct {
	where, key string
	prefix     bool
	params     []string
}

// check reports a use whose key the catalog lacks or whose parameters are not its placeholders.
func (u use) check(t *testing.T) {
	t.Helper()
	if u.prefix {
		for k := range catalog {
			if strings.HasPrefix(k, u.key) {
				return
			}
		}
		t.Errorf("%s: no key starts with %q", u.where, u.key)
		return
	}
	texts, ok := catalog[u.key]
	if !ok {
		t.Errorf("%s: key %q is not in catalog.json", u.where, u.key)
		return
	}
	want := placeholders(texts["en"])
	got := make([]string, 0, len(u.params))
	for _, p := range u.params {
		got = append(got, "{"+p+"}")
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("%s: %s given %v, its texts have %v", u.where, u.key, got, want)
	}
}

// Every text a template names is in the catalog, with the placeholders its texts have.
func TestTemplatesUseCatalogKeys(t *testing.T) {
	fm := map[string]any{}
	for name, f := range funcs("en") {
		fm[name] = f
	}
	// The parser only needs to know the builtins' names.
	for _, name := range strings.Fields("and call html index slice js len not or print printf println urlquery eq ge gt le lt ne") {
		fm[name] = true
	}
	var uses []use
	n := 0
	for _, glob := range templateGlobs {
		names, err := fs.Glob(files, glob)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range names {
			b, err := fs.ReadFile(files, name)
			if err != nil {
				t.Fatal(err)
			}
			trees, err := parse.Parse(name, string(b), "{{", "}}", fm)
			if err != nil {
				t.Fatal(err)
			}
			for _, tree := range trees {
				walkTemplate(tree.Root, func(c *parse.CommandNode) {
					if u, ok := templateUse(name, c); ok {
						uses = append(uses, u)
					}
				})
			}
			n++
		}
	}
	if n < 12 || len(uses) < 200 {
		t.Fatalf("read %d templates naming %d texts: the walk misses them", n, len(uses))
	}
	for _, u := range uses {
		u.check(t)
	}
}

// walkTemplate calls f on every command under node.
func walkTemplate(node parse.Node, f func(*parse.CommandNode)) {
	switch n := node.(type) {
	case *parse.ListNode:
		if n != nil {
			for _, c := range n.Nodes {
				walkTemplate(c, f)
			}
		}
	case *parse.ActionNode:
		walkTemplate(n.Pipe, f)
	case *parse.IfNode:
		walkBranch(&n.BranchNode, f)
	case *parse.RangeNode:
		walkBranch(&n.BranchNode, f)
	case *parse.WithNode:
		walkBranch(&n.BranchNode, f)
	case *parse.TemplateNode:
		walkTemplate(n.Pipe, f)
	case *parse.PipeNode:
		if n != nil {
			for _, c := range n.Cmds {
				walkTemplate(c, f)
			}
		}
	case *parse.CommandNode:
		f(n)
		for _, a := range n.Args {
			walkTemplate(a, f)
		}
	}
}

func walkBranch(b *parse.BranchNode, f func(*parse.CommandNode)) {
	walkTemplate(b.Pipe, f)
	walkTemplate(b.List, f)
	walkTemplate(b.ElseList, f)
}

// templateUse reads {{t "key" "name" value…}} and {{t (printf "area.prefix_%s" …)}}.
func templateUse(where string, c *parse.CommandNode) (use, bool) {
	if len(c.Args) < 2 {
		return use{}, false
	}
	if id, ok := c.Args[0].(*parse.IdentifierNode); !ok || id.Ident != "t" {
		return use{}, false
	}
	u := use{where: where}
	switch k := c.Args[1].(type) {
	case *parse.StringNode:
		u.key = k.Text
	case *parse.PipeNode:
		if len(k.Cmds) == 1 && len(k.Cmds[0].Args) > 1 {
			if id, ok := k.Cmds[0].Args[0].(*parse.IdentifierNode); ok && id.Ident == "printf" {
				if s, ok := k.Cmds[0].Args[1].(*parse.StringNode); ok {
					u.key, _, _ = strings.Cut(s.Text, "%")
					u.prefix = true
				}
			}
		}
	}
	if u.key == "" {
		u.key = "(a key the test cannot read: " + c.String() + ")"
	}
	for i := 2; i < len(c.Args); i += 2 {
		if s, ok := c.Args[i].(*parse.StringNode); ok {
			u.params = append(u.params, s.Text)
		}
	}
	return u, true
}

// Every text the Go code names (Text(lang, "key", …), p.T("key", …), and key prefixes such as
// "reports.st_" + status) is in the catalog.
func TestCodeUsesCatalogKeys(t *testing.T) {
	fset := token.NewFileSet()
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var uses []use
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			keyArg := -1
			switch fn := call.Fun.(type) {
			case *ast.Ident:
				if fn.Name == "Text" {
					keyArg = 1
				}
			case *ast.SelectorExpr:
				if fn.Sel.Name == "T" {
					keyArg = 0
				}
			}
			if keyArg < 0 || len(call.Args) <= keyArg {
				return true
			}
			u := use{where: fset.Position(call.Pos()).String()}
			switch k := call.Args[keyArg].(type) {
			case *ast.BasicLit:
				u.key, _ = strconv.Unquote(k.Value)
			case *ast.BinaryExpr: // "area.prefix_" + name
				if lit, ok := k.X.(*ast.BasicLit); ok {
					u.key, _ = strconv.Unquote(lit.Value)
					u.prefix = true
				}
			case *ast.CallExpr: // fmt.Sprintf("area.prefix_%d", …)
				if len(k.Args) > 0 {
					if lit, ok := k.Args[0].(*ast.BasicLit); ok {
						s, _ := strconv.Unquote(lit.Value)
						u.key, _, _ = strings.Cut(s, "%")
						u.prefix = true
					}
				}
			default:
				return true // a key held in a variable: checked where it is made
			}
			for i := keyArg + 1; i < len(call.Args); i += 2 {
				if lit, ok := call.Args[i].(*ast.BasicLit); ok {
					s, _ := strconv.Unquote(lit.Value)
					u.params = append(u.params, s)
				}
			}
			uses = append(uses, u)
			return true
		})
	}
	if len(uses) < 20 {
		t.Fatalf("found %d texts named in the Go code: the scan misses them", len(uses))
	}
	for _, u := range uses {
		u.check(t)
	}
}
