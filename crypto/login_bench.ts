/**
 * Benchmarks of the login proof with 3072-bit RSA-PSS keys: the client's
 * signature and the server's checks. Time per login. Run with
 * `deno task bench`.
 *
 * @module
 */
import { fixtureIdentity } from "../testing/fixtures.ts";
import { importPeerKeys } from "./identity.ts";
import { NO_BINDING, signLogin, verifyLogin } from "./login.ts";

const alice = await fixtureIdentity("alice");
const challenge = crypto.getRandomValues(new Uint8Array(32));
const signature = await signLogin(
  alice.signPrivate,
  challenge,
  "alice",
  NO_BINDING,
);

Deno.bench({
  name: "client: signLogin, RSA-PSS-3072 sign (time per login)",
  group: "login",
  baseline: true,
  async fn(): Promise<void> {
    await signLogin(alice.signPrivate, challenge, "alice", NO_BINDING);
  },
});
Deno.bench({
  name: "server: verifyLogin, RSA-PSS-3072 verify (time per login)",
  group: "login",
  async fn(): Promise<void> {
    if (
      !await verifyLogin(
        alice.peer.sign,
        challenge,
        "alice",
        signature,
        NO_BINDING,
      )
    ) {
      throw new Error("Login signature does not verify");
    }
  },
});
Deno.bench({
  name: "server: importPeerKeys, two SPKI RSA-3072 imports (time per login)",
  group: "login",
  async fn(): Promise<void> {
    await importPeerKeys(alice.peer.publicKeys);
  },
});
