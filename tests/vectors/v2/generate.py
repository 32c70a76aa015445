#!/usr/bin/env python3
"""Protocol 2 test vectors, computed from docs/CRYPTO_V2.md by an
implementation independent of crypto/ (Python, pyca/cryptography).

Writes session_start.json, ratchet.json and sender_key.json (from
docs/CRYPTO_V2.md) and wire.json (the frames of docs/PROTOCOL.md sections 6
and 7) next to this file. Run from anywhere: `python3 tests/vectors/v2/generate.py`.

Everything is fixed except RSA-OAEP and RSA-PSS, which are randomized: for
those the vectors give the exact signed bytes and a signature or wrapped
secret made here, which the TypeScript code must verify or unwrap. The
X25519 and Ed25519 private keys are SHA-256("chat-v2-vector " + name); the
RSA keys are the fixture identities in tests/fixtures/keys/ (3072 bits).
Never use any of these keys for anything else.
"""

import base64
import hashlib
import json
import os
import struct
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives import padding as sym_padding
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, x25519
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.hmac import HMAC
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
PKCS8 = dict(
    encoding=serialization.Encoding.DER,
    format=serialization.PrivateFormat.PKCS8,
    encryption_algorithm=serialization.NoEncryption(),
)


# ---- byte helpers (docs/CRYPTO_V2.md, "Notation") ----

def u8(x): return struct.pack(">B", x)
def u16(x): return struct.pack(">H", x)
def u32(x): return struct.pack(">I", x)
def u64(x): return struct.pack(">Q", x)
def u16str(s): b = s.encode("utf-8"); return u16(len(b)) + b
def label(s): return s.encode("ascii") + b"\0"
def h(b): return b.hex()


def parts(named):
    """A dict of hex parts, and their concatenation."""
    return {k: h(v) for k, v in named}, b"".join(v for _, v in named)


# ---- primitives ----

def hkdf(salt, ikm, info, length):
    return HKDF(hashes.SHA256(), length, salt, info).derive(ikm)


def hmac_sha256(key, data):
    m = HMAC(key, hashes.SHA256())
    m.update(data)
    return m.finalize()


def aes_cbc_encrypt(key, iv, plaintext):
    padder = sym_padding.PKCS7(128).padder()
    padded = padder.update(plaintext) + padder.finalize()
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return enc.update(padded) + enc.finalize()


def pss_sign(private, data):
    return private.sign(
        data,
        padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
        hashes.SHA256(),
    )


def oaep_encrypt(public, data):
    return public.encrypt(
        data,
        padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None),
    )


def fixed_x25519(name):
    key = x25519.X25519PrivateKey.from_private_bytes(hashlib.sha256(b"chat-v2-vector " + name.encode()).digest())
    return key


def x25519_json(key):
    return {
        "public_hex": h(key.public_key().public_bytes_raw()),
        "pkcs8_hex": h(key.private_bytes(**PKCS8)),
    }


def dh(private, public_raw):
    return private.exchange(x25519.X25519PublicKey.from_public_bytes(public_raw))


def pub(key):
    return key.public_key().public_bytes_raw()


def fixture(name):
    with open(os.path.join(ROOT, "tests", "fixtures", "keys", name + ".json")) as f:
        d = json.load(f)
    sign = serialization.load_der_private_key(base64.b64decode(d["sign_private"]), None)
    kx = serialization.load_der_private_key(base64.b64decode(d["kx_private"]), None)
    return sign, kx


def kdf_ck(ck):
    return hmac_sha256(ck, b"\x02"), hmac_sha256(ck, b"\x01")  # (ck', mk)


def message_keys(mk, info):
    out = hkdf(b"\0" * 32, mk, info, 80)
    return out[:32], out[32:64], out[64:]


def seal(mk, info, authenticated, plaintext):
    aes, mac_key, iv = message_keys(mk, info)
    ct = aes_cbc_encrypt(aes, iv, plaintext)
    mac = hmac_sha256(mac_key, authenticated + ct)
    return {
        "message_key_hex": h(mk),
        "aes_key_hex": h(aes),
        "hmac_key_hex": h(mac_key),
        "iv_hex": h(iv),
        "plaintext": plaintext.decode("utf-8"),
        "ciphertext_hex": h(ct),
        "mac_input_hex": h(authenticated + ct),
        "mac_hex": h(mac),
    }, ct, mac


