"""Sending the built messages over SMTP, each at most once, with the ledger as the witness.

One SMTP transaction per report, on one connection that is opened again when
the server drops it. The ledger is written at the two moments that matter
(``sending`` before MAIL FROM, ``data-end`` just before the end-of-data mark),
so a crash or a cut connection leaves a state that says what the server can
have: before ``data-end`` it has nothing and the report is sent again; after
it, the report is ``uncertain`` and is not sent again unless asked. A server
that hangs up (or answers) before the end-of-data mark leaves this run's try
``deferred``: the mark never reached it, so it cannot have taken the message.

A 5xx reply refuses the report for good (``refused``, the reply kept); a 4xx
reply or a lost connection is retried with exponential back-off, then left
``deferred`` for the next run. Messages are paced (``rate`` per second), and a
recipient that got a message less than ``contact_gap`` seconds ago is
deferred, so daily runs never flood one abuse desk.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import re
import select
import smtplib
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sinkhole.exceptions import SinkholeError
from sinkhole.notify.ledger import SENDABLE, Entry, Ledger


class DeliveryError(SinkholeError):
    """The SMTP server cannot be used at all (connection set-up, TLS, login)."""


@dataclass(frozen=True)
class Server:
    """Where and how to hand messages over."""

    host: str
    port: int
    sender: str
    starttls: bool = False
    user: str | None = None
    password: str | None = None
    cafile: Path | None = None
    timeout: float = 30.0

    def check(self) -> Server:
        """Refuse a password over a connection nobody encrypts, except on loopback."""
        if self.user is not None and not self.starttls:
            try:
                local = ipaddress.ip_address(self.host).is_loopback
            except ValueError:
                local = self.host == "localhost"
            if not local:
                raise DeliveryError(
                    f"--user for {self.host}: a password is only sent after --starttls"
                )
        return self


@dataclass(frozen=True)
class Pace:
    """How fast and how often."""

    rate: float = 5.0  # messages per second, at most
    contact_gap: float = 20 * 3600.0  # seconds between two messages to one recipient
    retries: int = 3  # further tries after a temporary failure
    backoff: float = 2.0  # seconds before the first retry, doubled each time


class _TemporaryError(Exception):
    """A failure worth another try."""


class _UnknownError(Exception):
    """The connection ended after the message was handed over."""


_PERIODS = re.compile(rb"(?m)^\.")


class _Connection:
    def __init__(self, server: Server) -> None:
        self.server = server
        self.smtp: smtplib.SMTP | None = None
        self.failures = 0  # connections that could not be set up, in a row
        self.why = ""

    def open(self) -> smtplib.SMTP:
        if self.smtp is not None:
            return self.smtp
        try:
            smtp = self._open()
        except _TemporaryError as exc:
            self.failures += 1
            self.why = str(exc)
            raise
        self.failures = 0
        return smtp

    def _open(self) -> smtplib.SMTP:
        server = self.server
        try:
            smtp = smtplib.SMTP(server.host, server.port, timeout=server.timeout)
        except (OSError, smtplib.SMTPException) as exc:
            raise _TemporaryError(f"cannot connect to {server.host}:{server.port}: {exc}") from None
        try:
            # the end-of-data mark goes out alone, after the ledger's write: without this,
            # Nagle holds it for the ACK that the server delays (about 40 ms a message)
            if smtp.sock is not None:
                smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            smtp.ehlo()
            if server.starttls:
                if not smtp.has_extn("starttls"):
                    raise DeliveryError(f"{server.host}:{server.port} does not offer STARTTLS")
                context = ssl.create_default_context(
                    cafile=str(server.cafile) if server.cafile else None
                )
                smtp.starttls(context=context)
                smtp.ehlo()
            if server.user is not None:
                smtp.login(server.user, server.password or "")
        except smtplib.SMTPAuthenticationError as exc:
            smtp.close()
            refused = _reply(exc.smtp_code, exc.smtp_error)
            raise DeliveryError(f"{server.host}: login refused: {refused}") from None
        except ssl.SSLError as exc:
            smtp.close()
            raise DeliveryError(f"{server.host}: TLS failed: {exc.reason or exc}") from None
        except (OSError, smtplib.SMTPException) as exc:
            smtp.close()
            raise _TemporaryError(f"{server.host}: {exc}") from None
        self.smtp = smtp
        return smtp

    def drop(self) -> None:
        if self.smtp is not None:
            with contextlib.suppress(OSError):
                self.smtp.close()
            self.smtp = None

    def quit(self) -> None:
        if self.smtp is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self.smtp.quit()
            self.smtp = None


def _reply(code: int, text: bytes | str) -> str:
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {' '.join(words.split())}"[:500]


def _transaction(conn: _Connection, ledger: Ledger, entry: Entry, data: bytes) -> tuple[str, str]:
    """Hand one message over; returns (state, the server's reply)."""
    smtp = conn.open()
    ledger.mark(entry.report_id, "sending", attempt=True)
    try:
        code, text = smtp.mail(conn.server.sender)
        if code == 250:
            code, text = smtp.rcpt(entry.recipient)
        if code in (250, 251):
            code, text = smtp.docmd("DATA")
        if code != 354:
            smtp.rset()
            return _verdict(code, text)
        body = _PERIODS.sub(b"..", data)
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        smtp.send(body)
    except (OSError, smtplib.SMTPException) as exc:
        conn.drop()
        raise _TemporaryError(f"connection lost before the message was complete: {exc}") from None
    ledger.mark(entry.report_id, "data-end")
    try:
        early = _spoke_early(smtp)
        if early:
            # the server answered (or hung up) before the end of data: it did not take it
            code, text = smtp.getreply()
            conn.drop()
            state, reply = _verdict(code, text)
            return ("refused" if state == "refused" else "deferred"), reply
        smtp.send(b".\r\n")
    except (OSError, smtplib.SMTPException) as exc:
        conn.drop()
        raise _TemporaryError(f"connection lost before the end of the message: {exc}") from None
    try:
        code, text = smtp.getreply()
    except (OSError, smtplib.SMTPException) as exc:
        conn.drop()
        raise _UnknownError(f"connection lost after the message was handed over: {exc}") from None
    return _verdict(code, text)


def _spoke_early(smtp: smtplib.SMTP) -> bool:
    """Whether the server sent a reply or closed before it was sent the end-of-data mark.

    A peek that does not wait, on plain connections (a TLS socket cannot peek without
    reading a record; there the mark is sent as usual): a reset raises, a close reads
    as empty, a reply is pending; nothing at all is the normal case.
    """
    sock = smtp.sock
    if sock is None:
        raise smtplib.SMTPServerDisconnected("not connected")
    if isinstance(sock, ssl.SSLSocket):
        return False
    # a socket with a time-out waits in recv even with MSG_DONTWAIT: ask poll first
    # (poll, not select: select fails on descriptors past 1023)
    poller = select.poll()
    poller.register(sock, select.POLLIN | select.POLLPRI)
    if not poller.poll(0):
        return False
    pending = sock.recv(1, socket.MSG_PEEK)
    if not pending:
        raise smtplib.SMTPServerDisconnected("the server closed the connection")
    return True


def _verdict(code: int, text: bytes) -> tuple[str, str]:
    reply = _reply(code, text)
    if 200 <= code < 300:
        return "sent", reply
    if 500 <= code < 600:
        return "refused", reply
    if code == -1:  # smtplib's word for a connection that closed
        raise _TemporaryError(f"connection lost: {reply}")
    return "deferred", reply


def deliver(
    ledger: Ledger,
    server: Server,
    pace: Pace,
    resend_uncertain: bool = False,
    say: Callable[[str], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, int]:
    """Send every report the ledger holds as sendable; returns how many ended in each state."""
    say = say or (lambda _text: None)
    outcome: dict[str, int] = {}
    for entry in ledger.entries():
        if entry.state == "data-end":
            outcome["uncertain"] = outcome.get("uncertain", 0) + 1
            ledger.mark(
                entry.report_id,
                "uncertain",
                "the connection ended after the message was handed over: not sent again "
                "(--resend-uncertain sends it)",
            )
    states = (*SENDABLE, "uncertain") if resend_uncertain else SENDABLE
    queue = [e for e in ledger.entries() if e.state in states and e.recipient]
    conn = _Connection(server.check())
    last = 0.0
    try:
        for entry in queue:
            if conn.failures > pace.retries:
                # the server could not be reached through a whole round of retries: the rest
                # waits for the next run instead of each waiting out its own time-outs
                ledger.mark(entry.report_id, "deferred", f"{conn.why}; left for the next run")
                outcome["deferred"] = outcome.get("deferred", 0) + 1
                continue
            previous = ledger.last_sent_to(entry.recipient)
            if previous is not None and pace.contact_gap > 0:
                then = dt.datetime.fromisoformat(previous.replace("Z", "+00:00"))
                wait = then + dt.timedelta(seconds=pace.contact_gap)
                if dt.datetime.now(dt.UTC) < wait:
                    ledger.mark(
                        entry.report_id,
                        "deferred",
                        f"rate limit: {entry.recipient} had a message at {previous}; "
                        f"next after {wait.strftime('%Y-%m-%dT%H:%M:%SZ')}",
                    )
                    outcome["deferred"] = outcome.get("deferred", 0) + 1
                    continue
            try:
                data = (Path(entry.folder) / "message.eml").read_bytes()
            except OSError as exc:
                ledger.mark(entry.report_id, "deferred", f"cannot read message.eml: {exc.strerror}")
                outcome["deferred"] = outcome.get("deferred", 0) + 1
                continue
            state = _send_one(conn, ledger, entry, data, pace, sleep, last)
            last = time.monotonic()
            outcome[state] = outcome.get(state, 0) + 1
            say(f"{entry.recipient}: {state}")
    finally:
        conn.quit()
    return outcome


def _send_one(
    conn: _Connection,
    ledger: Ledger,
    entry: Entry,
    data: bytes,
    pace: Pace,
    sleep: Callable[[float], None],
    last: float,
) -> str:
    """Try one report up to 1 + retries times; the ledger holds the outcome."""
    delay = pace.backoff
    for attempt in range(pace.retries + 1):
        gap = 1.0 / pace.rate - (time.monotonic() - last) if pace.rate > 0 else 0.0
        if gap > 0:
            sleep(gap)
        try:
            state, reply = _transaction(conn, ledger, entry, data)
        except _UnknownError as exc:
            ledger.mark(entry.report_id, "uncertain", str(exc))
            return "uncertain"
        except _TemporaryError as exc:
            state, reply = "deferred", str(exc)
        if state != "deferred":
            ledger.mark(entry.report_id, state, reply)
            return state
        if attempt < pace.retries:
            ledger.mark(entry.report_id, "deferred", f"{reply}; retry in {delay:g} s")
            sleep(delay)
            delay *= 2
            last = 0.0
    ledger.mark(entry.report_id, "deferred", f"{reply}; left for the next run")
    return "deferred"
