// Package timeout bounds how long a call to a dependency may take.
package timeout
