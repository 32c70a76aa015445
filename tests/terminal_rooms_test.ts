/**
 * Rooms in the full-screen client, in real terminals: emir, ali and caner
 * each run `chat connect` under bash in a tmux of their own (through
 * `deno task connect`, as the README says), against a real server. Every
 * assertion is on what a person would see on their screen.
 */
import assert from "node:assert/strict";
import { testHome } from "../testing/fixtures.ts";
import { ServerProc } from "../testing/process.ts";
import { statusLine, Tmux, TMUX_MISSING } from "../testing/tmux.ts";

/** Screen rows as one text: each row trimmed, joined by spaces. */
function flat(rows: string[]): string {
  return rows.map((r) => r.trim()).join(" ").replace(/\s+/g, " ");
}

/** A row showing emir's room message (one's own with its status after it). */
const SELAM = /^\d\d:\d\d #team emir: selam herkes( \(\w+\))?$/;

/** Types a line and presses Enter. */
async function line(t: Tmux, text: string): Promise<void> {
  await t.type(text);
  await t.press("Enter");
}

Deno.test({
  name:
    "terminal rooms: emir invites ali and caner to #team; all three see '#team emir: selam herkes'; /members lists the three; Tab completes the room and its members; emir kicks caner, caner sees it and cannot send there; after a restart emir's room pane is refilled",
  ignore: TMUX_MISSING !== undefined,
  async fn(): Promise<void> {
    await using server = await ServerProc.start();
    await using emir = await Tmux.start(100, 30);
    await using ali = await Tmux.start(100, 30);
    await using caner = await Tmux.start(100, 30);
    const home = await testHome(["emir", "ali", "caner"]);
    const screens = { emir, ali, caner };
    for (const [name, t] of Object.entries(screens)) {
      await t.connect(server.port, home, name);
    }

    await line(emir, "/invite #team ali caner");
    await emir.until(
      (rows) => flat(rows).includes("you created #team; you are its admin"),
      "emir: #team created",
    );
    for (const [name, t] of [["ali", ali], ["caner", caner]] as const) {
      await t.until(
        (rows) =>
          flat(rows).includes(
            "emir added you to #team (members: emir, ali, caner)",
          ),
        `${name}: added to #team`,
      );
    }

    // The room made current with Tab: its name in the prompt and status line.
    await emir.type("/q #te");
    await emir.press("Tab");
    await emir.until((rows) => rows.at(-1) === "> /q #team", "/q #team");
    await emir.press("Enter");
    await emir.until(
      (rows) =>
        rows.at(-1) === "#team>" &&
        rows.some((r) => /^ \[emir\] #team 3 members \| online/.test(r)),
      "#team current, with its members in the status line",
    );
    await line(emir, "selam herkes");
    for (const [name, t] of Object.entries(screens)) {
      await t.until(
        (rows) => rows.some((r) => SELAM.test(r)),
        `${name}: #team emir: selam herkes`,
      );
    }
    await line(ali, "/q #team");
    await line(ali, "/members");
    const members = await ali.until(
      (rows) => rows.some((r) => r.includes("members of #team (3):")),
      "ali: /members",
    );
    const at = members.findIndex((r) => r.includes("members of #team (3):"));
    assert.deepEqual(
      members.slice(at + 1, at + 4).map((r) => r.trim().split(/\s+/)[0]),
      ["emir", "ali", "caner"],
      members.join("\n"),
    );

    await emir.type("/kick #team c");
    await emir.press("Tab");
    await emir.until(
      (rows) => rows.at(-1) === "#team> /kick #team caner",
      "/kick #team caner completed",
    );
    await emir.press("Enter");
    await emir.until(
      (rows) =>
        flat(rows).includes("#team: emir removed caner (members: emir, ali)") &&
        rows.some((r) => /^ \[emir\] #team 2 members/.test(r)),
      "emir: caner removed",
    );
    await ali.until(
      (rows) =>
        flat(rows).includes("#team: emir removed caner (members: emir, ali)"),
      "ali: caner removed",
    );
    await caner.until(
      (rows) => flat(rows).includes("emir removed you from #team"),
      "caner: removed from #team",
    );
    await line(caner, "#team hala burada miyim");
    await caner.until(
      (rows) =>
        flat(rows).includes(
          "#team caner: hala burada miyim (not sent: You are not in #team",
        ),
      "caner: the send refused",
    );
    await line(caner, "/q #team");
    await caner.until(
      (rows) => rows.some((r) => /^ \[caner\] #team \(not a member\)/.test(r)),
      "caner: not a member in the status line",
    );

    await emir.press("C-d");
    await emir.restored();
    await emir.connect(server.port, home, "emir");
    await line(emir, "/q #team");
    await emir.until(
      (rows) =>
        rows.some((r) => SELAM.test(r)) &&
        rows.some((r) => /^ \[emir\] #team 2 members/.test(r)),
      "emir: #team refilled from the history after a restart",
    );
    for (const t of Object.values(screens)) {
      await t.press("C-d");
      await t.restored();
    }
    const online = statusLine("emir");
    assert.ok(!(await emir.screen()).some((r) => online.test(r)));
  },
});
