// Verifies one signed request with the TypeScript Standard Webhooks library, as a receiver would.
// Reads {"secret", "headers", "body"} as JSON on stdin; prints {"ok": true} or {"ok": false, "error"}.
import { Webhook } from "standardwebhooks";

let input = "";
for await (const chunk of process.stdin) input += chunk;
const { secret, headers, body } = JSON.parse(input);
try {
  new Webhook(secret).verify(body, headers);
  console.log(JSON.stringify({ ok: true }));
} catch (error) {
  console.log(JSON.stringify({ ok: false, error: String(error && error.message) }));
}
