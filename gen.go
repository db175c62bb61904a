package reasons

//go:generate go run golang.org/x/tools/cmd/stringer@v0.52.0 -type=Reason,Range -trimprefix=Range
