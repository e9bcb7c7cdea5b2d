//go:build tools

// Package tools pins the open-loop load generator (vegeta) that bench/open-loop.ts builds and runs.
package tools

import _ "github.com/tsenart/vegeta/v12"
