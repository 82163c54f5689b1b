"""Sendmail logs (through syslog, as sendmail or sm-mta).

Documented line shapes (Sendmail's op guide, "Logging" and the `from=` /
`ruleset=` entries every sendmail maillog holds)::

    Dec  7 10:15:01 mx sm-mta[4711]: 0B7AF1xx012345: from=<spam@bulk.example>, size=1843,
        class=0, nrcpts=1, msgid=<...>, proto=ESMTP, daemon=MTA-v4,
        relay=pc-1.example [192.0.2.10]
    Dec  7 10:15:02 mx sm-mta[4712]: 0B7AF2xx012346: ruleset=check_rcpt, arg1=<trap@mx.example>,
        relay=[192.0.2.11], reject=550 5.7.1 <trap@mx.example>... Relaying denied
    Dec  7 10:15:03 mx sendmail[4713]: 0B7AF3xx012347: from=<a@b.example>, ...,
        relay=[IPv6:2001:db8::1]

A message is one ``from=`` line with a relay address (local submissions name
a user, not an address, and are not counted); a rejected message is one
``ruleset=... reject=`` line with a relay address. Sendmail logs no plain
connection lines at its default log level, so no connections are counted.
"""

from __future__ import annotations

import re

from sinkhole.impact.mta import ADDRESS, SYSLOG_TIME, Event, Format, program

FORMAT = Format(
    name="sendmail",
    head=SYSLOG_TIME + r" \S+ " + program(r"sendmail|sm-mta|sm-msp-queue") + r"(?:\w+: )?",
    events=(
        Event("message", ("from=",), r"from=.*?, relay=(?:\S+ )?" + ADDRESS),
        Event(
            "reject", ("reject=",), r"ruleset=\w+, .*?relay=(?:\S+ )?" + ADDRESS + r".*?, reject="
        ),
    ),
    taste=re.compile(
        r"\s(?:sendmail|sm-mta)(?:\[\d+\]:| \d+ ) ?(?:\w+: )?(?:from=|to=|ruleset=|STARTTLS|\w+: )"
    ),
)
