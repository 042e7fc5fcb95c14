// Package bulkhead bounds how many calls to a dependency run at once, so
// that a slow dependency ties up a bounded part of the service and no more.
package bulkhead
