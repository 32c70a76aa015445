#!/usr/bin/env python3
"""The login vector of docs/PROTOCOL.md section 8.3 (protocol 2 with the
certificate binding), computed by an implementation independent of crypto/
(Python, pyca/cryptography). Writes login.json next to this file:
`python3 tests/vectors/v2/login.py`.

The binding is SHA-256 of the DER bytes of tests/fixtures/tls/cert.pem (the
test certificate the suite's relays serve), or 32 zero bytes over plain
TCP. RSA-PSS is randomized: check the signed bytes, and that the given
signature verifies. The RSA key is the fixture identity alice (3072 bits).
"""

import base64
import hashlib
import json
import os
import struct

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))


def u16str(s):
    b = s.encode("utf-8")
    return struct.pack(">H", len(b)) + b


def main():
    with open(os.path.join(ROOT, "tests", "fixtures", "keys", "alice.json")) as f:
        alice = json.load(f)
    sign = serialization.load_der_private_key(base64.b64decode(alice["sign_private"]), None)
    with open(os.path.join(ROOT, "tests", "fixtures", "tls", "cert.pem"), "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    der = cert.public_bytes(serialization.Encoding.DER)
    label = b"chat-login-v2\0"
    nonce = bytes(range(0x40, 0x60))
    cases = []
    for what, binding in [
        ("tls", hashlib.sha256(der).digest()),
        ("plain", bytes(32)),
    ]:
        name = "alice"
        data = label + nonce + binding + u16str(name)
        sig = sign.sign(
            data,
            padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
            hashes.SHA256(),
        )
        cases.append({
            "transport": what,
            "name": name,
            "challenge_hex": nonce.hex(),
            "binding_hex": binding.hex(),
            "signature_input_parts": {
                'label "chat-login-v2\\0"': label.hex(),
                "challenge": nonce.hex(),
                "binding": binding.hex(),
                "u16str(name)": u16str(name).hex(),
            },
            "signature_input_hex": data.hex(),
            "signature_b64": base64.b64encode(sig).decode(),
        })
    out = {
        "description": "alice's answer to a login challenge (docs/PROTOCOL.md 8.3): RSA-PSS-SHA256 (32-byte salt) by alice's sign key over signature_input, bound to the relay's certificate (tls: SHA-256 of tests/fixtures/tls/cert.pem in DER) or to none (plain: 32 zero bytes).",
        "certificate_sha256": hashlib.sha256(der).hexdigest(),
        "cases": cases,
    }
    with open(os.path.join(HERE, "login.json"), "w") as f:
        json.dump(out, f, indent=2)
        f.write("\n")


main()
