"""What the chaos and soak drivers share: secrets of the right shape that no
one holds (base62 with tokenscope's CRC32 checksum), so each is a store read."""

import random, zlib

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def unknown_secret():
    body = "tks_" + "".join(random.choice(ALPHABET) for _ in range(27))
    value, digits = zlib.crc32(body.encode()), []
    for _ in range(6):
        digits.append(ALPHABET[value % 62])
        value //= 62
    return body + "".join(reversed(digits))
