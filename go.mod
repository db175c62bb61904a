module github.com/wsreasons/reasons

go 1.24
