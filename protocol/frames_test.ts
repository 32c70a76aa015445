import assert from "node:assert/strict";
import { ProtocolError } from "../errors.ts";
import {
  BOUNDS,
  bytesField,
  decodeAck,
  decodeLookup,
  decodeNack,
  decodeSendRoute,
  type Frame,
} from "./mod.ts";

const isBadField = (e: unknown) =>
  e instanceof ProtocolError && e.code === "bad_field";

const send = (session: unknown): Frame => ({
  type: "send",
  id: "m1",
  to: "bob",
  session,
});

/** True when bytesField takes `text` as canonical base64 of exactly 16 bytes. */
function sixteen(text: string): boolean {
  try {
    return bytesField({ type: "t", v: text }, "v", 16).length === 16;
  } catch {
    return false;
  }
}

Deno.test("decodeSendRoute() reads id and to, and takes a session of exactly 16 bytes only", () => {
  const ok = new Uint8Array(16).fill(0xab).toBase64();
  assert.deepEqual(decodeSendRoute(send(ok)), { id: "m1", to: "bob" });
  const refused = [
    new Uint8Array(15).toBase64(),
    new Uint8Array(17).toBase64(),
    ok.replace("==", ""),
    ` ${ok}`,
    "AAAAAAAAAAAAAAAAAAAAAB==", // pad bits not zero
    16,
    undefined,
  ];
  for (const session of refused) {
    assert.throws(() => decodeSendRoute(send(session)), isBadField);
  }
  assert.throws(
    () => decodeSendRoute({ ...send(ok), id: "x".repeat(BOUNDS.idChars + 1) }),
    isBadField,
  );
});

Deno.test("decodeSendRoute() agrees with bytesField on every last character of a session", () => {
  const alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_ ";
  const stem = new Uint8Array(16).fill(7).toBase64().slice(0, 21);
  for (const c of alphabet) {
    for (const tail of ["==", "=", "", "A="]) {
      const text = stem + c + tail;
      let accepted = true;
      try {
        decodeSendRoute(send(text));
      } catch {
        accepted = false;
      }
      assert.equal(accepted, sixteen(text), text);
    }
  }
  for (let i = 0; i < 200; i++) {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    assert.doesNotThrow(() => decodeSendRoute(send(bytes.toBase64())));
  }
});

Deno.test("decodeAck() reads upto; decodeNack() reads to, id and a code", () => {
  assert.equal(decodeAck({ type: "ack", upto: 12 }), 12);
  for (const upto of [-1, 1.5, "3", undefined]) {
    assert.throws(() => decodeAck({ type: "ack", upto }), isBadField);
  }
  assert.deepEqual(
    decodeNack({ type: "nack", to: "alice", id: "m1", code: "bad_mac" }),
    { to: "alice", id: "m1", code: "bad_mac" },
  );
  for (const code of ["Bad", "", "a".repeat(33), "\x1b[2J", 1]) {
    assert.throws(
      () => decodeNack({ type: "nack", to: "alice", id: "m1", code }),
      isBadField,
    );
  }
});

Deno.test("decodeLookup() reads name, id and the bundle flag", () => {
  assert.deepEqual(decodeLookup({ type: "lookup", name: "bob" }), {
    name: "bob",
    bundle: false,
  });
  assert.deepEqual(
    decodeLookup({ type: "lookup", name: "bob", id: "l1", bundle: true }),
    { name: "bob", id: "l1", bundle: true },
  );
  for (const bundle of [1, "true", null]) {
    assert.throws(
      () => decodeLookup({ type: "lookup", name: "bob", bundle }),
      isBadField,
    );
  }
});
