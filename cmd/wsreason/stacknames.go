package main

import "github.com/wsreasons/reasons"

// stackNames is one stack's names for close codes, as the file Source
// declares them.
type stackNames struct {
	Stack  string
	Source string   // the repository and file that declare the names
	Types  []string // what a qualified name puts before the name, as in CloseCode.GOING_AWAY
	Names  []codeName
}

// codeName is one name a stack gives one code.
type codeName struct {
	Name string
	Code reasons.Reason
}

// stacks holds every other stack's names for the codes, each with the file
// it comes from. A name that two stacks give different codes (Swift's
// invalid is 0, tungstenite's Invalid is 1007) is refused as input with both
// meanings; see byName.
var stacks = []stackNames{
	{"gorilla/websocket", "gorilla/websocket, conn.go", []string{"websocket"}, []codeName{
		{"CloseNormalClosure", 1000}, {"CloseGoingAway", 1001}, {"CloseProtocolError", 1002},
		{"CloseUnsupportedData", 1003}, {"CloseNoStatusReceived", 1005}, {"CloseAbnormalClosure", 1006},
		{"CloseInvalidFramePayloadData", 1007}, {"ClosePolicyViolation", 1008}, {"CloseMessageTooBig", 1009},
		{"CloseMandatoryExtension", 1010}, {"CloseInternalServerErr", 1011}, {"CloseServiceRestart", 1012},
		{"CloseTryAgainLater", 1013}, {"CloseTLSHandshake", 1015},
	}},
	{"coder/websocket", "coder/websocket, close.go (StatusCode)", []string{"websocket"}, []codeName{
		{"StatusNormalClosure", 1000}, {"StatusGoingAway", 1001}, {"StatusProtocolError", 1002},
		{"StatusUnsupportedData", 1003}, {"StatusNoStatusRcvd", 1005}, {"StatusAbnormalClosure", 1006},
		{"StatusInvalidFramePayloadData", 1007}, {"StatusPolicyViolation", 1008}, {"StatusMessageTooBig", 1009},
		{"StatusMandatoryExtension", 1010}, {"StatusInternalError", 1011}, {"StatusServiceRestart", 1012},
		{"StatusTryAgainLater", 1013}, {"StatusBadGateway", 1014}, {"StatusTLSHandshake", 1015},
	}},
	{"Python websockets", "python-websockets/websockets, src/websockets/frames.py (CloseCode)", []string{"CloseCode"}, []codeName{
		{"NORMAL_CLOSURE", 1000}, {"GOING_AWAY", 1001}, {"PROTOCOL_ERROR", 1002}, {"UNSUPPORTED_DATA", 1003},
		{"NO_STATUS_RCVD", 1005}, {"ABNORMAL_CLOSURE", 1006}, {"INVALID_DATA", 1007}, {"POLICY_VIOLATION", 1008},
		{"MESSAGE_TOO_BIG", 1009}, {"MANDATORY_EXTENSION", 1010}, {"INTERNAL_ERROR", 1011},
		{"SERVICE_RESTART", 1012}, {"TRY_AGAIN_LATER", 1013}, {"BAD_GATEWAY", 1014}, {"TLS_HANDSHAKE", 1015},
	}},
	{"aiohttp", "aio-libs/aiohttp, aiohttp/_websocket/models.py (WSCloseCode)", []string{"WSCloseCode"}, []codeName{
		{"OK", 1000}, {"GOING_AWAY", 1001}, {"PROTOCOL_ERROR", 1002}, {"UNSUPPORTED_DATA", 1003},
		{"ABNORMAL_CLOSURE", 1006}, {"INVALID_TEXT", 1007}, {"POLICY_VIOLATION", 1008}, {"MESSAGE_TOO_BIG", 1009},
		{"MANDATORY_EXTENSION", 1010}, {"INTERNAL_ERROR", 1011}, {"SERVICE_RESTART", 1012},
		{"TRY_AGAIN_LATER", 1013}, {"BAD_GATEWAY", 1014},
	}},
	{"Starlette/FastAPI", "encode/starlette, starlette/status.py", []string{"status"}, []codeName{
		{"WS_1000_NORMAL_CLOSURE", 1000}, {"WS_1001_GOING_AWAY", 1001}, {"WS_1002_PROTOCOL_ERROR", 1002},
		{"WS_1003_UNSUPPORTED_DATA", 1003}, {"WS_1005_NO_STATUS_RCVD", 1005}, {"WS_1006_ABNORMAL_CLOSURE", 1006},
		{"WS_1007_INVALID_FRAME_PAYLOAD_DATA", 1007}, {"WS_1008_POLICY_VIOLATION", 1008},
		{"WS_1009_MESSAGE_TOO_BIG", 1009}, {"WS_1010_MANDATORY_EXT", 1010}, {"WS_1011_INTERNAL_ERROR", 1011},
		{"WS_1012_SERVICE_RESTART", 1012}, {"WS_1013_TRY_AGAIN_LATER", 1013}, {"WS_1014_BAD_GATEWAY", 1014},
		{"WS_1015_TLS_HANDSHAKE", 1015},
	}},
	{"JSR 356/Jakarta", "jakartaee/websocket, api/client/src/main/java/jakarta/websocket/CloseReason.java (CloseReason.CloseCodes)",
		[]string{"CloseCodes", "CloseReason.CloseCodes"}, []codeName{
			{"NORMAL_CLOSURE", 1000}, {"GOING_AWAY", 1001}, {"PROTOCOL_ERROR", 1002}, {"CANNOT_ACCEPT", 1003},
			{"RESERVED", 1004}, {"NO_STATUS_CODE", 1005}, {"CLOSED_ABNORMALLY", 1006}, {"NOT_CONSISTENT", 1007},
			{"VIOLATED_POLICY", 1008}, {"TOO_BIG", 1009}, {"NO_EXTENSION", 1010}, {"UNEXPECTED_CONDITION", 1011},
			{"SERVICE_RESTART", 1012}, {"TRY_AGAIN_LATER", 1013}, {"TLS_HANDSHAKE_FAILURE", 1015},
		}},
	{"Spring", "spring-projects/spring-framework, spring-websocket/src/main/java/org/springframework/web/socket/CloseStatus.java",
		[]string{"CloseStatus"}, []codeName{
			{"NORMAL", 1000}, {"GOING_AWAY", 1001}, {"PROTOCOL_ERROR", 1002}, {"NOT_ACCEPTABLE", 1003},
			{"NO_STATUS_CODE", 1005}, {"NO_CLOSE_FRAME", 1006}, {"BAD_DATA", 1007}, {"POLICY_VIOLATION", 1008},
			{"TOO_BIG_TO_PROCESS", 1009}, {"REQUIRED_EXTENSION", 1010}, {"SERVER_ERROR", 1011},
			{"SERVICE_RESTARTED", 1012}, {"SERVICE_OVERLOAD", 1013}, {"TLS_HANDSHAKE_FAILURE", 1015},
		}},
	{".NET", "dotnet/runtime, src/libraries/System.Net.WebSockets/src/System/Net/WebSockets/WebSocketCloseStatus.cs",
		[]string{"WebSocketCloseStatus"}, []codeName{
			{"NormalClosure", 1000}, {"EndpointUnavailable", 1001}, {"ProtocolError", 1002}, {"InvalidMessageType", 1003},
			{"Empty", 1005}, {"InvalidPayloadData", 1007}, {"PolicyViolation", 1008}, {"MessageTooBig", 1009},
			{"MandatoryExtension", 1010}, {"InternalServerError", 1011},
		}},
	{"Rust tungstenite", "snapview/tungstenite-rs, src/protocol/frame/coding.rs (CloseCode)", []string{"CloseCode"}, []codeName{
		{"Normal", 1000}, {"Away", 1001}, {"Protocol", 1002}, {"Unsupported", 1003}, {"Status", 1005},
		{"Abnormal", 1006}, {"Invalid", 1007}, {"Policy", 1008}, {"Size", 1009}, {"Extension", 1010},
		{"Error", 1011}, {"Restart", 1012}, {"Again", 1013}, {"Tls", 1015},
	}},
	{"Swift", "swiftlang/swift-corelibs-foundation, Sources/FoundationNetworking/URLSession/URLSessionTask.swift (URLSessionWebSocketTask.CloseCode)",
		[]string{"CloseCode", "URLSessionWebSocketTask.CloseCode", ""}, []codeName{
			{"invalid", 0}, {"normalClosure", 1000}, {"goingAway", 1001}, {"protocolError", 1002},
			{"unsupportedData", 1003}, {"noStatusReceived", 1005}, {"abnormalClosure", 1006},
			{"invalidFramePayloadData", 1007}, {"policyViolation", 1008}, {"messageTooBig", 1009},
			{"mandatoryExtensionMissing", 1010}, {"internalServerError", 1011}, {"tlsHandshakeFailure", 1015},
		}},
	{"Dart", "dart-lang/sdk, sdk/lib/_http/websocket.dart (WebSocketStatus)", []string{"WebSocketStatus"}, []codeName{
		{"normalClosure", 1000}, {"goingAway", 1001}, {"protocolError", 1002}, {"unsupportedData", 1003},
		{"reserved1004", 1004}, {"noStatusReceived", 1005}, {"abnormalClosure", 1006},
		{"invalidFramePayloadData", 1007}, {"policyViolation", 1008}, {"messageTooBig", 1009},
		{"missingMandatoryExtension", 1010}, {"internalServerError", 1011}, {"reserved1015", 1015},
	}},
	{"Ktor", "ktorio/ktor, ktor-shared/ktor-websockets/common/src/io/ktor/websocket/CloseReason.kt (CloseReason.Codes)",
		[]string{"Codes", "CloseReason.Codes"}, []codeName{
			{"NORMAL", 1000}, {"GOING_AWAY", 1001}, {"PROTOCOL_ERROR", 1002}, {"CANNOT_ACCEPT", 1003},
			{"CLOSED_ABNORMALLY", 1006}, {"NOT_CONSISTENT", 1007}, {"VIOLATED_POLICY", 1008}, {"TOO_BIG", 1009},
			{"NO_EXTENSION", 1010}, {"INTERNAL_ERROR", 1011}, {"SERVICE_RESTART", 1012}, {"TRY_AGAIN_LATER", 1013},
		}},
}

// alsoCalled is one stack's name for a code, as wsreason reports it.
type alsoCalled struct {
	Stack  string `json:"stack"`
	Name   string `json:"name"`
	Source string `json:"source"`
}

// namesOf returns every stack's name for r, in the order of stacks.
func namesOf(r reasons.Reason) []alsoCalled {
	var out []alsoCalled
	for _, s := range stacks {
		for _, n := range s.Names {
			if n.Code == r {
				out = append(out, alsoCalled{s.Stack, n.Name, s.Source})
			}
		}
	}
	return out
}
