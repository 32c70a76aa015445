import assert from "node:assert/strict";
import { ProtocolError } from "../errors.ts";
import { InFlight } from "./in_flight.ts";

const payload = (n: number) => new Uint8Array(n);

Deno.test("InFlight numbers entries from 1 and ack() pops them from the front", () => {
  const ledger = new InFlight();
  assert.equal(ledger.next, 1);
  ledger.pushLive(10, "alice", "a1", payload(5));
  ledger.pushStored(3);
  ledger.pushLive(11, "carol", "c1", payload(7));
  ledger.pushStored(4);
  assert.deepEqual([ledger.sent, ledger.size, ledger.live, ledger.bytes], [
    4,
    4,
    2,
    12,
  ]);
  // Cumulative: one ack answers a burst; it names the stored seqs to delete.
  assert.deepEqual(ledger.ack(2), [3]);
  assert.deepEqual([ledger.size, ledger.live, ledger.bytes], [2, 1, 7]);
  assert.deepEqual(ledger.ack(1), []); // below an earlier ack: nothing
  assert.deepEqual(ledger.ack(4), [4]);
  assert.deepEqual([ledger.size, ledger.live, ledger.bytes], [0, 0, 0]);
  assert.equal(ledger.next, 5);
});

Deno.test("InFlight.ack() refuses an upto above the last number sent", () => {
  const ledger = new InFlight();
  ledger.pushStored(1);
  assert.throws(
    () => ledger.ack(2),
    (e) => e instanceof ProtocolError && e.code === "bad_field",
  );
  assert.equal(ledger.size, 1);
});

Deno.test("InFlight.takeLive() returns the live entries in send order and empties the ledger", () => {
  const ledger = new InFlight();
  ledger.pushLive(5, "alice", "a1", payload(1));
  ledger.pushStored(2);
  ledger.pushLive(6, "bob", "b1", payload(2));
  ledger.ack(1);
  ledger.pushLive(9, "alice", "a2", payload(3));
  assert.deepEqual(
    ledger.takeLive().map((m) => [m.seq, m.sender, m.id, m.payload.length]),
    [[6, "bob", "b1", 2], [9, "alice", "a2", 3]],
  );
  assert.deepEqual([ledger.size, ledger.live, ledger.bytes], [0, 0, 0]);
  assert.equal(ledger.next, 5); // the numbering goes on
});

Deno.test("InFlight keeps send order across wrap-arounds and growth", () => {
  const ledger = new InFlight();
  const order: number[] = [];
  let seq = 0;
  // Push and ack at different paces so the ring wraps, then grows.
  for (let round = 0; round < 50; round++) {
    for (let i = 0; i < 7 + round; i++) {
      seq++;
      if (seq % 3 === 0) ledger.pushStored(seq);
      else ledger.pushLive(seq, "s", `m${seq}`, payload(1));
      order.push(seq);
    }
    const upto = ledger.sent - ledger.size + 5;
    const popped = order.splice(0, 5);
    assert.deepEqual(ledger.ack(upto), popped.filter((s) => s % 3 === 0));
  }
  assert.deepEqual(
    ledger.takeLive().map((m) => m.seq),
    order.filter((s) => s % 3 !== 0),
  );
});

Deno.test("InFlight keeps live payloads intact through arena compaction and growth, under cumulative acks", () => {
  const ledger = new InFlight();
  const held: { seq: number; bytes: Uint8Array }[] = [];
  let seq = 0;
  // Payloads of 1 to 3,000 bytes, acked in ranges of varied length, so the
  // arena wraps, compacts and grows; every payload is a view of one buffer
  // that is overwritten after each push (as a read buffer is).
  const reused = new Uint8Array(4096);
  for (let round = 0; round < 300; round++) {
    for (let i = 0; i < 1 + (round % 9); i++) {
      seq++;
      const size = 1 + (seq * 997) % 3000;
      reused.fill(seq & 0xff, 0, size);
      if (seq % 5 === 0) ledger.pushStored(seq);
      else {
        ledger.pushLive(seq, "s", `m${seq}`, reused.subarray(0, size));
        held.push({ seq, bytes: new Uint8Array(size).fill(seq & 0xff) });
      }
      reused.fill(0);
    }
    const first = ledger.sent - ledger.size;
    const upto = Math.min(ledger.sent, first + (round % 7));
    ledger.ack(upto);
    while (held.length > 0 && held[0]!.seq <= upto) held.shift();
  }
  const live = ledger.takeLive();
  assert.deepEqual(live.map((m) => m.seq), held.map((h) => h.seq));
  for (let i = 0; i < live.length; i++) {
    assert.deepEqual(live[i]!.payload, held[i]!.bytes);
  }
  assert.equal(ledger.bytes, 0);
});
