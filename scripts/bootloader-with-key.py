#!/usr/bin/env python3
"""A firm's own build of Nordic's debug bootloader, from the SDK's prebuilt test image: the
64-byte `pk[64]` of dfu_public_key.c (reverse(X) || reverse(Y), as `nrfutil keys display
--format code` prints it) is replaced by the public key of a PEM file, every other byte kept.
The SDK's test images trust a key whose private half Nordic does not ship; the patched copy
trusts the rig's test key (firmware/keys/), the key `rig pkg generate` signs with by default.

    scripts/bootloader-with-key.py IN.hex firmware/keys/rig-test-public.pem OUT.hex

The key to replace is found as the one 4-aligned P-256 point in the image that is not the
curve's generator (micro-ecc keeps G in flash too). Do not commit Nordic's images.
"""
import base64
import sys

P = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF
B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B
GX = 0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296


def on_curve(x, y):
    return x < P and y < P and (y * y - (x ** 3 - 3 * x + B)) % P == 0


def pem_pk64(text):
    body = "".join(l for l in text.splitlines() if l and not l.startswith("-----"))
    der = base64.b64decode(body)
    # SubjectPublicKeyInfo (or SEC1 private key): the uncompressed point 04 || X || Y.
    i = der.rfind(b"\x03\x42\x00\x04")
    if i < 0:
        sys.exit("the PEM holds no uncompressed P-256 public key")
    x, y = der[i + 4:i + 36], der[i + 36:i + 68]
    if not on_curve(int.from_bytes(x, "big"), int.from_bytes(y, "big")):
        sys.exit("the PEM's public key is not a P-256 point")
    return x[::-1] + y[::-1]


def read_hex(path):
    """Records as [type, absolute address, bytearray] (data records only get an address)."""
    records, base = [], 0
    for n, line in enumerate(open(path), 1):
        line = line.strip()
        if not line:
            continue
        if not line.startswith(":"):
            sys.exit(f"{path}:{n}: not an Intel HEX record")
        raw = bytes.fromhex(line[1:])
        if sum(raw) & 0xFF:
            sys.exit(f"{path}:{n}: bad checksum")
        length, addr, kind, data = raw[0], raw[1] << 8 | raw[2], raw[3], bytearray(raw[4:4 + raw[0]])
        if kind == 4:
            base = int.from_bytes(data, "big") << 16
        elif kind == 2:
            base = int.from_bytes(data, "big") << 4
        records.append([kind, addr, base + addr, data])
    return records


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    src, pem, dst = sys.argv[1:]
    new = pem_pk64(open(pem).read())
    records = read_hex(src)
    mem = {}
    for kind, _, at, data in records:
        if kind == 0:
            for i, b in enumerate(data):
                mem[at + i] = b
    found = []
    for start in sorted(a for a in mem if a % 4 == 0):
        if not all((start + i) in mem for i in range(64)):
            continue
        chunk = bytes(mem[start + i] for i in range(64))
        x, y = int.from_bytes(chunk[:32], "little"), int.from_bytes(chunk[32:], "little")
        if x != GX and on_curve(x, y):
            found.append(start)
    if len(found) != 1:
        sys.exit(f"{src}: expected one public key in the image, found {len(found)} ({[hex(a) for a in found]})")
    at = found[0]
    for i, b in enumerate(new):
        mem[at + i] = b
    with open(dst, "w") as out:
        for kind, addr, start, data in records:
            if kind == 0:
                data = bytearray(mem[start + i] for i in range(len(data)))
            raw = bytes([len(data), addr >> 8, addr & 0xFF, kind]) + bytes(data)
            out.write(":" + (raw + bytes([(-sum(raw)) & 0xFF])).hex().upper() + "\n")
    print(f"{dst}: pk[64] at {at:#x} replaced by {pem}'s key", file=sys.stderr)


if __name__ == "__main__":
    main()