# ---- rooms (docs/PROTOCOL.md, section Rooms) ----
#
# Written to rooms.json. `python3 tests/vectors/v2/generate.py rooms` writes
# that file only (the other files hold randomized RSA fields that need not
# change). A history of #team (create, add, remove, leave), each change
# signed by its author's fixture key and chained by its SHA-256 hash; the
# frames that carry the changes and a room message; and the contents of a
# room message and of a sender key: a header line of compact JSON
# (JSON.stringify's form: no spaces, members in the order given, no "text"),
# a newline, then the text's UTF-8 bytes (nothing for a sender key).

def rooms_vectors():
    b64 = lambda b: base64.b64encode(b).decode()
    compact = lambda v: json.dumps(v, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    framed = lambda v: {"value": v, "frame_hex": h(u32(len(compact(v))) + compact(v))}

    def content_bytes(value):
        head = {k: x for k, x in value.items() if k != "text"}
        return compact(head) + b"\n" + value.get("text", "").encode("utf-8")

    def relayed(sender, payload, n):
        body = b'{"type":"msg","from":' + compact(sender) + b',"m":' + payload + b',"n":' + str(n).encode() + b"}"
        return {"n": n, "frame_hex": h(u32(len(body)) + body)}

    TS = 1767225600000
    signers = {name: fixture(name)[0] for name in ("alice", "bob", "carol")}
    room, kinds = "#team", {"create": 1, "add": 2, "remove": 3, "leave": 4}
    names = [("#team", "#team"), ("#Team.2-x_y", "#team.2-x_y"), ("#" + "A" * 32, "#" + "a" * 32), ("#-", "#-")]
    refused = ["team", "#", "#" + "a" * 33, "#te am", "#t\u00ebam", "#te\u212aam", "##team", "#team\n"]
    steps = [("create", "alice", ["alice", "bob"]), ("add", "alice", ["carol"]),
             ("remove", "alice", ["bob"]), ("leave", "carol", ["carol"])]
    prev, changes = b"\0" * 32, []
    for i, (kind, author, members) in enumerate(steps):
        ts = TS + 60_000 * i
        named = [('label "chat-room-change-v2\\0"', label("chat-room-change-v2")), ("u16str(room)", u16str(room)),
                 ("u8(kind)", u8(kinds[kind])), ("u16str(author)", u16str(author)), ("u16(count)", u16(len(members)))]
        named += [(f"u16str(names[{j}])", u16str(n)) for j, n in enumerate(members)]
        named += [("u64(ts)", u64(ts)), ("prev", prev)]
        input_parts, signed_input = parts(named)
        digest = hashlib.sha256(signed_input).digest()
        wire = {"kind": kind, "author": author, "names": members, "ts": ts, "prev": b64(prev),
                "signature": b64(pss_sign(signers[author], signed_input))}
        frame = {"type": "room_change", "id": f"c{i}", "room": room, "change": wire}
        changes.append({"input_parts": input_parts, "input_hex": h(signed_input), "hash_hex": h(digest),
                        "room_change": framed(frame), "msg": relayed(author, compact(frame), i + 1)})
        prev = digest
    head = bytes.fromhex(changes[1]["hash_hex"])  # after the add: alice, bob, carol

    # bob's sending chain: a distribution for alice, then a room message.
    chain_id, created = bytes(range(0xE0, 0xF0)), TS + 90_000
    ck = hashlib.sha256(b"chat-v2-vector room ck").digest()
    signer = ed25519.Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"chat-v2-vector bob ed25519").digest())
    signing_pub = signer.public_key().public_bytes_raw()
    cert_input = (label("chat-senderkey-v2") + u16str(room) + u16str("bob") + chain_id + u64(created) + signing_pub)
    certificate = pss_sign(signers["bob"], cert_input)
    dist = (label("chat-senderkey-dist-v2") + u16str(room) + u16str("bob") + chain_id + u64(created) + u32(0)
            + ck + signing_pub + u16(len(certificate)) + certificate)
    sender_key = {"t": "sender_key", "room": room, "head": h(head), "key": b64(dist)}
    content = {"t": "text", "e": "5e6f7a8b9cadbecf", "s": 1, "ts": created + 1000, "head": h(head), "text": "selam herkes \U0001F44B"}
    msg_id = "9a8b7c6d5e4f3a2b"
    _, mk = kdf_ck(ck)
    ad = (label("chat-room-v2") + u16str(room) + u16str("bob") + u16str(msg_id) + chain_id + u32(0))
    sealed, ct, mac = seal(mk, label("chat-room-msgkeys-v2"), ad, content_bytes(content))
    sig = signer.sign(ad + ct + mac)
    send = {"type": "room_send", "id": msg_id, "room": room, "chain": b64(chain_id), "n": 0,
            "ct": b64(ct), "mac": b64(mac), "sig": b64(sig)}
    history = {"type": "room_history", "id": "h1", "room": room,
               "changes": [c["room_change"]["value"]["change"] for c in changes[1:3]], "more": False}
    return {
        "description": "Rooms (docs/PROTOCOL.md, section Rooms). Room names and their keys (ASCII letters folded); names refused. A history of #team: each change's signed input (by part), its SHA-256 hash (the next change's prev), the room_change frame with an RSA-PSS-SHA256 signature by the author's fixture key (randomized: check that it verifies) and the relay's msg for it. bob's sender key (the distribution of docs/CRYPTO_V2.md section 6; its certificate is RSA-PSS, randomized) as pairwise content, and a room message sealed with that chain (deterministic: Ed25519 seed SHA-256(\"chat-v2-vector bob ed25519\")), its content JSON, the room_send frame and the relay's msg. room_history request and answer frames.",
        "room": room,
        "names": [{"name": n, "key": k} for n, k in names],
        "refused_names": refused,
        "changes": changes,
        "sender_key": {"chain_id_hex": h(chain_id), "created": created, "chain_key_hex": h(ck),
                       "ed25519_public_hex": h(signing_pub), "certificate_input_hex": h(cert_input),
                       "distribution_hex": h(dist), "content": {"value": sender_key, "text": content_bytes(sender_key).decode()}},
        "message": {"id": msg_id, "content": {"value": content, "text": content_bytes(content).decode()},
                    "ad_hex": h(ad), **sealed, "signature_hex": h(sig),
                    "room_send": framed(send), "msg": relayed("bob", compact(send), 7)},
        "history_request": framed({"type": "room_history", "id": "h1", "room": room, "after": b64(bytes.fromhex(changes[0]["hash_hex"]))}),
        "history": framed(history),
        "error": framed({"type": "error", "code": "not_admin", "message": "Only the room's admin adds and removes members", "id": "c9", "room": room}),
    }


