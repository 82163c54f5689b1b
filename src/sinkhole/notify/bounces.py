"""Delivery-status notifications (RFC 3464) read back into the ledger.

A bounce that arrives later, as mail, says which message failed: its returned
headers (``message/rfc822`` or ``text/rfc822-headers``) carry our Message-ID
and ``X-Sinkhole-Report``. ``notify --bounces FILE`` reads mbox files, single
messages (``.eml``) and Maildir folders; a report named by a DSN whose action
is ``failed`` becomes ``bounced`` with the status and diagnostic; ``delayed``
is noted in its history only. Messages that are not DSNs, or name no report
of ours, are counted and skipped.
"""

from __future__ import annotations

import email
import email.policy
import mailbox
from collections.abc import Iterator
from email.message import Message
from pathlib import Path

from sinkhole.exceptions import SinkholeError
from sinkhole.notify.ledger import Ledger


class BounceError(SinkholeError):
    """A bounce file cannot be read."""


def _messages(path: Path) -> Iterator[Message]:
    if path.is_dir():
        if not (path / "cur").is_dir() and not (path / "new").is_dir():
            raise BounceError(f"{path}: a folder, but not a Maildir (no cur/ or new/)")
        yield from mailbox.Maildir(path, factory=None, create=False)
        return
    try:
        head = path.read_bytes()[:5]
    except OSError as exc:
        raise BounceError(f"{path}: cannot read: {exc.strerror}") from None
    if head == b"From ":
        yield from mailbox.mbox(path, create=False)
    else:
        with path.open("rb") as handle:
            yield email.message_from_binary_file(handle, policy=email.policy.default)


def _returned(msg: Message) -> tuple[list[str], list[dict[str, str]]]:
    """(the ids our returned headers carry, the per-recipient status fields)."""
    ids: list[str] = []
    recipients: list[dict[str, str]] = []
    for part in msg.walk():
        kind = part.get_content_type()
        if kind in ("message/rfc822", "text/rfc822-headers"):
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                inner = payload[0]
            else:
                raw = part.get_payload(decode=True) or b""
                inner = email.message_from_bytes(raw if isinstance(raw, bytes) else b"")
            for name in ("X-Sinkhole-Report", "Message-ID"):
                value = inner.get(name)
                if value:
                    ids.append(str(value).strip())
        elif kind == "message/delivery-status":
            payload = part.get_payload()
            blocks = payload if isinstance(payload, list) else []
            for block in blocks[1:]:  # the first block is per message, the rest per recipient
                if isinstance(block, Message):
                    recipients.append({k.lower(): str(v) for k, v in block.items()})
    return ids, recipients


def apply(book: Ledger, paths: list[Path]) -> dict[str, int]:
    """Read DSNs from `paths` into the ledger; returns counts."""
    counts = {"bounced": 0, "delayed": 0, "not_ours": 0, "not_dsn": 0}
    by_id = {e.report_id: e for e in book.entries()}
    by_message = {e.message_id: e for e in by_id.values()}
    for path in paths:
        for msg in _messages(Path(path)):
            if msg.get_content_type() != "multipart/report":
                counts["not_dsn"] += 1
                continue
            ids, recipients = _returned(msg)
            entry = next(
                (by_id.get(i) or by_message.get(i) for i in ids if i in by_id or i in by_message),
                None,
            )
            if entry is None:
                counts["not_ours"] += 1
                continue
            actions = [r.get("action", "").lower() for r in recipients]
            detail = "; ".join(
                f"{r.get('final-recipient', '?')}: {r.get('status', '?')} "
                f"{' '.join(r.get('diagnostic-code', '').split())}".strip()
                for r in recipients
            )[:500]
            if "failed" in actions:
                book.mark(entry.report_id, "bounced", detail or "failed")
                counts["bounced"] += 1
            else:
                book.mark(entry.report_id, entry.state, f"delivery status: {detail or 'delayed'}")
                counts["delayed"] += 1
    return counts
