"""Just enough X.509 to judge a TLS Secret: PEM blocks, validity dates, key match.

A small DER reader (no third-party crypto): a certificate's ``notBefore``/``notAfter``
and public key, and the public half of an RSA or EC private key, so that an expired
certificate or a key that belongs to another certificate is reported without
``cryptography``. Nothing here returns or prints key material: only dates, names and
yes/no answers leave this module.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from dataclasses import dataclass

_PEM = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----\s*(.*?)\s*-----END \1-----", re.S)
_RSA_OID = bytes.fromhex("2a864886f70d010101")  # 1.2.840.113549.1.1.1 rsaEncryption
_EC_OID = bytes.fromhex("2a8648ce3d0201")  # 1.2.840.10045.2.1 id-ecPublicKey
_CN_OID = bytes.fromhex("550403")  # 2.5.4.3 commonName


class DerError(ValueError):
    """Not the DER structure expected."""


@dataclass(frozen=True)
class Certificate:
    not_before: dt.datetime
    not_after: dt.datetime
    subject: str  # the common name, or "" when it has none
    public_key: bytes  # an RSA modulus or an EC point: what a private key is compared with
    key_type: str  # "rsa", "ec" or "other"

    def days_left(self, now: dt.datetime) -> float:
        return (self.not_after - now).total_seconds() / 86400


def pem_blocks(data: bytes) -> list[tuple[str, bytes]]:
    """(label, DER bytes) of every PEM block; a block that is not base64 raises DerError."""
    out = []
    for match in _PEM.finditer(data):
        try:
            der = base64.b64decode(b"".join(match.group(2).split()), validate=True)
        except (binascii.Error, ValueError):
            raise DerError(f"the {match.group(1).decode()} block is not valid base64") from None
        out.append((match.group(1).decode(), der))
    return out


def _tlv(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, start of content, end of content) of the element at ``pos``."""
    if pos + 2 > len(data):
        raise DerError("truncated")
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or pos + count > len(data):
            raise DerError("bad length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    end = pos + length
    if end > len(data):
        raise DerError("truncated")
    return tag, pos, end


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    out = []
    pos = start
    while pos < end:
        tag, content, stop = _tlv(data, pos)
        out.append((tag, content, stop))
        pos = stop
    return out


def _time(data: bytes, tag: int, start: int, end: int) -> dt.datetime:
    text = data[start:end].decode("ascii", "replace")
    if not text.endswith("Z"):
        raise DerError("time without Z")
    try:
        if tag == 0x17:  # UTCTime YYMMDDHHMMSSZ
            value = dt.datetime.strptime(text, "%y%m%d%H%M%SZ")
        elif tag == 0x18:  # GeneralizedTime YYYYMMDDHHMMSSZ
            value = dt.datetime.strptime(text, "%Y%m%d%H%M%SZ")
        else:
            raise DerError("not a time")
    except ValueError:
        raise DerError(f"bad time {text!r}") from None
    return value.replace(tzinfo=dt.timezone.utc)


def _integer(data: bytes, start: int, end: int) -> bytes:
    return data[start:end].lstrip(b"\x00")


def parse_certificate(der: bytes) -> Certificate:
    tag, start, end = _tlv(der, 0)
    if tag != 0x30:
        raise DerError("not a certificate")
    parts = _children(der, start, end)
    if len(parts) < 3 or parts[0][0] != 0x30:
        raise DerError("not a certificate")
    tbs = _children(der, parts[0][1], parts[0][2])
    if tbs and tbs[0][0] == 0xA0:  # [0] EXPLICIT version
        tbs = tbs[1:]
    if len(tbs) < 6:
        raise DerError("incomplete certificate")
    validity = _children(der, tbs[3][1], tbs[3][2])
    if len(validity) != 2:
        raise DerError("bad validity")
    not_before = _time(der, *validity[0])
    not_after = _time(der, *validity[1])
    subject = _common_name(der, tbs[4][1], tbs[4][2])
    key_type, public_key = _spki(der, tbs[5][1], tbs[5][2])
    return Certificate(not_before, not_after, subject, public_key, key_type)


def _common_name(der: bytes, start: int, end: int) -> str:
    for _, rdn_start, rdn_end in _children(der, start, end):
        for _, attr_start, attr_end in _children(der, rdn_start, rdn_end):
            attr = _children(der, attr_start, attr_end)
            if len(attr) == 2 and der[attr[0][1] : attr[0][2]] == _CN_OID:
                return der[attr[1][1] : attr[1][2]].decode("utf-8", "replace")
    return ""


def _spki(der: bytes, start: int, end: int) -> tuple[str, bytes]:
    parts = _children(der, start, end)
    if len(parts) != 2:
        raise DerError("bad public key")
    algorithm = _children(der, parts[0][1], parts[0][2])
    oid = der[algorithm[0][1] : algorithm[0][2]] if algorithm else b""
    bits = der[parts[1][1] + 1 : parts[1][2]]  # skip the unused-bits byte
    if oid == _RSA_OID:
        tag, s, e = _tlv(bits, 0)
        numbers = _children(bits, s, e)
        return "rsa", _integer(bits, numbers[0][1], numbers[0][2])
    if oid == _EC_OID:
        return "ec", bits
    return "other", bits


def private_public_key(label: str, der: bytes) -> tuple[str, bytes | None]:
    """The public half of a private key: ("rsa", modulus), ("ec", point), or (type, None)
    when the key does not carry it (an encrypted key, an EC key without its point)."""
    tag, start, end = _tlv(der, 0)
    parts = _children(der, start, end)
    if label == "RSA PRIVATE KEY":
        return "rsa", _integer(der, parts[1][1], parts[1][2])
    if label == "EC PRIVATE KEY":
        return "ec", _ec_point(der, parts)
    if label == "PRIVATE KEY":  # PKCS#8: version, algorithm, OCTET STRING key
        algorithm = _children(der, parts[1][1], parts[1][2])
        oid = der[algorithm[0][1] : algorithm[0][2]]
        inner = der[parts[2][1] : parts[2][2]]
        if oid == _RSA_OID:
            return private_public_key("RSA PRIVATE KEY", inner)
        if oid == _EC_OID:
            return private_public_key("EC PRIVATE KEY", inner)
        return "other", None
    return "other", None


def _ec_point(der: bytes, parts: list[tuple[int, int, int]]) -> bytes | None:
    for tag, start, end in parts:
        if tag == 0xA1:  # [1] publicKey BIT STRING
            _, s, e = _tlv(der, start)
            return der[s + 1 : e]
    return None


def check_key_pair(cert_pem: bytes, key_pem: bytes) -> tuple[list[Certificate], str | None]:
    """The certificates of a TLS Secret, and what is wrong with the pair (None: nothing seen).

    Raises DerError when the PEM or DER cannot be read at all.
    """
    blocks = pem_blocks(cert_pem)
    certs = [parse_certificate(der) for label, der in blocks if label == "CERTIFICATE"]
    if not certs:
        raise DerError("no CERTIFICATE block")
    keys = [(label, der) for label, der in pem_blocks(key_pem) if label.endswith("PRIVATE KEY")]
    if not keys:
        raise DerError("no PRIVATE KEY block")
    label, der = keys[0]
    if label == "ENCRYPTED PRIVATE KEY":
        return certs, "the private key is encrypted (Envoy cannot read it)"
    key_type, public = private_public_key(label, der)
    leaf = certs[0]
    if public is not None and leaf.key_type == key_type and public != leaf.public_key:
        return certs, "the private key does not belong to the certificate"
    if key_type in ("rsa", "ec") and leaf.key_type in ("rsa", "ec") and key_type != leaf.key_type:
        return certs, f"the private key is {key_type.upper()} but the certificate's key is {leaf.key_type.upper()}"
    return certs, None