def write_rooms():
    with open(os.path.join(HERE, "rooms.json"), "w") as f:
        json.dump(rooms_vectors(), f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__" and sys.argv[1:] == ["rooms"]:
    write_rooms()
    print("wrote rooms.json")
    sys.exit(0)
write_rooms()


# ---- session start ----

FROM, TO = "alice", "bob"
TS = 1767225600000
alice_sign, _ = fixture("alice")
bob_sign, bob_kx = fixture("bob")

spk = fixed_x25519("bob spk")
opk = fixed_x25519("bob opk")
ek = fixed_x25519("alice ek")
SPK_ID, OPK_ID, SPK_CREATED = 0xAABBCCDD, 0x01020304, TS - 86_400_000
secret = hashlib.sha256(b"chat-v2-vector secret").digest()
session_id = bytes(range(0xA0, 0xB0))

spk_parts, spk_input = parts([
    ('label "chat-spk-v2\\0"', label("chat-spk-v2")),
    ("u16str(owner)", u16str(TO)),
    ("u32(id)", u32(SPK_ID)),
    ("u64(created)", u64(SPK_CREATED)),
    ("pub", pub(spk)),
])
wrapped = oaep_encrypt(bob_kx.public_key(), secret)


def start_case(opk_id):
    sig_parts, sig_input = parts([
        ('label "chat-start-v2\\0"', label("chat-start-v2")),
        ("u16str(from)", u16str(FROM)),
        ("u16str(to)", u16str(TO)),
        ("session_id", session_id),
        ("u64(ts)", u64(TS)),
        ("u32(spk_id)", u32(SPK_ID)),
        ("u32(opk_id or 0)", u32(opk_id)),
        ("ek", pub(ek)),
        ("wrapped", wrapped),
    ])
    dh1 = dh(ek, pub(spk))
    dh2 = dh(ek, pub(opk)) if opk_id else b""
    assert dh1 == dh(spk, pub(ek)) and (not opk_id or dh2 == dh(opk, pub(ek)))
    ikm_parts, ikm = parts([("32 x 0xff", b"\xff" * 32), ("dh1", dh1)] + ([("dh2", dh2)] if opk_id else []) + [("secret", secret)])
    info_parts, info = parts([
        ('label "chat-x3dh-v2\\0"', label("chat-x3dh-v2")),
        ("u16str(from)", u16str(FROM)),
        ("u16str(to)", u16str(TO)),
        ("session_id", session_id),
    ])
    sk = hkdf(b"\0" * 32, ikm, info, 32)
    case = {
        "opk_id": opk_id,
        "signature_input_parts": sig_parts,
        "signature_input_hex": h(sig_input),
        "signature_b64": base64.b64encode(pss_sign(alice_sign, sig_input)).decode(),
        "dh1_hex": h(dh1),
        "dh2_hex": h(dh2),
        "hkdf_ikm_parts": ikm_parts,
        "hkdf_ikm_hex": h(ikm),
        "hkdf_info_parts": info_parts,
        "hkdf_info_hex": h(info),
        "sk_hex": h(sk),
    }
    return case, sk


with_opk, SK = start_case(OPK_ID)
without_opk, _ = start_case(0)

session_start = {
    "description": "Session start from alice to bob (docs/CRYPTO_V2.md, 'Session start'). RSA keys: tests/fixtures/keys/{alice,bob}.json. X25519 keys are fixed (private = SHA-256(\"chat-v2-vector \" + name)). RSA-OAEP-SHA256 (MGF1-SHA256, empty label) and RSA-PSS-SHA256 (MGF1-SHA256, salt 32) are randomized: check the signed bytes, that the signatures verify and that the wrapped secret unwraps to secret_hex.",
    "from": FROM,
    "to": TO,
    "ts": TS,
    "session_id_hex": h(session_id),
    "secret_hex": h(secret),
    "wrapped_b64": base64.b64encode(wrapped).decode(),
    "ek": x25519_json(ek),
    "spk": {
        "id": SPK_ID,
        "created": SPK_CREATED,
        **x25519_json(spk),
        "signature_input_parts": spk_parts,
        "signature_input_hex": h(spk_input),
        "signature_b64": base64.b64encode(pss_sign(bob_sign, spk_input)).decode(),
    },
    "opk": {"id": OPK_ID, **x25519_json(opk)},
    "with_opk": with_opk,
    "without_opk": without_opk,
}


# ---- Double Ratchet ----

RATCHET_INFO = label("chat-ratchet-v2")
MSGKEYS_INFO = label("chat-msgkeys-v2")
STATE_LABEL = label("chat-ratchet-state-v2")


def kdf_rk(rk, dh_out):
    out = hkdf(rk, dh_out, RATCHET_INFO, 64)
    return out[:32], out[32:]


def direct_ad(sender, recipient, msg_id):
    return parts([
        ('label "chat-msg-v2\\0"', label("chat-msg-v2")),
        ("u16str(from)", u16str(sender)),
        ("u16str(to)", u16str(recipient)),
        ("u16str(id)", u16str(msg_id)),
        ("session_id", session_id),
    ])


class Party:
    """Signal's Double Ratchet, section 3, with the bounds left out (no vector reaches them)."""

    def __init__(self, name, pairs):
        self.name, self.pairs = name, list(pairs)
        self.ckr = self.cks = self.dhr = None
        self.ns = self.nr = self.pn = 0
        self.skipped = {}  # (dh, n) -> mk, in insertion order
        self.retired = []

    @classmethod
    def alice(cls, sk, bob_spk_pub, pairs):
        p = cls("alice", pairs)
        p.dhs = p.pairs.pop(0)
        p.dhr = bob_spk_pub
        p.rk, p.cks = kdf_rk(sk, dh(p.dhs, p.dhr))
        return p

    @classmethod
    def bob(cls, sk, spk_pair, pairs):
        p = cls("bob", pairs)
        p.dhs, p.rk = spk_pair, sk
        return p

    def state(self):
        flags = (1 if self.dhr else 0) | (2 if self.cks else 0) | (4 if self.ckr else 0)
        pkcs8 = self.dhs.private_bytes(**PKCS8)
        out = STATE_LABEL + self.rk + pub(self.dhs) + u16(len(pkcs8)) + pkcs8 + u8(flags)
        out += (self.dhr or b"") + (self.cks or b"") + (self.ckr or b"")
        out += u32(self.ns) + u32(self.nr) + u32(self.pn)
        out += u16(len(self.retired)) + b"".join(self.retired)
        out += u16(len(self.skipped))
        for (k_dh, k_n), mk in self.skipped.items():
            out += k_dh + u32(k_n) + mk
        return {
            "rk_hex": h(self.rk),
            "dhs_public_hex": h(pub(self.dhs)),
            "dhr_hex": h(self.dhr or b""),
            "cks_hex": h(self.cks or b""),
            "ckr_hex": h(self.ckr or b""),
            "ns": self.ns, "nr": self.nr, "pn": self.pn,
            "skipped": [{"dh_hex": h(d), "n": n, "mk_hex": h(m)} for (d, n), m in self.skipped.items()],
            "state_hex": h(out),
        }

    def encrypt(self, msg_id, to, text):
        self.cks, mk = kdf_ck(self.cks)
        header_parts, header = parts([("dh", pub(self.dhs)), ("u32(pn)", u32(self.pn)), ("u32(n)", u32(self.ns))])
        self.ns += 1
        ad_parts, ad = direct_ad(self.name, to, msg_id)
        sealed, ct, mac = seal(mk, MSGKEYS_INFO, ad + header, text.encode("utf-8"))
        return {
            "from": self.name, "to": to, "id": msg_id,
            "header": {"dh_hex": h(pub(self.dhs)), "pn": self.pn, "n": self.ns - 1},
            "header_parts": header_parts, "header_hex": h(header),
            "ad_parts": ad_parts, "ad_hex": h(ad),
            **sealed,
        }

    def decrypt(self, m):
        header = bytes.fromhex(m["header_hex"])
        hdh, pn, n = header[:32], m["header"]["pn"], m["header"]["n"]
        if (hdh, n) in self.skipped:
            mk = self.skipped.pop((hdh, n))
        else:
            if hdh != self.dhr:
                self.skip(pn)
                self.pn, self.ns, self.nr = self.ns, 0, 0
                if self.dhr:
                    self.retired.append(self.dhr)
                self.dhr = hdh
                self.rk, self.ckr = kdf_rk(self.rk, dh(self.dhs, self.dhr))
                self.dhs = self.pairs.pop(0)
                self.rk, self.cks = kdf_rk(self.rk, dh(self.dhs, self.dhr))
            self.skip(n)
            self.ckr, mk = kdf_ck(self.ckr)
            self.nr += 1
        sealed, _, _ = seal(mk, MSGKEYS_INFO, bytes.fromhex(m["ad_hex"]) + header, m["plaintext"].encode("utf-8"))
        assert sealed["mac_hex"] == m["mac_hex"] and sealed["ciphertext_hex"] == m["ciphertext_hex"]

    def skip(self, until):
        if self.ckr:
            while self.nr < until:
                self.ckr, mk = kdf_ck(self.ckr)
                self.skipped[(self.dhr, self.nr)] = mk
                self.nr += 1


A = [fixed_x25519(f"alice ratchet {i}") for i in (1, 2, 3)]
B = [fixed_x25519(f"bob ratchet {i}") for i in (1, 2)]
alice = Party.alice(SK, pub(spk), A)
bob = Party.bob(SK, spk, B)
steps = [{"do": "alice: Ratchet.initiator(sk, spk.public)", "alice": alice.state()},
         {"do": "bob: Ratchet.responder(sk, spk)", "bob": bob.state()}]
messages = {}


def step(do, who, action):
    out = action()
    if isinstance(out, dict):
        messages[out["id"]] = out
    steps.append({"do": do, who.name: who.state()})


step("alice encrypts a0", alice, lambda: alice.encrypt("a0", "bob", "selam bob"))
step("alice encrypts a1", alice, lambda: alice.encrypt("a1", "bob", "a:b @c \U0001F642"))
step("alice encrypts a2", alice, lambda: alice.encrypt("a2", "bob", "third, arrives first"))
step("bob decrypts a2 (DH ratchet step, a0 and a1 skipped)", bob, lambda: bob.decrypt(messages["a2"]))
step("bob decrypts a0 (skipped key)", bob, lambda: bob.decrypt(messages["a0"]))
step("bob encrypts b0", bob, lambda: bob.encrypt("b0", "alice", "aleyküm selam"))
step("alice decrypts b0 (DH ratchet step)", alice, lambda: alice.decrypt(messages["b0"]))
step("alice encrypts a3", alice, lambda: alice.encrypt("a3", "bob", "new chain, pn 3"))
step("bob decrypts a3 (DH ratchet step)", bob, lambda: bob.decrypt(messages["a3"]))
step("bob decrypts a1 (skipped key of the old chain)", bob, lambda: bob.decrypt(messages["a1"]))
step("bob encrypts b1", bob, lambda: bob.encrypt("b1", "alice", ""))

ratchet = {
    "description": "A Double Ratchet conversation on the session start's SK with OPK (docs/CRYPTO_V2.md, 'Double Ratchet'). Ratchet key pairs are fixed and used in order: alice's for her initial pair and each DH ratchet step, bob's for his. Every output is deterministic. Each step gives the state after it, with its stored form state_hex; each message gives its header, AD, message keys, MAC input, ciphertext and MAC.",
    "sk_hex": h(SK),
    "spk": x25519_json(spk),
    "alice_ratchet_keys": [x25519_json(k) for k in A],
    "bob_ratchet_keys": [x25519_json(k) for k in B],
    "messages": messages,
    "steps": steps,
}


# ---- sender keys ----

ROOM, MEMBER = "#team", "alice"
CHAIN_ID = bytes(range(0xC0, 0xD0))
CREATED = TS + 1000
ck0 = hashlib.sha256(b"chat-v2-vector ck0").digest()
signer = ed25519.Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"chat-v2-vector alice ed25519").digest())
signing_pub = signer.public_key().public_bytes_raw()
cert_parts, cert_input = parts([
    ('label "chat-senderkey-v2\\0"', label("chat-senderkey-v2")),
    ("u16str(room)", u16str(ROOM)),
    ("u16str(member)", u16str(MEMBER)),
    ("chain_id", CHAIN_ID),
    ("u64(created)", u64(CREATED)),
    ("ed25519_pub", signing_pub),
])
certificate = pss_sign(alice_sign, cert_input)
signing_pkcs8 = signer.private_bytes(**PKCS8)


