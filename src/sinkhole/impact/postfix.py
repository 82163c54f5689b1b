"""Postfix logs (syslog, rsyslog RFC 3339, RFC 5424, or Postfix's own maillog_file).

Documented line shapes (Postfix's smtpd, postscreen and cleanup, as the
Postfix logging documentation and every mail.log show them)::

    Dec  7 10:15:01 mx postfix/smtpd[2301]: connect from unknown[192.0.2.10]
    Dec  7 10:15:02 mx postfix/smtpd[2301]: 3F1A22C0E5A: client=unknown[192.0.2.10]
    Dec  7 10:15:03 mx postfix/smtpd[2301]: NOQUEUE: reject: RCPT from unknown[192.0.2.11]:
        554 5.7.1 ...; from=<a@b.example> to=<c@d.example> proto=ESMTP helo=<pc>
    Dec  7 10:15:03 mx postfix/postscreen[88]: NOQUEUE: reject: RCPT from [192.0.2.12]:4711: ...
    Dec  7 10:15:04 mx postfix/cleanup[2305]: 3F1A22C0E5B: milter-reject: END-OF-MESSAGE
        from unknown[192.0.2.13]: 5.7.1 spam; ...

A message is one ``client=`` line (the queue file was made: the message was
accepted); a rejected message is one ``reject:`` line (one per refused
recipient: a message refused for three recipients counts three); a connection
is one smtpd ``connect from`` line (postscreen's ``CONNECT from`` is not
counted: smtpd logs the same connection again when postscreen hands it on).
Multi-instance names (``postfix-out/smtpd``) are read too.
"""

from __future__ import annotations

import re

from sinkhole.impact.mta import ADDRESS, SYSLOG_TIME, Event, Format, program

HOSTNAME = r"[^\[\s]*"

FORMAT = Format(
    name="postfix",
    head=SYSLOG_TIME + r" \S+ " + program(r"postfix[\w.-]*"),
    events=(
        Event("message", (" client=",), r"[0-9A-Za-z]+: client=" + HOSTNAME + ADDRESS),
        Event(
            "reject",
            ("reject: ",),
            r"(?:NOQUEUE|[0-9A-Za-z]+): (?:milter-)?reject: [\w-]+ from " + HOSTNAME + ADDRESS,
        ),
        # RFC 5424 lines have no colon after the tag: `... - connect from`, `...] connect from`
        Event(
            "connect",
            (": connect from ", "- connect from ", "] connect from "),
            r"connect from " + HOSTNAME + ADDRESS,
        ),
    ),
    taste=re.compile(r"\spostfix[\w.-]*/[\w.-]+(?:\[\d+\]:| \d+ )"),
)
