package main

import "github.com/wsreasons/reasons"

// knownUse is one protocol's own meaning for a code: a convention of that
// protocol, not a registry name, and never accepted as a name for the code.
type knownUse struct {
	Protocol string `json:"protocol"`
	Name     string `json:"name"`    // as the protocol's source names it
	Meaning  string `json:"meaning"` // in our words
	Source   string `json:"source"`  // the repository and file that define it
}

const (
	graphqlWS = "enisdenjo/graphql-ws, src/common.ts (CloseCode)"
	spring    = "spring-projects/spring-framework, spring-websocket CloseStatus.java"
	centri    = "centrifugal/centrifuge, disconnect.go"
)

// knownUses are the codes well-known protocols give meanings of their own,
// by code, each with the file that defines it.
var knownUses = map[reasons.Reason][]knownUse{
	4400: {{"graphql-ws", "BadRequest", "the server could not read a message, or got one it did not expect", graphqlWS}},
	4004: {{"graphql-ws", "BadResponse", "the client could not read a message from the server", graphqlWS}},
	4401: {{"graphql-ws", "Unauthorized", "a subscribe came before the server acknowledged the connection", graphqlWS}},
	4403: {{"graphql-ws", "Forbidden", "the server's onConnect refused the connection", graphqlWS}},
	4406: {{"graphql-ws", "SubprotocolNotAcceptable", "the client did not offer the graphql-transport-ws subprotocol", graphqlWS}},
	4408: {{"graphql-ws", "ConnectionInitialisationTimeout", "no connection_init came in time", graphqlWS}},
	4409: {{"graphql-ws", "SubscriberAlreadyExists", "a subscribe reused an id that is still in use", graphqlWS}},
	4429: {{"graphql-ws", "TooManyInitialisationRequests", "a second connection_init came", graphqlWS}},
	4005: {{"graphql-ws", "InternalClientError", "the client failed", graphqlWS}},
	4504: {{"graphql-ws", "ConnectionAcknowledgementTimeout", "the server's connection_ack did not come in time", graphqlWS}},
	4500: {
		{"graphql-ws", "InternalServerError", "the server failed", graphqlWS},
		{"Spring", "SESSION_NOT_RELIABLE", "the session became unreliable, for example a send timed out; no more data is sent", spring},
	},
	3000: {{"centrifuge", "DisconnectConnectionClosed", "the connection closed with no advice from the server", centri}},
	3001: {{"centrifuge", "DisconnectShutdown", "the node is shutting down; reconnect", centri}},
	3004: {{"centrifuge", "DisconnectServerError", "an internal server error; reconnect", centri}},
	3005: {{"centrifuge", "DisconnectExpired", "the connection expired; reconnect", centri}},
	3006: {{"centrifuge", "DisconnectSubExpired", "a subscription expired; reconnect", centri}},
	3008: {{"centrifuge", "DisconnectSlow", "the client read too slowly; reconnect", centri}},
	3009: {{"centrifuge", "DisconnectWriteError", "writing to the client failed; reconnect", centri}},
	3010: {{"centrifuge", "DisconnectInsufficientState", "the client's stream position is wrong; reconnect to recover", centri}},
	3011: {{"centrifuge", "DisconnectForceReconnect", "the server asks the client to reconnect", centri}},
	3012: {{"centrifuge", "DisconnectNoPong", "no pong to the server's pings; reconnect", centri}},
	3500: {{"centrifuge", "DisconnectInvalidToken", "the client's token is invalid; do not reconnect", centri}},
	3501: {{"centrifuge", "DisconnectBadRequest", "malformed frames or commands out of order; do not reconnect", centri}},
	3502: {{"centrifuge", "DisconnectStale", "the connection did not authenticate in time; do not reconnect", centri}},
	3503: {{"centrifuge", "DisconnectForceNoReconnect", "the server asks the client not to reconnect", centri}},
	3504: {{"centrifuge", "DisconnectConnectionLimit", "a connection limit was reached; do not reconnect", centri}},
	3505: {{"centrifuge", "DisconnectChannelLimit", "a channel limit was reached; do not reconnect", centri}},
}