def sender_state(n, ck):
    return (label("chat-sender-chain-v2") + u16str(ROOM) + u16str(MEMBER) + CHAIN_ID + u64(CREATED) + u32(n) + ck
            + signing_pub + u16(len(signing_pkcs8)) + signing_pkcs8 + u16(len(certificate)) + certificate)


distribution = (label("chat-senderkey-dist-v2") + u16str(ROOM) + u16str(MEMBER) + CHAIN_ID + u64(CREATED)
                + u32(0) + ck0 + signing_pub + u16(len(certificate)) + certificate)
room_messages = []
ck = ck0
keys = []
for n, (msg_id, text) in enumerate([("r0", "selam herkes"), ("r1", "#team emir: a:b"), ("r2", "üç")]):
    ck_next, mk = kdf_ck(ck)
    ad_parts, ad = parts([
        ('label "chat-room-v2\\0"', label("chat-room-v2")),
        ("u16str(room)", u16str(ROOM)),
        ("u16str(sender)", u16str(MEMBER)),
        ("u16str(id)", u16str(msg_id)),
        ("chain_id", CHAIN_ID),
        ("u32(n)", u32(n)),
    ])
    sealed, ct, mac = seal(mk, label("chat-room-msgkeys-v2"), ad, text.encode("utf-8"))
    sig_input = ad + ct + mac
    room_messages.append({
        "id": msg_id, "n": n, "chain_key_hex": h(ck), "next_chain_key_hex": h(ck_next),
        "ad_parts": ad_parts, "ad_hex": h(ad), **sealed,
        "signature_input_hex": h(sig_input),
        "signature_hex": h(signer.sign(sig_input)),
    })
    keys.append(mk)
    ck = ck_next

