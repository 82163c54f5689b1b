"""The e-mail to one contact: text from editable templates, the report files attached.

Templates are `string.Template` texts (``$name``): ``subject.txt`` and
``body.txt``, shipped in the package (``sinkhole/data/notify/``) and replaced
one by one by files of the same name in ``--templates DIR`` (or the
operation's ``[notify] templates``). A placeholder the template names but we do
not know is one clear error naming the file and the key, before anything is
built. Placeholders: $contact, $org, $operation, $addresses, $address_word,
$first_seen, $last_seen, $days, $families, $networks, $files, $report_id,
$from, $reply_to.

Attachments over 1 MB are gzipped (``name.csv.gz``), and files beyond 10 MB of
attachments in all are held back (named in the text; the files stay in the
contact's folder). The message is written as ``message.eml`` and sent byte for
byte as written.
"""

from __future__ import annotations

import email.policy
import email.utils
import gzip
import string
from dataclasses import dataclass
from email.message import EmailMessage
from importlib.resources import files as package_files
from pathlib import Path
from typing import TYPE_CHECKING

from sinkhole.exceptions import SinkholeError

if TYPE_CHECKING:
    from sinkhole.notify.batch import Report, Reporter

NAMES = ("subject.txt", "body.txt")
GZIP_OVER = 1 << 20
#: Attachments of one message, at most (bytes, after compression).
ATTACH_LIMIT = 10 << 20
PLACEHOLDERS = frozenset(
    [
        "contact",
        "org",
        "operation",
        "addresses",
        "address_word",
        "first_seen",
        "last_seen",
        "days",
        "families",
        "networks",
        "files",
        "report_id",
        "from",
        "reply_to",
    ]
)


class TemplateError(SinkholeError):
    """A notification template cannot be used."""


@dataclass(frozen=True)
class Templates:
    """The subject and body templates, with where each came from."""

    subject: string.Template
    body: string.Template
    where: dict[str, str]

    @classmethod
    def load(cls, folder: Path | None = None) -> Templates:
        """The shipped templates, each replaced by the file of that name in `folder`."""
        if folder is not None and not Path(folder).is_dir():
            raise TemplateError(f"--templates {folder}: not a folder")
        texts: dict[str, string.Template] = {}
        where: dict[str, str] = {}
        for name in NAMES:
            mine = Path(folder) / name if folder is not None else None
            try:
                if mine is not None and mine.is_file():
                    text, where[name] = mine.read_text(encoding="utf-8"), str(mine)
                else:
                    resource = package_files("sinkhole").joinpath(f"data/notify/{name}")
                    text, where[name] = resource.read_text(encoding="utf-8"), f"(shipped) {name}"
            except (OSError, UnicodeDecodeError) as exc:
                raise TemplateError(f"{mine}: cannot read the template: {exc}") from None
            template = string.Template(text)
            if not template.is_valid():
                raise TemplateError(f"{where[name]}: a `$` that starts no placeholder (write $$)")
            unknown = set(template.get_identifiers()) - PLACEHOLDERS
            if unknown:
                raise TemplateError(
                    f"{where[name]}: unknown placeholder ${sorted(unknown)[0]} "
                    f"(known: {', '.join(sorted(PLACEHOLDERS))})"
                )
            texts[name] = template
        return cls(texts["subject.txt"], texts["body.txt"], where)


def _networks(report: Report) -> str:
    lines = []
    for net in report.networks[:20]:
        asn = f"AS{net['asn']}" if net["asn"] else "AS?"
        name = f" {net['as_name']}" if net["as_name"] else ""
        country = f" ({net['country']})" if net["country"] else ""
        lines.append(f"  {asn}{name}{country}: {net['addresses']:,} addresses")
    if len(report.networks) > 20:
        lines.append(f"  … and {len(report.networks) - 20} more networks")
    return "\n".join(lines) or "  (network not known)"


def values(report: Report, reporter: Reporter, attached: list[str]) -> dict[str, str]:
    """The placeholders' values for one report."""
    return {
        "contact": report.contact,
        "org": reporter.org,
        "operation": reporter.operation,
        "addresses": f"{report.addresses:,}",
        "address_word": "address" if report.addresses == 1 else "addresses",
        "first_seen": report.first_seen,
        "last_seen": report.last_seen,
        "days": report.first_day
        if report.first_day == report.last_day
        else f"{report.first_day} to {report.last_day}",
        "families": ", ".join(report.families) or "malware",
        "networks": _networks(report),
        "files": "\n".join(f"  {name}" for name in attached),
        "report_id": report.report_id,
        "from": reporter.address,
        "reply_to": reporter.reply_to or reporter.address,
    }


def render(
    report: Report,
    reporter: Reporter,
    templates: Templates,
    files: list[Path],
    limit: int = ATTACH_LIMIT,
) -> bytes:
    """The message, as the bytes that go on the wire (CRLF line ends).

    Files are attached in order (over 1 MB gzipped) while their total stays under
    `limit`; the rest are named in the text as held back, available on request.
    """
    attachments: list[tuple[str, bytes, str, str]] = []
    held: list[str] = []
    total = 0
    for path in files:
        data = path.read_bytes()
        if path.suffix == ".csv":
            name, kind = path.name, ("text", "csv")
        else:
            name, kind = path.name, ("application", "json")
        if len(data) > GZIP_OVER:
            data = gzip.compress(data, compresslevel=5, mtime=0)
            name, kind = name + ".gz", ("application", "gzip")
        if total + len(data) > limit:
            held.append(f"{path.name} ({len(data) / 1e6:.1f} MB)")
            continue
        total += len(data)
        attachments.append((name, data, *kind))
    listed = [a[0] for a in attachments]
    if held:
        listed.append("held back (over the message size limit), available on request:")
        listed.extend(f"  {name}" for name in held)
    fields = values(report, reporter, listed)
    subject = " ".join(templates.subject.substitute(fields).split())
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = email.utils.formataddr((reporter.org, reporter.address))
    msg["To"] = report.recipient
    if reporter.reply_to:
        msg["Reply-To"] = reporter.reply_to
    msg["Subject"] = subject
    msg["Date"] = email.utils.formatdate(usegmt=True)
    msg["Message-ID"] = report.message_id
    msg["X-Sinkhole-Report"] = report.report_id
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(templates.body.substitute(fields), cte="quoted-printable")
    for name, data, main, sub in attachments:
        if main == "text":
            msg.add_attachment(data.decode("utf-8"), subtype=sub, filename=name, cte="base64")
        else:
            msg.add_attachment(data, maintype=main, subtype=sub, filename=name)
    return msg.as_bytes()
