"""TLS for the HTTP listener: the server context, its certificate, and the SNI names seen.

A sinkhole answers bots that dial names it has just seized, so no public CA
certificate matches them; bots that check certificates are lost either way.
Without a configured pair (``tls_cert``/``tls_key``) the sinkhole makes a
self-signed one under ``<data>/tls`` on first start (key 0600) and reuses it.
The SNI name of every hello is remembered, so the request's event can carry it.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import ssl
import weakref
from pathlib import Path
from typing import Any

from sinkhole.exceptions import SinkholeError


class TlsError(SinkholeError):
    """The TLS listener could not get a certificate."""


#: SNI names by TLS connection (ssl object), filled by the context's sni_callback.
_SNI: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


def _remember_sni(sslobj: Any, name: str | None, context: ssl.SSLContext) -> None:
    if name:
        _SNI[sslobj] = name.lower().rstrip(".")


def sni_of(sslobj: Any) -> str | None:
    """The SNI name the client sent on this TLS connection (lower case, no final dot)."""
    return _SNI.get(sslobj) if sslobj is not None else None


def tls_context(
    data_dir: Path, cert: Path | None = None, key: Path | None = None
) -> ssl.SSLContext:
    """A server TLS context: the given certificate, or a self-signed one kept under data_dir/tls."""
    if cert is None:
        cert, key = self_signed(Path(data_dir) / "tls")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise TlsError(f"cannot load the TLS certificate {cert}: {exc}") from None
    context.sni_callback = _remember_sni
    context.set_alpn_protocols(["http/1.1"])
    return context


def self_signed(folder: Path) -> tuple[Path, Path]:
    """(certificate, key) under `folder`, created on first use (key 0600), reused after."""
    cert, key = folder / "sinkhole.crt", folder / "sinkhole.key"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        # workers start together: one creates the pair, the others wait and reuse it
        with open(folder / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not (cert.exists() and key.exists()):
                _write_self_signed(cert, key)
    except OSError as exc:
        raise TlsError(f"cannot create a TLS certificate in {folder}: {exc.strerror}") from None
    return cert, key


def _write_self_signed(cert: Path, key: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sinkhole")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("sinkhole.invalid")]), False)
        .sign(private, hashes.SHA256())
    )
    key_bytes = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    for path, data, mode in (
        (key, key_bytes, 0o600),
        (cert, certificate.public_bytes(serialization.Encoding.PEM), 0o644),
    ):
        tmp = path.with_name(f".{path.name}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
