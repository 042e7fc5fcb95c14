// Package browsertest drives the dashboard's page in a real browser
// (Debian's chromium, headless, through chromedp). It is a module of its
// own so that chromedp stays out of the builds of the library's users.
//
// Run it with:
//
//	cd dashboard/browsertest && go test -race -count=1 ./...
//
// Without chromium the tests skip, unless CI=true, when they fail.
package browsertest
