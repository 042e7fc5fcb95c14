package readme

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// discardedRE matches a constructor's error thrown away: `x, _ := pkg.New(`,
// `_, _ = pkg.NewSet(`, and the like.
var discardedRE = regexp.MustCompile(`(?m)^.*,\s*_\s*:?=\s*(?:\w+\.)?New\w*\(.*$`)

// TestNoSnippetOrExampleDiscardsAConstructorsError: a reader copies what
// the README and the Examples show; a constructor's error discarded there
// leaves a nil policy that a fallback would then answer for (issue 14).
func TestNoSnippetOrExampleDiscardsAConstructorsError(t *testing.T) {
	root := filepath.Join("..", "..")
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	require.NoError(t, err)
	for _, m := range snippetRE.FindAllStringSubmatch(string(readme), -1) {
		for _, line := range discardedRE.FindAllString(m[2], -1) {
			if !strings.Contains(line, "http.NewRequest") { // not a policy
				t.Errorf("README snippet from %s discards a constructor's error: %s", m[1], strings.TrimSpace(line))
			}
		}
	}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "bench" || d.Name() == "internal" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		isExample := strings.HasSuffix(path, "example_test.go") ||
			(strings.Contains(filepath.ToSlash(path), "/examples/") && strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go"))
		if d.IsDir() || !isExample {
			return nil
		}
		text, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, line := range discardedRE.FindAllString(string(text), -1) {
			if !strings.Contains(line, "http.NewRequest") {
				assert.Fail(t, "an Example discards a constructor's error", "%s: %s", path, strings.TrimSpace(line))
			}
		}
		return nil
	})
	require.NoError(t, err)
}
