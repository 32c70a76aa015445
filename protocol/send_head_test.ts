import assert from "node:assert/strict";
import { readAckHead, readSendHead } from "./mod.ts";

const encoder = new TextEncoder();
const SESSION = "oKGio6SlpqeoqaqrrK2urw==";

function send(head: string, rest = ',"ct":"AAAA"}'): Uint8Array {
  return encoder.encode(head + rest);
}

Deno.test("readSendHead() reads id and to of a send laid out as chat writes it", () => {
  const bytes = send(
    `{"type":"send","id":"5f1e2d3c4b5a6978","to":"b.o_b-1","session":"${SESSION}"`,
  );
  assert.deepEqual(readSendHead(bytes), {
    type: "send",
    id: "5f1e2d3c4b5a6978",
    to: "b.o_b-1",
  });
  // The rest is not read: the recipient parses it.
  assert.deepEqual(
    readSendHead(
      send(
        `{"type":"send","id":"x","to":"bob","session":"${SESSION}"`,
        ",[[[}",
      ),
    ),
    { type: "send", id: "x", to: "bob" },
  );
});

Deno.test("readSendHead() leaves every other layout to the slow path", () => {
  const id64 = "a".repeat(64);
  assert.equal(
    readSendHead(
      send(`{"type":"send","id":"${id64}","to":"bob","session":"${SESSION}"`),
    )?.id,
    id64,
  );
  for (
    const head of [
      `{"type":"send","id":"${id64}a","to":"bob","session":"${SESSION}"`, // id too long
      `{"type":"send","id":"a\\"b","to":"bob","session":"${SESSION}"`, // an escape
      `{"type":"send","id":"é","to":"bob","session":"${SESSION}"`, // not ASCII
      `{"type":"send","id":"m","to":"b\tb","session":"${SESSION}"`, // a control
      `{"type":"send","to":"bob","id":"m","session":"${SESSION}"`, // other order
      `{ "type":"send","id":"m","to":"bob","session":"${SESSION}"`, // a space
      `\ufeff{"type":"send","id":"m","to":"bob","session":"${SESSION}"`, // a BOM
      `{"type":"send","id":"m","to":"bob","session":"oKGio6SlpqeoqaqrrK2urx=="`, // pad bits
      `{"type":"send","id":"m","to":"bob","session":"oKGio6SlpqeoqaqrrK2u"`, // short
      `{"type":"send","id":"m","to":"bob","session":"oKGio6Slpqeo qarrK2urw=="`,
      `{"type":"send","id":"m","to":"${"b".repeat(65)}","session":"${SESSION}"`,
    ]
  ) {
    assert.equal(readSendHead(send(head)), undefined, head);
  }
  // No closing brace, or cut in the head.
  assert.equal(
    readSendHead(
      encoder.encode(
        `{"type":"send","id":"m","to":"bob","session":"${SESSION}"`,
      ),
    ),
    undefined,
  );
  assert.equal(
    readSendHead(encoder.encode('{"type":"send","id":"m')),
    undefined,
  );
  assert.equal(readSendHead(new Uint8Array(0)), undefined);
});

Deno.test("readAckHead() reads the upto of a compact ack, -1 for anything else", () => {
  const ack = (text: string) => readAckHead(encoder.encode(text));
  assert.equal(ack('{"type":"ack","upto":0}'), 0);
  assert.equal(ack('{"type":"ack","upto":4096}'), 4096);
  assert.equal(
    ack(`{"type":"ack","upto":${Number.MAX_SAFE_INTEGER}}`),
    Number.MAX_SAFE_INTEGER,
  );
  for (
    const text of [
      '{"type":"ack","upto":}',
      '{"type":"ack","upto":007}',
      '{"type":"ack","upto":-1}',
      '{"type":"ack","upto":1.5}',
      '{"type":"ack","upto":1e3}',
      '{"type":"ack","upto":99999999999999999}',
      '{"type":"ack","upto":12',
      '{"type":"ack", "upto":12}',
      '{"upto":12,"type":"ack"}',
    ]
  ) {
    assert.equal(ack(text), -1, text);
  }
});
