// Package readme checks that every Go snippet of the README is code that
// CI compiles: each one is copied from an Example test or from a program
// under examples/, and names that file in a comment just above it.
package readme

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// A snippet is introduced by <!-- snippet: path/from/the/root.go --> on the
// line before its ```go fence.
var snippetRE = regexp.MustCompile("(?m)^(?:<!-- snippet: (\\S+) -->\\n)?```go\\n((?s:.*?))^```\\s*$")

func TestEveryGoSnippetOfTheReadmeIsCopiedFromCompiledCode(t *testing.T) {
	root := filepath.Join("..", "..")
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	require.NoError(t, err)

	matches := snippetRE.FindAllStringSubmatch(string(readme), -1)
	require.NotEmpty(t, matches, "the README has Go snippets")
	for _, m := range matches {
		source, code := m[1], m[2]
		first, _, _ := strings.Cut(code, "\n")
		if !assert.NotEmpty(t, source, "snippet starting %q names no source file", first) {
			continue
		}
		if !strings.HasSuffix(source, "_test.go") && !strings.HasPrefix(source, "examples/") {
			t.Errorf("snippet starting %q comes from %s: neither an Example test nor a program under examples/", first, source)
		}
		text, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(source)))
		if !assert.NoError(t, err, "snippet starting %q", first) {
			continue
		}
		assert.True(t, strings.Contains(string(text), code),
			"snippet starting %q is not in %s as it is (copy it again from there)", first, source)
	}
}
