// Prints what JSR 356 (javax.websocket, Debian's libwebsocket-api-java)
// declares and logs for close codes: one "name NAME CODE" line per
// CloseReason.CloseCodes constant, then one "line ..." per CODE [REASON]
// argument pair, as CloseReason.toString writes it.
import javax.websocket.CloseReason;

public class CloseLines {
    public static void main(String[] args) {
        for (CloseReason.CloseCodes c : CloseReason.CloseCodes.values()) {
            System.out.println("name " + c.name() + " " + c.getCode());
        }
        for (int i = 0; i + 1 < args.length; i += 2) {
            int code = Integer.parseInt(args[i]);
            String reason = args[i + 1].isEmpty() ? null : args[i + 1];
            CloseReason r = new CloseReason(CloseReason.CloseCodes.getCloseCode(code), reason);
            System.out.println("line " + r);
        }
    }
}
