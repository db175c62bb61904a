// Command wsreason explains WebSocket close codes, decodes Close frame
// bodies, and checks how a live server answers Close frames.
//
// Usage:
//
//	wsreason                       table of the named codes and the ranges
//	wsreason CODE...               explain codes, given as numbers or names
//	wsreason -brief CODE...        the same, one line per code
//	wsreason 'LOG LINE'            explain the close codes a log line shows
//	wsreason -payload HEX          decode a Close frame body
//	wsreason -frame HEX            decode a whole Close frame
//	wsreason -format CODE [TEXT]   build a Close frame body
//	wsreason -log FILE             count the closes in a whole log, by code
//	wsreason probe [-json] [-strict] [-timeout D] [-parallel N] [-insecure]
//	               [-H 'Name: value']... URL
//	                               check a live ws:// or wss:// server
//	wsreason serve [-addr A] [-script CODES] [-json] [-for DUR]
//	                               serve clients Close frames and judge
//	                               their answers and reconnects
//	wsreason watch [-n N] [-ping D] [-send D] [-for D] [-reconnect] [-json]
//	               [-timeout D] [-insecure] [-H 'Name: value']... URL
//	                               measure how long connections live through
//	                               the path to a server, and how they end
//
// A name may be any major stack's (Python websockets, aiohttp, Starlette,
// JSR 356, Spring, .NET, tungstenite, Swift, Dart, Ktor, gorilla, coder), and
// a log line may be in any of their forms; stacknames.go and loglines.go
// hold the one table of each, with the source file every entry comes from.
//
// Add -json for one JSON document instead of text. Exit status: 0 on success,
// 1 when a payload or frame is invalid or a body cannot be built, 2 for bad
// usage. wsreason probe exits 0 when no case is wrong, 1 when one is (with
// -strict, also when Autobahn fails one of its cases), and 2 for bad usage or
// a failed handshake. wsreason serve exits 0 when nothing it judged was
// wrong, 1 when something was, and 2 for bad usage; wsreason watch the same,
// and 2 when its first handshake fails. wsreason -h and each command's -h
// say more.
package main

import (
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
