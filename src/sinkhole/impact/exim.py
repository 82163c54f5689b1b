"""Exim main logs (its own mainlog, or through syslog).

Documented line shapes (the Exim specification, chapter "Log files")::

    2026-12-07 10:15:01 1vABCd-000Abc-7x <= spam@bulk.example H=(pc-1) [192.0.2.10]:50412
        P=esmtp S=1843 id=...
    2026-12-07 10:15:02 H=(pc-2) [192.0.2.11]:50413 F=<a@b.example> rejected RCPT
        <trap@mx.example>: blocked
    2026-12-07 10:15:03 SMTP connection from (pc-3) [192.0.2.12]:50414 I=[198.51.100.1]:25
        (TCP/IP connection count = 1)
    2026-12-07 10:15:04 +0100 [1234] 1vABCe-000Abc-8y <= ...   (log_timezone, pid selector)
    Dec  7 10:15:05 mx exim[1234]: 1vABCf-000Abc-9z <= ...      (log_file_path = syslog)

Message ids are the 16-character form (``1kABCd-0001Xy-Qz``) or the 23-character
one of Exim 4.97 and later. A message is one ``<=`` line received from a
remote host (``H=``; local submissions have none and are not counted); a
rejected message is one ``rejected`` line naming a host (``rejected RCPT``,
``rejected MAIL``, ``rejected after DATA``, ``rejected EHLO``); a connection is
one ``SMTP connection from`` line (logged with the smtp_connection selector).
"""

from __future__ import annotations

import re

from sinkhole.impact.mta import ADDRESS, SYSLOG_TIME, Event, Format, program

MESSAGE_ID = r"[0-9A-Za-z]{6}-[0-9A-Za-z]{6,11}-[0-9A-Za-z]{2,4}"
#: `H=name (helo) [ip]`, `H=(helo) [ip]`, `H=[ip]`
HOST = r"(?:[^\s\[(]+ )?(?:\([^)]*\) )?" + ADDRESS

FORMAT = Format(
    name="exim",
    head=SYSLOG_TIME + r" (?:\S+ " + program(r"exim[\w.-]*") + r")?(?:\[\d+\] )?",
    events=(
        Event("message", (" <= ",), MESSAGE_ID + r" <= .*? H=" + HOST),
        Event("reject", (" rejected ",), r"(?:" + MESSAGE_ID + r" )?H=" + HOST + r".*? rejected "),
        Event("connect", ("SMTP connection from ",), r"SMTP connection from " + HOST),
    ),
    taste=re.compile(
        r"^(?:\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?(?: [+-]\d{4})? (?:\[\d+\] )?"
        r"|.*\sexim[\w.-]*\[\d+\]: )"
        r"(?:[0-9A-Za-z]{6}-[0-9A-Za-z]{6,11}-[0-9A-Za-z]{2,4} (?:<=|=>|->|\*\*|==|Completed)"
        r"|SMTP connection from|H=|Start queue run|End queue run|exim \d)"
    ),
)
