package reasons

// connReset is empty on Plan 9, whose network errors are strings.
var connReset []error
