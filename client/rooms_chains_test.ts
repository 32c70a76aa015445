import assert from "node:assert/strict";
import { ReceiverChain, SenderChain } from "../crypto/mod.ts";
import { identityOf } from "./_rooms_fixture.ts";
import { CHAINS_PER_MEMBER, RoomChains } from "./rooms_chains.ts";
import { StateDb } from "./state_db.ts";

const emir = await identityOf("emir");
const text = new TextEncoder().encode("selam");

/** True when `needle` occurs in `haystack`. */
function holds(haystack: Uint8Array, needle: Uint8Array): boolean {
  return haystack.toHex().includes(needle.toHex());
}

Deno.test("RoomChains: a chain's state is rewritten in place; no earlier chain key is left in state.db", async () => {
  const dir = await Deno.makeTempDir();
  const state = new StateDb(`${dir}/state.db`);
  const chains = new RoomChains(state);
  const own = await SenderChain.create(emir.signPrivate, "#team", "emir");
  const theirs = await ReceiverChain.fromDistribution(
    own.distribution(),
    emir.peer.sign,
  );
  chains.saveOwn("#team", own);
  chains.saveReceiver("#team", "emir", theirs);
  state.commit();
  const first = own.distribution().chainKey;
  for (let i = 0; i < 5; i++) {
    const m = await own.seal(`m${i}`, text);
    chains.saveOwn("#team", own);
    await theirs.open(`m${i}`, m);
    chains.saveReceiver("#team", "emir", theirs);
    state.commit();
  }
  const bytes = await Deno.readFile(`${dir}/state.db`);
  assert.ok(!holds(bytes, first), "the first chain key is gone from the file");
  assert.ok(
    holds(bytes, own.distribution().chainKey),
    "the current one is kept",
  );
  // One's own chain after a removal, and a member's chains when they go.
  chains.rekey("#team");
  chains.dropMember("#team", "emir");
  state.commit();
  assert.equal(await chains.own("#team"), undefined);
  assert.ok(
    !holds(await Deno.readFile(`${dir}/state.db`), own.distribution().chainKey),
  );
  state.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test(`RoomChains keeps ${CHAINS_PER_MEMBER} receiving chains per member, the newest; a new own chain has no recipients`, async () => {
  const state = new StateDb(":memory:");
  const chains = new RoomChains(state);
  const made: ReceiverChain[] = [];
  for (let i = 0; i < 3; i++) {
    const own = await SenderChain.create(emir.signPrivate, "#team", "emir");
    made.push(
      await ReceiverChain.fromDistribution(own.distribution(), emir.peer.sign),
    );
    chains.saveReceiver("#team", "emir", made.at(-1)!, 1000 + i);
  }
  assert.equal(
    await chains.receiver("#team", "emir", made[0]!.chainId),
    undefined,
  );
  assert.ok(await chains.receiver("#team", "emir", made[2]!.chainId));
  const rows = state.stmt("SELECT count(*) AS n FROM room_chains").get()!;
  assert.equal(rows.n, CHAINS_PER_MEMBER);
  const own = await SenderChain.create(emir.signPrivate, "#team", "emir");
  chains.saveOwn("#team", own);
  chains.handed("#team", "ali", true);
  assert.deepEqual([...chains.recipients("#team")], ["ali"]);
  chains.saveOwn(
    "#team",
    await SenderChain.create(emir.signPrivate, "#team", "emir"),
  );
  assert.equal(chains.recipients("#team").size, 0);
  chains.dropMember("#team", "emir");
  assert.equal(
    await chains.receiver("#team", "emir", made[2]!.chainId),
    undefined,
  );
});

Deno.test("RoomChains.rekey(): a send still sealing with the old chain cannot keep it", async () => {
  const state = new StateDb(":memory:");
  const chains = new RoomChains(state);
  const old = await SenderChain.create(emir.signPrivate, "#team", "emir");
  chains.saveOwn("#team", old);
  assert.ok(chains.isCurrent("#team", old));
  chains.rekey("#team");
  await old.seal("m1", text);
  chains.saveOwn("#team", old);
  assert.ok(!chains.isCurrent("#team", old));
  assert.equal(await chains.own("#team"), undefined);
});
