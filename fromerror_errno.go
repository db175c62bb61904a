//go:build !windows && !plan9

package reasons

import "syscall"

// connReset are the errors by which the system says the peer reset the
// connection or went away while this side was writing.
var connReset = []error{syscall.ECONNRESET, syscall.ECONNABORTED, syscall.EPIPE}
