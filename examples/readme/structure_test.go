package readme

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readRoot returns the text of a file at the root of the module.
func readRoot(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", name))
	require.NoError(t, err)
	return string(b)
}

func TestTheModuleHasAPermissiveLicense(t *testing.T) {
	license := readRoot(t, "LICENSE")
	assert.True(t, strings.HasPrefix(license, "MIT License") || strings.Contains(license, "BSD 3-Clause"),
		"MIT or BSD-3-Clause, the licenses usual for Go libraries")
	assert.Contains(t, license, "The resilience Authors")
	assert.Contains(t, readRoot(t, "README.md"), "(LICENSE)", "the README links it")
}

func TestTheReadmeStatesTheMinimumGoVersionOfGoMod(t *testing.T) {
	m := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindStringSubmatch(readRoot(t, "go.mod"))
	require.NotNil(t, m, "go.mod has a go line")
	assert.Contains(t, readRoot(t, "README.md"), "Go "+m[1]+" or later")
}

func TestTheReadmeSaysHowStableTheAPIIs(t *testing.T) {
	readme := readRoot(t, "README.md")
	assert.Contains(t, readme, "\n## Versioning and stability\n")
	assert.Contains(t, section(t, readme, "## Versioning and stability"), "v0")
}

func TestTheReadmePutsUsageBeforeFigures(t *testing.T) {
	readme := readRoot(t, "README.md")
	figures := strings.Index(readme, "| scenario |")
	require.Positive(t, figures, "the README has a benchmark table")
	for _, heading := range []string{"## Your first programs", "### Defaults", "## Packages", "## The two commands"} {
		at := strings.Index(readme, "\n"+heading+"\n")
		require.Positive(t, at, "the README has %q", heading)
		assert.Less(t, at, figures, "%q comes before the benchmark tables", heading)
	}
	// Every package section, and every Go snippet, is before the figures.
	for _, m := range regexp.MustCompile("(?m)^(### .*|```go)$").FindAllStringIndex(readme, -1) {
		assert.Less(t, m[0], figures, "%q comes before the benchmark tables", readme[m[0]:m[1]])
	}
}

func TestTheQuickStartClaimsItsTimeOnAWarmCacheOnly(t *testing.T) {
	readme := readRoot(t, "README.md")
	heading := regexp.MustCompile(`(?m)^## Quick start.*$`).FindString(readme)
	require.NotEmpty(t, heading)
	quick := heading + section(t, readme, heading)
	if strings.Contains(quick, "30 seconds") {
		assert.Contains(t, quick, "warm", "30 seconds hold on a warm cache only")
	}
}

func TestTheFirstProgramsAreInTheReadme(t *testing.T) {
	first := section(t, readRoot(t, "README.md"), "## Your first programs")
	for _, src := range []string{"example_service_test.go", "httpx/example_client_test.go", "grpcx/example_client_test.go"} {
		assert.Contains(t, first, "<!-- snippet: "+src+" -->")
	}
}

func TestSnippetsNameWhereTheirHelpersLive(t *testing.T) {
	// A snippet that calls a helper of its file that it does not show must
	// say where that helper is, in the text that follows it.
	readme := readRoot(t, "README.md")
	for _, helper := range []string{"serveDown"} {
		for _, loc := range regexp.MustCompile("(?s)```go\\n.*?\\n```\\n").FindAllStringIndex(readme, -1) {
			code := readme[loc[0]:loc[1]]
			if !strings.Contains(code, helper+"(") || strings.Contains(code, "func "+helper+"(") {
				continue
			}
			after := readme[loc[1]:min(len(readme), loc[1]+600)]
			assert.Contains(t, after, "`"+helper+"`", "the snippet using %s says where it lives", helper)
		}
	}
}

// section returns the text of the README from heading to the next heading
// of the same or a higher level.
func section(t *testing.T, readme, heading string) string {
	t.Helper()
	at := strings.Index(readme, "\n"+heading+"\n")
	require.Positive(t, at, "the README has %q", heading)
	rest := readme[at+1+len(heading):]
	level := strings.Repeat("#", strings.Index(heading, " "))
	if end := regexp.MustCompile("(?m)^#{1," + strconv.Itoa(len(level)) + "} ").FindStringIndex(rest); end != nil {
		rest = rest[:end[0]]
	}
	return rest
}
