// Command wsreason explains WebSocket close codes and decodes Close frame
// bodies.
//
// Usage:
//
//	wsreason                       table of the named codes and the ranges
//	wsreason CODE...               explain codes, given as numbers or names
//	wsreason 'LOG LINE'            explain the close codes a log line shows
//	wsreason -payload HEX          decode a Close frame body
//	wsreason -frame HEX            decode a whole Close frame
//	wsreason -format CODE [TEXT]   build a Close frame body
//
// Add -json for one JSON document instead of text. Exit status: 0 on success,
// 1 when a payload or frame is invalid or a body cannot be built, 2 for bad
// usage. wsreason -h says more.
package main

import (
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