# The receiver opens r2 first (r0 and r1 become skipped keys), then r0.
receiver_after = (label("chat-receiver-chain-v2") + u16str(ROOM) + u16str(MEMBER) + CHAIN_ID + u64(CREATED)
                  + u32(3) + ck + signing_pub + u16(1) + u32(1) + keys[1])

sender_key = {
    "description": "alice's sending chain in #team (docs/CRYPTO_V2.md, 'Sender keys'). RSA key: tests/fixtures/keys/alice.json; the certificate is RSA-PSS-SHA256 (randomized: check that it verifies). The Ed25519 key is fixed (seed = SHA-256(\"chat-v2-vector alice ed25519\")); Ed25519 is deterministic, so signatures must match exactly.",
    "room": ROOM,
    "member": MEMBER,
    "chain_id_hex": h(CHAIN_ID),
    "created": CREATED,
    "chain_key_0_hex": h(ck0),
    "ed25519_public_hex": h(signing_pub),
    "ed25519_pkcs8_hex": h(signing_pkcs8),
    "certificate_input_parts": cert_parts,
    "certificate_input_hex": h(cert_input),
    "certificate_b64": base64.b64encode(certificate).decode(),
    "distribution_hex": h(distribution),
    "sender_state_0_hex": h(sender_state(0, ck0)),
    "sender_state_3_hex": h(sender_state(3, ck)),
    "messages": room_messages,
    "receiver_state_after_r2_r0_hex": h(receiver_after),
}

