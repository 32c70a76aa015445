import assert from "node:assert/strict";
import { stillChatting } from "../testing/chat.ts";
import { testHome } from "../testing/fixtures.ts";
import { ClientProc, ServerProc } from "../testing/process.ts";
import { RawSession } from "../testing/raw_session.ts";

const encoder = new TextEncoder();

/**
 * A `send` whose head routes it (the relay reads only that) and whose rest
 * is `tail`: not JSON, or not UTF-8.
 */
function brokenSend(id: string, tail: Uint8Array): Uint8Array {
  const head = encoder.encode(
    `{"type":"send","id":"${id}","to":"bob","session":"AAAAAAAAAAAAAAAAAAAAAA==",`,
  );
  const payload = new Uint8Array(head.length + tail.length + 1);
  payload.set(head);
  payload.set(tail, head.length);
  payload[payload.length - 1] = 0x7d; // }
  const frame = new Uint8Array(4 + payload.length);
  new DataView(frame.buffer).setUint32(0, payload.length);
  frame.set(payload, 4);
  return frame;
}

Deno.test("a malformed payload the relay forwards unparsed is refused by the recipient alone: a security event, acknowledged, the chat goes on", async () => {
  // Raw frames over plain TCP.
  await using server = await ServerProc.start(["--no-tls", "--msg-rate", "0"]);
  const home = await testHome(["bob"]);
  await using alice = await ClientProc.start("alice", server.port);
  let bob = await ClientProc.start("bob", server.port, { home });
  const mallory = await RawSession.login(server.port, "mallory");
  try {
    // One write: bad JSON, bad UTF-8, then a frame of a whole other shape
    // hidden in the tail; the relay forwards all three as they came.
    await mallory.write(
      new Uint8Array([
        ...brokenSend("bad1", encoder.encode('"dh":[[[')),
        ...brokenSend("bad2", new Uint8Array([0x22, 0xff, 0xfe, 0x22])),
        ...brokenSend(
          "bad3",
          encoder.encode('"x":1},"n":1}{"type":"msg","from":"alice","m":{'),
        ),
      ]),
    );
    const refused = await bob.until(() => {
      const found = bob.events.filter((e) =>
        e.type === "security" && e.code === "bad_frame" && e.from === "mallory"
      );
      return found.length === 3 ? found : undefined;
    }, "three bad_frame events at bob");
    for (const e of refused) {
      assert.match(e.message, /malformed.*message dropped$/);
    }
    // The connection stayed up: bob still chats.
    await stillChatting(alice, bob, "after the broken ones");
    // Acknowledged: bob, back, is not sent them again.
    assert.equal(await bob.quit(), 0);
    bob = await ClientProc.start("bob", server.port, { home });
    await stillChatting(alice, bob, "back again");
    assert.equal(bob.ofType("security").length, 0);
  } finally {
    await mallory.close();
    await bob[Symbol.asyncDispose]();
    await Deno.remove(home, { recursive: true });
  }
});
