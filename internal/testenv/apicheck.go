package testenv

import (
	"go/ast"
	"go/doc"
	"go/parser"
	"go/printer"
	"go/token"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// NoInternalNames checks what go doc shows of a public package: its exported declarations — the
// values of constants and variables, the fields of types, the signatures of functions and methods
// — name no identifier of an internal package, so the documentation reads on its own and the
// promise holds no internal type. It fails t for every exported declaration of the package in dir (its non-test
// files) that refers to a package whose import path has an internal element.
func NoInternalNames(t testing.TB, dir string) {
	t.Helper()
	fset := token.NewFileSet()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	internal := map[*ast.File]map[string]bool{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		names := map[string]bool{}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if !strings.Contains("/"+p+"/", "/internal/") {
				continue
			}
			name := path.Base(p)
			if imp.Name != nil {
				name = imp.Name.Name
			}
			names[name] = true
		}
		internal[f] = names
		files = append(files, f)
	}
	if len(files) == 0 {
		t.Fatalf("no Go files in %s", dir)
	}
	pkg, err := doc.NewFromFiles(fset, files, "example.com/"+filepath.Base(dir))
	if err != nil {
		t.Fatal(err)
	}
	// Which file a declaration is in decides which imports its selectors can name.
	fileOf := func(pos token.Pos) map[string]bool {
		for _, f := range files {
			if f.FileStart <= pos && pos <= f.FileEnd {
				return internal[f]
			}
		}
		return nil
	}
	check := func(what string, node ast.Node) {
		names := fileOf(node.Pos())
		var found []string
		ast.Inspect(node, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok {
				if id, ok := sel.X.(*ast.Ident); ok && names[id.Name] {
					found = append(found, id.Name+"."+sel.Sel.Name)
				}
			}
			return true
		})
		if len(found) > 0 {
			var b strings.Builder
			_ = printer.Fprint(&b, fset, node)
			t.Errorf("go doc shows %s in %s:\n%s", strings.Join(found, ", "), what, b.String())
		}
	}
	values := func(vs []*doc.Value) {
		for _, v := range vs {
			check(strings.Join(v.Names, ", "), v.Decl)
		}
	}
	funcs := func(fs []*doc.Func) {
		for _, f := range fs {
			check(f.Name, f.Decl.Type) // the signature; the body is not shown
			if f.Decl.Recv != nil {
				check(f.Name, f.Decl.Recv)
			}
		}
	}
	values(pkg.Consts)
	values(pkg.Vars)
	funcs(pkg.Funcs)
	for _, typ := range pkg.Types {
		check(typ.Name, typ.Decl) // unexported fields are already filtered out
		values(typ.Consts)
		values(typ.Vars)
		funcs(typ.Funcs)
		funcs(typ.Methods)
	}
}