# ---- wire frames (docs/PROTOCOL.md sections 2, 6 and 7) ----
#
# A first conversation as the client builds it: bob publishes his prekeys,
# alice looks up his bundle, starts the session of session_start.json (with
# its one-time prekey) and sends a text with the start attached; bob's
# receipt answers it; alice's next text goes without the start. Every frame
# is a u32 big-endian length and compact UTF-8 JSON (JSON.stringify's form:
# no spaces, members in the order the client or relay writes them).

def b64(b):
    return base64.b64encode(b).decode()


def compact(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def framed(value):
    payload = compact(value)
    return {"value": value, "frame_hex": h(u32(len(payload)) + payload)}


def relayed(sender, payload, n):
    """The relay's msg: prefix || the send payload as it arrived || suffix."""
    prefix = b'{"type":"msg","from":' + compact(sender) + b',"m":'
    suffix = b',"n":' + str(n).encode() + b"}"
    body = prefix + payload + suffix
    return {
        "n": n,
        "prefix_hex": h(prefix),
        "suffix_hex": h(suffix),
        "frame_hex": h(u32(len(body)) + body),
    }


def public_keys(name):
    with open(os.path.join(ROOT, "tests", "fixtures", "keys", name + ".json")) as f:
        d = json.load(f)
    return d["sign"], d["kx"]


BOB_SIGN, BOB_KX = public_keys("bob")
assert base64.b64decode(BOB_SIGN) == bob_sign.public_key().public_bytes(
    serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
opk2 = fixed_x25519("bob opk 2")
OPK2_ID = 0x05060708
spk_record = {
    "id": SPK_ID,
    "created": SPK_CREATED,
    "pub": b64(pub(spk)),
    "signature": session_start["spk"]["signature_b64"],
}
prekeys_upload = framed({
    "type": "prekeys",
    "spk": spk_record,
    "opks": [{"id": OPK_ID, "pub": b64(pub(opk))}, {"id": OPK2_ID, "pub": b64(pub(opk2))}],
})
prekey_count = framed({"type": "prekey_count", "spk": SPK_ID, "opks": 2})
LOOKUP_ID = "6c0f3b2a9d8e7f10"
lookup_frame = framed({"type": "lookup", "name": TO, "id": LOOKUP_ID, "bundle": True})
keys_frame = framed({
    "type": "keys",
    "name": TO,
    "sign": BOB_SIGN,
    "kx": BOB_KX,
    "id": LOOKUP_ID,
    "spk": spk_record,
    "opk": {"id": OPK_ID, "pub": b64(pub(opk))},
})

# The content inside the ciphertext (docs/PROTOCOL.md section 7.4): a header
# line, compact JSON as JSON.stringify writes the client's objects (members in
# this order, no "text"), a newline, then the text's UTF-8 bytes as they are
# (empty for a receipt).


def content_bytes(value):
    head = {k: v for k, v in value.items() if k != "text"}
    return compact(head) + b"\n" + value.get("text", "").encode("utf-8")

EPOCH = "3a5c7e9b1d2f4a6c"  # alice's epoch in her conversation with bob
text_1 = {"t": "text", "e": EPOCH, "s": 1, "ts": TS, "text": "selam bob, nasılsın?"}
receipt_1 = {"t": "receipt", "e": EPOCH, "upto": 1, "missing": []}
text_2 = {"t": "text", "e": EPOCH, "s": 2, "ts": TS + 60_000, "text": "\"quoted\"\nsecond line"}
action = {"t": "action", "e": EPOCH, "s": 3, "ts": TS + 120_000, "text": "waves"}
receipt_gaps = {"t": "receipt", "e": EPOCH, "upto": 9, "missing": [[2, 3], [7, 7]]}
content = {
    name: {"value": value, "text": content_bytes(value).decode("utf-8"), "hex": h(content_bytes(value))}
    for name, value in [("text", text_1), ("receipt", receipt_1), ("text_2", text_2),
                        ("action", action), ("receipt_with_missing", receipt_gaps)]
}

start_fields = {
    "ek": b64(pub(ek)),
    "spk": SPK_ID,
    "opk": OPK_ID,
    "wrapped": session_start["wrapped_b64"],
    "ts": TS,
    "signature": with_opk["signature_b64"],
}
AW = [fixed_x25519(f"alice wire ratchet {i}") for i in (1, 2)]
BW = [fixed_x25519(f"bob wire ratchet {i}") for i in (1, 2)]
wire_alice = Party.alice(SK, pub(spk), AW)
wire_bob = Party.bob(SK, spk, BW)


def wire_message(sender, receiver, msg_id, value, start, n):
    to = receiver.name
    m = sender.encrypt(msg_id, to, content_bytes(value).decode("utf-8"))
    receiver.decrypt(m)
    header = bytes.fromhex(m["header_hex"])
    send = {
        "type": "send",
        "id": msg_id,
        "to": to,
        "session": b64(session_id),
        "dh": b64(header[:32]),
        "pn": m["header"]["pn"],
        "n": m["header"]["n"],
        "ct": b64(bytes.fromhex(m["ciphertext_hex"])),
        "mac": b64(bytes.fromhex(m["mac_hex"])),
    }
    if start:
        send["start"] = start
    frame = framed(send)
    m["plaintext_hex"] = h(m["plaintext"].encode("utf-8"))
    return {
        "message": m,
        "send": frame,
        "msg": relayed(sender.name, compact(send), n),
        "ack": framed({"type": "ack", "upto": n}),
    }


first = wire_message(wire_alice, wire_bob, "5f1e2d3c4b5a6978", text_1, start_fields, 1)
receipt = wire_message(wire_bob, wire_alice, "0a1b2c3d4e5f6071", receipt_1, None, 1)
later = wire_message(wire_alice, wire_bob, "8899aabbccddeeff", text_2, None, 2)

wire = {
    "description": "Protocol 2 frames as the client and relay build them (docs/PROTOCOL.md sections 6 and 7): each frame is a u32 big-endian length and compact UTF-8 JSON, members in the order given. bob publishes prekeys (the SPK and OPK of session_start.json and a second OPK); alice looks up his bundle; her first send carries the session start of session_start.json (with OPK: its wrapped secret and signature) and the content JSON of a text sealed by the Double Ratchet on that session's SK; bob answers with a receipt; her next send has no start. Ratchet key pairs are fixed (alice_ratchet_keys, bob_ratchet_keys, used in order), so every ciphertext and MAC is deterministic given the start. msg is the relay's frame for each send: prefix || the send payload as it arrived || suffix.",
    "from": FROM,
    "to": TO,
    "session_id_hex": h(session_id),
    "sk_hex": h(SK),
    "alice_ratchet_keys": [x25519_json(k) for k in AW],
    "bob_ratchet_keys": [x25519_json(k) for k in BW],
    "opk_2": {"id": OPK2_ID, **x25519_json(opk2)},
    "prekeys": prekeys_upload,
    "prekey_count": prekey_count,
    "lookup": lookup_frame,
    "keys": keys_frame,
    "content": content,
    "first": first,
    "receipt": receipt,
    "later": later,
    "nack": framed({"type": "nack", "to": FROM, "id": later["send"]["value"]["id"], "code": "unknown_session"}),
    "relayed_nack": framed({"type": "nack", "id": later["send"]["value"]["id"], "from": TO, "code": "unknown_session"}),
}

for name, data in [("session_start", session_start), ("ratchet", ratchet), ("sender_key", sender_key), ("wire", wire)]:
    with open(os.path.join(HERE, name + ".json"), "w") as f:
        json.dump(data, f, indent=1, ensure_ascii=False)
        f.write("\n")
print("wrote session_start.json, ratchet.json, sender_key.json, wire.json")
