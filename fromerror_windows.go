package reasons

import "syscall"

// connReset are the Winsock errors by which the system says the connection
// was reset or aborted.
var connReset = []error{syscall.WSAECONNRESET, syscall.WSAECONNABORTED}
